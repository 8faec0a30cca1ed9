"""Pure plotly figure builders: plain functions of data → :class:`plotly.graph_objects.Figure`.

No streamlit here (``ui.py`` draws the figures). Conventions shared by every builder:

- **Trace types**: ``go.Scatter`` / ``go.Bar`` / ``go.Box`` / ``go.Heatmap`` only — never ``Scattergl`` (WebGL is
  several times slower in headless Chromium) and no plotly.express (which switches to WebGL for large data).
- **Colours** (:func:`group_colors`): Okabe–Ito, colour-blind safe. Treatment groups and phenotypes always get the
  same colour on every page (:data:`FIXED_COLORS`); any other grouping (sex, PCR, custom A/B…) gets the palette
  in display order, skipping colours already taken by fixed groups in the same figure.
- **Legends** carry the number of patients per group: ``"IVIG monotherapy (n = 14)"``.
- **Per-patient lines** (echo, labs, dosing, slope plots) are ONE trace per group with gaps (NaN) between
  patients, so a 10,000-patient cohort still draws a handful of traces. Hover shows patient id, day and value
  (patient ids appear only in hover text, never in titles or legends).
- **Group medians over time** are drawn on days with at least :data:`MIN_MEDIAN_N` patients measured that day
  (a median of one or two patients is a patient, not a group summary).
- ``template="plotly_white"``, base font :data:`BASE_FONT` px (readable on a projector).
- **Built as dicts** (:class:`~misc_dash.plotspec.FigureSpec`) and wrapped in a ``go.Figure`` once at the end:
  plotly's per-call validation cost 75–150 ms per figure; tests validate every builder's output in full.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .derive import PHENOTYPES, TREATMENT_GROUPS
from .plotspec import FigureSpec, bar, box, heatmap, scatter

if TYPE_CHECKING:  # stats imports scipy (slow); only needed for type hints here
    from .stats import KMCurve, TestResult

# ------------------------------------------------------------------------------------------------ style
TEMPLATE = "plotly_white"
BASE_FONT = 15
TITLE_FONT = 20
FONT_FAMILY = "Arial, Helvetica, sans-serif"
MIN_MEDIAN_N = 3  # group median lines: only days with >= 3 patients measured

OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#000000",  # black
    "#F0E442",  # yellow (last: weak on white)
)
GREY = "#7F7F7F"

# Fixed colours: the same group has the same colour on every page. Treatment groups and phenotypes are never
# shown in the same figure, so they may share colours (e.g. vermillion = "with CS" and = "CV shock": the
# sickest group in both groupings).
FIXED_COLORS: dict[str, str] = {
    # treatment groups (derive.TREATMENT_GROUPS)
    "IVIG monotherapy": "#0072B2",
    "IVIG + anakinra without CS": "#E69F00",
    "IVIG + anakinra with CS": "#D55E00",
    "IVIG + inflammatory steroids (no anakinra)": "#CC79A7",
    "Anakinra without IVIG": "#56B4E9",
    "No IVIG or anakinra": "#000000",
    # phenotypes (derive.PHENOTYPES)
    "Non-specific": "#009E73",
    "KD-like": "#CC79A7",
    "CV shock": "#D55E00",
    "KDSS-like": "#56B4E9",
    # anakinra dosing split (analyses.dosing): shock in vermillion as above
    "+ CV shock": "#D55E00",
    "− CV shock": "#0072B2",
}
assert all(g in FIXED_COLORS for g in (*TREATMENT_GROUPS, *PHENOTYPES))

X_TITLES = {
    "day": "Days since admission",
    "day_since_treatment": "Days since treatment start",
    "day_since_start": "Days since anakinra start",
}
MEASURE_TITLES = {
    "lvef_pct": ("LVEF", "LVEF (%)"),
    "strain_ap4_pct": ("Ap4 longitudinal strain", "Ap4 longitudinal strain (%) — more negative = better"),
}


def group_colors(groups: Sequence[str]) -> dict[str, str]:
    """Colour per group: fixed colours for treatment groups / phenotypes / CV-shock split (:data:`FIXED_COLORS`),
    the Okabe–Ito palette by position for anything else (skipping colours used by fixed groups in ``groups``;
    the palette repeats after 8 groups)."""
    groups = [str(g) for g in groups]
    out: dict[str, str] = {g: FIXED_COLORS[g] for g in groups if g in FIXED_COLORS}
    free = [c for c in OKABE_ITO if c not in out.values()] or list(OKABE_ITO)
    k = 0
    for g in groups:
        if g not in out:
            out[g] = free[k % len(free)]
            k += 1
    return out


def _colors(order: Sequence[str], colors: Mapping[str, str] | None) -> dict[str, str]:
    base = group_colors(order)
    if colors:
        base.update({str(k): v for k, v in colors.items()})
    return base


def _color_of(g: str, cmap: Mapping[str, str]) -> str:
    return cmap.get(g) or group_colors([g])[g]


def rgba(hex_color: str, alpha: float) -> str:
    """ "#0072B2", 0.2 → "rgba(0,114,178,0.2)"."""
    h = hex_color.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"


def legend_name(group: str, n: int) -> str:
    return f"{group} (n = {n})"


def _esc(s: Any) -> str:
    """Text for hovertemplates / annotations: no plotly template or HTML markup from data."""
    return str(s).replace("<", "&lt;").replace(">", "&gt;").replace("%{", "%\u200b{")


def _wrap(s: str, width: int = 24) -> str:
    """Break a long label into lines (<br>) at spaces."""
    words, lines, cur = str(s).split(" "), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    return "<br>".join(_esc(x) for x in lines)


def _order_present(order: Sequence[str] | None, present: Sequence[Any]) -> list[str]:
    """Groups in display order that occur in ``present``, then any others (sorted) not listed in ``order``."""
    present_s = [str(g) for g in pd.unique(pd.Series(list(present), dtype=object).dropna())]
    order = [str(g) for g in (order or ())]
    return [g for g in order if g in present_s] + sorted(g for g in present_s if g not in order)


LEGEND_WIDTH_PX = 700  # width assumed when estimating how many rows a top legend needs


def _legend_rows(fig: FigureSpec, width_px: int = LEGEND_WIDTH_PX) -> int:
    names = [str(t.get("name") or "") for t in fig.data if t.get("showlegend") is not False and t.get("name")]
    if not names:
        return 0
    rows, cur = 1, 0.0
    for nm in names:
        w = 8.0 * len(nm) + 50  # ~8 px per character at 14 px + symbol and gap
        if cur and cur + w > width_px:
            rows, cur = rows + 1, 0.0
        cur += w
    return rows


CHAR_PX = 0.5  # average glyph width of Arial, in em: an over-estimate for mixed-case labels


def _text_px(text: Any, size: float) -> float:
    """Estimated width (px) of the longest line of a plotly label (tags removed, <br> = new line)."""
    lines = re.sub(r"<(?!br)[^>]*>", "", str(text)).split("<br>")
    return CHAR_PX * size * max(len(x) for x in lines) if lines else 0.0


def _margins_for_labels(fig: FigureSpec, bottom: int) -> tuple[int, int, int]:
    """Left, right and bottom margins wide enough for the tick labels and axis titles, so that plotly's
    ``automargin`` (kept as a safety net) has nothing to push: a push makes plotly draw the figure twice, which
    cost 20–50 ms per chart in the browser. Left: the widest y tick label (explicit ticktext, or the category
    labels of horizontal bars / heatmaps) plus the title's lines; right: a heatmap's colour bar; bottom: multi-line
    category labels under the x axis."""
    tick = BASE_FONT - 1
    title_line = (BASE_FONT + 1) * 1.3
    y_labels: list[Any] = []
    x_lines = 1
    colorbar = False
    for tr in fig.data:
        if tr.get("type") == "heatmap":
            y_labels += list(tr.get("y") or [])
            x_lines = max([x_lines] + [str(v).count("<br>") + 1 for v in (tr.get("x") or [])])
            colorbar = colorbar or tr.get("showscale", True) is not False
        elif tr.get("type") == "bar" and tr.get("orientation") == "h":
            y_labels += list(tr.get("y") or [])
    left = 80.0
    for k, ax in fig.layout.items():
        if not k.startswith("yaxis") or ax.get("side") == "right" or ax.get("visible") is False:
            continue
        labels = list(ax.get("ticktext") or []) + y_labels
        label_px = max([_text_px(v, tick) for v in labels] + [5 * CHAR_PX * tick])
        title = (ax.get("title") or {}).get("text")
        title_px = (str(title).count("<br>") + 1) * title_line + 8 if title else 0
        left = max(left, 14 + label_px + title_px)
    right = 30 + (110 if colorbar else 0)
    bottom = max(bottom, int(30 + x_lines * tick * 1.25 + title_line + 10)) if x_lines > 1 else bottom
    return int(round(left)), right, bottom


def _style(
    fig: FigureSpec,
    title: str,
    subtitle: str | None = None,
    height: int = 560,
    legend: str = "top",
    extra_top: int = 0,
    bottom: int = 70,
) -> FigureSpec:
    """Template, fonts, title (+ subtitle) pinned to the top, legend placement, margins sized to fit them."""
    sub_lines = (subtitle.count("<br>") + 1) if subtitle else 0
    t: dict[str, Any] = {
        "text": f"<b>{_esc(title)}</b>",
        "x": 0.0,
        "xanchor": "left",
        "xref": "container",
        "yref": "container",
        "y": 1 - 10 / height,
        "yanchor": "top",
        "pad": {"l": 12},
        "font": {"size": TITLE_FONT},
    }
    if subtitle:
        t["subtitle"] = {"text": subtitle, "font": {"size": BASE_FONT - 1, "color": "#444444"}}
    top = 10 + (TITLE_FONT + 10 if title else 0) + 20 * sub_lines + 12 + extra_top
    fig.set_template(TEMPLATE)
    fig.update_layout(
        title=t,
        font={"size": BASE_FONT, "family": FONT_FAMILY, "color": "#222222"},
        hoverlabel={"font": {"size": BASE_FONT}},
        height=height,
    )
    if legend == "top":
        rows = _legend_rows(fig)
        fig.update_layout(
            legend={
                "orientation": "h",
                "yanchor": "bottom",
                "y": 1.0,
                "yref": "paper",
                "xanchor": "left",
                "x": 0.0,
                "font": {"size": BASE_FONT - 1},
                "title": None,
            },
        )
        top += 26 * rows + 8
    elif legend == "right":
        fig.update_layout(
            legend={
                "orientation": "v",
                "yanchor": "top",
                "y": 1.0,
                "xanchor": "left",
                "x": 1.02,
                "font": {"size": BASE_FONT - 1},
            }
        )
    left, right, bottom = _margins_for_labels(fig, bottom)
    fig.update_layout(margin={"l": left, "r": right, "t": top, "b": bottom})
    fig.update_xaxes(title={"font": {"size": BASE_FONT + 1}}, tickfont={"size": BASE_FONT - 1}, automargin=True)
    fig.update_yaxes(title={"font": {"size": BASE_FONT + 1}}, tickfont={"size": BASE_FONT - 1}, automargin=True)
    return fig


def _log_ticks(values: Any) -> tuple[list[float], list[str]] | None:
    """1-2-5 ticks (or powers of 10 over > 3 decades) covering positive ``values``, with plain labels."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return None
    lo, hi = math.floor(math.log10(v.min())), math.ceil(math.log10(v.max()))
    hi = max(hi, lo + 1)
    mult = (1,) if hi - lo > 3 else (1, 2, 5)
    ticks = [m * 10.0**e for e in range(lo, hi + 1) for m in mult]
    ticks = [t for t in ticks if v.min() / 1.5 <= t <= v.max() * 1.5] or [10.0**lo, 10.0**hi]
    return ticks, [_fmt_num(t) for t in ticks]


