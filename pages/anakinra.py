"""Anakinra dosing: daily courses, Table 2 by CV shock, route."""

import streamlit as st

from misc_dash import figures, ui

view = ui.page_header("Anakinra dosing", need_groups=False)
ds = view.run("dosing")
if ds.courses.empty:
    st.warning("No patient on anakinra in this selection.", icon="🔍")
    st.stop()
xaxis = st.radio(
    "Time axis",
    ["day_since_start", "day"],
    format_func={"day_since_start": "Days since anakinra start", "day": "Days since admission"}.get,
    horizontal=True,
    key="dose_x",
    bind="query-params",
)
ui.plot(figures.build_dosing_figure(ds.daily, x=xaxis), key="dose")
st.caption(
    "Daily anakinra dose (mg/kg/day) per patient, coloured by CV shock; markers at the start and the peak. The index "
    "study's algorithm started IV anakinra at 8–10 mg/kg/day (critically ill) or 6–8 mg/kg/day, divided every 6 h, "
    "and weaned by ~2 mg/kg/day every 24–48 h."
)
o = ds.overall
c = st.columns(4)
c[0].metric("Patients on anakinra", len(ds.courses))
c[1].metric("Starting dose, mg/kg/day", o["start_dose_mg_kg_day"].text(1))
c[2].metric("Max dose, mg/kg/day", o["max_dose_mg_kg_day"].text(1))
c[3].metric("Duration, days", o["duration_days"].text(1))

st.subheader("Table 2 — anakinra patients without vs with CV shock")
st.caption("Within the current filter; this table is always split by CV shock, whatever *Compare by* says.")
ui.summary_table(ds.table2)
st.caption(
    "Median [Q1, Q3]; Mann–Whitney U for continuous rows, Fisher's exact test for counts. Initiation day is the 1-based "
    "hospitalization day (admission day = 1). Max mg/dose = max over days of daily mg/kg × weight ÷ doses per day. "
    "Duration = days on drug, a partial last day counted as doses given ÷ doses scheduled."
)
if len(ds.courses) < 5:
    st.warning("Fewer than 5 patients on anakinra: these summaries are fragile.", icon="⚠️")
st.subheader("Route")
ui.summary_table(ds.routes.rename(columns={"route": "Route", "patients": "Patients"}))
ui.details_table("Per-patient courses", ds.courses, key="anakinra_courses")
