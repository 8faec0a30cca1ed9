"""Literature: published case reports and series side by side with the cohort."""

import streamlit as st

from misc_dash import literature as L
from misc_dash import ui

view = ui.page_header("Literature — what else has been reported", need_groups=False)
lit = ui.literature()

st.markdown(
    "Published experience with anakinra in MIS-C / PIMS-TS, transcribed from the source documents (each row names "
    "its source). Case reports and small series are **uncontrolled**: most patients also received IVIG and "
    "corticosteroids, so recovery cannot be attributed to anakinra alone."
)
st.subheader("Evidence table")
ui.table(L.evidence_table(lit))

st.subheader("LVEF recovery after anakinra: reports vs this cohort")
traj = view.run("lvef_since_anakinra")
ui.plot(L.build_lvef_literature_figure(L.lvef_recovery_points(lit), traj), key="lit_lvef")
st.caption(
    "Day 0 = first anakinra day. Thin grey lines: this cohort's anakinra patients in the current filter "
    f"({ui.md_escape(view.description)}), individual echocardiograms. Case 003: one patient's daily EF (individual "
    "measurements). Series 002 and 004: aggregate reports (median/range; '> 55 %' is a bound, drawn as an open "
    "triangle with an arrow, not a measured value). Dotted line: normal LVEF 55 %. "
    + ui.md_escape(L.case003_ef_anchor(lit))
)

st.subheader("Case 003 — an 8-year-old girl, day by day")
ui.plot(L.build_case003_timeline(lit), key="case003")
st.caption(ui.md_escape(L.case003_caption(lit)))
