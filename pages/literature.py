"""Literature: published case reports and series side by side with the cohort."""

from misc_dash import ui

view = ui.page_header("literature")
ui.show_cards(view.cards("literature"))
