"""Fever: Kaplan–Meier time to defervescence, log-rank (overall and pairwise), optional Cox HR."""

import pandas as pd
import streamlit as st

from misc_dash import analyses as A
from misc_dash import figures, ui

view = ui.page_header("Fever — time to defervescence")
ui.confounding_caution(view)

c1, c2, c3, c4 = st.columns([2, 2, 2, 2])
origin = c1.radio(
    "Time from",
    ["admission", "treatment"],
    format_func={"admission": "Admission", "treatment": "Treatment start"}.get,
    key="fever_origin",
    horizontal=True,
    bind="query-params",
)
threshold = c2.number_input(
    "Fever threshold (°C): defervescence = first reading below", 37.0, 39.0, 38.0, 0.1, key="fever_threshold"
)
sustained = c3.toggle("Sustained: no fever in the next 24 h", key="fever_sustained", bind="query-params")
cox = c4.toggle("Show Cox hazard ratio", key="fever_cox", bind="query-params")
opts = A.AnalysisOptions(
    fever_origin=origin, fever_threshold=float(threshold), fever_sustained_hours=24.0 if sustained else None, cox=cox
)
fr = view.run("fever", opts)

if not fr.curves:
    st.warning("No temperature readings for this selection.", icon="🔍")
    st.stop()

ui.plot(
    figures.build_km_figure(
        fr.curves,
        view.ctx.groups,
        fr.at_risk_days,
        logrank=fr.logrank,
        origin=fr.origin,
        threshold_c=fr.threshold_c,
        colors=view.colors,
    ),
    key="km",
)
st.caption(
    f"Kaplan–Meier estimate of the proportion still febrile (95% CI, log-log). Event = first reading < {fr.threshold_c:g} °C"
    f"{' not followed by fever within 24 h' if fr.sustained_hours else ''}, from {'admission' if fr.origin == 'admission' else 'treatment start (first IVIG, else first anakinra day)'}; "
    "patients who never defervesce are censored at their last reading (+). Numbers at risk under the axis. "
    f"Cohort: {ui.md_escape(view.description)}."
)
ui.test_line(fr.logrank, "Overall")
if fr.pairwise:
    st.markdown("**Pairwise log-rank** (Holm-adjusted for the number of pairs)")
    for t in fr.pairwise:
        ui.test_line(t)
if fr.cox is not None:
    ui.test_line(fr.cox, "Cox proportional hazards (hazard ratio of defervescence, second vs first group)")
for n in fr.notes:
    st.info(ui.md_escape(n), icon="ℹ️")

rows = []
for g, c in fr.curves.items():
    rows.append(
        {
            "Group": g,
            "Patients": c.n,
            "Defervesced": c.events,
            "Censored": c.n - c.events,
            "Median days (95% CI)": c.median_text(1),
            "Afebrile by day 5": f"{100 * (1 - c.survival_at(5.0)):.0f}%",
        }
    )
ui.summary_table(pd.DataFrame(rows))
if len(fr.excluded):
    ui.details_table(
        f"{len(fr.excluded)} patient(s) not in the curves",
        fr.excluded.rename(columns={"patient_id": "Patient", "reason": "Reason"}),
        key="fever_excluded",
    )
