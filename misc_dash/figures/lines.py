"""Per-patient lines and group medians over time, shared by the echo, labs and dosing figures.

Per-patient lines are ONE trace per group with gaps (NaN) between patients, so a large cohort still draws a
handful of traces; the group line is the median of the patients' trajectories (each linearly interpolated between
its own measurements), drawn on days where at least :data:`~misc_dash.figures.style.MIN_MEDIAN_N` patients'
trajectories are defined."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..plotspec import FigureSpec, scatter
from .style import BASE_FONT, MIN_MEDIAN_N, _esc


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
    if df.empty:
        return empty
    xv = df[x].to_numpy(dtype=float, na_value=np.nan)
    yv = df[y].to_numpy(dtype=float, na_value=np.nan)
    pc = pd.factorize(df["patient_id"])[0]
    keep = ~np.isnan(xv) & ~np.isnan(yv) & (pc >= 0)
    xv, yv, pc = xv[keep], yv[keep], pc[keep]
    if xv.size == 0:
        return empty
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
    # median across patients per grid day (sorted by day, then value)
    o = np.lexsort((val, k))
    k, val = k[o], val[o]
    n = np.bincount(k, minlength=size)
    start = np.cumsum(n) - n
    ok = n >= min_n
    if not ok.any():
        return empty
    s, m = start[ok], n[ok]
    median = (val[s + (m - 1) // 2] + val[s + m // 2]) / 2.0
    idx = np.flatnonzero(ok)
    gap = np.r_[False, np.diff(idx) > 1]
    return pd.DataFrame({x: grid[idx], "median": median, "n": m.astype(int), "gap": gap})


def _median_trace(med: pd.DataFrame, x: str, group: str, color: str, what: str, unit: str, xlabel: str) -> dict:
    """The thick group line from :func:`_group_median` (a gap where days had too few patients)."""
    xs, ys, n = med[x].to_numpy(float), med["median"].to_numpy(float), med["n"].to_numpy(float)
    if "gap" in med.columns:
        cut = np.flatnonzero(med["gap"].to_numpy(bool))
        xs, ys, n = (np.insert(a, cut, np.nan) for a in (xs, ys, n))
    return scatter(
        x=xs,
        y=ys,
        customdata=n,
        mode="lines",
        line={"color": color, "width": 4.5},
        name=f"{group} median",
        legendgroup=group,
        showlegend=False,
        connectgaps=False,
        hovertemplate=(
            f"<b>{_esc(group)}</b>: {_esc(MEDIAN_RULE)}<br>{xlabel} %{{x:g}}<br>{what} %{{y:.3~g}}{unit}"
            "<br>%{customdata:.0f} patients<extra></extra>"
        ),
    )


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
