"""Adverse events by group (Table 3) with CTCAE grades."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..contract import ADVERSE_EVENTS
from ..vocabulary import AE_LABELS
from .context import Context, binary_effects, compare_binary
from .jsonable import test_fields


@dataclass(frozen=True)
class AEResult:
    records: tuple[dict, ...]
    detail: pd.DataFrame  # per patient-event with group and grade
    grades: pd.DataFrame  # event × group × grade counts


def adverse_events(ctx: Context) -> AEResult:
    """Counts per event and group; a patient without a row for an event did not have it (the table lists
    events that occurred). Fisher's exact test (2 groups) or Freeman–Halton (k groups)."""
    ae = ctx.cohort["adverse_events"].merge(ctx.pf[["patient_id", "group"]], on="patient_id")
    ae = ae[ae["group"].notna()]
    sizes = ctx.group_sizes()
    records = []
    for ev in ADVERSE_EVENTS:
        sub = ae[ae["event"] == ev]
        counts = {g: int(sub.loc[sub["group"] == g, "patient_id"].nunique()) for g in ctx.groups}
        res = compare_binary(counts, sizes, ctx.groups) if sum(counts.values()) > 0 else None
        rec = {
            "event": ev,
            "label": AE_LABELS[ev],
            "groups": {g: {"count": counts[g], "n": sizes[g]} for g in ctx.groups},
            "p_value": res.p_value if res else None,
            "test": res.test if res else ("not computed: no events" if sum(counts.values()) == 0 else None),
            "notes": list(res.notes) if res else [],
            "max_grade": None if sub["ctcae_grade"].dropna().empty else int(sub["ctcae_grade"].max()),
            **test_fields(res),
            "effects": binary_effects(counts, sizes, ctx.groups, res),
        }
        records.append(rec)
    grades = ae.assign(grade=ae["ctcae_grade"].astype("Int64").astype(str).replace("<NA>", "not graded"))
    grades = grades.groupby(["event", "group", "grade"]).size().rename("patients").reset_index()
    detail = (
        ae[["patient_id", "group", "event", "ctcae_grade"]]
        .sort_values(["event", "group", "patient_id"])
        .reset_index(drop=True)
    )
    return AEResult(tuple(records), detail, grades)


def to_json(ae: AEResult) -> dict:
    """The ``adverse_events`` key of the analyze JSON."""
    return {
        r["event"]: {
            "counts": {g: v["count"] for g, v in r["groups"].items()},
            "n": {g: v["n"] for g, v in r["groups"].items()},
            "p_value": r["p_value"],
            "test": r["test"],
            "notes": r["notes"],
            **{k: r[k] for k in ("statistic", "statistic_name", "df", "method", "effects")},
        }
        for r in ae.records
    }
