"""Shared look of every figure: template, fonts, the Okabe–Ito palette and fixed group colours, legend helpers,
margins sized for the labels (:func:`_style`), the empty-figure placeholder and small text helpers."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..formatting import format_p
from ..plotspec import FigureSpec
from ..vocabulary import PHENOTYPES, TREATMENT_GROUPS

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
    # treatment groups (vocabulary.TREATMENT_GROUPS)
    "IVIG monotherapy": "#0072B2",
    "IVIG + anakinra without CS": "#E69F00",
    "IVIG + anakinra with CS": "#D55E00",
    "IVIG + inflammatory steroids (no anakinra)": "#CC79A7",
    "Anakinra without IVIG": "#56B4E9",
    "No IVIG or anakinra": "#000000",
    # phenotypes (vocabulary.PHENOTYPES)
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


def legend_name(group: str, n: int, counts: Any = None) -> str:
    """A legend entry, "IVIG monotherapy (n = 14)" (the group name escaped: plotly reads legend text as markup);
    with ``counts`` (:class:`misc_dash.privacy.GroupCounts`) the n as the small-cell rule shows it ("(n < 5)")."""
    return f"{_esc(group)} ({'n = ' + str(n) if counts is None else _esc(counts.n(group, n))})"


def median_min_n(counts: Any = None) -> int:
    """Group medians per day need this many patients: :data:`MIN_MEDIAN_N`, or under small-cell suppression at
    least the policy's threshold (``counts``: :class:`misc_dash.privacy.GroupCounts`)."""
    return MIN_MEDIAN_N if counts is None else max(MIN_MEDIAN_N, counts.min_n)


def draws(g: str, counts: Any = None) -> bool:
    """Whether group ``g``'s patients may be drawn one by one (always without suppression)."""
    return counts is None or counts.draws(g)


def _esc(s: Any) -> str:
    """Text for hovertemplates / annotations / legends: no plotly template or HTML markup from data (``&``, ``<``,
    ``>`` as HTML entities; ``%{`` broken so it is not a template variable)."""
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("%{", "%\u200b{")


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
    values = present if isinstance(present, (pd.Series, np.ndarray)) else list(present)
    present_s = [str(g) for g in pd.unique(pd.Series(np.asarray(values, dtype=object)).dropna())]
    order = [str(g) for g in (order or ())]
    return [g for g in order if g in present_s] + sorted(g for g in present_s if g not in order)


class GroupRows:
    """Which rows of a frame belong to which group, from one hash pass over the column (not one string
    comparison per group: this runs on every rerun of a large cohort's chart). ``names`` are the distinct values as
    text in order of appearance (what :func:`_order_present` takes); ``mask(g)`` equals ``column.astype(str) == g``."""

    def __init__(self, column: pd.Series):
        self.codes, uniq = pd.factorize(column)
        self.names = np.array([str(u) for u in uniq], dtype=object)

    def mask(self, g: str) -> np.ndarray:
        return np.isin(self.codes, np.flatnonzero(self.names == g))


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
    lines = re.sub(r"<(?!br)[^<>]*>", "", str(text)).split("<br>")  # a bare "<" (as in "p < 0.001") is text
    return CHAR_PX * size * max(len(x) for x in lines) if lines else 0.0


def _margins_for_labels(fig: FigureSpec, bottom: int) -> tuple[int, int, int]:
    """Left, right and bottom margins wide enough for the tick labels and axis titles, so that plotly's
    ``automargin`` (kept as a safety net) has nothing to push: a push makes plotly draw the figure twice. Left: the
    widest y tick label (explicit ticktext, or the category labels of horizontal bars / heatmaps) plus the title's
    lines (and a categorical y axis's ``categoryarray``: a forest plot's rows); right: a heatmap's colour bar;
    bottom: multi-line category labels under the x axis."""
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
        if ax.get("categoryorder") == "array":
            labels += list(ax.get("categoryarray") or [])
        label_px = max([_text_px(v, tick) for v in labels] + [5 * CHAR_PX * tick])
        title = (ax.get("title") or {}).get("text")
        title_px = (str(title).count("<br>") + 1) * title_line + 8 if title else 0
        left = max(left, 14 + label_px + title_px)
    right = 30 + (110 if colorbar else 0)
    bottom = max(bottom, int(30 + x_lines * tick * 1.25 + title_line + 10)) if x_lines > 1 else bottom
    return round(left), right, bottom


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


# ------------------------------------------------------------------------------------------------ colour scales
DIVERGING = [
    [0.0, "#0072B2"],
    [0.25, "#7FB8D8"],
    [0.5, "#F7F7F7"],
    [0.75, "#EAAE7F"],
    [1.0, "#D55E00"],
]  # blue – white – vermillion
SEQUENTIAL = [[0.0, "#F7FBFF"], [1.0, "#0072B2"]]


def _p(p: float | None) -> str:
    """'= 0.03' / '< 0.001' / '> 0.99': :func:`~misc_dash.formatting.format_p`, with "= " before a plain number."""
    if p is None:
        return "n/a"
    s = format_p(p)
    return s if s[:1] in "<>" else f"= {s}"
