"""Small helpers that turn results into the ``analyze`` JSON's shapes (used by each topic's ``to_json``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import stats


def test_dict(t: stats.TestResult | None) -> dict | None:
    """A test result as the JSON's test object (keys in docs/ANALYZE.md)."""
    if t is None:
        return None
    d = t.to_dict()
    return {
        "test": d["test"],
        "statistic": d["statistic"],
        "statistic_name": d["statistic_name"],
        "p_value": d["p_value"],
        "df": d["df"],
        "groups": d["groups"],
        "n": d["n"],
        "effect": d["effect"],
        "estimate": d["estimate"],
        "ci": [d["ci_low"], d["ci_high"]],
        "method": d["method"],
        "notes": d["notes"],
        "conf_level": d["conf_level"],
        "extras": {name: value for name, value in t.extras},
    }


test_dict.__test__ = False  # not a pytest test


def summary_dict(s: stats.ContinuousSummary) -> dict:
    return {"n": s.n, "missing": s.missing, "median": s.median, "q1": s.q1, "q3": s.q3}


def json_clean(o):
    """JSON-safe: numpy scalars → Python, NaN/±inf/NA/NaT → None, tuples → lists, keys → str."""
    if isinstance(o, dict):
        return {str(k): json_clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [json_clean(v) for v in o]
    if isinstance(o, (np.bool_, bool)):
        return bool(o)
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (float, np.floating)):
        return None if not np.isfinite(o) else float(o)
    if o is pd.NA or o is pd.NaT:
        return None
    return o


def test_fields(t: stats.TestResult | None) -> dict:
    """The statistic, its name, df and method of a test, for records that carry a test by name and p-value."""
    if t is None:
        return {"statistic": None, "statistic_name": None, "df": None, "method": None}
    return {"statistic": t.statistic, "statistic_name": t.statistic_name, "df": t.df, "method": t.method}


def effect_dict(t: stats.TestResult | None) -> dict | None:
    """The effect with its CI that a test carries (Hodges–Lehmann shift, odds ratio…), or None."""
    e = stats.Effect.of(t)
    return None if e is None or e.estimate is None else e.to_dict()
