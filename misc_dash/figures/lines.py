"""Per-patient lines and group medians over time, shared by the echo, labs and dosing figures.

Per-patient lines are ONE trace per group with gaps (NaN) between patients, so a large cohort still draws a
handful of traces; the group line is the median of the patients' trajectories (each linearly interpolated between
its own measurements), drawn on days where at least :data:`~misc_dash.figures.style.MIN_MEDIAN_N` patients'
trajectories are defined."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..plotspec import FigureSpec, scatter
from .bands import (
    IQR_ALPHA,
    OUTER_ALPHA,
    QUANTILE_RULE,
    SAMPLE_ROLE,
    band_traces,
    esc_data,
    in_sample,
    n_text,
    sample_ids,
    sorted_quantiles,
)
from .style import BASE_FONT, MIN_MEDIAN_N, GroupRows, _esc, draws, legend_name, median_min_n, rgba


# ------------------------------------------------------------------------------------------------ per-patient lines
def _patient_lines(
    df: pd.DataFrame, x: str, y: str, label: pd.Series | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate per-patient polylines (sorted by x) with a NaN gap after each patient (vectorised).

    Returns x, y (float arrays, NaN = gap) and a 1-D object array for hover (``label`` per row, default the
    patient id; None in the gaps). One column of customdata keeps 10,000-patient figures fast to build and
    serialise (a 2-D object array is much slower). Patients in sorted id order, each one's points by x (stable,
    missing x last), as ``sort_values(["patient_id", x], kind="stable")`` orders them; done in numpy because this
    runs for every group of every trajectory chart on every rerun."""
    hover = (df["patient_id"] if label is None else label).astype(str).to_numpy(object)
    codes = pd.factorize(df["patient_id"], sort=True)[0]
    xv = df[x].to_numpy(float)
    order = np.lexsort((xv, codes))
    codes = codes[order]
    n, k = len(order), (int(codes.max()) + 1 if len(order) else 0)
    pos = np.arange(n) + codes  # each earlier patient adds one gap
    xs = np.full(n + k, np.nan)
    ys = np.full(n + k, np.nan)
    xs[pos] = xv[order]
    ys[pos] = df[y].to_numpy(float)[order]
    cd = np.full(n + k, None, dtype=object)
    cd[pos] = hover[order]
    return xs, ys, cd


def _with_day(df: pd.DataFrame, x: str) -> pd.Series | None:
    """Hover label "P01, admission day 3" when the x axis is not days since admission."""
    if x == "day" or "day" not in df.columns:
        return None
    day = pd.to_numeric(df["day"], errors="coerce")
    if day.notna().all() and (day == day.round()).all():
        txt = day.astype("int64").astype(str)  # vectorised for the usual integer days
    else:
        txt = day.map(lambda v: f"{v:g}" if pd.notna(v) else "?")
    return df["patient_id"].astype(str) + ", admission day " + txt


MEDIAN_RULE = f"median of patients' interpolated trajectories, days with ≥ {MIN_MEDIAN_N} patients"


def _group_median(df: pd.DataFrame, x: str, y: str, min_n: int = MIN_MEDIAN_N) -> pd.DataFrame:
    """The group line: per day, the median across patients of each patient's trajectory, linearly interpolated
    between that patient's own measurements, on days where at least ``min_n`` patients' trajectories are defined.

    A patient's several values on one day are averaged first; the trajectory is defined from the patient's first to
    last measurement day (no extrapolation; a patient measured once counts on that day only). The day grid is every
    measurement day of ``df`` and every whole day between the first and the last. So the line does not jump as
    different patients happen to be measured on different days. Returns ``x``, ``median``, ``n`` (patients whose
    trajectory is defined that day) and ``gap`` (True where the previous grid day had fewer than ``min_n``).
    Rows without x, y or patient are left out. Vectorised numpy (this runs for every group on every rerun);
    ``tests/test_figures.py`` checks it against np.interp per patient."""
    empty = pd.DataFrame(
        {
            x: np.array([], dtype=float),
            "median": np.array([], dtype=float),
            "n": np.array([], dtype=int),
            "gap": np.array([], dtype=bool),
        }
    )
    got = _interpolated(df, x, y)
    if got is None:
        return empty
    out = _per_day(*got, min_n)
    if out is None:
        return empty
    day, median, m, gap, _ = out
    return pd.DataFrame({x: day, "median": median, "n": m.astype(int), "gap": gap})


