"""Cardiac: LVEF and Ap4 strain trajectories, paired before/after, Wilcoxon per group, change between groups."""

import streamlit as st

from misc_dash import ui
from misc_dash.analyses.adjusted import COVARIATES, LABELS
from misc_dash.views import CardiacOptions
from misc_dash.views.cardiac import CHARTS

view = ui.page_header("cardiac")

with ui.controls():
    c1, c2, c3, c4 = st.columns([2, 2, 2, 2])
    measure = c1.radio(
        "Measure", ["lvef", "strain"], format_func={"lvef": "LVEF (%)", "strain": "Ap4 strain (%)"}.get,
        key="cardiac_measure", horizontal=True, bind="query-params",
    )  # fmt: skip
    xaxis = c2.radio(
        "Time axis", ["day", "day_since_treatment"],
        format_func={"day": "Days since admission", "day_since_treatment": "Days since treatment start"}.get,
        key="cardiac_x", horizontal=True, bind="query-params",
    )  # fmt: skip
    fu_mode = c3.radio(
        "Follow-up echo", ["last", "nearest"], format_func={"last": "Last echo", "nearest": "Nearest to a day"}.get,
        key="cardiac_fu", horizontal=True, bind="query-params",
    )  # fmt: skip
    # every input that changes a number is drawn and bound to the address, so a shared link reopens the same numbers
    fu_day = c4.number_input(
        "Day (for 'nearest')", min_value=1, max_value=60, value=10, key="cardiac_fu_day", bind="query-params",
        disabled=fu_mode != "nearest",
    )  # fmt: skip
    # the expander's label shows the current values, which on a shared link's first run are still only in the address
    lvef_normal = ui.bound_value("cardiac_lvef_normal", 55.0)
    strain_normal = ui.bound_value("cardiac_strain_normal", -21.4)
    label = f"Normal thresholds: LVEF ≥ {lvef_normal:g} %, Ap4 strain ≤ {strain_normal:g} %"
    # (in presentation mode the controls are already in an expander, and expanders do not nest)
    with st.container() if ui.presenting() else st.expander(label):
        t1, t2 = st.columns(2)
        lvef_normal = t1.number_input(
            "LVEF normal ≥ (%)", 30.0, 80.0, 55.0, 1.0, key="cardiac_lvef_normal", bind="query-params"
        )
        strain_normal = t2.number_input(
            "Strain normal ≤ (%)", -30.0, -10.0, -21.4, 0.1, key="cardiac_strain_normal", bind="query-params"
        )
    adjust_for = st.multiselect(
        "Adjust for… (two groups: the between-group line becomes the follow-up difference adjusted for baseline and "
        "these)", list(COVARIATES), format_func=LABELS.get, key="cardiac_adjust", bind="query-params",
    )  # fmt: skip
    chart = ui.view_switch("Chart", list(CHARTS), key="cardiac_chart")

options = CardiacOptions(measure, xaxis, fu_mode, int(fu_day), lvef_normal, strain_normal, chart, tuple(adjust_for))
ui.show_cards(view.cards("cardiac", options))
