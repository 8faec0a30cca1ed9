"""Table 1: baseline characteristics by the compare-by groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import formatting as fmt
from .. import stats
from .context import Context, compare_binary, compare_continuous


def _binary(pf: pd.DataFrame, col: str) -> pd.Series:
    return pf[col].astype("boolean")


def table1_variables(pf: pd.DataFrame) -> list[tuple[str, str, Any]]:
    """(label, kind, getter) — kind "continuous" or "binary"; getter(pf) → Series (NA = missing)."""
    rows: list[tuple[str, str, Any]] = [
        ("Age, years", "continuous", lambda d: d["age_years"].astype(float)),
        ("Weight, kg", "continuous", lambda d: d["weight_kg"].astype(float)),
        ("Male", "binary", lambda d: d["sex"].map({"M": True, "F": False}).astype("boolean")),
    ]
    for col, title in (("race", "Race"), ("ethnicity", "Ethnicity")):
        levels = [x for x in pf[col].dropna().value_counts().index.tolist()]
        for lv in sorted(levels, key=lambda x: (x in ("Other", "Unknown"), x)):
            rows.append(
                (f"{title}: {lv}", "binary", lambda d, c=col, v=lv: (d[c] == v).astype("boolean").mask(d[c].isna()))
            )
    rows += [
        ("SARS-CoV-2 PCR +", "binary", lambda d: _binary(d, "sars_cov2_pcr")),
        ("Non-specific", "binary", lambda d: (d["phenotype"] == "Non-specific").astype("boolean")),
        ("KD-like", "binary", lambda d: _binary(d, "kd_like")),
        ("CV shock", "binary", lambda d: _binary(d, "cv_shock")),
        ("KDSS-like", "binary", lambda d: (d["phenotype"] == "KDSS-like").astype("boolean")),
        ("ICU", "binary", lambda d: _binary(d, "icu")),
        ("IVIG", "binary", lambda d: _binary(d, "ivig")),
        ("Inflammatory steroids", "binary", lambda d: _binary(d, "inflammatory_steroids")),
        ("Stress hydrocortisone", "binary", lambda d: _binary(d, "stress_hydrocortisone")),
        ("Anakinra", "binary", lambda d: d["anakinra"].astype("boolean")),
        ("Length of stay, days", "continuous", lambda d: d["length_of_stay_days"].astype(float)),
    ]
    return rows


@dataclass(frozen=True)
class Table1:
    records: tuple[dict, ...]  # machine-readable rows
    tests: tuple[stats.TestResult | None, ...]
    groups: tuple[str, ...]
    group_n: dict


def table1(ctx: Context, decimals: int = 1) -> Table1:
    """One record per variable: overall and per-group summaries (with their text), missing count, the test,
    p and the Benjamini–Hochberg q across the rows."""
    pf = ctx.pf
    order = ctx.groups
    sizes = ctx.group_sizes()
    records, tests = [], []
    gcol = pf["group"].to_numpy(dtype=object)
    gmask = {g: gcol == g for g in order}
    for label, kind, get in table1_variables(pf):
        # one float array per variable (binary: 1/0, missing: NaN), split by group with boolean masks
        vals = stats._to_float(get(pf))
        miss = np.isnan(vals)
        by = {g: vals[gmask[g]] for g in order}
        rec: dict[str, Any] = {"variable": label, "kind": kind}
        missing = int(miss.sum())
        if kind == "continuous":
            summ_all = stats.describe_continuous(vals)
            summ = {g: stats.describe_continuous(by[g]) for g in order}
            if summ_all.n == 0:
                continue
            res = compare_continuous({g: by[g][~np.isnan(by[g])] for g in order}, order)
            rec["overall"] = {"text": summ_all.text(decimals), **summ_all.to_dict()}
            rec["groups"] = {g: {"text": summ[g].text(decimals), **summ[g].to_dict()} for g in order}
        else:
            valid = vals[~miss]
            if valid.size == 0:
                continue
            ev = {g: int((by[g] == 1).sum()) for g in order}
            tot = {g: int((~np.isnan(by[g])).sum()) for g in order}
            res = compare_binary(ev, tot, order)
            k_all, n_all = int((valid == 1).sum()), int(valid.size)

            def txt(k, n):
                return fmt.count_percent(k, n, empty="0 (n/a)")

            rec["overall"] = {"text": txt(k_all, n_all), "count": k_all, "n": n_all, "missing": missing}
            rec["groups"] = {
                g: {"text": txt(ev[g], tot[g]), "count": ev[g], "n": tot[g], "missing": int(np.isnan(by[g]).sum())}
                for g in order
            }
        rec["missing"] = missing
        rec["test"] = res.test if res else None
        rec["p_value"] = res.p_value if res else None
        rec["notes"] = list(res.notes) if res else []
        records.append(rec)
        tests.append(res)
    q = stats.benjamini_hochberg([r["p_value"] for r in records]) if records else ()
    for rec, qv in zip(records, q):
        rec["q_value"] = None if qv is None or not np.isfinite(qv) else float(qv)
    return Table1(tuple(records), tuple(tests), order, sizes)


def to_json(t1: Table1) -> list[dict]:
    """The ``table1`` key of the analyze JSON."""
    keys = ("variable", "kind", "overall", "groups", "missing", "test", "p_value", "q_value", "notes")
    return [{k: r.get(k) for k in keys} for r in t1.records]
