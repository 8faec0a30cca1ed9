"""Descriptives: median [Q1, Q3] (R ``quantile(type = 6)``), n (%) per level, and the share meeting a
threshold with its exact Clopper–Pearson CI (R ``binom.test``).

* **Quantiles**: ``numpy.quantile(..., method="weibull")`` = R ``quantile(type = 6)`` (GraphPad Prism).
* **Clopper–Pearson**: beta quantiles, as R ``binom.test`` computes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special as _special

from ._common import _clean, _is_missing
from .results import CategoricalSummary, ContinuousSummary, ProportionSummary


def describe_continuous(values: Any) -> ContinuousSummary:
    """Median [Q1, Q3] and range, quantiles = ``numpy.quantile(method="weibull")`` = R type 6."""
    x, missing = _clean(values)
    if x.size == 0:
        return ContinuousSummary(0, missing, None, None, None, None, None)
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75], method="weibull")
    return ContinuousSummary(int(x.size), missing, float(med), float(q1), float(q3), float(x.min()), float(x.max()))


def describe_categorical(values: Any, levels: Sequence[Any] | None = None) -> CategoricalSummary:
    """n (%) per level. ``levels`` fixes order (and shows zero counts); default = sorted observed levels.

    Levels are compared and labelled as ``str`` (so booleans give "True"/"False").
    """
    vals = list(values) if values is not None else []
    # the text of each value (1, 1.0 and True are equal as Python values but not as text), counted at once
    codes, uniques = pd.factorize(np.array([str(v) for v in vals if not _is_missing(v)], dtype=object))
    per_text = dict(zip((str(u) for u in uniques), (int(n) for n in np.bincount(codes, minlength=len(uniques)))))
    present = int(codes.size)
    if levels is None:
        labels = tuple(sorted(per_text))
    else:
        labels = tuple(str(lv) for lv in levels)
    counts = tuple(per_text.get(lv, 0) for lv in labels)
    other = present - sum(counts)
    return CategoricalSummary(labels, counts, present, len(vals) - present, other)


def share_normal(values: Any, threshold: float, direction: str = ">=") -> ProportionSummary:
    """Share of non-missing values meeting ``value <direction> threshold`` (direction one of >=, >, <=, <),
    with an exact Clopper–Pearson 95% CI (= R ``binom.test``)."""
    ops = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}
    if direction not in ops:
        raise ValueError(f"direction must be one of {sorted(ops)}, got {direction!r}")
    x, missing = _clean(values)
    crit = f"{direction} {threshold:g}"
    if x.size == 0:
        return ProportionSummary(0, 0, missing, None, None, None, crit)
    k = int(ops[direction](x, threshold).sum())
    n = int(x.size)
    low, high = clopper_pearson(k, n)
    return ProportionSummary(k, n, missing, k / n, low, high, crit)


def clopper_pearson(k: int, n: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) CI for k successes of n, from beta quantiles as R ``binom.test`` computes it
    (``qbeta(a/2, k, n-k+1)``, ``qbeta(1-a/2, k+1, n-k)``); 0 and 1 at the edges. Same interval as scipy's
    ``binomtest(k, n).proportion_ci(method="exact")`` (which finds it by root search)."""
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    a = 1 - conf_level
    low = 0.0 if k == 0 else float(_special.betaincinv(k, n - k + 1, a / 2))
    high = 1.0 if k == n else float(_special.betaincinv(k + 1, n - k, 1 - a / 2))
    return low, high


def wilson_interval(k: int, n: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for k of n (no continuity correction; R ``prop.test(correct = FALSE)$conf.int``)."""
    if n == 0:
        return (float("nan"), float("nan"))
    z = float(_sps_norm_ppf(0.5 + conf_level / 2))
    p = k / n
    centre = (k + z * z / 2) / (n + z * z)
    half = z * np.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    return (max(0.0, centre - half) if p > 0 else 0.0, min(1.0, centre + half) if p < 1 else 1.0)


def _sps_norm_ppf(q: float) -> float:
    return float(_special.ndtri(q))


def standardized_difference(first: Any, second: Any, binary: bool = False) -> float | None:
    """Standardised mean difference (first − second) / √((s₁² + s₂²) / 2), the balance measure of tableone and
    cobalt: sample variances for continuous values, p(1 − p) for 0/1 values. None when undefined."""
    a, _ = _clean(first)
    b, _ = _clean(second)
    if a.size == 0 or b.size == 0:
        return None
    if binary:
        p1, p2 = float(a.mean()), float(b.mean())
        pooled = (p1 * (1 - p1) + p2 * (1 - p2)) / 2
    else:
        if a.size < 2 or b.size < 2:
            return None
        p1, p2 = float(a.mean()), float(b.mean())
        pooled = (float(a.var(ddof=1)) + float(b.var(ddof=1))) / 2
    if pooled <= 0:
        return 0.0 if p1 == p2 else None
    return (p1 - p2) / float(np.sqrt(pooled))


def standardized_difference_categorical(counts_first, counts_second) -> float | None:
    """Standardised difference for a variable with k levels (Yang & Dalton 2012, as tableone): the Mahalanobis
    distance between the two groups' level proportions, √((p₁ − p₂)' S⁻¹ (p₁ − p₂)) over levels 2..k, with
    S = the average of the two multinomial covariance matrices. None when undefined."""
    c1, c2 = np.asarray(counts_first, dtype=float), np.asarray(counts_second, dtype=float)
    if c1.sum() == 0 or c2.sum() == 0 or c1.size < 2:
        return None
    p1, p2 = (c1 / c1.sum())[1:], (c2 / c2.sum())[1:]
    s = (np.diag(p1 * (1 - p1) + p2 * (1 - p2)) - np.outer(p1, p1) - np.outer(p2, p2)) / 2
    np.fill_diagonal(s, (p1 * (1 - p1) + p2 * (1 - p2)) / 2)
    d = p1 - p2
    if not d.any():
        return 0.0
    try:
        val = float(d @ np.linalg.solve(s, d))
    except np.linalg.LinAlgError:
        val = float(d @ np.linalg.pinv(s) @ d)
    return float(np.sqrt(max(val, 0.0)))
