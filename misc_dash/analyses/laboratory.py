"""Laboratory values: trajectories and each patient's first (admission) value by group."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import stats
from ..vocabulary import LAB_LABELS
from .context import Context, compare_continuous
from .jsonable import effect_dict, test_fields


@dataclass(frozen=True)
class LabsResult:
    trajectories: pd.DataFrame  # patient_id, group, analyte, day, day_since_treatment, value, unit
    records: tuple[dict, ...]


def labs(ctx: Context) -> LabsResult:
    """Every lab value with its day since treatment start, and per analyte the first value's summary by group."""
    lab = ctx.cohort["labs"].merge(ctx.pf[["patient_id", "group", "treatment_start_hour"]], on="patient_id")
    lab = lab[lab["group"].notna()].copy()
    lab["day_since_treatment"] = lab["day"].astype(float) - np.floor(lab["treatment_start_hour"].astype(float) / 24.0)
    records = []
    # first (earliest-day) value per analyte and patient — derive.first_lab for all analytes in one sort
    fl = ctx.cohort["labs"]
    fl = fl[fl["patient_id"].isin(list(ctx.ids()))].dropna(subset=["value"])
    fl = (
        fl.sort_values(["analyte", "patient_id", "day"], kind="stable")
        .groupby(["analyte", "patient_id"], sort=False, as_index=False)["value"]
        .first()
    )
    fl["group"] = fl["patient_id"].map(ctx.pf.set_index("patient_id")["group"])
    firsts = {
        a: (d["value"].to_numpy(float), d["group"].to_numpy(object)) for a, d in fl.groupby("analyte", sort=False)
    }
    units = lab.dropna(subset=["unit"]).groupby("analyte", sort=False)["unit"].first()
    empty = (np.array([], dtype=float), np.array([], dtype=object))
    present = set(lab["analyte"].unique())
    for a in [x for x in LAB_LABELS if x in present]:
        values, groups = firsts.get(a, empty)
        samples = {g: values[groups == g] for g in ctx.groups}
        res = compare_continuous(samples, ctx.groups)
        rec = {
            "analyte": a,
            "unit": units.get(a, ""),
            "groups": {g: stats.describe_continuous(samples[g]).to_dict() for g in ctx.groups},
            "p_value": res.p_value if res else None,
            "test": res.test if res else None,
            "notes": list(res.notes) if res else [],
            **test_fields(res),
            "effect": effect_dict(res),
        }
        records.append(rec)
    q = stats.benjamini_hochberg([r["p_value"] for r in records]) if records else ()
    for rec, qv in zip(records, q):
        rec["q_value"] = None if qv is None or not np.isfinite(qv) else float(qv)
    traj = lab[["patient_id", "group", "analyte", "day", "day_since_treatment", "value", "unit"]].reset_index(drop=True)
    return LabsResult(traj, tuple(records))


def to_json(lb: LabsResult) -> dict:
    """The ``labs_first_value`` key of the analyze JSON."""
    return {
        r["analyte"]: {
            "unit": r["unit"],
            "groups": r["groups"],
            "p_value": r["p_value"],
            "test": r["test"],
            **{k: r[k] for k in ("q_value", "notes", "statistic", "statistic_name", "df", "method", "effect")},
        }
        for r in lb.records
    }
