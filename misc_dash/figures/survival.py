"""Time to defervescence: Kaplan–Meier curves with a number-at-risk table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from ..plotspec import FigureSpec, scatter
from .style import BASE_FONT, X_TITLES, _colors, _esc, _order_present, _style, empty_figure, legend_name, rgba

if TYPE_CHECKING:  # stats imports scipy (slow); only needed for type hints here
    from ..stats import KMCurve, TestResult


# ================================================================================================ 1 Kaplan–Meier
def build_km_figure(
    curves: Mapping[str, KMCurve],
    order: Sequence[str] | None = None,
    at_risk_days: Sequence[float] = (0, 2, 4, 6, 8, 10, 12, 14),
    logrank: TestResult | None = None,
    origin: str = "admission",
    threshold_c: float = 38.0,
    show_ci: bool = True,
    colors: Mapping[str, str] | None = None,
    counts=None,
) -> go.Figure:
    """Kaplan–Meier "proportion still febrile" with CI bands, censor marks (+), dotted median lines and a
    number-at-risk table under the x axis (second subplot row, shared x, one coloured text row per group).

    ``counts`` (:class:`misc_dash.privacy.GroupCounts`, a real cohort): each group's n as the small-cell rule shows
    it; a group whose n is hidden is not drawn (its steps would give its patients back), and the numbers at risk
    read by the primary rule (the group's own n as its text)."""
    groups = _order_present(order, [g for g, c in curves.items() if c is not None and c.n > 0])
    if counts is not None:
        groups = [g for g in groups if counts.draws(g)]
    if not groups:
        msg = "No patients with temperature readings for this selection."
        if counts is not None and any(c is not None and c.n > 0 for c in curves.values()):
            msg = f"No curve drawn: every group has fewer than {counts.policy.threshold} patients or a hidden count."
        return empty_figure(msg, "Time to defervescence")

    def risk_text(g: str, values) -> list[str]:
        if counts is None:
            return [str(v) for v in values]
        n = curves[g].n
        return [_esc(counts.count(g, n) if int(v) == n else counts.policy.count(v)) for v in values]

    cmap = _colors(order or groups, colors)
    at_risk_days = sorted(float(t) for t in at_risk_days)
    tmax0 = max(max(curves[g].timeline) for g in groups)
    if len(at_risk_days) >= 2 and tmax0 > at_risk_days[-1]:
        step = at_risk_days[-1] - at_risk_days[-2]
        while step > 0 and at_risk_days[-1] < tmax0:
            at_risk_days.append(at_risk_days[-1] + step)
    xlabel = X_TITLES["day_since_treatment" if origin == "treatment" else "day"]
    tmax = max(max(curves[g].timeline) for g in groups)
    xmax = max([tmax, *at_risk_days]) if at_risk_days else tmax
    n_rows = len(groups)
    table_frac = min(0.12 + 0.055 * n_rows, 0.42)
    fig = FigureSpec.subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[1 - table_frac, table_frac], vertical_spacing=0.13
    )
    for g in groups:
        c = curves[g]
        col = cmap[g]
        t = np.asarray(c.timeline, float)
        s = np.asarray(c.survival, float)
        if show_ci:
            lo = np.asarray(c.ci_lower, float)
            hi = np.asarray(c.ci_upper, float)
            fig.add_trace(
                scatter(
                    x=t,
                    y=lo,
                    mode="lines",
                    line={"width": 0, "shape": "hv", "color": col},
                    legendgroup=g,
                    showlegend=False,
                    hoverinfo="skip",
                    name=f"{_esc(g)} 95% CI lower",
                ),
                row=1,
                col=1,
            )
            fig.add_trace(
                scatter(
                    x=t,
                    y=hi,
                    mode="lines",
                    line={"width": 0, "shape": "hv", "color": col},
                    fill="tonexty",
                    fillcolor=rgba(col, 0.15),
                    legendgroup=g,
                    showlegend=False,
                    hoverinfo="skip",
                    name=f"{_esc(g)} 95% CI",
                ),
                row=1,
                col=1,
            )
        fig.add_trace(
            scatter(
                x=t,
                y=s,
                mode="lines",
                line={"color": col, "width": 3.5, "shape": "hv"},
                name=legend_name(g, c.n, counts),
                legendgroup=g,
                customdata=np.asarray(c.at_risk(t), int) if counts is None else np.asarray(risk_text(g, c.at_risk(t))),
                hovertemplate=(
                    f"<b>{_esc(g)}</b><br>day %{{x:.2f}}: %{{y:.0%}} still febrile"
                    "<br>%{customdata} at risk<extra></extra>"
                ),
            ),
            row=1,
            col=1,
        )
        if c.censor_times:
            ct = np.asarray(c.censor_times, float)
            fig.add_trace(
                scatter(
                    x=ct,
                    y=[c.survival_at(v) for v in ct],
                    mode="markers",
                    marker={"symbol": "line-ns-open", "size": 13, "color": col, "line": {"width": 2.5, "color": col}},
                    name=f"{_esc(g)} censored",
                    legendgroup=g,
                    showlegend=False,
                    hovertemplate=(
                        f"<b>{_esc(g)}</b><br>censored (still febrile at last reading)<br>day %{{x:.2f}}<extra></extra>"
                    ),
                ),
                row=1,
                col=1,
            )
        if c.median is not None:
            m = float(c.median)
            fig.add_trace(
                scatter(
                    x=[0.0, m, m],
                    y=[0.5, 0.5, 0.0],
                    mode="lines",
                    line={"color": col, "width": 2, "dash": "dot"},
                    name=f"{_esc(g)} median",
                    legendgroup=g,
                    showlegend=False,
                    hovertemplate=f"<b>{_esc(g)}</b><br>median {m:.1f} days<extra></extra>",
                ),
                row=1,
                col=1,
            )
    # number-at-risk table: row k (top = first group) at y = n_rows - 1 - k
    ticktext = []
    for k, g in enumerate(groups):
        c = curves[g]
        vals = c.at_risk(at_risk_days)
        fig.add_trace(
            scatter(
                x=at_risk_days,
                y=[n_rows - 1 - k] * len(at_risk_days),
                mode="text",
                text=risk_text(g, vals),
                textfont={"color": cmap[g], "size": BASE_FONT},
                name=f"{_esc(g)} at risk",
                legendgroup=g,
                showlegend=False,
                hovertemplate=f"<b>{_esc(g)}</b><br>%{{text}} at risk at day %{{x:g}}<extra></extra>",
                meta={"role": "at_risk", "group": g},
            ),
            row=2,
            col=1,
        )
        ticktext.append(f"<span style='color:{cmap[g]}'>{_esc(g)}</span>")
    pad = 0.03 * xmax if xmax > 0 else 0.5
    fig.update_xaxes(range=[-pad, xmax + pad], zeroline=False)
    tickvals = at_risk_days if at_risk_days else None
    fig.update_xaxes(tickvals=tickvals, showticklabels=True, title={"text": xlabel}, row=1, col=1)
    fig.update_xaxes(tickvals=tickvals, showticklabels=False, showgrid=False, row=2, col=1)
    fig.update_yaxes(
        range=[-0.02, 1.03],
        tickformat=".0%",
        title={"text": f"Proportion still febrile<br>(≥ {threshold_c:g} °C)"},
        row=1,
        col=1,
    )
    fig.update_yaxes(
        range=[-0.6, n_rows - 0.4],
        tickvals=list(range(n_rows - 1, -1, -1)),
        ticktext=ticktext,
        showgrid=False,
        zeroline=False,
        fixedrange=True,
        row=2,
        col=1,
    )
    fig.add_annotation(
        text="<b>Number at risk</b>",
        xref="paper",
        yref="y2 domain",
        x=0.0,
        y=1.0,
        yanchor="bottom",
        xanchor="left",
        showarrow=False,
        font={"size": BASE_FONT},
    )
    subtitle = "Kaplan–Meier, 95% CI bands; + censored; dotted = median"
    if logrank is not None:
        subtitle = f"{_esc(logrank.label())}<br>{subtitle}"
    _style(fig, "Time to defervescence — proportion still febrile", subtitle, height=540 + 32 * n_rows, bottom=20)
    return fig.figure()