def empty_figure(message: str = "No data for this selection.", title: str | None = None) -> go.Figure:
    """A figure with a centred message and hidden axes (for "no data for this selection")."""
    fig = FigureSpec()
    fig.add_annotation(
        text=_esc(message),
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": BASE_FONT + 3, "color": "#555555"},
    )
    _style(fig, title or "", height=300, legend="none")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    if not title:
        fig.update_layout(title=None, margin={"t": 30})
    return fig.figure()


def _fmt_num(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    x = float(x)
    if x != 0 and (abs(x) >= 1000 or abs(x) < 0.01):
        return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"
    return f"{x:.{digits}g}" if abs(x) < 100 else f"{x:.0f}"


# ------------------------------------------------------------------------------------------------ per-patient lines
def _patient_lines(
    df: pd.DataFrame, x: str, y: str, label: pd.Series | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate per-patient polylines (sorted by x) with a NaN gap after each patient (vectorised).

    Returns x, y (float arrays, NaN = gap) and a 1-D object array for hover (``label`` per row, default the
    patient id; None in the gaps). One column of customdata keeps 10,000-patient figures fast to build and
    serialise (a 2-D object array is ~4× slower). Patients in sorted id order, each one's points by x (stable,
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
        hovertemplate=f"<b>{_esc(group)}</b> median<br>{xlabel} %{{x:g}}<br>{what} %{{y:.3~g}}{unit}<br>%{{customdata}} patients<extra></extra>",
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
) -> go.Figure:
    """Kaplan–Meier "proportion still febrile" with CI bands, censor marks (+), dotted median lines and a
    number-at-risk table under the x axis (second subplot row, shared x, one coloured text row per group)."""
    groups = _order_present(order, [g for g, c in curves.items() if c is not None and c.n > 0])
    if not groups:
        return empty_figure("No patients with temperature readings for this selection.", "Time to defervescence")
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
                    name=f"{g} 95% CI lower",
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
                    name=f"{g} 95% CI",
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
                name=legend_name(g, c.n),
                legendgroup=g,
                customdata=np.asarray(c.at_risk(t), int),
                hovertemplate=f"<b>{_esc(g)}</b><br>day %{{x:.2f}}: %{{y:.0%}} still febrile<br>%{{customdata}} at risk<extra></extra>",
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
                    name=f"{g} censored",
                    legendgroup=g,
                    showlegend=False,
                    hovertemplate=f"<b>{_esc(g)}</b><br>censored (still febrile at last reading)<br>day %{{x:.2f}}<extra></extra>",
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
                    name=f"{g} median",
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
                text=[str(v) for v in vals],
                textfont={"color": cmap[g], "size": BASE_FONT},
                name=f"{g} at risk",
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
) -> go.Figure:
    """One thin translucent line per patient (one trace per group), thick group median by day (days with
    ≥ MIN_MEDIAN_N patients), dotted normal threshold. Strain axis is NOT reversed (more negative = better)."""
    what, ytitle = _measure_titles(measure)
    title = f"{what} over time"
    need = {"patient_id", "group", x, "value"}
    if traj is None or traj.empty or not need <= set(traj.columns):
        return empty_figure(f"No {what} measurements for this selection.", title)
    d = traj.dropna(subset=["group", x, "value"])
    if d.empty:
        return empty_figure(f"No {what} measurements for this selection.", title)
    groups = _order_present(order, d["group"].astype(str))
    cmap = _colors(order or groups, colors)
    xlabel = X_TITLES.get(x, x)
    day_word = "day since treatment" if x == "day_since_treatment" else "day"
    fig = FigureSpec()
    for g in groups:
        sub = d[d["group"].astype(str) == g]
        xs, ys, cd = _patient_lines(sub, x, "value", _with_day(sub, x))
        col = cmap[g]
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
                hovertemplate=f"patient %{{customdata}} — {_esc(g)}<br>{hover_day}<br>{what} %{{y:.1f}} %<extra></extra>",
            )
        )
        med = _group_median(sub, x, "value")
        if len(med):
            fig.add_trace(_median_trace(med, x, g, col, what, " %", day_word))
    _threshold_line(fig, normal, _normal_text(measure, normal))
    fig.update_xaxes(title={"text": xlabel}, zeroline=False)
    if x == "day_since_treatment":
        fig.add_vline(x=0, line={"dash": "dash", "color": GREY, "width": 1.5})
    fig.update_yaxes(title={"text": ytitle})
    sub = f"Thin lines: patients; thick: group median (days with ≥ {MIN_MEDIAN_N} patients); dotted: {_normal_text(measure, normal)}"
    return _style(fig, title, sub).figure()


