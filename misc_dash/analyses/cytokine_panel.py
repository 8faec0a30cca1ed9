"""Cytokines: fold difference over the upper limit of normal by group, Mann–Whitney per cytokine, BH q."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import stats
from ..contract import CYTOKINES
from .context import Context, compare_continuous
from .jsonable import effect_dict, test_fields


@dataclass(frozen=True)
class CytokineResult:
    records: tuple[dict, ...]
    values: pd.DataFrame  # patient_id, group, cytokine, fold_difference
    tests: dict


def cytokines(ctx: Context) -> CytokineResult:
    """Per cytokine: median [Q1, Q3] overall and per group, the between-group test, BH q across the panel."""
    cy = ctx.cohort["cytokines"].merge(ctx.pf[["patient_id", "group"]], on="patient_id")
    cy = cy[cy["group"].notna()]
    rows_of = cy.groupby("cytokine", sort=False).indices  # one pass over the rows, not one comparison per cytokine
    present = [c for c in CYTOKINES if c in rows_of]
    fold = cy["fold_difference"].to_numpy(dtype=float, na_value=np.nan)
    group_code, group_names = pd.factorize(cy["group"].to_numpy(object))
    code_of = {g: i for i, g in enumerate(group_names)}
    records, tests = [], {}
    for c in present:
        rows = rows_of[c]
        values, codes = fold[rows], group_code[rows]
        samples = {g: values[(codes == code_of.get(g, -2)) & ~np.isnan(values)] for g in ctx.groups}
        res = compare_continuous(samples, ctx.groups)
        tests[c] = res
        rec = {
            "cytokine": c,
            "overall": stats.describe_continuous(values).to_dict(),
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
    return CytokineResult(tuple(records), cy.reset_index(drop=True), tests)


def to_json(cr: CytokineResult) -> dict:
    """The ``cytokines`` key of the analyze JSON."""
    return {
        r["cytokine"]: {
            "groups": {
                g: {"n": v["n"], "median": v["median"], "q1": v["q1"], "q3": v["q3"]} for g, v in r["groups"].items()
            },
            "median": {g: v["median"] for g, v in r["groups"].items()},
            "p_value": r["p_value"],
            "q_value": r["q_value"],
            "test": r["test"],
            "notes": r["notes"],
            **{k: r[k] for k in ("statistic", "statistic_name", "df", "method", "effect")},
        }
        for r in cr.records
    }
