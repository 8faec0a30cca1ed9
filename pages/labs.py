"""Labs: trajectories of inflammatory and cardiac markers against treatment start."""

import streamlit as st

from misc_dash import ui
from misc_dash.views import LabsOptions
from misc_dash.views.labs import available_analytes
from misc_dash.vocabulary import LAB_LABELS

view = ui.page_header("labs")
available = available_analytes(view.run("labs"))
if not available:
    st.warning("No laboratory values for this selection.", icon=":material/search_off:")
    st.stop()
with ui.controls():
    c1, c2, c3 = st.columns([3, 2, 1])
    analyte = c1.selectbox("Analyte", available, format_func=LAB_LABELS.get, key="lab_analyte", bind="query-params")
    xaxis = c2.radio(
        "Time axis", ["day_since_treatment", "day"],
        format_func={"day_since_treatment": "Days since treatment start", "day": "Days since admission"}.get,
        horizontal=True, key="lab_x", bind="query-params",
    )  # fmt: skip
    log_y = c3.toggle("Log scale", value=True, key="lab_log", bind="query-params")
ui.show_cards(view.cards("labs", LabsOptions(analyte, xaxis, log_y)))
