"""Cytokines: fold difference (value / upper limit of normal) by group, Mann–Whitney per cytokine, BH q."""

from misc_dash import ui
from misc_dash.views import CytokineOptions
from misc_dash.views.cytokines import CHARTS

view = ui.page_header("cytokines")
with ui.controls():
    chart = ui.view_switch("Chart", list(CHARTS), key="cyto_chart")
ui.show_cards(view.cards("cytokines", CytokineOptions(chart)))
