"""Treatment: anakinra daily dose per patient, and adverse events by group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..plotspec import FigureSpec, bar, scatter
from .bands import (
    IQR_ALPHA,
    OUTER_ALPHA,
    QUANTILE_RULE,
    SAMPLE_ROLE,
    band_traces,
    esc_data,
    grouped_quantiles,
    in_sample,
    n_text,
    sample_ids,
    set_summary,
    use_bands,
)
from .lines import _patient_lines
from .style import (
    BASE_FONT,
    X_TITLES,
    GroupRows,
    _colors,
    _esc,
    _order_present,
    _p,
    _style,
    draws,
    empty_figure,
    legend_name,
    median_min_n,
    rgba,
)


# ================================================================================================ 6 anakinra dosing
def _id_route(df: pd.DataFrame) -> np.ndarray:
    r = df["route"].astype(str)
    return (df["patient_id"].astype(str) + np.where(r != "", " (" + r + ")", "")).to_numpy(object)


def build_dosing_figure(
    daily: pd.DataFrame, x: str = "day_since_start", colors: Mapping[str, str] | None = None, counts=None
) -> go.Figure:
    """Daily anakinra dose (mg/kg/day) per patient, coloured by CV shock, one trace per group (NaN gaps);
    open circle at the first day, triangle at the peak dose. ``counts`` (:class:`misc_dash.privacy.GroupCounts`
    of the CV-shock groups): small-cell suppression — the legend n as text, no per-patient lines for a group
    whose count is hidden (its median when a day has enough patients), no route in the hovers (the route table
    may hide a count) and no patient count per day."""
    title = "Anakinra daily dose per patient"
    need = {"patient_id", "shock", x, "dose_mg_kg_day"}
    if daily is None or daily.empty or not need <= set(daily.columns):
        return empty_figure("No anakinra dose records for this selection.", title)
    d = daily.dropna(subset=["shock", x, "dose_mg_kg_day"]).reset_index(drop=True)
    if d.empty:
        return empty_figure("No anakinra dose records for this selection.", title)
    if "route" not in d.columns or counts is not None:
        d["route"] = ""
    d["route"] = d["route"].fillna("").astype(str)
    rows = GroupRows(d["shock"])
    groups = _order_present(("− CV shock", "+ CV shock"), rows.names)
    cmap = _colors(groups, colors)
    fig = FigureSpec()
    xlabel = X_TITLES.get(x, x)
    day_word = "day since anakinra start" if x == "day_since_start" else "day since admission"
    n_all = int(d["patient_id"].nunique())
    banded = use_bands(n_all) or (counts is not None and any(not draws(g, counts) for g in groups))
    layers: tuple[list, list, list] = ([], [], [])  # patient traces, bands, medians (banded: medians on top)
    n_sample = 0
    for g in groups:
        sub = d[rows.mask(g)]
        col = cmap[g]
        n = int(sub["patient_id"].nunique())
        name = legend_name(g, n, counts)
        if not banded:
            layers[0].extend(_dose_traces(sub, x, g, col, name, day_word))
            continue
        shown = sub[in_sample(sub["patient_id"], sample_ids(sub["patient_id"].to_numpy(object)))]
        if not use_bands(n_all):  # medians because a group's count is hidden: the other groups keep every patient
            shown = sub
        if not draws(g, counts):
            shown = shown.iloc[:0]
        n_sample = max(n_sample, int(shown["patient_id"].nunique()))
        bands, medians = _dose_bands(sub, x, g, col, name, day_word, counts)
        if len(shown):
            sample = _dose_traces(shown, x, g, col, name, day_word, light=True, legend=not medians)
            layers[0].extend({**tr, "meta": {"role": SAMPLE_ROLE}} for tr in sample)
        layers[1].extend(bands)
        layers[2].extend(medians)
    for tr in (*layers[0], *layers[1], *layers[2]):
        fig.add_trace(tr)
    fig.update_xaxes(title={"text": xlabel}, zeroline=False)
    fig.update_yaxes(title={"text": "Anakinra dose (mg/kg/day)"}, rangemode="tozero")
    if not banded:
        return _style(
            fig, title, "One step line per patient (dose of day d holds until d + 1); ○ first day, ▲ peak dose"
        ).figure()
    if not use_bands(n_all):  # drawn as medians only because a group's count is hidden (small-cell suppression)
        sub = (
            f"Thick: median daily dose of the patients on anakinra that day, days with ≥ {median_min_n(counts)} "
            "patients; step lines per patient only for groups whose count is shown; ○ first day, ▲ peak dose"
        )
        return _style(fig, title, sub).figure()
    sub = (
        f"Thick: median daily dose of the patients on anakinra that day; bands: IQR and 10–90 % ({QUANTILE_RULE}), "
        f"days with ≥ {median_min_n(counts)} patients<br>Thin step lines: {n_text(n_sample, counts)} random patients "
        "per group "
        f"(of {n_text(n_all, counts)}); ○ first day, ▲ peak dose"
    )
    set_summary(
        fig,
        f"{n_text(n_all, counts)} patients: median, IQR and 10–90 % band of the daily dose per day ({QUANTILE_RULE}; "
        f"patients on anakinra that day), with {n_text(n_sample, counts)} random patients per group drawn as step "
        "lines",
    )
    return _style(fig, title, sub).figure()


def _dose_traces(
    sub: pd.DataFrame,
    x: str,
    g: str,
    col: str,
    name: str,
    day_word: str,
    light: bool = False,
    legend: bool = True,
) -> list[dict]:
    """One group's patients: step lines (one trace, NaN gaps), daily-dose markers, first-day and peak markers.
    ``light``: the sampled patients of a banded chart (thinner, lighter, smaller markers)."""
    # step line: the dose of day d holds over [d, d + 1), so each course gets an end point at last day + 1
    last = sub.sort_values(x).groupby("patient_id", sort=False).tail(1)
    ends = last.assign(**{x: last[x] + 1})
    xs, ys, _ = _patient_lines(pd.concat([sub, ends], ignore_index=True), x, "dose_mg_kg_day")
    step = scatter(
        x=xs,
        y=ys,
        mode="lines",
        line={"color": rgba(col, 0.35 if light else 0.7), "width": 1 if light else 2, "shape": "hv"},
        name=name if legend else f"{_esc(g)} sample",
        legendgroup=g,
        connectgaps=False,
        hoverinfo="skip",
    )
    if not legend:
        step["showlegend"] = False
    out = [
        step,
        scatter(
            x=sub[x].to_numpy(float),
            y=sub["dose_mg_kg_day"].to_numpy(float),
            customdata=esc_data(_id_route(sub)),
            mode="markers",
            marker={"size": 3 if light else 5, "color": rgba(col, 0.45 if light else 0.7)},
            name=f"{_esc(g)} daily doses",
            legendgroup=g,
            showlegend=False,
            hovertemplate=(
                f"patient %{{customdata}} — {_esc(g)}<br>{day_word} %{{x:g}}<br>%{{y:.3~g}} mg/kg/day<extra></extra>"
            ),
        ),
    ]
    s = sub.sort_values(["patient_id", x])
    first = s.groupby("patient_id", sort=False).head(1)
    peak = s.loc[s.groupby("patient_id", sort=False)["dose_mg_kg_day"].idxmax()]
    for pts, sym, label in ((first, "circle-open", "start"), (peak, "triangle-up", "peak")):
        c = rgba(col, 0.6) if light else col
        out.append(
            scatter(
                x=pts[x].to_numpy(float),
                y=pts["dose_mg_kg_day"].to_numpy(float),
                customdata=esc_data(_id_route(pts)),
                mode="markers",
                marker={"symbol": sym, "size": 7 if light else 10, "color": c, "line": {"width": 2, "color": c}},
                name=f"{_esc(g)} {label}",
                legendgroup=g,
                showlegend=False,
                hovertemplate=(
                    f"patient %{{customdata}} — {_esc(g)} ({label})<br>{day_word} %{{x:g}}"
                    "<br>%{y:.3~g} mg/kg/day<extra></extra>"
                ),
            )
        )
    return out


def _dose_bands(
    sub: pd.DataFrame, x: str, g: str, col: str, name: str, day_word: str, counts=None
) -> tuple[list, list]:
    """Per day: the median, IQR and 10–90 % of the daily doses of the patients dosed that day (R type 6), on days
    with >= MIN_MEDIAN_N of them, as steps (the dose of day d holds until d + 1); a run of days ends at its last
    day + 1. Returns the band traces and the median trace (empty lists when no day has enough patients)."""
    day = sub[x].to_numpy(float)
    dose = sub["dose_mg_kg_day"].to_numpy(float)
    days, inv = np.unique(day, return_inverse=True)
    keys, n, q = grouped_quantiles(inv, dose, (0.10, 0.25, 0.50, 0.75, 0.90))
    ok = n >= median_min_n(counts)
    if not ok.any():
        return [], []
    dd, n, q = days[keys[ok]], n[ok], q[ok]
    gap = np.r_[False, np.diff(dd) != 1]
    # each run of consecutive days gets an end point at last day + 1 (the step's right edge), then a break
    ends = np.r_[np.flatnonzero(gap[1:]), dd.size - 1]
    xs = np.insert(dd, ends + 1, dd[ends] + 1)
    qs = np.insert(q, ends + 1, q[ends], axis=0)
    ns = np.insert(n.astype(float), ends + 1, n[ends])
    gx = np.zeros(xs.size, bool)
    gx[(ends + 1 + np.arange(ends.size))[:-1] + 1] = True  # the first day of each later run
    bands = band_traces(xs, qs[:, 0], qs[:, 4], gx, col, OUTER_ALPHA, f"{_esc(g)} 10–90 %", g, shape="hv")
    bands += band_traces(xs, qs[:, 1], qs[:, 3], gx, col, IQR_ALPHA, f"{_esc(g)} IQR", g, shape="hv")
    cut = np.flatnonzero(gx)
    mx = np.insert(xs, cut, np.nan)
    my = np.insert(qs[:, 2], cut, np.nan)
    cd = np.insert(np.column_stack([ns, qs[:, 0], qs[:, 1], qs[:, 3], qs[:, 4]]), cut, np.nan, axis=0)
    median = scatter(
        x=mx,
        y=my,
        customdata=cd,
        mode="lines",
        line={"color": col, "width": 4.5, "shape": "hv"},
        name=name,
        legendgroup=g,
        connectgaps=False,
        hovertemplate=(
            f"<b>{_esc(g)}</b>: median daily dose<br>{day_word} %{{x:g}}<br>%{{y:.3~g}} mg/kg/day"
            "<br>IQR %{customdata[2]:.3~g}–%{customdata[3]:.3~g}, 10–90 %: %{customdata[1]:.3~g}–%{customdata[4]:.3~g}"
            + ("<br>%{customdata[0]:.0f} patients on anakinra" if counts is None else "")
            + "<extra></extra>"
        ),
    )
    if counts is not None:  # the day's number of patients is not written out under small-cell suppression
        median["customdata"][:, 0] = np.nan
    return bands, [median]


# ================================================================================================ 8 adverse events
def build_ae_figure(
    records: Sequence[Mapping],
    order: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
    cells: Mapping[tuple[int, str], tuple[str, str, float | None]] | None = None,
    hide_p: frozenset[int] = frozenset(),
) -> go.Figure:
    """Horizontal grouped bars: % of patients with each adverse event per group, "k/n" on the bars; Fisher p in
    the event label (events in the records' order, top to bottom). ``cells`` (small-cell suppression): per
    (record index, group) the count and the group size as the rule shows them and the percentage (None: hidden,
    no bar); ``hide_p``: records whose p-value is not shown."""
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
    for i, r in enumerate(records):
        lab = _esc(r.get("label") or r.get("event", ""))
        if r.get("p_value") is not None and i not in hide_p:
            lab += f"<br><span style='font-size:{BASE_FONT - 3}px'>p {_p(r['p_value'])}</span>"
        labels.append(lab)
    fig = FigureSpec()
    for g in groups:
        k = [int((r["groups"].get(g) or {}).get("count", 0)) for r in records]
        n = [int((r["groups"].get(g) or {}).get("n", 0)) for r in records]
        pct = [100.0 * a / b if b else None for a, b in zip(k, n)]
        n_group = max(n) if n else 0
        tr = bar(
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
        if cells is not None:  # the rule's texts; a hidden percentage draws no bar (its length would say it)
            got = [cells[(i, g)] for i in range(len(records))]
            size = next((c[1] for c in got), "")
            tr.update(
                x=[0.0 if c[2] is None else c[2] for c in got],
                text=[_esc(f"{c[0]}/{c[1]}") for c in got],
                name=f"{_esc(g)} ({_esc('n ' + size if size[:1] in '<≤>≥' else 'n = ' + size)})",
                customdata=np.array(
                    [_esc(f"{c[0]} of {c[1]} patients" + ("" if c[2] is None else f" ({c[2]:.0f} %)")) for c in got],
                    dtype=object,
                ),
                hovertemplate=f"<b>{_esc(g)}</b><br>%{{y}}<br>%{{customdata}}<extra></extra>",
            )
        fig.add_trace(tr)
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
