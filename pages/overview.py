"""Overview: key figures, cohort flow, phenotype × treatment, and the confounding caution."""

import streamlit as st

from misc_dash import ui
from misc_dash.views.overview import PAGES_GUIDE
from misc_dash.vocabulary import CONFOUNDING_NOTE

view = ui.page_header("overview")
cards = view.cards("overview")
if ui.presenting():
    ui.show_cards(cards)
    st.stop()
key_figures, flow, crosstab = cards
ui.show(key_figures)
st.warning(CONFOUNDING_NOTE, icon=":material/balance:")
left, right = st.columns([3, 2])
with left:
    ui.show(flow)
    ui.card_tools(flow, view, "overview", None)
with right:
    ui.show(crosstab)
    ui.card_tools(crosstab, view, "overview", None)
st.markdown(PAGES_GUIDE)
ui.reproduce_panel(cards)
