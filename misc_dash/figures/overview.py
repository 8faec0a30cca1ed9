"""Cohort overview: the cohort flow tree and the phenotype × treatment group crosstab."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from ..plotspec import FigureSpec, heatmap, scatter
from .style import BASE_FONT, SEQUENTIAL, _esc, _style, _wrap, empty_figure


# ================================================================================================ 9 cohort flow
def build_flow_figure(
    rows: Sequence[tuple[str, int, int]], counts: Sequence[tuple[str, bool]] | None = None
) -> go.Figure:
    """Cohort flow (analyses.cohort_flow: depth 0 → 1 → 2) as a tree of boxes: root left, anakinra yes/no in the
    middle, treatment groups right; each box "label / n = k (x% of parent)". Drawn with shapes + annotations
    (clearer than a Sankey when some groups have 0 patients). ``counts`` (small-cell suppression): per row, the
    count as text ("12", "< 5", "≥ 5") and whether its share of the parent may be shown."""
    rows = [(str(a), int(b), int(c)) for a, b, c in (rows or [])]
    if not rows:
        return empty_figure("No patients in the current selection.", "Cohort flow")
    # parents: the nearest earlier row of depth - 1
    parent: list[int | None] = []
    stack: dict[int, int] = {}
    for i, (_, _, dep) in enumerate(rows):
        parent.append(stack.get(dep - 1))
        stack[dep] = i
        for dd in [k for k in stack if k > dep]:
            del stack[dd]
    children: dict[int, list[int]] = {i: [] for i in range(len(rows))}
    for i, p in enumerate(parent):
        if p is not None:
            children[p].append(i)
    max_depth = max(r[2] for r in rows)
    # y: leaves evenly spaced top → bottom; parents centred on their children
    y: dict[int, float] = {}
    leaf = [0]

    def place(i: int) -> float:
        if not children[i]:
            y[i] = -float(leaf[0])
            leaf[0] += 1
        else:
            ys = [place(c) for c in children[i]]
            y[i] = (min(ys) + max(ys)) / 2
        return y[i]

    for i, p in enumerate(parent):
        if p is None:
            place(i)
    n_leaves = max(leaf[0], 1)
    col_w, box_h = 1.0, 0.8

    def box_w(dep: int) -> float:  # the leaf column holds the longest labels: wider boxes
        return 1.05 if dep == max_depth and dep > 0 else 0.72

    fig = FigureSpec()
    lx: list[float | None] = []
    ly: list[float | None] = []
    for i, (label, n, dep) in enumerate(rows):
        x0 = dep * col_w
        p = parent[i]
        share = f" ({100 * n / rows[p][1]:.0f}%)" if p is not None and rows[p][1] else ""
        n_txt = f"n = {n}"
        if counts is not None:
            txt, share_ok = counts[i]
            n_txt = f"n {_esc(txt)}" if txt[:1] in "<≤>≥" else f"n = {txt}"
            share = share if share_ok else ""
        empty = n == 0
        fill = "#F2F2F2" if empty else ("#E8F1F8" if dep == 0 else "#FFFFFF")
        edge = "#AAAAAA" if empty else "#0072B2"
        fig.add_shape(
            type="rect",
            x0=x0,
            x1=x0 + box_w(dep),
            y0=y[i] - box_h / 2,
            y1=y[i] + box_h / 2,
            line={"color": edge, "width": 1.5},
            fillcolor=fill,
            layer="below",
        )
        fig.add_annotation(
            x=x0 + box_w(dep) / 2,
            y=y[i],
            text=f"{_wrap(label, 28 if dep else 20)}<br><b>{n_txt}</b>{share}",
            showarrow=False,
            font={"size": BASE_FONT - 1, "color": "#888888" if empty else "#222222"},
            align="center",
            name=f"flow:{label}",
        )
        if p is not None:
            xp = rows[p][2] * col_w + box_w(rows[p][2])
            xm = (xp + x0) / 2
            lx += [xp, xm, xm, x0, None]
            ly += [y[p], y[p], y[i], y[i], None]
    fig.add_trace(
        scatter(
            x=lx,
            y=ly,
            mode="lines",
            line={"color": "#888888", "width": 1.5},
            hoverinfo="skip",
            showlegend=False,
            name="flow links",
        )
    )
    fig.update_xaxes(visible=False, range=[-0.03, max_depth * col_w + box_w(max_depth) + 0.03], fixedrange=True)
    fig.update_yaxes(visible=False, range=[-(n_leaves - 1) - 0.55, 0.55], fixedrange=True)
    fig = _style(fig, "Cohort flow", None, height=max(320, 90 + 86 * n_leaves), legend="none")
    fig.update_layout(showlegend=False, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig.figure()


# ================================================================================================ 10 crosstab
def build_crosstab_figure(ct: pd.DataFrame) -> go.Figure:
    """Phenotype × treatment group counts (analyses.crosstab) as a heatmap with the numbers; the "Total" row and
    column are shown in the axis labels, not coloured."""
    title = "Phenotype × treatment group"
    if ct is None or ct.empty:
        return empty_figure("No patients in the current selection.", title)
    core = ct.drop(
        index=[i for i in ct.index if str(i) == "Total"],
        columns=[c for c in ct.columns if str(c) == "Total"],
        errors="ignore",
    )
    col_tot = core.sum(axis=0)
    row_tot = core.sum(axis=1)
    xl = [f"{_wrap(c, 16)}<br>(n = {int(col_tot[c])})" for c in core.columns]
    yl = [f"{_esc(r)} (n = {int(row_tot[r])})" for r in core.index]
    z = core.to_numpy(float)
    fig = FigureSpec(
        [
            heatmap(
                z=z,
                x=xl,
                y=yl,
                text=core.to_numpy(int).astype(str),
                texttemplate="%{text}",
                textfont={"size": BASE_FONT + 1},
                colorscale=SEQUENTIAL,
                zmin=0,
                xgap=2,
                ygap=2,
                showscale=False,
                hovertemplate="%{y}<br>%{x}<br><b>%{z:.0f} patients</b><extra></extra>",
            )
        ]
    )
    fig.update_yaxes(autorange="reversed", title={"text": "Phenotype"})
    fig.update_xaxes(title={"text": "Treatment group"}, side="bottom")
    return _style(fig, title, "Number of patients", height=max(360, 160 + 60 * len(core.index)), legend="none").figure()
