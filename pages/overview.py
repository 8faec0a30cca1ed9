"""Overview: key figures, cohort flow, phenotype × treatment, and the confounding caution."""

import streamlit as st

from misc_dash import ui
from misc_dash.views.overview import PAGES_GUIDE
from misc_dash.vocabulary import CONFOUNDING_NOTE

view = ui.page_header("overview")
key_figures, flow, crosstab = view.cards("overview")
ui.show(key_figures)
st.warning(CONFOUNDING_NOTE, icon="⚖️")
left, right = st.columns([3, 2])
with left:
    ui.show(flow)
with right:
    ui.show(crosstab)
st.markdown(PAGES_GUIDE)
