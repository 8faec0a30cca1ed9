"""Laboratory values over time: one analyte per figure, per-patient lines and group medians."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from ..plotspec import FigureSpec, scatter
from ..vocabulary import LAB_LABELS
from .lines import MEDIAN_RULE, _group_median, _median_trace, _patient_lines, _with_day
from .style import (
    BASE_FONT,
    GREY,
    X_TITLES,
    _colors,
    _esc,
    _log_ticks,
    _order_present,
    _style,
    empty_figure,
    legend_name,
    rgba,
)


# ================================================================================================ 7 labs
def build_labs_figure(
    traj: pd.DataFrame,
    analyte: str,
    order: Sequence[str] | None,
    x: str = "day_since_treatment",
    log_y: bool = True,
    colors: Mapping[str, str] | None = None,
) -> go.Figure:
    """One analyte over time: per-patient lines (one trace per group), group line = median of the patients'
    interpolated trajectories (:func:`~.lines._group_median`: days where ≥ MIN_MEDIAN_N patients' trajectories are
    defined), dashed vertical line at day 0 on the 'days since treatment start' axis; log y by default
    (values ≤ 0 are then left out and counted)."""
    label = LAB_LABELS.get(analyte, analyte)
    title = f"{label} over time"
    need = {"patient_id", "group", "analyte", x, "value"}
    if traj is None or traj.empty or not need <= set(traj.columns):
        return empty_figure(f"No {label} values for this selection.", title)
    d = traj[traj["analyte"] == analyte].dropna(subset=["group", x, "value"])
    n_nonpos = 0
    if log_y:
        n_nonpos = int((d["value"] <= 0).sum())
        d = d[d["value"] > 0]
    if d.empty:
        return empty_figure(f"No {label} values for this selection.", title)
    unit = ""
    if "unit" in d.columns:
        u = d["unit"].dropna().astype(str)
        unit = u.mode().iloc[0] if len(u) else ""
    groups = _order_present(order, d["group"].astype(str))
    cmap = _colors(order or groups, colors)
    xlabel = X_TITLES.get(x, x)
    day_word = "day since treatment" if x == "day_since_treatment" else "day"
    fig = FigureSpec()
    for g in groups:
        sub = d[d["group"].astype(str) == g]
        col = cmap[g]
        xs, ys, cd = _patient_lines(sub, x, "value", _with_day(sub, x))
        hover_day = f"{day_word} %{{x:g}}"
        fig.add_trace(
            scatter(
                x=xs,
                y=ys,
                customdata=cd,
                mode="lines+markers",
                line={"color": rgba(col, 0.45), "width": 1.3},
                marker={"size": 5, "color": rgba(col, 0.6)},
                name=legend_name(g, sub["patient_id"].nunique()),
                legendgroup=g,
                connectgaps=False,
                hovertemplate=(
                    f"patient %{{customdata}} — {_esc(g)}<br>{hover_day}"
                    f"<br>{_esc(label)} %{{y:.3~g}} {_esc(unit)}<extra></extra>"
                ),
            )
        )
        med = _group_median(sub, x, "value")
        if len(med):
            fig.add_trace(_median_trace(med, x, g, col, _esc(label), f" {_esc(unit)}", day_word))
    if x == "day_since_treatment":
        fig.add_vline(
            x=0,
            line={"dash": "dash", "color": GREY, "width": 2},
            annotation={"text": "treatment start", "font": {"size": BASE_FONT - 2, "color": "#444444"}},
            annotation_position="top left",
        )
    fig.update_xaxes(title={"text": xlabel}, zeroline=False)
    ytitle = f"{_esc(label)} ({_esc(unit)})" if unit else _esc(label)
    if log_y:
        fig.update_yaxes(type="log", title={"text": f"{ytitle}, log scale"})
        ticks = _log_ticks(d["value"])
        if ticks:
            fig.update_yaxes(tickvals=ticks[0], ticktext=ticks[1])
    else:
        fig.update_yaxes(title={"text": ytitle})
    sub = f"Thin lines: patients; thick: {MEDIAN_RULE}"
    if n_nonpos:
        sub += f". {n_nonpos} value{'s' if n_nonpos != 1 else ''} ≤ 0 not drawn (log axis)"
    return _style(fig, title, sub).figure()
