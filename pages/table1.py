"""Table 1: baseline characteristics by the compare-by groups."""

from misc_dash import ui

view = ui.page_header("table1")
ui.show_cards(view.cards("table1"))
