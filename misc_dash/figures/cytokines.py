"""Cytokines: fold difference from the upper limit of normal (grouped boxes, log axis) and the median by group
(heatmap)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..plotspec import FigureSpec, box, heatmap
from .bands import QUANTILE_RULE, esc_data, n_text, set_summary, sorted_quantiles, use_bands
from .style import (
    BASE_FONT,
    DIVERGING,
    GroupRows,
    _colors,
    _esc,
    _fmt_num,
    _log_ticks,
    _order_present,
    _p,
    _style,
    _wrap,
    empty_figure,
    legend_name,
    rgba,
)


# ================================================================================================ 4 cytokines (boxes)
def build_cytokine_figure(
    values: pd.DataFrame, order: Sequence[str] | None, colors: Mapping[str, str] | None = None, counts=None
) -> go.Figure:
    """Fold difference over the upper limit of normal, log y axis; grouped boxes per cytokine with all points;
    reference line at 1. Values ≤ 0 cannot be drawn on a log axis: left out and counted in an annotation.
    ``counts`` (:class:`misc_dash.privacy.GroupCounts`): small-cell suppression — the legend n as text, the count
    of values ≤ 0 not written out (the view leaves out the patients of a cytokine and group below the threshold)."""
    title = "Cytokines — fold difference from the upper limit of normal"
    need = {"patient_id", "group", "cytokine", "fold_difference"}
    if values is None or values.empty or not need <= set(values.columns):
        return empty_figure("No cytokine measurements for this selection.", title)
    d = values.dropna(subset=["group", "cytokine", "fold_difference"])
    nonpos = d[d["fold_difference"] <= 0]
    d = d[d["fold_difference"] > 0]
    if d.empty:
        return empty_figure("No positive cytokine values to draw for this selection.", title)
    rows = GroupRows(d["group"])
    groups = _order_present(order, rows.names)
    cmap = _colors(order or groups, colors)
    cyto_order = list(pd.unique(values["cytokine"].dropna().astype(str)))
    drawn = set(GroupRows(d["cytokine"]).names)
    cyto_order = [c for c in cyto_order if c in drawn]
    n_all = int(d["patient_id"].nunique())
    banded = use_bands(n_all)
    fig = FigureSpec()
    for g in groups:
        sub = d[rows.mask(g)]
        col = cmap[g]
        if banded:
            fig.add_trace(_summary_box(sub, g, col, cyto_order, counts))
            continue
        fig.add_trace(
            box(
                x=esc_data(sub["cytokine"].astype(str).to_numpy(object)),
                y=sub["fold_difference"].to_numpy(float),
                customdata=esc_data(sub["patient_id"].to_numpy(object)),
                name=legend_name(g, sub["patient_id"].nunique(), counts),
                legendgroup=g,
                offsetgroup=g,
                marker={"color": col, "size": 6, "opacity": 0.75},
                line={"color": col, "width": 2},
                fillcolor=rgba(col, 0.18),
                boxpoints="all",
                jitter=0.45,
                pointpos=0,
                hovertemplate=f"patient %{{customdata}} — {_esc(g)}<br>%{{x}}: %{{y:.3~g}} × ULN<extra></extra>",
            )
        )
    fig.add_hline(y=1, line={"dash": "dash", "color": "#333333", "width": 1.8})
    # annotations on a log axis take log10 positions (shapes take data values): log10(1) = 0
    fig.add_annotation(
        text="upper limit of normal (fold 1)",
        xref="paper",
        x=1.0,
        xanchor="right",
        yref="y",
        y=0.0,
        yanchor="top",
        showarrow=False,
        font={"size": BASE_FONT - 2, "color": "#333333"},
        bgcolor="rgba(255,255,255,0.8)",
    )
    fig.update_layout(boxmode="group", boxgroupgap=0.25, boxgap=0.15)
    fig.update_xaxes(
        title={"text": "Cytokine"}, type="category", categoryorder="array", categoryarray=list(esc_data(cyto_order))
    )
    ticks = _log_ticks(d["fold_difference"])
    fig.update_yaxes(type="log", title={"text": "Fold difference (× upper limit of normal, log scale)"})
    if ticks:
        fig.update_yaxes(tickvals=ticks[0], ticktext=ticks[1])
    sub = "Boxes: median and quartiles; dots: patients"
    if banded:
        sub = (
            f"Boxes: median and quartiles ({QUANTILE_RULE}); whiskers: the most extreme values within 1.5 × IQR "
            f"of the box<br>{n_text(n_all, counts)} patients: points not drawn"
        )
        set_summary(
            fig,
            f"{n_text(n_all, counts)} patients: boxes from the median and quartiles per cytokine and group "
            f"({QUANTILE_RULE}; "
            "whiskers to the most extreme values within 1.5 × IQR), without the individual points",
        )
    if len(nonpos):
        k = str(len(nonpos)) if counts is None else _esc(counts.policy.text_count(len(nonpos)))
        sub += f". {k} value{'s' if len(nonpos) != 1 else ''} ≤ 0 not drawn (log axis)"
        fig.add_annotation(
            text=f"{k} value{'s' if len(nonpos) != 1 else ''} ≤ 0 not drawn (log axis)",
            xref="paper",
            yref="paper",
            x=1.0,
            y=-0.2,
            xanchor="right",
            yanchor="top",
            showarrow=False,
            font={"size": BASE_FONT - 2, "color": "#555555"},
            name="nonpositive_note",
        )
    return _style(fig, title, sub, height=580).figure()


def _summary_box(sub: pd.DataFrame, g: str, col: str, cyto_order: list[str], counts=None) -> dict:
    """One group's boxes from precomputed statistics (a large cohort): per cytokine the quartiles (R type 6) and
    Tukey's whiskers — the most extreme values within 1.5 × IQR of the box — computed from one sort of all values."""
    code = pd.Categorical(sub["cytokine"].astype(str), categories=cyto_order).codes
    v = sub["fold_difference"].to_numpy(float)
    keep = code >= 0
    code, v = code[keep], v[keep]
    o = np.lexsort((v, code))
    code, v = code[o], v[o]
    keys, start = np.unique(code, return_index=True)
    n = np.diff(np.r_[start, code.size])
    q = sorted_quantiles(v, start, n, (0.25, 0.5, 0.75))
    q1, med, q3 = q[:, 0], q[:, 1], q[:, 2]
    iqr = q3 - q1
    # whiskers: the smallest value >= q1 - 1.5 IQR and the largest <= q3 + 1.5 IQR, per cytokine (values sorted)
    k = np.searchsorted(keys, code)
    lo_ok = v >= (q1 - 1.5 * iqr)[k]
    hi_ok = v <= (q3 + 1.5 * iqr)[k]
    lower = np.full(keys.size, np.nan)
    upper = np.full(keys.size, np.nan)
    first_lo = np.flatnonzero(lo_ok & np.r_[True, ~lo_ok[:-1] | (code[1:] != code[:-1])])
    lower[np.searchsorted(keys, code[first_lo])] = v[first_lo]
    last_hi = np.flatnonzero(hi_ok & np.r_[~hi_ok[1:] | (code[1:] != code[:-1]), True])
    upper[np.searchsorted(keys, code[last_hi])] = v[last_hi]
    names = np.asarray(cyto_order, dtype=object)[keys]
    return box(
        x=esc_data(names),
        q1=q1,
        median=med,
        q3=q3,
        lowerfence=lower,
        upperfence=upper,
        name=legend_name(g, sub["patient_id"].nunique(), counts),
        legendgroup=g,
        offsetgroup=g,
        line={"color": col, "width": 2},
        fillcolor=rgba(col, 0.18),
        boxpoints=False,
    )


