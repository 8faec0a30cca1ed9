"""Echocardiography: LVEF / strain trajectories per patient with group medians, and first vs follow-up echo
(paired slope plot, one panel per group)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..plotspec import FigureSpec, scatter
from .bands import (
    IQR_ALPHA,
    OUTER_ALPHA,
    QUANTILE_RULE,
    band_traces,
    esc_data,
    grouped_quantiles,
    in_sample,
    n_text,
    sample_ids,
    set_summary,
    use_bands,
)
from .lines import (
    _band_note,
    _banded_trajectories,
    _patient_line_traces,
    _threshold_line,
    band_rule,
    median_rule,
    sample_style,
)
from .style import (
    BASE_FONT,
    GREY,
    X_TITLES,
    GroupRows,
    _colors,
    _esc,
    _order_present,
    _style,
    _wrap,
    draws,
    empty_figure,
    legend_name,
    rgba,
)

if TYPE_CHECKING:  # stats imports scipy (slow); only needed for type hints here
    from ..stats import TestResult

MEASURE_TITLES = {
    "lvef_pct": ("LVEF", "LVEF (%)"),
    "strain_ap4_pct": ("Ap4 longitudinal strain", "Ap4 longitudinal strain (%) — more negative = better"),
}


# ================================================================================================ 2 echo trajectories
def _measure_titles(measure: str) -> tuple[str, str]:
    return MEASURE_TITLES.get(measure, (measure, f"{measure}"))


def _normal_text(measure: str, normal: float) -> str:
    sign = "≤" if measure == "strain_ap4_pct" else "≥"
    return f"normal {sign} {normal:g} %".replace("-", "−")


def build_echo_trajectories(
    traj: pd.DataFrame,
    order: Sequence[str] | None,
    measure: str = "lvef_pct",
    normal: float = 55.0,
    x: str = "day",
    colors: Mapping[str, str] | None = None,
    counts=None,
) -> go.Figure:
    """One thin translucent line per patient (one trace per group), thick group line = median of the patients'
    trajectories interpolated between their own echoes (:func:`~.lines._group_median`: days where ≥ MIN_MEDIAN_N
    patients' trajectories are defined), dotted normal threshold. Strain axis is NOT reversed (more negative =
    better). ``counts`` (:class:`misc_dash.privacy.GroupCounts`): small-cell suppression (legend n as text; no
    per-patient lines for a group whose count is hidden; medians on days with at least the threshold)."""
    what, ytitle = _measure_titles(measure)
    title = f"{what} over time"
    need = {"patient_id", "group", x, "value"}
    if traj is None or traj.empty or not need <= set(traj.columns):
        return empty_figure(f"No {what} measurements for this selection.", title)
    d = traj.dropna(subset=["group", x, "value"])
    if d.empty:
        return empty_figure(f"No {what} measurements for this selection.", title)
    rows = GroupRows(d["group"])
    groups = _order_present(order, rows.names)
    cmap = _colors(order or groups, colors)
    xlabel = X_TITLES.get(x, x)
    day_word = "day since treatment" if x == "day_since_treatment" else "day"
    hover_day = f"{day_word} %{{x:g}}"

    def patient_hover(g: str) -> str:
        return f"patient %{{customdata}} — {_esc(g)}<br>{hover_day}<br>{what} %{{y:.1f}} %<extra></extra>"

    def line_style(col: str) -> dict:
        return {
            "mode": "lines+markers",
            "line": {"color": rgba(col, 0.45), "width": 1.3},
            "marker": {"size": 5, "color": rgba(col, 0.6)},
        }

    fig = FigureSpec()
    n_all = int(d["patient_id"].nunique())
    note = None
    if use_bands(n_all):
        traces, n_total, n_sample = _banded_trajectories(
            d, groups, cmap, x, what=what, unit=" %", y_format=".1f", day_word=day_word,
            patient_hover=patient_hover, counts=counts,
        )  # fmt: skip
        for tr in traces:
            fig.add_trace(tr)
        note = _band_note(n_total, n_sample, counts=counts)
    else:
        for tr in _patient_line_traces(
            d, groups, rows, cmap, x, line_style, patient_hover, what, " %", day_word, counts
        ):
            fig.add_trace(tr)
    _threshold_line(fig, normal, _normal_text(measure, normal))
    fig.update_xaxes(title={"text": xlabel}, zeroline=False)
    if x == "day_since_treatment":
        fig.add_vline(x=0, line={"dash": "dash", "color": GREY, "width": 1.5})
    fig.update_yaxes(title={"text": ytitle})
    if note is None:
        sub = f"Thin lines: patients; thick: {median_rule(counts)}<br>Dotted: {_normal_text(measure, normal)}"
        return _style(fig, title, sub).figure()
    sub = (
        f"{band_rule(counts)}<br>Thin lines: {n_text(n_sample, counts)} random patients per group "
        f"(of {n_text(n_total, counts)}); "
        f"dotted: {_normal_text(measure, normal)}"
    )
    set_summary(fig, note)
    return _style(fig, title, sub).figure()


# ================================================================================================ 3 paired slope
def build_paired_slope(
    pairs: pd.DataFrame,
    order: Sequence[str] | None,
    measure: str = "lvef_pct",
    normal: float = 55.0,
    tests: Mapping[str, TestResult | None] | None = None,
    colors: Mapping[str, str] | None = None,
    counts=None,
) -> go.Figure:
    """Baseline → follow-up per patient, one panel per group (shared y), median markers, Wilcoxon label and
    number of pairs per panel, dotted normal line. ``counts`` (:class:`misc_dash.privacy.GroupCounts` of the
    pairs): small-cell suppression (the number of pairs as text; no per-patient lines in a panel whose number
    of pairs is hidden, only its medians)."""
    what, ytitle = _measure_titles(measure)
    title = f"{what}: first vs follow-up echo"
    need = {"patient_id", "group", "baseline", "followup"}
    if pairs is None or pairs.empty or not need <= set(pairs.columns):
        return empty_figure(f"No patient with two {what} measurements in this selection.", title)
    d = pairs.dropna(subset=["group", "baseline", "followup"]).copy()
    if d.empty:
        return empty_figure(f"No patient with two {what} measurements in this selection.", title)
    rows = GroupRows(d["group"])
    groups = _order_present(order, rows.names)
    cmap = _colors(order or groups, colors)
    tests = tests or {}
    ncol = len(groups)
    titles = []
    for g in groups:
        n = int(rows.mask(g).sum())
        t = tests.get(g)
        line2 = f"{n if counts is None else counts.count(g, n)} pair{'s' if n != 1 else ''}"
        line3 = ""
        if t is not None:
            p = t.p_text()
            line2 += f": p {p}" if p[:1] in "<>" else f": p = {p}"
            line3 = f"<br><span style='font-size:{BASE_FONT - 3}px'>{_esc(t.test)}</span>"
        titles.append(f"<b>{_wrap(g, 26)}</b><br><span style='font-size:{BASE_FONT - 1}px'>{_esc(line2)}</span>{line3}")
    fig = FigureSpec.subplots(
        rows=1, cols=ncol, shared_yaxes=True, horizontal_spacing=0.04 if ncol > 1 else 0.0, subplot_titles=titles
    )
    for a in fig.layout.get("annotations", []):
        a["font"] = {"size": BASE_FONT}
    cats = ["Baseline", "Follow-up"]
    n_all = int(d["patient_id"].nunique())
    banded = use_bands(n_all)
    n_sample = 0
    for k, g in enumerate(groups, start=1):
        sub = d[rows.mask(g)].sort_values("patient_id")
        col = cmap[g]
        m = len(sub)
        shown = sub
        if banded:
            shown = sub[in_sample(sub["patient_id"], sample_ids(sub["patient_id"].to_numpy(object)))]
            n_sample = max(n_sample, len(shown))
            qb, qf = (
                grouped_quantiles(np.zeros(m, int), sub[c].to_numpy(float), (0.10, 0.25, 0.75, 0.90))[2][0]
                for c in ("baseline", "followup")
            )
            for lo, hi, alpha, what_band in ((0, 3, OUTER_ALPHA, "10–90 %"), (1, 2, IQR_ALPHA, "IQR")):
                for tr in band_traces(
                    cats, [qb[lo], qf[lo]], [qb[hi], qf[hi]], None, col, alpha, f"{_esc(g)} {what_band}", g
                ):
                    fig.add_trace(tr, row=1, col=k)
        ms = len(shown) if draws(g, counts) else 0
        if ms:  # no per-patient lines for a panel whose number of pairs is hidden
            xs = np.tile(np.array(cats + [None], dtype=object), ms)
            ys = np.full(3 * ms, np.nan)
            ys[0::3] = shown["baseline"].to_numpy(float)
            ys[1::3] = shown["followup"].to_numpy(float)
            cd = np.full(3 * ms, None, dtype=object)
            pid = shown["patient_id"].astype(str)
            for j, dcol in ((0, "baseline_day"), (1, "followup_day")):
                day = shown[dcol].map(lambda v: f", day {v:g}" if pd.notna(v) else "") if dcol in shown.columns else ""
                cd[j::3] = (pid + day).to_numpy(object)
            fig.add_trace(
                scatter(
                    x=xs,
                    y=ys,
                    customdata=esc_data(cd),
                    **(
                        sample_style(col)
                        if banded
                        else {
                            "mode": "lines+markers",
                            "line": {"color": rgba(col, 0.5), "width": 1.5},
                            "marker": {"size": 7, "color": rgba(col, 0.7)},
                        }
                    ),
                    name=legend_name(g, m, counts),
                    legendgroup=g,
                    connectgaps=False,
                    hovertemplate=(
                        f"patient %{{customdata}} — {_esc(g)}<br>%{{x}} echo<br>{what} %{{y:.1f}} %<extra></extra>"
                    ),
                ),
                row=1,
                col=k,
            )
        med = [float(np.median(sub["baseline"])), float(np.median(sub["followup"]))]
        median_trace = scatter(
            x=cats,
            y=med,
            mode="lines+markers",
            line={"color": col, "width": 4.5},
            marker={"size": 16, "symbol": "diamond", "color": col, "line": {"width": 1.5, "color": "white"}},
            name=f"{_esc(g)} median",
            legendgroup=g,
            showlegend=False,
            hovertemplate=f"<b>{_esc(g)}</b> median<br>%{{x}}: {what} %{{y:.1f}} %<extra></extra>",
        )
        if banded:
            median_trace["customdata"] = np.array([[m, *qb], [m, *qf]], float)
            median_trace["hovertemplate"] = (
                f"<b>{_esc(g)}</b> median<br>%{{x}}: {what} %{{y:.1f}} %"
                "<br>IQR %{customdata[2]:.1f}–%{customdata[3]:.1f}, 10–90 %: %{customdata[1]:.1f}–%{customdata[4]:.1f}"
                + ("<br>%{customdata[0]:.0f} pairs" if counts is None else "")
                + "<extra></extra>"
            )
            if counts is not None:
                median_trace["customdata"][:, 0] = np.nan
        fig.add_trace(median_trace, row=1, col=k)
        fig.update_xaxes(type="category", categoryorder="array", categoryarray=cats, range=[-0.35, 1.35], row=1, col=k)
    for k in range(1, ncol + 1):
        fig.add_hline(y=normal, line={"dash": "dot", "color": "#333333", "width": 2}, row=1, col=k)
    # label mid-panel (between the baseline and follow-up columns), where no marker or median diamond sits
    fig.add_annotation(
        text=_normal_text(measure, normal),
        xref=f"x{ncol if ncol > 1 else ''} domain",
        x=0.5,
        xanchor="center",
        yref="y",
        y=normal,
        yanchor="bottom",
        showarrow=False,
        font={"size": BASE_FONT - 1, "color": "#333333"},
        bgcolor="rgba(255,255,255,0.8)",
    )
    fig.update_yaxes(title={"text": ytitle}, row=1, col=1)
    missing = [g for g in (order or ()) if g not in groups]
    sub = "Thin lines: patients (first echo → follow-up echo); diamonds: group median"
    if banded:
        sub = (
            f"Diamonds: group median; bands: IQR and 10–90 % ({QUANTILE_RULE}) of all {n_text(n_all, counts)} patients"
            f"<br>Thin lines: {n_text(n_sample, counts)} random patients per group (first echo → follow-up echo)"
        )
    if missing:
        sub += f"<br>No pairs: {_esc(', '.join(missing))}"
    fig = _style(fig, title, sub, height=600, legend="none", extra_top=76)
    fig.update_layout(showlegend=False)
    if banded:
        set_summary(
            fig,
            f"{n_text(n_all, counts)} patients: median, IQR and 10–90 % band at the first and the follow-up echo "
            f"({QUANTILE_RULE}), with {n_text(n_sample, counts)} random patients per group drawn as lines",
        )
    return fig.figure()
