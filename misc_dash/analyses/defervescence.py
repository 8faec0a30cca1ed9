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
    survival_days: tuple[float, ...] = (3, 5, 7)


def fever(ctx: Context, opts: AnalysisOptions = AnalysisOptions()) -> FeverResult:
    d = derive.defervescence(
        ctx.cohort,
        origin=opts.fever_origin,
        threshold_c=opts.fever_threshold,
        sustained_hours=opts.fever_sustained_hours,
        pf=ctx.pf,
    )
    t = d.table.merge(ctx.pf[["patient_id", "group"]], on="patient_id")
    t = t[t["group"].notna()].copy()
    # R's timefix over all patients at once (as survfit/survdiff on the whole Surv object): times equal up to
    # floating point (24.3 h → 48.3 h is 1 day, computed as 0.9999999999999999) are one time
    t["time_days"] = stats.timefix(t["time_days"].to_numpy(float))
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
        tuple(opts.survival_days),
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
        "survival_at": {
            g: {
                f"{s['time']:g}": {k: s[k] for k in ("survival", "ci", "conf_level", "n_risk")}
                for s in c.summary_at(fv.survival_days)
            }
            for g, c in fv.curves.items()
        },
        "logrank": test_dict(fv.logrank),
        "observed_expected": _observed_expected(fv.logrank),
        "pairwise": [{**test_dict(t), "p_value_raw": t.extra("raw p")} for t in fv.pairwise],
        "cox": _cox_json(fv.cox) if fv.cox else None,
        "excluded": len(fv.excluded),
        "notes": list(fv.notes),
    }


def _observed_expected(lr) -> dict:
    """Observed and expected events per group from the log-rank (R survdiff ``obs`` / ``exp``)."""
    if lr is None:
        return {}
    ex = dict(lr.extras)
    return {g: {"observed": ex.get(f"observed {g}"), "expected": ex.get(f"expected {g}")} for g in lr.groups}


def _cox_json(cox) -> dict:
    ex = dict(cox.extras)
    ph = None
    if "PH test p" in ex:
        ph = {
            "test": "scaled Schoenfeld residuals (R cox.zph, transform = 'km')",
            "statistic": ex["PH test chi-square"],
            "df": int(ex["PH test df"]),
            "p_value": ex["PH test p"],
        }
    return {**test_dict(cox), "events": {g: ex.get(f"events {g}") for g in cox.groups}, "ph_test": ph}
