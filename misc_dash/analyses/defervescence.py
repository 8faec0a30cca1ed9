"""Fever: Kaplan–Meier time to defervescence, log-rank (overall and pairwise), optional Cox HR."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import derive, stats
from .context import AnalysisOptions, Context
from .jsonable import test_dict


@dataclass(frozen=True)
class FeverResult:
    origin: str
    threshold_c: float
    sustained_hours: float | None
    curves: dict  # group -> KMCurve (groups with patients only)
    logrank: stats.TestResult | None
    pairwise: tuple[stats.TestResult, ...]
    cox: stats.TestResult | None
    per_patient: pd.DataFrame  # patient_id, group, time_days, event
    excluded: pd.DataFrame
    at_risk_days: tuple[float, ...]
    notes: tuple[str, ...]


def fever(ctx: Context, opts: AnalysisOptions = AnalysisOptions()) -> FeverResult:
    d = derive.defervescence(
        ctx.cohort,
        origin=opts.fever_origin,
        threshold_c=opts.fever_threshold,
        sustained_hours=opts.fever_sustained_hours,
        pf=ctx.pf,
    )
    t = d.table.merge(ctx.pf[["patient_id", "group"]], on="patient_id")
    t = t[t["group"].notna()]
    curves = {}
    for g in ctx.groups:
        sub = t[t["group"] == g]
        if len(sub):
            curves[g] = stats.kaplan_meier(sub["time_days"].to_numpy(float), sub["event"].to_numpy(bool), label=g)
    notes: list[str] = []
    if len(d.excluded):
        notes.append(f"{len(d.excluded)} patient(s) without usable temperature readings are not in the curves.")
    present = tuple(g for g in ctx.groups if g in curves)
    lr = stats.logrank(t["time_days"], t["event"], t["group"], group_order=present) if len(present) >= 2 else None
    pw = stats.pairwise_logrank(t["time_days"], t["event"], t["group"], group_order=present) if len(present) > 2 else ()
    cox = None
    if opts.cox and len(present) == 2:
        ind = (t["group"] == present[1]).astype(int)
        cox = stats.cox_hr(t["time_days"], t["event"], ind, groups=present)
    elif opts.cox:
        notes.append("Cox hazard ratio needs exactly two groups.")
    return FeverResult(
        d.origin,
        d.threshold_c,
        d.sustained_hours,
        curves,
        lr,
        tuple(pw),
        cox,
        t.reset_index(drop=True),
        d.excluded,
        opts.at_risk_days,
        tuple(notes),
    )


def _curve_json(c) -> dict:
    return {
        "n": c.n,
        "events": c.events,
        "median_days": c.median,
        "median_ci": [c.median_ci_low, c.median_ci_high],
        "notes": list(c.notes),
    }


def to_json(fv: FeverResult) -> dict:
    """The ``fever`` key of the analyze JSON."""
    return {
        "origin": fv.origin,
        "threshold_c": fv.threshold_c,
        "sustained_hours": fv.sustained_hours,
        "curves": {g: _curve_json(c) for g, c in fv.curves.items()},
        "at_risk": {
            g: dict(zip([str(t) for t in fv.at_risk_days], c.at_risk(fv.at_risk_days))) for g, c in fv.curves.items()
        },
        "logrank": test_dict(fv.logrank),
        "pairwise": [test_dict(t) for t in fv.pairwise],
        "cox": test_dict(fv.cox) if fv.cox else None,
        "excluded": len(fv.excluded),
        "notes": list(fv.notes),
    }
