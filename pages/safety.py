"""Safety: adverse events by group with CTCAE grades (Table 3), exact test, per-patient detail."""

import streamlit as st

from misc_dash import figures, ui

view = ui.page_header("Safety — adverse events")
ui.confounding_caution(view)
ae = view.run("adverse_events")
ui.summary_table(ae.table)
st.caption(
    "n (% of the group's patients). A patient without a row for an event did not have it (the adverse-event table "
    "lists events that occurred, CTCAE v5.0). Test: Fisher's exact test (2 groups) or Freeman–Halton exact test "
    "(3+ groups); N/A when no group had the event."
)
ui.notes_block([(r["label"], n) for r in ae.records for n in r["notes"]])
ui.plot(figures.build_ae_figure(list(ae.records), view.ctx.groups, colors=view.colors), key="ae")
st.subheader("CTCAE grades")
if ae.grades.empty:
    st.info("No adverse events in this selection.")
else:
    ui.summary_table(
        ae.grades.rename(columns={"event": "Event", "group": "Group", "grade": "CTCAE grade", "patients": "Patients"})
    )
    ui.details_table(
        "Per-patient detail",
        ae.detail.rename(
            columns={"patient_id": "Patient", "group": "Group", "event": "Event", "ctcae_grade": "CTCAE grade"}
        ),
        key="safety_detail",
    )
