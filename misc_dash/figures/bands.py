"""Large cohorts: quantile bands instead of one line per patient, boxes from precomputed quartiles instead of every
point, and a small reproducible sample of patients drawn individually.

Above :data:`BAND_ABOVE` patients in a chart, the per-patient charts (echo and lab trajectories, the paired
first vs follow-up chart, anakinra doses) draw per group and day the median (thick line), the interquartile range
and the 10–90 % range (filled bands), plus :data:`SAMPLE_PER_GROUP` randomly chosen patients per group as thin lines
(:func:`sample_ids`: seeded, so the same patients give the same sample on every rerun); box charts (cytokines) draw
boxes from quartiles computed here, without the points. At or below the threshold the charts are unchanged.

Quantiles: :data:`QUANTILE_RULE` (numpy ``method="weibull"`` = R ``quantile(type = 6)``, the project's rule), computed
for every group and day at once from one sort (:func:`grouped_quantiles`).

A figure drawn this way says so: its subtitle carries the note, and ``layout.meta["summary"]`` holds it for the
card's caption (:func:`summary_note`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..plotspec import scatter
from .style import rgba

BAND_ABOVE = 300  # more patients than this in one chart: bands and a sample instead of every patient
SAMPLE_PER_GROUP = 50  # patients drawn individually per group in band mode
SAMPLE_SEED = 15  # fixed: the same patients give the same sample
BAND_QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
QUANTILE_RULE = "quantiles: R type 6"
SAMPLE_ROLE = "sample"  # trace meta role of the sampled patients' lines and markers
IQR_ALPHA = 0.28
OUTER_ALPHA = 0.14


def esc_data(values: Any) -> np.ndarray:
    """Data text (patient ids, hover labels) for plotly, which reads ``<``, ``>`` and ``&`` in hover and tick text as
    markup: those three as HTML entities. An object array; None stays None; strings without them are unchanged
    (the same objects)."""
    arr = np.asarray(values, dtype=object)
    flat = arr.ravel()
    need = pd.Series(flat, dtype=object).str.contains("[<>&]", regex=True, na=False).to_numpy(bool)
    if not need.any():
        return arr
    out = flat.copy()
    out[need] = [html.escape(v, quote=False) for v in flat[need]]
    return out.reshape(arr.shape)


def esc_name(s: Any) -> str:
    """One data string (a group or legend name) for plotly: ``&``, ``<``, ``>`` as HTML entities."""
    return html.escape(str(s), quote=False)


def use_bands(n_patients: int) -> bool:
    return int(n_patients) > BAND_ABOVE


def sample_ids(ids: Any, size: int = SAMPLE_PER_GROUP, seed: int = SAMPLE_SEED) -> np.ndarray:
    """A reproducible random sample of ``size`` of the distinct ``ids`` (drawn from the sorted distinct ids with a
    fixed seed: the same patients always give the same sample). All of them when there are at most ``size``."""
    distinct = pd.Series(pd.unique(np.asarray(ids, dtype=object).ravel()), dtype=object).dropna()
    uniq = np.unique(distinct.astype(str).to_numpy(object))
    if uniq.size <= size:
        return uniq
    return np.sort(np.random.default_rng(seed).choice(uniq, size, replace=False))


def in_sample(patient_id: pd.Series, ids: np.ndarray) -> np.ndarray:
    """Rows of ``patient_id`` whose id (as text) is one of ``ids`` (from :func:`sample_ids`)."""
    s = patient_id if pd.api.types.is_string_dtype(patient_id) else patient_id.astype(str)
    return s.isin(ids).to_numpy(bool)


def grouped_quantiles(
    keys: np.ndarray, values: np.ndarray, qs: Sequence[float] = BAND_QUANTILES
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quantiles of ``values`` per distinct integer ``key``, all keys at once: (keys, counts, array keys × qs).

    The rule of ``numpy.quantile(v, q, method="weibull")`` (R type 6: position (n + 1)q, clamped to the first and
    last value, linear between neighbours, numpy's own interpolation formula), from one lexsort. NaN values are
    left out."""
    keys = np.asarray(keys)
    values = np.asarray(values, float)
    ok = ~np.isnan(values)
    keys, values = keys[ok], values[ok]
    if keys.size == 0:
        return keys[:0], np.zeros(0, int), np.zeros((0, len(qs)))
    o = np.lexsort((values, keys))
    keys, values = keys[o], values[o]
    head = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    n = np.diff(np.r_[head, keys.size])
    return keys[head], n, sorted_quantiles(values, head, n, qs)


