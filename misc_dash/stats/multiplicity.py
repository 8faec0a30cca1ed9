"""Multiple-testing adjustment: :func:`benjamini_hochberg` = R ``p.adjust(method = "BH")``, :func:`holm` =
``"holm"``; NaN / None stay NaN and do not count in the number of tests (as R's ``p.adjust`` with NA)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _pvec(pvalues: Sequence[float | None]) -> np.ndarray:
    return np.asarray([np.nan if p is None else p for p in pvalues], dtype=float)


def benjamini_hochberg(pvalues: Sequence[float | None]) -> tuple[float, ...]:
    """R ``p.adjust(p, method = "BH")``; NaN/None stay NaN and are not counted."""
    p = _pvec(pvalues)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m:
        pv = p[ok]
        order = np.argsort(pv)[::-1]  # decreasing
        i = np.arange(m, 0, -1)
        adj = np.minimum.accumulate(m / i * pv[order])
        res = np.empty(m)
        res[order] = np.minimum(adj, 1.0)
        out[ok] = res
    return tuple(float(v) for v in out)


def holm(pvalues: Sequence[float | None]) -> tuple[float, ...]:
    """R ``p.adjust(p, method = "holm")``; NaN/None stay NaN and are not counted."""
    p = _pvec(pvalues)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m:
        pv = p[ok]
        order = np.argsort(pv, kind="stable")
        adj = np.maximum.accumulate((m - np.arange(m)) * pv[order])
        res = np.empty(m)
        res[order] = np.minimum(adj, 1.0)
        out[ok] = res
    return tuple(float(v) for v in out)