# ================================================================================================ 3 paired slope
def build_paired_slope(
    pairs: pd.DataFrame,
    order: Sequence[str] | None,
    measure: str = "lvef_pct",
    normal: float = 55.0,
    tests: Mapping[str, TestResult | None] | None = None,
    colors: Mapping[str, str] | None = None,
) -> go.Figure:
    """Baseline → follow-up per patient, one panel per group (shared y), median markers, Wilcoxon label and
    number of pairs per panel, dotted normal line."""
    what, ytitle = _measure_titles(measure)
    title = f"{what}: first vs follow-up echo"
    need = {"patient_id", "group", "baseline", "followup"}
    if pairs is None or pairs.empty or not need <= set(pairs.columns):
        return empty_figure(f"No patient with two {what} measurements in this selection.", title)
    d = pairs.dropna(subset=["group", "baseline", "followup"]).copy()
    if d.empty:
        return empty_figure(f"No patient with two {what} measurements in this selection.", title)
    groups = _order_present(order, d["group"].astype(str))
    cmap = _colors(order or groups, colors)
    tests = tests or {}
    ncol = len(groups)
    titles = []
    for g in groups:
        n = int((d["group"].astype(str) == g).sum())
        t = tests.get(g)
        line2 = f"{n} pair{'s' if n != 1 else ''}"
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
    for k, g in enumerate(groups, start=1):
        sub = d[d["group"].astype(str) == g].sort_values("patient_id")
        col = cmap[g]
        m = len(sub)
        xs = np.tile(np.array(cats + [None], dtype=object), m)
        ys = np.full(3 * m, np.nan)
        ys[0::3] = sub["baseline"].to_numpy(float)
        ys[1::3] = sub["followup"].to_numpy(float)
        cd = np.full(3 * m, None, dtype=object)
        pid = sub["patient_id"].astype(str)
        for j, dcol in ((0, "baseline_day"), (1, "followup_day")):
            day = sub[dcol].map(lambda v: f", day {v:g}" if pd.notna(v) else "") if dcol in sub.columns else ""
            cd[j::3] = (pid + day).to_numpy(object)
        fig.add_trace(
            scatter(
                x=xs,
                y=ys,
                customdata=cd,
                mode="lines+markers",
                line={"color": rgba(col, 0.5), "width": 1.5},
                marker={"size": 7, "color": rgba(col, 0.7)},
                name=legend_name(g, m),
                legendgroup=g,
                connectgaps=False,
                hovertemplate=f"patient %{{customdata}} — {_esc(g)}<br>%{{x}} echo<br>{what} %{{y:.1f}} %<extra></extra>",
            ),
            row=1,
            col=k,
        )
        med = [float(np.median(sub["baseline"])), float(np.median(sub["followup"]))]
        fig.add_trace(
            scatter(
                x=cats,
                y=med,
                mode="lines+markers",
                line={"color": col, "width": 4.5},
                marker={"size": 16, "symbol": "diamond", "color": col, "line": {"width": 1.5, "color": "white"}},
                name=f"{g} median",
                legendgroup=g,
                showlegend=False,
                hovertemplate=f"<b>{_esc(g)}</b> median<br>%{{x}}: {what} %{{y:.1f}} %<extra></extra>",
            ),
            row=1,
            col=k,
        )
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
    if missing:
        sub += f"<br>No pairs: {_esc(', '.join(missing))}"
    fig = _style(fig, title, sub, height=600, legend="none", extra_top=76)
    fig.update_layout(showlegend=False)
    return fig.figure()


