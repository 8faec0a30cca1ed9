"""Treatment: anakinra daily dose per patient, and adverse events by group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..plotspec import FigureSpec, bar, scatter
from .lines import _patient_lines
from .style import BASE_FONT, X_TITLES, _colors, _esc, _order_present, _p, _style, empty_figure, legend_name, rgba


# ================================================================================================ 6 anakinra dosing
def _id_route(df: pd.DataFrame) -> np.ndarray:
    r = df["route"].astype(str)
    return (df["patient_id"].astype(str) + np.where(r != "", " (" + r + ")", "")).to_numpy(object)


def build_dosing_figure(
    daily: pd.DataFrame, x: str = "day_since_start", colors: Mapping[str, str] | None = None
) -> go.Figure:
    """Daily anakinra dose (mg/kg/day) per patient, coloured by CV shock, one trace per group (NaN gaps);
    open circle at the first day, triangle at the peak dose."""
    title = "Anakinra daily dose per patient"
    need = {"patient_id", "shock", x, "dose_mg_kg_day"}
    if daily is None or daily.empty or not need <= set(daily.columns):
        return empty_figure("No anakinra dose records for this selection.", title)
    d = daily.dropna(subset=["shock", x, "dose_mg_kg_day"]).reset_index(drop=True)
    if d.empty:
        return empty_figure("No anakinra dose records for this selection.", title)
    if "route" not in d.columns:
        d["route"] = ""
    d["route"] = d["route"].fillna("").astype(str)
    groups = _order_present(("− CV shock", "+ CV shock"), d["shock"].astype(str))
    cmap = _colors(groups, colors)
    fig = FigureSpec()
    xlabel = X_TITLES.get(x, x)
    day_word = "day since anakinra start" if x == "day_since_start" else "day since admission"
    for g in groups:
        sub = d[d["shock"].astype(str) == g]
        col = cmap[g]
        # step line: the dose of day d holds over [d, d + 1), so each course gets an end point at last day + 1
        last = sub.sort_values(x).groupby("patient_id", sort=False).tail(1)
        ends = last.assign(**{x: last[x] + 1})
        xs, ys, _ = _patient_lines(pd.concat([sub, ends], ignore_index=True), x, "dose_mg_kg_day")
        fig.add_trace(
            scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": rgba(col, 0.7), "width": 2, "shape": "hv"},
                name=legend_name(g, sub["patient_id"].nunique()),
                legendgroup=g,
                connectgaps=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            scatter(
                x=sub[x].to_numpy(float),
                y=sub["dose_mg_kg_day"].to_numpy(float),
                customdata=_id_route(sub),
                mode="markers",
                marker={"size": 5, "color": rgba(col, 0.7)},
                name=f"{g} daily doses",
                legendgroup=g,
                showlegend=False,
                hovertemplate=(
                    f"patient %{{customdata}} — {_esc(g)}<br>{day_word} %{{x:g}}"
                    "<br>%{y:.3~g} mg/kg/day<extra></extra>"
                ),
            )
        )
        s = sub.sort_values(["patient_id", x])
        first = s.groupby("patient_id", sort=False).head(1)
        peak = s.loc[s.groupby("patient_id", sort=False)["dose_mg_kg_day"].idxmax()]
        for pts, sym, label in ((first, "circle-open", "start"), (peak, "triangle-up", "peak")):
            fig.add_trace(
                scatter(
                    x=pts[x].to_numpy(float),
                    y=pts["dose_mg_kg_day"].to_numpy(float),
                    customdata=_id_route(pts),
                    mode="markers",
                    marker={"symbol": sym, "size": 10, "color": col, "line": {"width": 2, "color": col}},
                    name=f"{g} {label}",
                    legendgroup=g,
                    showlegend=False,
                    hovertemplate=(
                        f"patient %{{customdata}} — {_esc(g)} ({label})<br>{day_word} %{{x:g}}"
                        "<br>%{y:.3~g} mg/kg/day<extra></extra>"
                    ),
                )
            )
    fig.update_xaxes(title={"text": xlabel}, zeroline=False)
    fig.update_yaxes(title={"text": "Anakinra dose (mg/kg/day)"}, rangemode="tozero")
    return _style(
        fig, title, "One step line per patient (dose of day d holds until d + 1); ○ first day, ▲ peak dose"
    ).figure()


# ================================================================================================ 8 adverse events
def build_ae_figure(
    records: Sequence[Mapping], order: Sequence[str] | None = None, colors: Mapping[str, str] | None = None
) -> go.Figure:
    """Horizontal grouped bars: % of patients with each adverse event per group, "k/n" on the bars; Fisher p in
    the event label (events in the records' order, top to bottom)."""
    title = "Adverse events — share of patients"
    records = [r for r in (records or []) if r.get("groups")]
    if not records:
        return empty_figure("No adverse-event data for this selection.", title)
    groups = list(order) if order else list(records[0]["groups"].keys())
    groups = [g for g in groups if any((r["groups"].get(g) or {}).get("n") for r in records)]
    if not groups:
        return empty_figure("No patients in any group.", title)
    cmap = _colors(order or groups, colors)
    labels = []
    for r in records:
        lab = _esc(r.get("label") or r.get("event", ""))
        if r.get("p_value") is not None:
            lab += f"<br><span style='font-size:{BASE_FONT - 3}px'>p {_p(r['p_value'])}</span>"
        labels.append(lab)
    fig = FigureSpec()
    for g in groups:
        k = [int((r["groups"].get(g) or {}).get("count", 0)) for r in records]
        n = [int((r["groups"].get(g) or {}).get("n", 0)) for r in records]
        pct = [100.0 * a / b if b else None for a, b in zip(k, n)]
        n_group = max(n) if n else 0
        fig.add_trace(
            bar(
                y=labels,
                x=pct,
                orientation="h",
                text=[f"{a}/{b}" for a, b in zip(k, n)],
                textposition="outside",
                textfont={"size": BASE_FONT - 2},
                cliponaxis=False,
                marker={"color": cmap[g]},
                name=legend_name(g, n_group),
                legendgroup=g,
                customdata=np.stack([np.array(k), np.array(n)], axis=1),
                hovertemplate=(
                    f"<b>{_esc(g)}</b><br>%{{y}}"
                    "<br>%{customdata[0]} of %{customdata[1]} patients (%{x:.0f} %)<extra></extra>"
                ),
            )
        )
    mx = max([v for tr in fig.data for v in tr["x"] if v is not None] + [0])
    fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05)
    fig.update_xaxes(title={"text": "Patients with the event (%)"}, range=[0, min(100, mx) * 1.15 + 8], ticksuffix=" %")
    fig.update_yaxes(autorange="reversed", type="category")
    h = 200 + len(records) * (22 * len(groups) + 20)
    return _style(
        fig,
        title,
        "Bars: % of patients in the group; label: count/group size; p: Fisher's exact test",
        height=max(420, h),
    ).figure()