def _per_day(grid: np.ndarray, k: np.ndarray, val: np.ndarray, min_n: int, qs: tuple[float, ...] = ()):
    """Per grid day with >= ``min_n`` values: day, median, n, gap (previous grid day dropped) and the ``qs``
    quantiles (R type 6; days × qs). None when no day qualifies."""
    # median across patients per grid day (sorted by day, then value)
    o = np.lexsort((val, k))
    k, val = k[o], val[o]
    size = grid.size
    n = np.bincount(k, minlength=size)
    start = np.cumsum(n) - n
    ok = n >= min_n
    if not ok.any():
        return None
    s, m = start[ok], n[ok]
    median = (val[s + (m - 1) // 2] + val[s + m // 2]) / 2.0
    idx = np.flatnonzero(ok)
    gap = np.r_[False, np.diff(idx) > 1]
    q = sorted_quantiles(val, s, m, qs) if qs else None
    return grid[idx], median, m, gap, q


def _interpolated(df: pd.DataFrame, x: str, y: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Every patient's trajectory on the day grid (see :func:`_group_median`): the grid, and for each (patient, grid
    day) where the trajectory is defined, the grid index ``k`` and the interpolated value. None without data."""
    if df.empty:
        return None
    xv = df[x].to_numpy(dtype=float, na_value=np.nan)
    yv = df[y].to_numpy(dtype=float, na_value=np.nan)
    pc = pd.factorize(df["patient_id"])[0]
    keep = ~np.isnan(xv) & ~np.isnan(yv) & (pc >= 0)
    xv, yv, pc = xv[keep], yv[keep], pc[keep]
    if xv.size == 0:
        return None
    # one point per patient and day: the mean of that day's values
    o = np.lexsort((xv, pc))
    xv, yv, pc = xv[o], yv[o], pc[o]
    first = np.r_[True, (xv[1:] != xv[:-1]) | (pc[1:] != pc[:-1])]
    pid = np.cumsum(first) - 1
    py = np.bincount(pid, weights=yv) / np.bincount(pid)
    px, pp = xv[first], pc[first]
    grid = np.union1d(px, np.arange(np.ceil(px.min()), np.floor(px.max()) + 1.0))
    gi = np.searchsorted(grid, px)  # exact: every point's day is on the grid
    # each patient's span of grid days, first to last measurement
    head = np.flatnonzero(np.r_[True, pp[1:] != pp[:-1]])
    tail = np.r_[head[1:], px.size] - 1
    lo, hi = gi[head], gi[tail]
    span = hi - lo + 1
    rank = np.repeat(np.arange(head.size), span)  # patient (0..P-1, in point order) of each (patient, grid day)
    k = np.repeat(lo, span) + (np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span))
    size = grid.size
    keys = np.repeat(np.arange(head.size), np.diff(np.r_[head, px.size])) * size + gi  # sorted
    left = np.searchsorted(keys, rank * size + k, side="right") - 1  # the patient's point at or before the day
    right = np.minimum(left + 1, px.size - 1)
    exact = gi[left] == k
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (py[right] - py[left]) / (px[right] - px[left])
        val = np.where(exact, py[left], slope * (grid[k] - px[left]) + py[left])
    return grid, k, val


def _group_bands(df: pd.DataFrame, x: str, y: str, min_n: int = MIN_MEDIAN_N) -> pd.DataFrame:
    """:func:`_group_median` with the quartiles and the 10th and 90th percentiles of the same interpolated
    trajectories per grid day (R type 6, :func:`~.bands.sorted_quantiles`): columns ``x``, ``median``, ``p10``,
    ``q1``, ``q3``, ``p90``, ``n``, ``gap``."""
    cols = (x, "median", "p10", "q1", "q3", "p90", "n", "gap")
    got = _interpolated(df, x, y)
    out = _per_day(*got, min_n, (0.10, 0.25, 0.75, 0.90)) if got is not None else None
    if out is None:
        return pd.DataFrame({c: np.array([], dtype=int if c == "n" else bool if c == "gap" else float) for c in cols})
    day, median, m, gap, q = out
    return pd.DataFrame(
        {x: day, "median": median, "p10": q[:, 0], "q1": q[:, 1], "q3": q[:, 2], "p90": q[:, 3], "n": m, "gap": gap}
    )[list(cols)]


def _median_trace(
    med: pd.DataFrame, x: str, group: str, color: str, what: str, unit: str, xlabel: str, counts: Any = None
) -> dict:
    """The thick group line from :func:`_group_median` (a gap where days had too few patients). Under small-cell
    suppression (``counts``) the hover does not count the day's patients (the rule is in the subtitle)."""
    xs, ys, n = med[x].to_numpy(float), med["median"].to_numpy(float), med["n"].to_numpy(float)
    if "gap" in med.columns:
        cut = np.flatnonzero(med["gap"].to_numpy(bool))
        xs, ys, n = (np.insert(a, cut, np.nan) for a in (xs, ys, n))
    rule = MEDIAN_RULE if counts is None else median_rule(counts)
    tr = scatter(
        x=xs,
        y=ys,
        customdata=n,
        mode="lines",
        line={"color": color, "width": 4.5},
        name=f"{_esc(group)} median",
        legendgroup=group,
        showlegend=False,
        connectgaps=False,
        hovertemplate=(
            f"<b>{_esc(group)}</b>: {_esc(rule)}<br>{xlabel} %{{x:g}}<br>{what} %{{y:.3~g}}{unit}"
            "<br>%{customdata:.0f} patients<extra></extra>"
        ),
    )
    if counts is not None:
        del tr["customdata"]
        tr["hovertemplate"] = tr["hovertemplate"].replace("<br>%{customdata:.0f} patients", "")
    return tr


def median_rule(counts: Any = None) -> str:
    """:data:`MEDIAN_RULE` with the day threshold in force (:func:`~.style.median_min_n`)."""
    return f"median of patients' interpolated trajectories, days with ≥ {median_min_n(counts)} patients"


def _patient_line_traces(
    d: pd.DataFrame,
    groups: Sequence[str],
    rows: GroupRows,
    cmap: Mapping[str, str],
    x: str,
    line_style: Callable[[str], dict],
    patient_hover: Callable[[str], str],
    what: str,
    unit: str,
    day_word: str,
    counts: Any = None,
) -> list[dict]:
    """Below the band threshold, per group: one trace of every patient's line (``value`` against ``x``) and the
    group's median trajectory (echo and labs figures). Under small-cell suppression (``counts``) a group whose
    count is hidden gets no per-patient lines (its median, when a day has enough patients, carries the legend)."""
    traces = []
    for g in groups:
        sub = d[rows.mask(g)]
        col = cmap[g]
        name = legend_name(g, sub["patient_id"].nunique(), counts)
        med = _group_median(sub, x, "value", min_n=median_min_n(counts))
        if draws(g, counts):
            xs, ys, cd = _patient_lines(sub, x, "value", _with_day(sub, x))
            traces.append(
                scatter(
                    x=xs,
                    y=ys,
                    customdata=esc_data(cd),
                    **line_style(col),
                    name=name,
                    legendgroup=g,
                    connectgaps=False,
                    hovertemplate=patient_hover(g),
                )
            )
        if len(med):
            tr = _median_trace(med, x, g, col, what, unit, day_word, counts)
            if not draws(g, counts):
                tr.update(name=name, showlegend=True)
            traces.append(tr)
    return traces


def _threshold_line(fig: FigureSpec, y: float, text: str, **kw) -> None:
    fig.add_hline(
        y=y,
        line={"dash": "dot", "color": "#333333", "width": 2},
        annotation={
            "text": text,
            "font": {"size": BASE_FONT - 1, "color": "#333333"},
            "bgcolor": "rgba(255,255,255,0.8)",
        },
        annotation_position="top right",
        **kw,
    )


# ------------------------------------------------------------------------------------------------ large cohorts
BAND_RULE = (
    f"Thick: median of patients' interpolated trajectories; bands: IQR and 10–90 % ({QUANTILE_RULE}), "
    f"days with ≥ {MIN_MEDIAN_N} patients"
)


def band_rule(counts: Any = None) -> str:
    """:data:`BAND_RULE` with the day threshold in force (:func:`~.style.median_min_n`)."""
    return BAND_RULE.replace(f"≥ {MIN_MEDIAN_N} patients", f"≥ {median_min_n(counts)} patients")


def sample_style(col: str, markers: bool = True) -> dict[str, Any]:
    """The sampled patients' lines in a banded chart: lighter than the every-patient lines, so the bands show
    (``meta.role`` "sample": presentation mode keeps them thinner than the medians, :data:`~.bands.SAMPLE_ROLE`)."""
    out: dict[str, Any] = {
        "mode": "lines+markers" if markers else "lines",
        "line": {"color": rgba(col, 0.3), "width": 1},
        "meta": {"role": SAMPLE_ROLE},
    }
    if markers:
        out["marker"] = {"size": 3, "color": rgba(col, 0.4)}
    return out


def _banded_trajectories(
    d: pd.DataFrame,
    groups: Sequence[str],
    cmap: Mapping[str, str],
    x: str,
    *,
    what: str,
    unit: str,
    y_format: str,
    day_word: str,
    patient_hover: Callable[[str], str],
    counts: Any = None,
) -> tuple[list[dict], int, int]:
    """The trajectory chart of a large cohort, per group: a sample of :data:`~.bands.SAMPLE_PER_GROUP` patients
    as thin light lines (:func:`sample_style`), the 10–90 % and IQR bands and the median of the patients'
    interpolated trajectories (:func:`_group_bands`), in layers (lines, bands, medians on top). ``what`` /
    ``unit`` are plotly-safe text. Returns the traces, the number of patients and the largest sample of a group."""
    lines_, bands_, medians = [], [], []
    n_total, n_sample = 0, 0
    rows = GroupRows(d["group"])
    for g in groups:
        sub = d[rows.mask(g)]
        col = cmap[g]
        n = int(sub["patient_id"].nunique())
        n_total += n
        ids = sample_ids(sub["patient_id"].to_numpy(object))
        n_sample = max(n_sample, ids.size)
        shown = sub[in_sample(sub["patient_id"], ids)]
        bands = _group_bands(sub, x, "value", min_n=median_min_n(counts))
        if draws(g, counts):
            xs, ys, cd = _patient_lines(shown, x, "value", _with_day(shown, x))
            lines_.append(
                scatter(
                    x=xs,
                    y=ys,
                    customdata=esc_data(cd),
                    **sample_style(col),
                    name=f"{_esc(g)} sample" if len(bands) else legend_name(g, n, counts),
                    legendgroup=g,
                    showlegend=not len(bands),  # the legend entry is the median line, when there is one
                    connectgaps=False,
                    hovertemplate=patient_hover(g),
                )
            )
        if not len(bands):
            continue
        day, gap = bands[x].to_numpy(float), bands["gap"].to_numpy(bool)
        lo10, lo25, hi75, hi90 = (bands[c].to_numpy(float) for c in ("p10", "q1", "q3", "p90"))
        bands_ += band_traces(day, lo10, hi90, gap, col, OUTER_ALPHA, f"{_esc(g)} 10–90 %", g)
        bands_ += band_traces(day, lo25, hi75, gap, col, IQR_ALPHA, f"{_esc(g)} IQR", g)
        # under small-cell suppression the day's number of patients is not written out (the rule is in the subtitle)
        n_day = bands["n"].to_numpy(float) if counts is None else np.full(len(bands), np.nan)
        cd = np.column_stack([n_day, lo10, lo25, hi75, hi90])
        cut = np.flatnonzero(gap)
        mx, my = np.insert(day, cut, np.nan), np.insert(bands["median"].to_numpy(float), cut, np.nan)
        cd = np.insert(cd, cut, np.nan, axis=0)
        f = y_format
        medians.append(
            scatter(
                x=mx,
                y=my,
                customdata=cd,
                mode="lines",
                line={"color": col, "width": 4.5},
                name=legend_name(g, n, counts),
                legendgroup=g,
                connectgaps=False,
                hovertemplate=(
                    f"<b>{_esc(g)}</b>: median of patients' interpolated trajectories<br>{day_word} %{{x:g}}"
                    f"<br>{what} %{{y:{f}}}{unit}<br>IQR %{{customdata[2]:{f}}}–%{{customdata[3]:{f}}}, "
                    f"10–90 %: %{{customdata[1]:{f}}}–%{{customdata[4]:{f}}}"
                    + ("<br>%{customdata[0]:.0f} patients" if counts is None else "")
                    + "<extra></extra>"
                ),
            )
        )
    return [*lines_, *bands_, *medians], n_total, n_sample


def _band_note(n_total: int, n_sample: int, per: str = "day", counts: Any = None) -> str:
    """The caption sentence of a chart drawn with bands (counts rounded under the small-cell rounding preset)."""
    return (
        f"{n_text(n_total, counts)} patients: median, IQR and 10–90 % band per {per} ({QUANTILE_RULE}), with "
        f"{n_text(n_sample, counts)} random patients per group drawn as lines"
    )
