"""Fever: Kaplan–Meier time to defervescence, log-rank (overall and pairwise), optional Cox HR; daily maximum
temperature over time."""

import streamlit as st

from misc_dash import ui
from misc_dash.analyses.adjusted import COVARIATES, LABELS
from misc_dash.views import FeverOptions
from misc_dash.views.fever import CHARTS, ORIGIN_LABELS

view = ui.page_header("fever")

with ui.controls():
    c1, c2, c3, c4 = st.columns([2, 2, 2, 2])
    origin = c1.radio(
        "Time from", list(ORIGIN_LABELS), format_func=ORIGIN_LABELS.get, key="fever_origin", horizontal=True,
        bind="query-params",
    )  # fmt: skip
    threshold = c2.number_input(
        "Fever threshold (°C): defervescence = first reading below", 37.0, 39.0, 38.0, 0.1, key="fever_threshold",
        bind="query-params",
    )  # fmt: skip
    sustained = c3.toggle("Sustained: no fever in the next 24 h", key="fever_sustained", bind="query-params")
    cox = c4.toggle("Show Cox hazard ratio", key="fever_cox", bind="query-params")

    adjust_for = st.multiselect(
        "Adjust for… (two groups: the between-group line becomes the adjusted Cox hazard ratio)", list(COVARIATES),
        format_func=LABELS.get, key="fever_adjust", bind="query-params",
    )  # fmt: skip
    chart = ui.view_switch("Chart", list(CHARTS), key="fever_chart")

options = FeverOptions(origin, float(threshold), sustained, cox, chart, tuple(adjust_for))
ui.show_cards(view.cards("fever", options))