# ================================================================================================ 4 cytokines (boxes)
def build_cytokine_figure(
    values: pd.DataFrame, order: Sequence[str] | None, colors: Mapping[str, str] | None = None
) -> go.Figure:
    """Fold difference over the upper limit of normal, log y axis; grouped boxes per cytokine with all points;
    reference line at 1. Values ≤ 0 cannot be drawn on a log axis: left out and counted in an annotation."""
    title = "Cytokines — fold difference from the upper limit of normal"
    need = {"patient_id", "group", "cytokine", "fold_difference"}
    if values is None or values.empty or not need <= set(values.columns):
        return empty_figure("No cytokine measurements for this selection.", title)
    d = values.dropna(subset=["group", "cytokine", "fold_difference"])
    nonpos = d[d["fold_difference"] <= 0]
    d = d[d["fold_difference"] > 0]
    if d.empty:
        return empty_figure("No positive cytokine values to draw for this selection.", title)
    groups = _order_present(order, d["group"].astype(str))
    cmap = _colors(order or groups, colors)
    cyto_order = list(pd.unique(values["cytokine"].dropna().astype(str)))
    cyto_order = [c for c in cyto_order if c in set(d["cytokine"].astype(str))]
    fig = FigureSpec()
    for g in groups:
        sub = d[d["group"].astype(str) == g]
        col = cmap[g]
        fig.add_trace(
            box(
                x=sub["cytokine"].astype(str).to_numpy(object),
                y=sub["fold_difference"].to_numpy(float),
                customdata=sub["patient_id"].to_numpy(object),
                name=legend_name(g, sub["patient_id"].nunique()),
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
    fig.update_xaxes(title={"text": "Cytokine"}, type="category", categoryorder="array", categoryarray=cyto_order)
    ticks = _log_ticks(d["fold_difference"])
    fig.update_yaxes(type="log", title={"text": "Fold difference (× upper limit of normal, log scale)"})
    if ticks:
        fig.update_yaxes(tickvals=ticks[0], ticktext=ticks[1])
    sub = "Boxes: median and quartiles; dots: patients"
    if len(nonpos):
        sub += f". {len(nonpos)} value{'s' if len(nonpos) != 1 else ''} ≤ 0 not drawn (log axis)"
        fig.add_annotation(
            text=f"{len(nonpos)} value{'s' if len(nonpos) != 1 else ''} ≤ 0 not drawn (log axis)",
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


# ================================================================================================ 5 cytokine heatmap
DIVERGING = [
    [0.0, "#0072B2"],
    [0.25, "#7FB8D8"],
    [0.5, "#F7F7F7"],
    [0.75, "#EAAE7F"],
    [1.0, "#D55E00"],
]  # blue – white – vermillion
SEQUENTIAL = [[0.0, "#F7FBFF"], [1.0, "#0072B2"]]


def build_cytokine_heatmap(records: Sequence[Mapping], order: Sequence[str] | None = None) -> go.Figure:
    """Rows cytokines, columns groups; colour = log2(median fold difference) on a diverging scale centred at 0
    (fold 1 = ULN); cell text = median (and n). Missing / non-positive medians are blank cells."""
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
            ok = med is not None and n and np.isfinite(med) and med > 0
            zr.append(float(np.log2(med)) if ok else None)
            tr.append(
                f"{_fmt_num(med)}<br><span style='font-size:{BASE_FONT - 3}px'>n = {n}</span>"
                if n and med is not None
                else "—"
            )
            q1, q3 = v.get("q1"), v.get("q3")
            hr.append(
                f"<b>{_esc(r['cytokine'])}</b> — {_esc(g)}<br>median {_fmt_num(med)} × ULN [{_fmt_num(q1)}, {_fmt_num(q3)}]<br>n = {n}"
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


def _p(p: float | None) -> str:
    """'= 0.03' / '< 0.001' / '> 0.99' (stats.format_p, imported lazily: scipy is slow to import)."""
    if p is None:
        return "n/a"
    from .stats import format_p

    s = format_p(p)
    return s if s[:1] in "<>" else f"= {s}"


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
                hovertemplate=f"patient %{{customdata}} — {_esc(g)}<br>{day_word} %{{x:g}}<br>%{{y:.3~g}} mg/kg/day<extra></extra>",
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
                    hovertemplate=f"patient %{{customdata}} — {_esc(g)} ({label})<br>{day_word} %{{x:g}}<br>%{{y:.3~g}} mg/kg/day<extra></extra>",
                )
            )
    fig.update_xaxes(title={"text": xlabel}, zeroline=False)
    fig.update_yaxes(title={"text": "Anakinra dose (mg/kg/day)"}, rangemode="tozero")
    return _style(
        fig, title, "One step line per patient (dose of day d holds until d + 1); ○ first day, ▲ peak dose"
    ).figure()


# ================================================================================================ 7 labs
def build_labs_figure(
    traj: pd.DataFrame,
    analyte: str,
    order: Sequence[str] | None,
    x: str = "day_since_treatment",
    log_y: bool = True,
    colors: Mapping[str, str] | None = None,
) -> go.Figure:
    """One analyte over time: per-patient lines (one trace per group), group median (days with ≥ MIN_MEDIAN_N
    patients), dashed vertical line at day 0 on the 'days since treatment start' axis; log y by default
    (values ≤ 0 are then left out and counted)."""
    try:
        from .analyses import LAB_LABELS
    except Exception:  # pragma: no cover - analyses always importable in the app
        LAB_LABELS = {}
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
                hovertemplate=f"patient %{{customdata}} — {_esc(g)}<br>{hover_day}<br>{_esc(label)} %{{y:.3~g}} {_esc(unit)}<extra></extra>",
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
    sub = f"Thin lines: patients; thick: group median (days with ≥ {MIN_MEDIAN_N} patients)"
    if n_nonpos:
        sub += f". {n_nonpos} value{'s' if n_nonpos != 1 else ''} ≤ 0 not drawn (log axis)"
    return _style(fig, title, sub).figure()


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
                hovertemplate=f"<b>{_esc(g)}</b><br>%{{y}}<br>%{{customdata[0]}} of %{{customdata[1]}} patients (%{{x:.0f}} %)<extra></extra>",
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


# ================================================================================================ 9 cohort flow
def build_flow_figure(rows: Sequence[tuple[str, int, int]]) -> go.Figure:
    """Cohort flow (analyses.cohort_flow: depth 0 → 1 → 2) as a tree of boxes: root left, anakinra yes/no in the
    middle, treatment groups right; each box "label / n = k (x% of parent)". Drawn with shapes + annotations
    (clearer than a Sankey when some groups have 0 patients)."""
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
            text=f"{_wrap(label, 28 if dep else 20)}<br><b>n = {n}</b>{share}",
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


__all__ = [
    "FIXED_COLORS",
    "MIN_MEDIAN_N",
    "OKABE_ITO",
    "build_ae_figure",
    "build_crosstab_figure",
    "build_cytokine_figure",
    "build_cytokine_heatmap",
    "build_dosing_figure",
    "build_echo_trajectories",
    "build_flow_figure",
    "build_km_figure",
    "build_labs_figure",
    "build_paired_slope",
    "empty_figure",
    "group_colors",
]
