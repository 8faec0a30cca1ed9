"""Safety page: adverse events by group with CTCAE grades (Table 3), exact test, per-patient detail."""

from __future__ import annotations

import pandas as pd

from .. import figures
from .. import formatting as fmt
from ..cards import Card, CardTable
from ..vocabulary import AE_LABELS
from .common import ViewContext, merge_notes
from .effects import difference_text, odds_ratio_text

METHODS = (
    "n (% of the group's patients). A patient without a row for an event did not have it (the adverse-event table "
    "lists events that occurred, CTCAE v5.0). Test: Fisher's exact test (2 groups) or Freeman–Halton exact test "
    "(3+ groups; above 1,000 patients Pearson's χ² or a seeded Monte Carlo p, named on each row); N/A when no "
    "group had the event. Two groups: risk difference (first − second group, percentage points, Newcombe hybrid "
    "score 95% CI) and odds ratio (first vs second; R fisher.test's conditional MLE with its exact 95% CI)."
)


def table3(ae, groups) -> pd.DataFrame:
    """Table 3; for two groups the risk difference (percentage points) and odds ratio with their 95% CIs."""
    two = len([g for g in groups if ae.records and ae.records[0]["groups"][g]["n"] > 0]) == 2
    rows = []
    for rec in ae.records:
        row = {"Adverse event": rec["label"]}
        for g in groups:
            v = rec["groups"][g]
            row[f"{g} (n = {v['n']})"] = fmt.count_percent(v["count"], v["n"])
        if two:
            row["Risk difference (95% CI)"] = difference_text(rec.get("effects"))
            row["Odds ratio (95% CI)"] = odds_ratio_text(rec.get("effects"))
        row["Test"] = rec["test"] or "not computed"
        row["p"] = fmt.p_or(rec["p_value"], "N/A")
        rows.append(row)
    return pd.DataFrame(rows)


def build_safety_cards(vc: ViewContext, options: None = None) -> list[Card]:
    ae = vc.run("adverse_events")
    common = vc.card_fields()
    events = Card(
        "safety.table3",
        title="Adverse events (Table 3)",
        heading=False,
        figure=figures.build_ae_figure(list(ae.records), vc.groups, colors=vc.colors()),
        figure_key="ae",
        tables=(CardTable(table3(ae, vc.groups), formats={"p": "p"}),),
        caveats=merge_notes([(r["label"], n) for r in ae.records for n in r["notes"]], "every event tested"),
        methods=METHODS,
        **common,
    )
    if ae.grades.empty:
        grades = Card(
            "safety.grades", title="CTCAE grades", notices=("No adverse events in this selection.",), **common
        )
    else:
        grades = Card(
            "safety.grades",
            title="CTCAE grades",
            tables=(
                CardTable(
                    ae.grades.assign(event=ae.grades["event"].map(AE_LABELS).fillna(ae.grades["event"])).rename(
                        columns={"event": "Event", "group": "Group", "grade": "CTCAE grade", "patients": "Patients"}
                    ),
                    formats={"Patients": "count"},
                ),
                CardTable(
                    ae.detail.assign(event=ae.detail["event"].map(AE_LABELS).fillna(ae.detail["event"])).rename(
                        columns={
                            "patient_id": "Patient",
                            "group": "Group",
                            "event": "Event",
                            "ctcae_grade": "CTCAE grade",
                        }
                    ),
                    kind="details",
                    label="Per-patient detail",
                    key="safety_detail",
                ),
            ),
            **common,
        )
    return [events, grades]
