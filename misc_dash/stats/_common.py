"""Shared helpers of :mod:`misc_dash.stats`: caveat thresholds, input cleaning (missing values), the on-screen
notes about small or empty groups, and JSON conversion of the result dataclasses."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd

#: a group smaller than this gets an on-screen caveat
SMALL_GROUP = 5
#: Cox models with fewer events than this get an on-screen caveat
FEW_EVENTS = 10


# ---------------------------------------------------------------------------------------------
# json
# ---------------------------------------------------------------------------------------------
def _json_safe(v: Any) -> Any:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else None
    if isinstance(v, Mapping):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_json_safe(x) for x in v]
    return v


def _dc_to_dict(obj: Any) -> dict:
    return {f.name: _json_safe(getattr(obj, f.name)) for f in fields(obj)}


# ---------------------------------------------------------------------------------------------
# input cleaning
# ---------------------------------------------------------------------------------------------
def _is_missing(v: Any) -> bool:
    """None, NaN, pandas.NA / NaT."""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # array-likes are not missing scalars
        return False


def _to_float(values: Any) -> np.ndarray:
    """1-D float array; None / NaN / pandas.NA / NaT → NaN (lists, numpy arrays, pandas Series alike)."""
    if values is None:
        return np.array([], dtype=float)
    # fast paths (same result): numeric/boolean numpy arrays and pandas Series/Index (nullable dtypes included)
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        return values.astype(float).ravel()
    if isinstance(values, (pd.Series, pd.Index)) and (
        pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype)
    ):
        return np.asarray(values.to_numpy(dtype=float, na_value=np.nan), dtype=float).ravel()
    objs = np.asarray(values, dtype=object).ravel()
    return np.array([np.nan if _is_missing(v) else float(v) for v in objs], dtype=float)


def _clean(values: Any) -> tuple[np.ndarray, int]:
    """Float array without missing values (None/NaN) and the number of missing values."""
    if values is None:
        return np.array([], dtype=float), 0
    arr = _to_float(values)
    keep = ~np.isnan(arr)
    return arr[keep], int((~keep).sum())


# ---------------------------------------------------------------------------------------------
# on-screen notes
# ---------------------------------------------------------------------------------------------
def _small_group_notes(groups: Sequence[str], ns: Sequence[int]) -> list[str]:
    small = [f"{g} (n = {n})" for g, n in zip(groups, ns) if 0 < n < SMALL_GROUP]
    if len(small) == 1:
        return [f"Small group: {small[0]} has fewer than {SMALL_GROUP} patients; interpret with caution."]
    if small:
        return [
            f"Small groups: {', '.join(small)} have fewer than {SMALL_GROUP} patients each; interpret with caution."
        ]
    return []


def _empty_notes(groups: Sequence[str], ns: Sequence[int]) -> list[str]:
    empty = [g for g, n in zip(groups, ns) if n == 0]
    if empty:
        return [f"No patients with data in: {', '.join(empty)} — test not computed."]
    return []