# ================================================================================================ 5 cytokine heatmap
def build_cytokine_heatmap(records: Sequence[Mapping], order: Sequence[str] | None = None, counts=None) -> go.Figure:
    """Rows cytokines, columns groups; colour = log2(median fold difference) on a diverging scale centred at 0
    (fold 1 = ULN); cell text = median (and n). Missing / non-positive medians are blank cells. ``counts``
    (:class:`misc_dash.privacy.GroupCounts`): each n by the small-cell rule."""
    title = "Cytokines — median fold difference by group"
    records = [r for r in (records or []) if r.get("groups")]
    if not records:
        return empty_figure("No cytokine measurements for this selection.", title)
    groups = list(order) if order else list(records[0]["groups"].keys())
    groups = [g for g in groups if any((r["groups"].get(g) or {}).get("n") for r in records)] or groups
    z, text, hover, ylabels = [], [], [], []
    for r in records:
        zr, tr, hr = [], [], []
        for g in groups:
            v = r["groups"].get(g) or {}
            med, n = v.get("median"), v.get("n", 0)
            n_txt = f"n = {n}" if counts is None else _esc(counts.policy.n(n))
            ok = med is not None and n and np.isfinite(med) and med > 0
            zr.append(float(np.log2(med)) if ok else None)
            tr.append(
                f"{_fmt_num(med)}<br><span style='font-size:{BASE_FONT - 3}px'>{n_txt}</span>"
                if n and med is not None
                else "—"
            )
            q1, q3 = v.get("q1"), v.get("q3")
            hr.append(
                f"<b>{_esc(r['cytokine'])}</b> — {_esc(g)}"
                f"<br>median {_fmt_num(med)} × ULN [{_fmt_num(q1)}, {_fmt_num(q3)}]<br>{n_txt}"
                if n
                else f"<b>{_esc(r['cytokine'])}</b> — {_esc(g)}<br>no values"
            )
        z.append(zr)
        text.append(tr)
        hover.append(hr)
        qv = r.get("q_value")
        ylabels.append(
            f"{_esc(r['cytokine'])}"
            + (f" <span style='font-size:{BASE_FONT - 3}px'>(q {_p(qv)})</span>" if qv is not None else "")
        )
    zz = np.array([[np.nan if v is None else v for v in row] for row in z], float)
    lim = float(np.nanmax(np.abs(zz))) if np.isfinite(zz).any() else 1.0
    lim = max(lim, 1.0)
    fig = FigureSpec(
        [
            heatmap(
                z=zz,
                x=[_wrap(g, 18) for g in groups],
                y=ylabels,
                text=text,
                texttemplate="%{text}",
                textfont={"size": BASE_FONT - 1},
                customdata=np.array(hover, dtype=object),
                hovertemplate="%{customdata}<br>log2 = %{z:.2f}<extra></extra>",
                colorscale=DIVERGING,
                zmid=0,
                zmin=-lim,
                zmax=lim,
                xgap=2,
                ygap=2,
                colorbar={
                    "title": {"text": "log2 fold<br>difference", "font": {"size": BASE_FONT - 1}},
                    "tickfont": {"size": BASE_FONT - 2},
                },
            )
        ]
    )
    fig.update_yaxes(autorange="reversed", title={"text": "Cytokine (BH q-value across cytokines)"})
    fig.update_xaxes(title={"text": "Group"}, side="bottom")
    return _style(
        fig,
        title,
        "Cell: median fold difference (× upper limit of normal) and n; 0 on the colour scale = fold 1 (ULN)",
        height=max(380, 130 + 48 * len(records)),
        legend="none",
    ).figure()
