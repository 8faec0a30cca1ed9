"""Overview: cohort flow, key figures, phenotype × treatment, and the confounding caution."""

import streamlit as st

from misc_dash import analyses as A
from misc_dash import figures, ui

view = ui.page_header("MIS-C Cohort Explorer", need_groups=False)
kf = view.run("key_figures")

c = st.columns(3)
c[0].metric("Patients", f"{kf['n_patients']} of {kf['n_total']}")
c[1].metric("Anakinra", kf["anakinra"])
c[2].metric("CV shock", kf["cv_shock"])
c = st.columns(3)
c[0].metric("ICU", kf["icu"], help=f"{kf['icu_missing']} without an ICU record" if kf["icu_missing"] else None)
c[1].metric("Age, years — median [Q1, Q3]", kf["age"].text(1))
c[2].metric("Length of stay, days — median [Q1, Q3]", kf["length_of_stay"].text(1))

st.warning(A.CONFOUNDING_NOTE, icon="⚖️")

left, right = st.columns([3, 2])
with left:
    st.subheader("Cohort flow")
    ui.plot(figures.build_flow_figure(view.run("flow")), key="flow")
with right:
    st.subheader("Phenotype × treatment group")
    ui.summary_table(view.run("crosstab").reset_index())
    st.caption(
        "Phenotypes are mutually exclusive: non-specific (neither KD-like features nor CV shock), KD-like (without "
        "shock), CV shock (without KD-like features), KDSS-like (both). Counts for the current filter."
    )

st.markdown(
    "**Pages.** *Table 1* — baseline characteristics by group · *Cardiac* — LVEF and Ap4 strain · *Fever* — "
    "Kaplan–Meier time to defervescence · *Cytokines* · *Labs* · *Anakinra dosing* (Table 2) · *Safety* (Table 3) · "
    "*Literature* — published case reports and series · *Data & fidelity* — data dictionary, your own cohort, and "
    "how the reconstructed cohort reproduces the paper. Use **Compare by** in the sidebar to change the groups "
    "on every page; the filters and comparison are kept in the page address, so a link shares the same view."
)
