"""Table 1: baseline characteristics by the compare-by groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import formatting as fmt
from .. import stats
from .context import Context, binary_effects, compare_binary, compare_continuous
from .jsonable import effect_dict, test_fields


def _binary(pf: pd.DataFrame, col: str) -> pd.Series:
    return pf[col].astype("boolean")


def table1_variables(pf: pd.DataFrame) -> list[tuple[str, str, Any]]:
    """(label, kind, getter) — kind "continuous", "binary", "categorical" (a variable with several levels: one
    r × c test) or "level" (one level of the categorical variable above it: counts, and the per-level 2 × 2 test
    the index paper printed; written as a "binary" record with ``level_of``); getter(pf) → Series (NA = missing)."""
    rows: list[tuple[str, str, Any]] = [
        ("Age, years", "continuous", lambda d: d["age_years"].astype(float)),
        ("Weight, kg", "continuous", lambda d: d["weight_kg"].astype(float)),
        ("Male", "binary", lambda d: d["sex"].map({"M": True, "F": False}).astype("boolean")),
    ]
    for col, title in (("race", "Race"), ("ethnicity", "Ethnicity")):
        levels = [x for x in pf[col].dropna().value_counts().index.tolist()]
        rows.append((title, "categorical", lambda d, c=col: d[c]))
        for lv in sorted(levels, key=lambda x: (x in ("Other", "Unknown"), x)):
            rows.append(
                (f"{title}: {lv}", "level", lambda d, c=col, v=lv: (d[c] == v).astype("boolean").mask(d[c].isna()))
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


def _two(order, present_n) -> tuple[str, str] | None:
    present = [g for g in order if present_n.get(g, 0) > 0]
    return (present[0], present[1]) if len(present) == 2 else None


def _continuous(rec, vals, by, order, decimals):
    summ_all = stats.describe_continuous(vals)
    if summ_all.n == 0:
        return None
    summ = {g: stats.describe_continuous(by[g]) for g in order}
    clean = {g: by[g][~np.isnan(by[g])] for g in order}
    res = compare_continuous(clean, order)
    rec["overall"] = {"text": summ_all.text(decimals), **summ_all.to_dict()}
    rec["groups"] = {g: {"text": summ[g].text(decimals), **summ[g].to_dict()} for g in order}
    pair = _two(order, {g: len(clean[g]) for g in order})
    if pair:
        rec["effects"] = {"hodges_lehmann_shift": effect_dict(res)}
        rec["smd"] = stats.standardized_difference(clean[pair[0]], clean[pair[1]])
    return res


def _txt(k, n):
    return fmt.count_percent(k, n, empty="0 (n/a)")


def _proportion(k, n, missing) -> dict:
    lo, hi = stats.clopper_pearson(k, n) if n else (None, None)
    return {"text": _txt(k, n), "count": k, "n": n, "missing": missing, "ci": [lo, hi]}


def _binary_row(rec, vals, by, order, effects: bool):
    miss = np.isnan(vals)
    valid = vals[~miss]
    if valid.size == 0:
        return None
    ev = {g: int((by[g] == 1).sum()) for g in order}
    tot = {g: int((~np.isnan(by[g])).sum()) for g in order}
    res = compare_binary(ev, tot, order)
    rec["overall"] = _proportion(int((valid == 1).sum()), int(valid.size), int(miss.sum()))
    rec["groups"] = {g: _proportion(ev[g], tot[g], int(np.isnan(by[g]).sum())) for g in order}
    pair = _two(order, tot)
    if effects and pair:
        rec["effects"] = binary_effects(ev, tot, order, res)
        a, b = (by[g][~np.isnan(by[g])] for g in pair)
        rec["smd"] = stats.standardized_difference(a, b, binary=True)
    return res


def _categorical(rec, values: pd.Series, gcol, order):
    """Levels × groups counts and one Fisher–Freeman–Halton test on the whole table (R fisher.test)."""
    # one pass: level codes (as text) and group codes, then a levels × groups count table
    codes, uniques = pd.factorize(values.astype(object), sort=False)
    ok = codes >= 0
    levels = sorted({str(x) for x in uniques}, key=lambda x: (x in ("Other", "Unknown"), x))
    level_pos = np.array([levels.index(str(x)) for x in uniques], dtype=np.int64)
    gcode = np.asarray(pd.Categorical(gcol, categories=list(order)).codes, dtype=np.int64)
    in_group = gcode >= 0
    both = ok & in_group
    grid = np.zeros((len(order), len(levels)), dtype=np.int64)
    np.add.at(grid, (gcode[both], level_pos[codes[both]]), 1)
    missing_by_group = np.bincount(gcode[~ok & in_group], minlength=len(order))
    overall = np.bincount(level_pos[codes[ok]], minlength=len(levels))
    counts = {g: {lv: int(grid[i, j]) for j, lv in enumerate(levels)} for i, g in enumerate(order)}
    rec["levels"] = levels
    rec["overall"] = {
        "n": int(ok.sum()),
        "missing": int((~ok).sum()),
        "counts": {lv: int(overall[j]) for j, lv in enumerate(levels)},
    }
    rec["groups"] = {
        g: {"n": sum(counts[g].values()), "missing": int(missing_by_group[i]), "counts": counts[g]}
        for i, g in enumerate(order)
    }
    present = [g for g in order if rec["groups"][g]["n"] > 0]
    if len(present) < 2 or len(levels) < 2:
        return None
    table = np.array([[counts[g][lv] for lv in levels] for g in present])
    res = stats.fisher_rxc(table, groups=tuple(present))
    pair = _two(order, {g: rec["groups"][g]["n"] for g in order})
    if pair:
        rec["smd"] = stats.standardized_difference_categorical(
            [counts[pair[0]][lv] for lv in levels], [counts[pair[1]][lv] for lv in levels]
        )
    return res


def table1(ctx: Context, decimals: int = 1) -> Table1:
    """One record per variable: overall and per-group summaries (with their text), missing count, the test and
    its statistic, p, and the Benjamini–Hochberg q across the variables (a categorical variable counts once: its
    levels' per-level tests, kept as the paper printed them, are not in the q). With two groups: the effect with
    its 95% CI (Hodges–Lehmann shift; risk difference and odds ratio) and the standardised mean difference."""
    pf = ctx.pf
    order = ctx.groups
    sizes = ctx.group_sizes()
    records, tests = [], []
    gcol = pf["group"].to_numpy(dtype=object)
    gmask = {g: gcol == g for g in order}
    parent = None
    for label, kind, get in table1_variables(pf):
        # a level row is a binary row of its variable ("kind" stays "binary"; "level_of" names the variable)
        rec: dict[str, Any] = {"variable": label, "kind": "binary" if kind == "level" else kind}
        rec.update(effects=None, smd=None)
        if kind == "categorical":
            parent = label
            res = _categorical(rec, get(pf), gcol, order)
            rec["missing"] = rec["overall"]["missing"]
        else:
            # one float array per variable (binary: 1/0, missing: NaN), split by group with boolean masks
            vals = stats._to_float(get(pf))
            by = {g: vals[gmask[g]] for g in order}
            rec["missing"] = int(np.isnan(vals).sum())
            if kind == "continuous":
                res = _continuous(rec, vals, by, order, decimals)
            else:
                res = _binary_row(rec, vals, by, order, effects=kind == "binary")
            if "overall" not in rec:
                continue
            if kind == "level":
                rec["level_of"] = parent
        rec["test"] = res.test if res else None
        rec["p_value"] = res.p_value if res else None
        rec["notes"] = list(res.notes) if res else []
        rec.update(test_fields(res))
        records.append(rec)
        tests.append(res)
    counted = [r for r in records if "level_of" not in r]
    q = stats.benjamini_hochberg([r["p_value"] for r in counted]) if counted else ()
    for rec in records:
        rec["q_value"] = None
    for rec, qv in zip(counted, q):
        rec["q_value"] = None if qv is None or not np.isfinite(qv) else float(qv)
    return Table1(tuple(records), tuple(tests), order, sizes)


_JSON_KEYS = ("variable", "kind", "overall", "groups", "missing", "test", "p_value", "q_value", "notes")
_JSON_NEW = ("statistic", "statistic_name", "df", "method", "effects", "smd", "levels", "level_of")


def to_json(t1: Table1) -> list[dict]:
    """The ``table1`` key of the analyze JSON."""
    return [{k: r.get(k) for k in _JSON_KEYS + _JSON_NEW if k in _JSON_KEYS or k in r} for r in t1.records]