def sorted_quantiles(v: np.ndarray, start: np.ndarray, n: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Weibull (R type 6) quantiles of the runs ``v[start : start + n]`` (each run sorted ascending)."""
    q = np.asarray(qs, float)[None, :]
    nn = n[:, None].astype(float)
    pos = np.clip((nn + 1.0) * q - 1.0, 0.0, nn - 1.0)  # 0-based virtual index
    lo = np.floor(pos)
    t = pos - lo
    lo = lo.astype(np.int64)
    hi = np.minimum(lo + 1, n[:, None] - 1)
    a = v[start[:, None] + lo]
    b = v[start[:, None] + hi]
    d = b - a
    with np.errstate(invalid="ignore"):
        return np.where(t >= 0.5, b - d * (1.0 - t), a + d * t)


def runs(gap: np.ndarray) -> list[np.ndarray]:
    """Index runs of consecutive drawn points (``gap`` True where a point does not join the previous one)."""
    gap = np.asarray(gap, bool)
    if gap.size == 0:
        return []
    return np.split(np.arange(gap.size), np.flatnonzero(gap[1:]) + 1) if gap.size > 1 else [np.arange(gap.size)]


def band_traces(
    x: Any,
    lo: np.ndarray,
    hi: np.ndarray,
    gap: np.ndarray | None,
    color: str,
    alpha: float,
    name: str,
    group: str,
    shape: str | None = None,
) -> list[dict]:
    """A filled band between ``lo`` and ``hi``: per run of adjacent points, a lower edge (invisible) and the upper
    edge filled down to it (``fill="tonexty"``, which fills to the trace just before it). One pair per run: plotly.js
    fills across gaps (NaN) in a ``tonexty`` pair, so a gap starts a new pair."""
    xs = np.asarray(x, dtype=object if not np.issubdtype(np.asarray(x).dtype, np.number) else float)
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    out: list[dict] = []
    line = {"width": 0, "color": color}
    if shape:
        line["shape"] = shape
    for r in runs(gap if gap is not None else np.zeros(len(lo), bool)):
        common = {"mode": "lines", "legendgroup": group, "showlegend": False, "hoverinfo": "skip"}
        out.append(scatter(x=xs[r], y=lo[r], line=dict(line), name=f"{name} lower", **common))
        fill = {"fill": "tonexty", "fillcolor": rgba(color, alpha)}
        out.append(scatter(x=xs[r], y=hi[r], line=dict(line), name=name, **fill, **common))
    return out


def set_summary(fig, note: str) -> None:
    """Mark ``fig`` (a FigureSpec) as drawn in summary form, with the note a caption repeats."""
    fig.update_layout(meta={"summary": note})


def summary_note(fig) -> str | None:
    """The summary note of a figure drawn with bands / precomputed boxes (None: every patient is drawn)."""
    meta = getattr(getattr(fig, "layout", None), "meta", None)
    if isinstance(meta, dict):
        return meta.get("summary")
    return None


def n_text(n: int, counts=None) -> str:
    """A (large) number of patients in a subtitle, "12,345"; under the small-cell rounding preset rounded like
    every count (``counts``: :class:`misc_dash.privacy.GroupCounts`)."""
    return f"{int(n):,}" if counts is None else f"{counts.policy.value(n):,}"
