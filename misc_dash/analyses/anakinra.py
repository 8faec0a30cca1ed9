"""Anakinra dosing: courses per patient and the paper's Table 2 (anakinra patients without vs with CV shock)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import derive, stats
from ..vocabulary import CV_SHOCK_SPLIT
from .context import Context, compare_binary, compare_continuous
from .jsonable import summary_dict


@dataclass(frozen=True)
class DosingResult:
    courses: pd.DataFrame  # per anakinra patient: course columns + group + cv_shock
    daily: pd.DataFrame  # dose rows with group, cv_shock, day_since_start
    records: tuple[dict, ...]  # Table 2 rows
    overall: dict
    routes: pd.DataFrame
    groups: tuple[str, ...] = CV_SHOCK_SPLIT  # Table 2's columns
    group_n: dict | None = None  # patients per Table 2 column


TABLE2_CONTINUOUS = (
    ("Starting dose, mg/kg/day", "start_dose_mg_kg_day", 1),
    ("Initiation, hospitalization day", "start_hospital_day", 1),
    ("Max dose, mg/kg/day", "max_dose_mg_kg_day", 1),
    ("Max dose, mg/dose", "max_mg_per_dose", 0),
    ("Treatment duration, days", "duration_days", 1),
)


def dosing(ctx: Context) -> DosingResult:
    """Anakinra courses and the paper's Table 2 (anakinra patients without vs with CV shock)."""
    pf = ctx.pf[ctx.pf["anakinra"]].copy()
    no_shock, shock = order = CV_SHOCK_SPLIT
    pf["shock"] = np.where(pf["cv_shock"].astype("boolean").fillna(False), shock, no_shock)
    courses = pf[
        ["patient_id", "group", "shock", "treatment_group", "weight_kg", "anakinra_indication", *derive.COURSE_COLUMNS]
    ].reset_index(drop=True)
    records = []
    sizes = {g: int((pf["shock"] == g).sum()) for g in order}
    for label, col in (
        ("Inflammatory steroids", "inflammatory_steroids"),
        ("Stress hydrocortisone", "stress_hydrocortisone"),
    ):
        ev = {g: int(pf.loc[pf["shock"] == g, col].astype("boolean").fillna(False).sum()) for g in order}
        res = compare_binary(ev, sizes, order)
        records.append(
            {
                "variable": label,
                "groups": {g: {"count": ev[g], "n": sizes[g]} for g in order},
                "p_value": res.p_value if res else None,
                "test": res.test if res else None,
            }
        )
    for label, ind in (("Adjunct therapy", "adjunct"), ("First-line rescue therapy", "rescue")):
        ev = {g: int((pf.loc[pf["shock"] == g, "anakinra_indication"] == ind).sum()) for g in order}
        records.append(
            {
                "variable": label,
                "groups": {g: {"count": ev[g], "n": sizes[g]} for g in order},
                "p_value": None,
                "test": "N/A (defines the groups by design)",
            }
        )
    for label, col, dec in TABLE2_CONTINUOUS:
        samples = {g: pf.loc[pf["shock"] == g, col].dropna().to_numpy(float) for g in order}
        res = compare_continuous(samples, order)
        records.append(
            {
                "variable": label,
                "column": col,
                "decimals": dec,
                "groups": {g: stats.describe_continuous(samples[g]).to_dict() for g in order},
                "p_value": res.p_value if res else None,
                "test": res.test if res else None,
                "notes": list(res.notes) if res else [],
            }
        )
    overall = {col: stats.describe_continuous(pf[col]) for _, col, _ in TABLE2_CONTINUOUS}
    # the dose rows of these patients with their group, shock, start day and weight (as an inner merge on
    # patient_id, in the dose table's order), from the cohort's row → patient positions
    doses = ctx.cohort["anakinra_doses"]
    code = derive.patient_codes(ctx.cohort, "anakinra_doses", pf["patient_id"].to_numpy(object))
    rows = np.flatnonzero(code >= 0)
    d = doses.take(rows).reset_index(drop=True)
    for col in ("group", "shock", "start_day", "weight_kg"):
        d[col] = pf[col].take(code[rows]).reset_index(drop=True)
    d = d.assign(
        day_since_start=d["day"] - d["start_day"], mg_per_dose=d["dose_mg_kg_day"] * d["weight_kg"] / d["doses_per_day"]
    )
    routes = d.groupby(["route"])["patient_id"].nunique().rename("patients").reset_index()
    return DosingResult(courses, d.reset_index(drop=True), tuple(records), overall, routes, order, sizes)


def to_json(ds: DosingResult) -> dict:
    """The ``anakinra`` key of the analyze JSON."""
    return {
        "n_patients": len(ds.courses),
        "overall": {col: summary_dict(s) for col, s in ds.overall.items()},
        "by_cv_shock": [
            {"variable": r["variable"], "groups": r["groups"], "p_value": r["p_value"], "test": r["test"]}
            for r in ds.records
        ],
    }
