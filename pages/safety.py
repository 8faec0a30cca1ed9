"""Safety: adverse events by group with CTCAE grades (Table 3), exact test, per-patient detail."""

from misc_dash import ui

view = ui.page_header("safety")
ui.show_cards(view.cards("safety"))
