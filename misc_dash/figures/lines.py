"""Per-patient lines and group medians over time, shared by the echo, labs and dosing figures.

Per-patient lines are ONE trace per group with gaps (NaN) between patients, so a large cohort still draws a
handful of traces; group medians are drawn on days with at least :data:`~misc_dash.figures.style.MIN_MEDIAN_N`
patients measured that day."""

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


def _group_median(df: pd.DataFrame, x: str, y: str, min_n: int = MIN_MEDIAN_N) -> pd.DataFrame:
    """Median over patients per x (a patient's several values on one day averaged first); days with >= min_n."""
    empty = pd.DataFrame(
        {x: np.array([], dtype=float), "median": np.array([], dtype=float), "n": np.array([], dtype=int)}
    )
    if df.empty:
        return empty
    # numpy (this runs for every group on every rerun): rows without x or patient are dropped, like groupby
    xv = df[x].to_numpy(dtype=float)
    yv = df[y].to_numpy(dtype=float)
    pc = pd.factorize(df["patient_id"])[0]
    keep = ~np.isnan(xv) & (pc >= 0)
    order = np.lexsort((pc[keep], xv[keep]))
    xs, ys, ps = xv[keep][order], yv[keep][order], pc[keep][order]
    if xs.size == 0:
        return empty
    first = np.r_[True, (xs[1:] != xs[:-1]) | (ps[1:] != ps[:-1])]
    gid = np.cumsum(first) - 1
    ok = ~np.isnan(ys)
    sums = np.bincount(gid, weights=np.where(ok, ys, 0.0))
    cnts = np.bincount(gid, weights=ok.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / cnts  # a patient's mean on that day (NaN when all of that day's values are missing)
    px = xs[first]
    rows = []
    for day in np.unique(px):
        v = means[(px == day) & ~np.isnan(means)]
        if v.size >= min_n:
            rows.append((day, float(np.median(v)), int(v.size)))
    if not rows:
        return empty
    return pd.DataFrame(rows, columns=[x, "median", "n"])


def _median_trace(med: pd.DataFrame, x: str, group: str, color: str, what: str, unit: str, xlabel: str) -> dict:
    return scatter(
        x=med[x].to_numpy(float),
        y=med["median"].to_numpy(float),
        customdata=med["n"].to_numpy(int),
        mode="lines+markers",
        line={"color": color, "width": 4.5},
        marker={"size": 7, "color": color},
        name=f"{group} median",
        legendgroup=group,
        showlegend=False,
        hovertemplate=(
            f"<b>{_esc(group)}</b> median<br>{xlabel} %{{x:g}}<br>{what} %{{y:.3~g}}{unit}"
            "<br>%{customdata} patients<extra></extra>"
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
