"""Laboratory values over time: one analyte per figure, per-patient lines and group medians."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from ..plotspec import FigureSpec
from ..vocabulary import LAB_LABELS
from .bands import n_text, set_summary, use_bands
from .lines import (
    _band_note,
    _banded_trajectories,
    _patient_line_traces,
    band_rule,
    median_rule,
)
from .style import (
    BASE_FONT,
    GREY,
    X_TITLES,
    GroupRows,
    _colors,
    _esc,
    _log_ticks,
    _order_present,
    _style,
    empty_figure,
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
    counts=None,
) -> go.Figure:
    """One analyte over time: per-patient lines (one trace per group), group line = median of the patients'
    interpolated trajectories (:func:`~.lines._group_median`: days where ≥ MIN_MEDIAN_N patients' trajectories are
    defined), dashed vertical line at day 0 on the 'days since treatment start' axis; log y by default
    (values ≤ 0 are then left out and counted). ``counts``: small-cell suppression, as
    :func:`~.echo.build_echo_trajectories`."""
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
    rows = GroupRows(d["group"])
    groups = _order_present(order, rows.names)
    cmap = _colors(order or groups, colors)
    xlabel = X_TITLES.get(x, x)
    day_word = "day since treatment" if x == "day_since_treatment" else "day"
    hover_day = f"{day_word} %{{x:g}}"

    def patient_hover(g: str) -> str:
        return (
            f"patient %{{customdata}} — {_esc(g)}<br>{hover_day}"
            f"<br>{_esc(label)} %{{y:.3~g}} {_esc(unit)}<extra></extra>"
        )

    def line_style(col: str) -> dict:
        return {
            "mode": "lines+markers",
            "line": {"color": rgba(col, 0.45), "width": 1.3},
            "marker": {"size": 5, "color": rgba(col, 0.6)},
        }

    fig = FigureSpec()
    note = None
    if use_bands(d["patient_id"].nunique()):
        traces, n_total, n_sample = _banded_trajectories(
            d, groups, cmap, x, what=_esc(label), unit=f" {_esc(unit)}", y_format=".3~g", day_word=day_word,
            patient_hover=patient_hover, counts=counts,
        )  # fmt: skip
        for tr in traces:
            fig.add_trace(tr)
        note = _band_note(n_total, n_sample, counts=counts)
    else:
        for tr in _patient_line_traces(
            d, groups, rows, cmap, x, line_style, patient_hover, _esc(label), f" {_esc(unit)}", day_word, counts
        ):
            fig.add_trace(tr)
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
    if note is None:
        sub = f"Thin lines: patients; thick: {median_rule(counts)}"
    else:
        sub = (
            f"{band_rule(counts)}<br>Thin lines: {n_text(n_sample, counts)} random patients per group "
            f"(of {n_text(n_total, counts)})"
        )
        set_summary(fig, note)
    if n_nonpos:
        k = str(n_nonpos) if counts is None else _esc(counts.policy.text_count(n_nonpos))
        sub += f". {k} value{'s' if n_nonpos != 1 else ''} ≤ 0 not drawn (log axis)"
    return _style(fig, title, sub).figure()
