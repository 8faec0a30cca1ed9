"""Labs: trajectories of inflammatory and cardiac markers against treatment start."""

import streamlit as st

from misc_dash import analyses as A
from misc_dash import figures, ui

view = ui.page_header("Laboratory trajectories")
ui.confounding_caution(view)
lr = view.run("labs")
if lr.trajectories.empty:
    st.warning("No laboratory values for this selection.", icon="🔍")
    st.stop()
available = [a for a in A.LAB_LABELS if (lr.trajectories["analyte"] == a).any()]
c1, c2, c3 = st.columns([3, 2, 1])
analyte = c1.selectbox("Analyte", available, format_func=A.LAB_LABELS.get, key="lab_analyte", bind="query-params")
xaxis = c2.radio(
    "Time axis",
    ["day_since_treatment", "day"],
    format_func={"day_since_treatment": "Days since treatment start", "day": "Days since admission"}.get,
    horizontal=True,
    key="lab_x",
    bind="query-params",
)
log_y = c3.toggle("Log scale", value=True, key="lab_log")
ui.plot(
    figures.build_labs_figure(lr.trajectories, analyte, view.ctx.groups, x=xaxis, log_y=log_y, colors=view.colors),
    key="lab",
)
st.caption(
    f"Thin lines: patients; thick: group median per day. Treatment start = first IVIG (else first anakinra day). Cohort: {ui.md_escape(view.description)}."
)
st.subheader("First (admission) value by group")
ui.summary_table(lr.first_values)
st.caption("Median [Q1, Q3] of each patient's first value; Mann–Whitney U (2 groups) or Kruskal–Wallis (3+).")
