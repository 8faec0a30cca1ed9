"""Fever over time: each patient's daily maximum temperature with the group median and IQR band."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..plotspec import FigureSpec, scatter
from .bands import QUANTILE_RULE, esc_data, in_sample, n_text, sample_ids, set_summary
from .lines import _patient_lines, _threshold_line
from .style import (
    X_TITLES,
    _colors,
    _esc,
    _order_present,
    _style,
    draws,
    empty_figure,
    legend_name,
    median_min_n,
    rgba,
)

if TYPE_CHECKING:  # the analyses import scipy (slow); only needed for type hints here
    from ..analyses.temperature import TemperatureResult

SAMPLE_ABOVE = 300  # more patients than this: draw a sample of their lines (the bands always use every patient)
SAMPLE_SIZE = 200
SAMPLE_SEED = 14  # the sample is the same for the same patients on every rerun


def _sample_ids(ids: np.ndarray, size: int = SAMPLE_SIZE, seed: int = SAMPLE_SEED) -> np.ndarray:
    """A reproducible random sample of ``size`` patient ids (of the sorted unique ids: same patients → same sample)."""
    return sample_ids(ids, size, seed)


def _gapped(day: np.ndarray, *cols: np.ndarray) -> list[np.ndarray]:
    """Insert a NaN row where consecutive days are not adjacent (a summary day missing: no line across it)."""
    day = np.asarray(day, float)
    gap = np.flatnonzero(np.diff(day) > 1) + 1
    return [np.insert(np.asarray(c, float), gap, np.nan) for c in (day, *cols)]


def _band(day: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[list, list]:
    """The IQR band as closed polygons (one per run of adjacent days, separated by None) for ``fill="toself"``."""
    day = np.asarray(day, float)
    runs = np.split(np.arange(day.size), np.flatnonzero(np.diff(day) > 1) + 1) if day.size else []
    xs: list = []
    ys: list = []
    for r in runs:
        if xs:
            xs.append(None)
            ys.append(None)
        xs += day[r].tolist() + day[r][::-1].tolist()
        ys += np.asarray(hi, float)[r].tolist() + np.asarray(lo, float)[r][::-1].tolist()
    return xs, ys


def build_temperature_figure(
    result: TemperatureResult,
    order: Sequence[str] | None,
    colors: Mapping[str, str] | None = None,
    threshold_c: float = 38.0,
    origin: str = "admission",
    counts=None,
) -> go.Figure:
    """Daily maximum temperature per patient (thin translucent lines in the group colour, one trace per group), the
    group median (thick) and IQR (band) on days with ≥ MIN_MEDIAN_N patients measured, a dotted line at the fever
    threshold. x = whole days since the origin (day 0 = the first 24 h). Above :data:`SAMPLE_ABOVE` patients only a
    reproducible random sample of :data:`SAMPLE_SIZE` patient lines is drawn (said in the subtitle). ``counts``
    (:class:`misc_dash.privacy.GroupCounts`): small-cell suppression — the legend n as text, no per-patient lines
    for a group whose count is hidden, medians on days with at least the threshold, no count per day."""
    title = "Daily maximum temperature"
    daily = getattr(result, "daily", None)
    if daily is None or daily.empty:
        return empty_figure("No temperature readings at or after the origin for this selection.", title)
    daily = daily.dropna(subset=["group", "day", "temp_max"])
    if daily.empty:
        return empty_figure("No temperature readings at or after the origin for this selection.", title)
    groups = _order_present(order, daily["group"].astype(str))
    cmap = _colors(order or groups, colors)
    n_patients = daily.groupby(daily["group"].astype(str))["patient_id"].nunique()
    n_total = int(n_patients.sum())
    shown = daily
    if n_total > SAMPLE_ABOVE:
        shown = daily[in_sample(daily["patient_id"], _sample_ids(daily["patient_id"].to_numpy(object)))]
    origin_word = "treatment start" if origin == "treatment" else "admission"
    xlabel = X_TITLES["day_since_treatment" if origin == "treatment" else "day"]
    summary = result.summary
    layers: tuple[list, list, list] = ([], [], [])  # patient lines, IQR bands, medians: medians drawn on top
    for rank, g in enumerate(groups, start=1):
        col = cmap[g]
        name = legend_name(g, int(n_patients.get(g, 0)), counts)
        sub = shown[shown["group"].astype(str) == g]
        med = summary[(summary["group"].astype(str) == g) & (summary["n"] >= median_min_n(counts))].sort_values("day")
        has_median = len(med) > 0
        if not draws(g, counts):
            sub = sub.iloc[:0]
        xs, ys, cd = _patient_lines(sub, "day", "temp_max")
        layers[0].append(
            scatter(
                x=xs,
                y=ys,
                customdata=esc_data(cd),
                mode="lines",
                line={"color": rgba(col, 0.22), "width": 1},
                name=name if not has_median else f"{_esc(g)} patients",
                legendgroup=g,
                legendrank=rank,
                showlegend=not has_median,  # the legend entry is the thick median line, when there is one
                connectgaps=False,
                hovertemplate=(
                    f"patient %{{customdata}} — {_esc(g)}<br>day %{{x:g}} since {origin_word}"
                    "<br>daily maximum %{y:.1f} °C<extra></extra>"
                ),
            )
        )
        if not has_median:
            continue
        bx, by = _band(med["day"].to_numpy(float), med["q1"].to_numpy(float), med["q3"].to_numpy(float))
        layers[1].append(
            scatter(
                x=bx,
                y=by,
                mode="lines",
                line={"width": 0, "color": col},
                fill="toself",
                fillcolor=rgba(col, 0.16),
                name=f"{_esc(g)} IQR",
                legendgroup=g,
                showlegend=False,
                hoverinfo="skip",
            )
        )
        day, median, q1, q3, n = _gapped(*(med[c].to_numpy(float) for c in ("day", "median", "q1", "q3", "n")))
        if counts is not None:  # the day's number of patients is not written out under small-cell suppression
            n = np.full(n.shape, np.nan)
        layers[2].append(
            scatter(
                x=day,
                y=median,
                customdata=np.column_stack([n, q1, q3]),
                mode="lines+markers",
                line={"color": col, "width": 4.5},
                marker={"size": 7, "color": col, "line": {"color": "white", "width": 1}},
                name=name,
                legendgroup=g,
                legendrank=rank,
                connectgaps=False,
                hovertemplate=(
                    f"<b>{_esc(g)}</b> median of daily maxima<br>day %{{x:g}} since {origin_word}"
                    "<br>%{y:.1f} °C [IQR %{customdata[1]:.1f}–%{customdata[2]:.1f}]"
                    + ("<br>%{customdata[0]:.0f} patients measured" if counts is None else "")
                    + "<extra></extra>"
                ),
            )
        )
    fig = FigureSpec()
    for tr in (*layers[0], *layers[1], *layers[2]):
        fig.add_trace(tr)
    _threshold_line(fig, float(threshold_c), f"fever threshold {threshold_c:g} °C")
    fig.update_xaxes(title={"text": f"{xlabel} (day 0 = first 24 h)"}, zeroline=False)
    if _span(daily) <= 16:
        fig.update_xaxes(dtick=1)
    fig.update_yaxes(title={"text": "Daily maximum temperature (°C)"})
    lines = "Thin lines: patients"
    if len(shown) < len(daily):
        n_shown = shown["patient_id"].nunique()
        shown_n, total_n = n_text(n_shown, counts), n_text(n_total, counts)
        lines = f"Thin lines: a random sample of {shown_n} of {total_n} patients (median and IQR from all)"
        set_summary(
            fig,
            f"{total_n} patients: median and IQR band per day of the daily maxima of all patients measured that "
            f"day ({QUANTILE_RULE}), with a random sample of {shown_n} patients drawn as lines",
        )
    sub = (
        f"{lines}; thick: group median, band: IQR (days with ≥ {median_min_n(counts)} patients measured)"
        f"<br>Dotted: fever threshold {threshold_c:g} °C"
    )
    return _style(fig, title, sub).figure()


def _span(daily: pd.DataFrame) -> float:
    d = daily["day"].to_numpy(float)
    return float(d.max() - d.min()) if d.size else 0.0
