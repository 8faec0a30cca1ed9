"""Cardiac: LVEF and Ap4 strain trajectories, paired before/after, Wilcoxon per group, change between groups."""

import pandas as pd
import streamlit as st

from misc_dash import analyses as A
from misc_dash import figures, ui

view = ui.page_header("Cardiac function — LVEF and Ap4 strain")
ui.confounding_caution(view)

c1, c2, c3, c4 = st.columns([2, 2, 2, 2])
measure = c1.radio(
    "Measure",
    ["lvef", "strain"],
    format_func={"lvef": "LVEF (%)", "strain": "Ap4 strain (%)"}.get,
    key="cardiac_measure",
    horizontal=True,
    bind="query-params",
)
xaxis = c2.radio(
    "Time axis",
    ["day", "day_since_treatment"],
    format_func={"day": "Days since admission", "day_since_treatment": "Days since treatment start"}.get,
    key="cardiac_x",
    horizontal=True,
    bind="query-params",
)
fu_mode = c3.radio(
    "Follow-up echo",
    ["last", "nearest"],
    format_func={"last": "Last echo", "nearest": "Nearest to a day"}.get,
    key="cardiac_fu",
    horizontal=True,
    bind="query-params",
)
# inputs that are rarely changed are drawn only when needed (each input costs the browser a few ms per rerun);
# persist_state keeps their values while they are not drawn
fu_day = (
    c4.number_input(
        "Day (for 'nearest')", min_value=1, max_value=60, value=10, key="cardiac_fu_day", persist_state="session"
    )
    if fu_mode == "nearest"
    else 10
)
lvef_normal = st.session_state.get("cardiac_lvef_normal", 55.0)
strain_normal = st.session_state.get("cardiac_strain_normal", -21.4)
thresholds = st.expander(
    f"Normal thresholds: LVEF ≥ {lvef_normal:g} %, Ap4 strain ≤ {strain_normal:g} %",
    key="cardiac_thresholds",
    on_change="rerun",
)
if thresholds.open:
    with thresholds:
        t1, t2 = st.columns(2)
        lvef_normal = t1.number_input(
            "LVEF normal ≥ (%)", 30.0, 80.0, 55.0, 1.0, key="cardiac_lvef_normal", persist_state="session"
        )
        strain_normal = t2.number_input(
            "Strain normal ≤ (%)", -30.0, -10.0, -21.4, 0.1, key="cardiac_strain_normal", persist_state="session"
        )

opts = A.AnalysisOptions(
    echo_followup="last" if fu_mode == "last" else int(fu_day), lvef_normal=lvef_normal, strain_normal=strain_normal
)
er = view.run("echo", opts, measure=measure)
name = "LVEF" if measure == "lvef" else "Ap4 strain"

if er.trajectories.empty:
    st.warning(f"No {name} measurements for this selection.", icon="🔍")
    st.stop()

chart = ui.view_switch("Chart", ["Trajectories over time", "Before and after (paired)"], key="cardiac_chart")
if chart == "Trajectories over time":
    ui.plot(
        figures.build_echo_trajectories(
            er.trajectories, view.ctx.groups, er.measure, er.normal_threshold, x=xaxis, colors=view.colors
        ),
        key="traj",
    )
    st.caption(
        f"{name}: one thin line per patient, thick line = group median per day; dotted line = normal "
        f"({'≥' if measure == 'lvef' else '≤'} {er.normal_threshold:g} %). Cohort: {ui.md_escape(view.description)}."
    )
else:
    tests = {eg.group: eg.test for eg in er.groups}
    ui.plot(
        figures.build_paired_slope(
            er.pairs, view.ctx.groups, er.measure, er.normal_threshold, tests=tests, colors=view.colors
        ),
        key="slope",
    )
    st.caption(
        f"{name}: first echo (left) and {ui.md_escape(er.followup)} echo (right) per patient, one panel per group; "
        f"diamonds = group medians; Wilcoxon p and number of pairs above each panel; dotted line = normal. "
        f"Cohort: {ui.md_escape(view.description)}."
    )

st.subheader(f"Before and after — first echo vs {ui.md_escape(er.followup)} echo")
rows = []
for eg in er.groups:
    rows.append(
        {
            "Group": eg.group,
            "Patients": eg.n_patients,
            "Pairs": eg.n_pairs,
            "Baseline, median [Q1, Q3]": eg.baseline.text(1),
            "Follow-up, median [Q1, Q3]": eg.followup.text(1),
            "Change, median [Q1, Q3]": eg.change.text(1),
            "Days between echoes": eg.interval.text(0),
            "Normal at baseline": eg.normal_baseline.text(),
            "Normal at follow-up": eg.normal_followup.text(),
            "Test": eg.test.test if eg.test else "no pairs",
            "p": eg.test.p_text() if eg.test else "n/a",
        }
    )
ui.summary_table(pd.DataFrame(rows))
for eg in er.groups:
    if eg.test is not None:
        ui.test_line(eg.test, f"{eg.group}: {name} baseline vs follow-up")
st.caption(
    "Wilcoxon matched-pairs signed-rank test (two-sided, follow-up − baseline; zero differences dropped; exact when "
    "there are fewer than 50 pairs and no ties or zeros, otherwise normal approximation with continuity correction). "
    "Statistic V = sum of positive ranks, as in R. 'Normal' = share of patients meeting the threshold (exact 95% CI in the data)."
)

st.subheader("Did one group improve more? (change from baseline, between groups)")
ui.test_line(er.change_test, f"Change in {name}")
st.caption(
    "Mann–Whitney U (2 groups) or Kruskal–Wallis (3+ groups) on the per-patient change. Groups differ in severity at baseline (confounding by indication): a larger change can reflect more room to improve."
)

if len(er.unpaired):
    ui.details_table(
        f"{len(er.unpaired)} patient(s) without a pair (not in the paired analysis)",
        er.unpaired.rename(
            columns={
                "patient_id": "Patient",
                "n_studies": "Studies with this measure",
                "reason": "Reason",
                "group": "Group",
            }
        ),
        key="cardiac_unpaired",
    )
