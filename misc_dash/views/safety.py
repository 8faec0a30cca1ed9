"""Safety page: adverse events by group with CTCAE grades (Table 3), exact test, per-patient detail."""

from __future__ import annotations

import pandas as pd

from .. import figures, privacy
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


HIDDEN_STAT = "not shown"


def safety_counts(vc: ViewContext, ae) -> privacy.Shown:
    """Small-cell suppression of the safety page: per event and group, the patients with it + those without =
    the group's size (fixed); per event and group, the CTCAE grade rows add up to the patients with it (when each
    patient has one row for the event)."""
    c = privacy.Counts(vc.policy)
    privacy.add_fixed(c, privacy.fixed_from(vc.sizes, [("group", g) for g in vc.groups]))
    for i, rec in enumerate(ae.records):
        for g in vc.groups:
            v = rec["groups"][g]
            c.add(("k", i, g), v["count"]).add(("rest", i, g), v["n"] - v["count"], derived=True)
            c.line([("k", i, g), ("rest", i, g)], ("group", g))
    index = {r["event"]: i for i, r in enumerate(ae.records)}
    if len(ae.grades):
        for (ev, g), sub in ae.grades.groupby(["event", "group"], sort=False):
            keys = []
            for grade, p in zip(sub["grade"], sub["patients"]):
                c.add(("grade", ev, g, str(grade)), int(p))
                keys.append(("grade", ev, g, str(grade)))
            i = index.get(ev)
            if i is not None and ("k", i, g) in c and sum(int(p) for p in sub["patients"]) == c.value(("k", i, g)):
                c.line(keys, ("k", i, g))
    return c.protect()


def _row_hidden(shown: privacy.Shown, i: int, groups) -> bool:
    return any(shown.hidden((k, i, g)) for g in groups for k in ("k", "rest"))


def table3(ae, groups, shown: privacy.Shown | None = None) -> pd.DataFrame:
    """Table 3; for two groups the risk difference (percentage points) and odds ratio with their 95% CIs.
    ``shown`` (:func:`safety_counts`): the counts as the small-cell rule shows them; a row with a hidden count
    shows no effect nor p (they would give it back)."""
    two = len([g for g in groups if ae.records and ae.records[0]["groups"][g]["n"] > 0]) == 2
    rows = []
    for i, rec in enumerate(ae.records):
        row = {"Adverse event": rec["label"]}
        hidden = shown is not None and _row_hidden(shown, i, groups)
        for g in groups:
            v = rec["groups"][g]
            if shown is None:
                row[f"{g} (n = {v['n']})"] = fmt.count_percent(v["count"], v["n"])
            else:
                cell = shown.count_percent(("k", i, g), ("group", g), also=(("rest", i, g),))
                row[f"{g} ({shown.n(('group', g))})"] = cell
        if two:
            row["Risk difference (95% CI)"] = HIDDEN_STAT if hidden else difference_text(rec.get("effects"))
            row["Odds ratio (95% CI)"] = HIDDEN_STAT if hidden else odds_ratio_text(rec.get("effects"))
        row["Test"] = rec["test"] or "not computed"
        row["p"] = HIDDEN_STAT if hidden and rec["p_value"] is not None else fmt.p_or(rec["p_value"], "N/A")
        rows.append(row)
    return pd.DataFrame(rows)


def _ae_cells(ae, groups, shown: privacy.Shown) -> dict:
    """The chart's bar texts and lengths (:func:`misc_dash.figures.build_ae_figure`'s ``cells``)."""
    out = {}
    for i in range(len(ae.records)):
        for g in groups:
            p = shown.percent(("k", i, g), ("group", g), also=(("rest", i, g),))
            k, n = shown.policy.value(shown.value(("k", i, g))), shown.policy.value(shown.value(("group", g)))
            pct = None if p is None else (100.0 * k / n if n else 0.0)
            out[(i, g)] = (shown.text(("k", i, g)), shown.text(("group", g)), pct)
    return out


def build_safety_cards(vc: ViewContext, options: None = None) -> list[Card]:
    ae = vc.run("adverse_events")
    common = vc.card_fields()
    shown = safety_counts(vc, ae) if vc.policy is not None else None
    if shown is None:
        figure = figures.build_ae_figure(list(ae.records), vc.groups, colors=vc.colors())
    else:
        hide_p = frozenset(i for i in range(len(ae.records)) if _row_hidden(shown, i, vc.groups))
        figure = figures.build_ae_figure(
            list(ae.records), vc.groups, colors=vc.colors(), cells=_ae_cells(ae, vc.groups, shown), hide_p=hide_p
        )
    events = Card(
        "safety.table3",
        title="Adverse events (Table 3)",
        heading=False,
        figure=figure,
        figure_key="ae",
        tables=(CardTable(table3(ae, vc.groups, shown), formats={"p": "p"}),),
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
                CardTable(_grades(ae, shown), formats={"Patients": "count"}),
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


def _grades(ae, shown: privacy.Shown | None) -> pd.DataFrame:
    g = ae.grades
    if shown is not None:
        g = g.assign(
            patients=[shown.text(("grade", e, gr, str(k))) for e, gr, k in zip(g["event"], g["group"], g["grade"])]
        )
    return g.assign(event=g["event"].map(AE_LABELS).fillna(g["event"])).rename(
        columns={"event": "Event", "group": "Group", "grade": "CTCAE grade", "patients": "Patients"}
    )
