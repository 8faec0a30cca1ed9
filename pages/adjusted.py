"""Adjusted & sensitivity: positivity, the naive vs adjusted vs weighted hazard ratio with the E-value, balance and
propensity overlap, weighted Kaplan–Meier, subgroups with the interaction p, every what-if at once."""

import streamlit as st

from misc_dash import ui
from misc_dash.analyses.adjusted import COVARIATES, LABELS, STRATA
from misc_dash.views import AdjustedOptions

view = ui.page_header("adjusted")

with ui.controls():
    st.caption(
        "Compares the two groups of the current grouping (sidebar *Compare by*): group by anakinra, or filter to two "
        "treatment groups."
    )
    c1, c2 = st.columns([3, 2])
    adjust_for = c1.multiselect(
        "Adjust for…", list(COVARIATES), default=["cv_shock"], format_func=LABELS.get, key="adj_for",
        bind="query-params",
    )  # fmt: skip
    strata = c2.selectbox(
        "Stratify by", ["none", *STRATA], format_func=lambda s: "no strata" if s == "none" else LABELS[s],
        key="adj_strata", bind="query-params",
        help="The stratified log-rank of time to defervescence (every group) and, with two groups, van Elteren's "
        "stratified Wilcoxon of the LVEF and strain change and the Mantel–Haenszel odds ratio of a normal "
        "follow-up echo.",
    )  # fmt: skip
    c3, c4, c5 = st.columns(3)
    weights = c3.toggle("Inverse probability weights (IPTW)", value=True, key="adj_weights", bind="query-params")
    trim = c4.selectbox(
        "Trim the weights at quantile", ["none", "0.99", "0.95"], key="adj_trim", bind="query-params",
        disabled=not (weights and adjust_for),
    )  # fmt: skip
    firth = c5.toggle("Firth's penalised Cox (small samples)", key="adj_firth", bind="query-params")

options = AdjustedOptions(
    strata=None if strata == "none" else strata,
    adjust_for=tuple(adjust_for),
    weights=bool(weights),
    trim=None if trim == "none" or not (weights and adjust_for) else float(trim),
    firth=bool(firth),
)
ui.show_cards(view.cards("adjusted", options))
