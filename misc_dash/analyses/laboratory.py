"""Laboratory values: trajectories and each patient's first (admission) value by group."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import derive, stats
from ..vocabulary import LAB_LABELS
from .context import Context, compare_continuous
from .jsonable import effect_dict, test_fields


@dataclass(frozen=True)
class LabsResult:
    trajectories: pd.DataFrame  # patient_id, group, analyte (categorical), day, day_since_treatment, value, unit
    records: tuple[dict, ...]


def labs(ctx: Context) -> LabsResult:
    """Every lab value with its day since treatment start, and per analyte the first value's summary by group."""
    labs_table = ctx.cohort["labs"]
    ids = ctx.pf["patient_id"].to_numpy(object)
    group = ctx.pf["group"].to_numpy(object)
    code = derive.patient_codes(ctx.cohort, "labs", ids)  # the patient's row in ctx.pf, -1 if absent
    has_group = np.zeros(len(ids) + 1, bool)  # the extra last entry stands for code -1
    has_group[:-1] = ~pd.isna(group)
    rows = np.flatnonzero(has_group[code])
    analyte_all, analyte_names = ctx.cohort.codes("labs", "analyte")
    start_day = np.floor(ctx.pf["treatment_start_hour"].to_numpy(dtype=float, na_value=np.nan) / 24.0)
    # every row usually has a group (the subset already holds only the filtered patients): then the trajectories
    # share the table's columns instead of copying millions of rows
    kept = labs_table if rows.size == len(labs_table) else labs_table.take(rows).reset_index(drop=True)
    traj = pd.DataFrame(
        {
            "patient_id": kept["patient_id"],
            "group": group[code[rows]],
            # categorical (the cohort's cached codes): picking one analyte compares integers, not millions of strings
            "analyte": pd.Categorical.from_codes(analyte_all[rows], categories=analyte_names),
            "day": kept["day"],
            "day_since_treatment": kept["day"].to_numpy(dtype=float, na_value=np.nan) - start_day[code[rows]],
            "value": kept["value"],
            "unit": kept["unit"],
        },
        copy=False,
    )
    records = []
    # first (earliest-day) value per analyte and patient (derive.first_lab for all analytes in one sort), patients
    # in id order within an analyte; every filtered patient counts, grouped or not (the group may be None)
    value = labs_table["value"].to_numpy(dtype=float, na_value=np.nan)
    ok = np.flatnonzero((code >= 0) & ~np.isnan(value))
    rank = np.empty(len(ids), np.int64)
    rank[np.argsort(ids.astype(str), kind="stable")] = np.arange(len(ids))
    r, a, d = rank[code[ok]], analyte_all[ok], labs_table["day"].to_numpy(dtype=float, na_value=np.nan)[ok]
    dr, da, dd = np.diff(r), np.diff(a), np.diff(d)
    if not ((dr > 0) | ((dr == 0) & ((da > 0) | ((da == 0) & (dd >= 0))))).all():  # files usually come sorted
        srt = np.lexsort((d, a, r))  # stable: equal days in table order
        ok, r, a = ok[srt], r[srt], a[srt]
    head = np.r_[True, (r[1:] != r[:-1]) | (a[1:] != a[:-1])] if ok.size else np.zeros(0, bool)
    first = ok[head]  # per patient (id order) and analyte, the row of the earliest-day value
    first = first[np.argsort(a[head], kind="stable")]  # by analyte, patients still in id order
    bounds = np.searchsorted(analyte_all[first], np.arange(len(analyte_names) + 1))
    firsts = {
        name: (value[first[bounds[i] : bounds[i + 1]]], group[code[first[bounds[i] : bounds[i + 1]]]])
        for i, name in enumerate(analyte_names)
    }
    # each analyte's first recorded unit (table order) among the grouped patients' rows
    unit_code, unit_names = ctx.cohort.codes("labs", "unit")
    a_rows, u_rows = analyte_all[rows], unit_code[rows]
    with_unit = np.flatnonzero((u_rows >= 0) & (a_rows >= 0))
    first_row = np.full(len(analyte_names), np.iinfo(np.int64).max)
    np.minimum.at(first_row, a_rows[with_unit], with_unit)  # per analyte, its first row with a unit (no sort)
    units = {analyte_names[a]: unit_names[u_rows[i]] for a, i in enumerate(first_row.tolist()) if i < len(u_rows)}
    present = {analyte_names[i] for i in np.flatnonzero(np.bincount(a_rows[a_rows >= 0], minlength=len(analyte_names)))}
    empty = (np.array([], dtype=float), np.array([], dtype=object))
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
