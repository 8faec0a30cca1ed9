"""Table 1: baseline characteristics by the compare-by groups."""

import streamlit as st

from misc_dash import ui
from misc_dash.views import Table1Options

view = ui.page_header("table1")
with ui.controls():
    ci = st.toggle("Show the 95% CI of each proportion", key="t1_ci", bind="query-params")
ui.show_cards(view.cards("table1", Table1Options(proportion_ci=ci)))
