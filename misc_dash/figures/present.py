"""Figures for a projector and for exported images: a caption burned into the figure (:func:`with_caption`) and
the presentation style (:func:`for_presentation`: large text, thick lines, a palette in which every group is
distinct).

Both return a NEW figure and never touch the one they are given (the page's cached cards are shared). Caption
text is plain text from data: it is escaped for plotly (``<``, ``>``, ``&`` as HTML entities), so it never turns
into markup.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

import plotly.graph_objects as go

from .style import BASE_FONT, CHAR_PX

#: base text size in presentation mode (px); every font of a presented figure is at least :data:`MIN_FONT`
PRESENTATION_FONT = 22
MIN_FONT = 20
MIN_LINE_WIDTH = 4  # px, every drawn trace line (invisible CI band edges, width 0, stay invisible)
MIN_MARKER_SIZE = 10  # px
# a large cohort's sampled patient lines (trace meta role "sample") stay thinner than its medians and bands
SAMPLE_LINE_WIDTH = 2
SAMPLE_MARKER_SIZE = 5
CAPTION_FONT = 13  # caption size in exported (non-presentation) images
DEFAULT_WIDTH = 1200  # px: the width captions are wrapped to when the figure has none (= the image export's)
CAPTION_NAME = "misc-dash-caption"  # the caption annotation's ``name``

#: high-contrast, colour-blind-safe colours (Okabe–Ito without orange and yellow): blue, vermillion, bluish green,
#: reddish purple, black, sky blue
PRESENTATION_PALETTE: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#56B4E9")
# which presentation colour a figure colour becomes, in order of preference (the first one the figure does not
# already use). Orange and vermillion side by side (the two anakinra groups) are hard to tell apart on a
# projector: orange becomes bluish green; yellow (weak on white) becomes black.
_PREFERRED: dict[str, tuple[str, ...]] = {
    "#0072B2": ("#0072B2",),
    "#D55E00": ("#D55E00",),
    "#009E73": ("#009E73",),
    "#CC79A7": ("#CC79A7",),
    "#56B4E9": ("#56B4E9",),
    "#E69F00": ("#009E73", "#CC79A7", "#000000", "#56B4E9"),
    "#F0E442": ("#000000", "#56B4E9", "#CC79A7", "#009E73"),
}

_HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_RGB = re.compile(r"^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)$")
_FONT_KEY = re.compile(r"font$")
_INLINE_COLOR = re.compile(r"(color\s*:\s*)(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}|rgba?\([^)]*\))")
_INLINE_SIZE = re.compile(r"(font-size\s*:\s*)(\d+(?:\.\d+)?)px")
_COLOR_SKIP = {"colorscale", "colorbar", "colorway", "coloraxis", "colorsrc"}


# ------------------------------------------------------------------------------------------------ text
def escape_text(s: Any) -> str:
    """Plain text for a plotly label: ``&``, ``<`` and ``>`` as HTML entities (plotly reads ``<b>``, ``<br>``
    and entities in text), so data never becomes markup."""
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _wrap_lines(text: str, chars: int) -> list[str]:
    lines: list[str] = []
    for para in str(text).splitlines():
        para = " ".join(para.split())
        if para:
            lines += textwrap.wrap(para, width=max(chars, 20), break_long_words=True, break_on_hyphens=False)
    return lines


def _margin(layout: go.Layout) -> dict[str, float]:
    m = layout.margin
    default = {"l": 80, "r": 80, "t": 100, "b": 80}  # plotly.js defaults
    return {k: float(getattr(m, k)) if getattr(m, k) is not None else float(v) for k, v in default.items()}


def with_caption(fig: go.Figure, caption: str, width: int | None = None, font_size: int | None = None) -> go.Figure:
    """A copy of ``fig`` with ``caption`` burned in under the plot area: one plotly annotation (paper coordinates,
    left-aligned with the plot, named :data:`CAPTION_NAME`), wrapped to the figure width (``width``, else the
    figure's, else :data:`DEFAULT_WIDTH` px — pass the width the image is rendered at), the bottom margin and the
    height grown by the caption's height so the plot area keeps its size. Lines of ``caption`` stay lines. The
    text is escaped for plotly. An empty caption gives an unchanged copy."""
    out = go.Figure(fig)
    lines_src = str(caption or "").strip()
    if not lines_src:
        return out
    size = float(font_size or CAPTION_FONT)
    lay = out.layout
    w = float(width or lay.width or DEFAULT_WIDTH)
    h = float(lay.height or 450)
    m = _margin(lay)
    plot_h = max(h - m["t"] - m["b"], 50.0)
    # from the plot's left edge to 12 px before the figure's right edge
    avail = max(w - m["l"] - 12, 200.0)
    chars = int(avail / (CHAR_PX * 1.04 * size))
    lines = _wrap_lines(lines_src, chars)
    line_h = size * 1.3
    cap_px = math.ceil(len(lines) * line_h + 14)
    gap = 6.0
    out.add_annotation(
        name=CAPTION_NAME,
        text="<br>".join(escape_text(x) for x in lines),
        xref="paper",
        yref="paper",
        x=0.0,
        y=-(m["b"] + gap) / plot_h,
        xanchor="left",
        yanchor="top",
        align="left",
        showarrow=False,
        font={"size": size, "color": "#333333"},
    )
    out.update_layout(height=round(h + cap_px + gap), margin={"b": round(m["b"] + cap_px + gap)})
    return out


# ------------------------------------------------------------------------------------------------ colours
def _parse_color(c: Any) -> tuple[tuple[int, int, int], str, float | None] | None:
    """(rgb, kind "hex"/"rgb"/"rgba", alpha) of a hex or rgb()/rgba() colour; None for anything else."""
    if not isinstance(c, str):
        return None
    s = c.strip()
    mh = _HEX.match(s)
    if mh:
        h = mh.group(1)
        if len(h) == 3:
            h = "".join(ch * 2 for ch in h)
        return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)), "hex", None
    mr = _RGB.match(s)
    if mr:
        rgb = tuple(round(float(mr.group(i))) for i in (1, 2, 3))
        alpha = float(mr.group(4)) if mr.group(4) is not None else None
        return rgb, ("rgba" if s.startswith("rgba") else "rgb"), alpha  # type: ignore[return-value]
    return None


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def _is_neutral(rgb: tuple[int, int, int]) -> bool:
    """Greys, black and white: axis, reference and "other" colours, never a group's."""
    return max(rgb) - min(rgb) <= 24


def _walk_colors(obj: Any, key: str = "") -> Iterable[str]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in _COLOR_SKIP or k == "template":
                continue
            yield from _walk_colors(v, k)
    elif isinstance(obj, list | tuple):
        if key.endswith("color"):
            yield from (v for v in obj if isinstance(v, str))
        else:
            for v in obj:
                yield from _walk_colors(v, key)
    elif isinstance(obj, str):
        if key.endswith("color"):
            yield obj
        elif "color" in obj:  # inline styles in labels: <span style='color:#E69F00'>
            yield from (m.group(2) for m in _INLINE_COLOR.finditer(obj))


def presentation_colors(colors: Iterable[str]) -> dict[str, str]:
    """Figure colour (hex, upper case) → presentation colour, for the group colours in ``colors`` (in order of
    first use): each distinct colour gets a distinct colour of :data:`PRESENTATION_PALETTE` (its own when it is in
    the palette; orange and yellow the first preferred one the figure does not use). Neutral colours (greys,
    black) stay; colours beyond the palette's size stay as they are."""
    seen: list[str] = []
    taken: set[str] = set()
    for c in colors:
        p = _parse_color(c)
        if p is None:
            continue
        hx = _hex(p[0])
        if _is_neutral(p[0]):
            if hx == "#000000":
                taken.add(hx)
            continue
        if hx not in seen:
            seen.append(hx)
    mapping: dict[str, str] = {}
    for hx in seen:  # colours already in the palette keep themselves
        if hx in PRESENTATION_PALETTE and hx not in taken:
            mapping[hx] = hx
            taken.add(hx)
    for hx in seen:
        if hx in mapping:
            continue
        prefs = _PREFERRED.get(hx, ()) + PRESENTATION_PALETTE
        target = next((t for t in prefs if t not in taken), None)
        if target is not None:
            mapping[hx] = target
            taken.add(target)
    return mapping


def _recolor(c: Any, mapping: Mapping[str, str]) -> Any:
    p = _parse_color(c)
    if p is None:
        return c
    rgb, kind, alpha = p
    new = mapping.get(_hex(rgb))
    if new is None:
        return c
    if kind == "hex":
        return new
    r, g, b = (int(new[i : i + 2], 16) for i in (1, 3, 5))
    if kind == "rgba":
        return f"rgba({r},{g},{b},{alpha if alpha is not None else 1:g})"
    return f"rgb({r},{g},{b})"


def _apply_colors(obj: Any, mapping: Mapping[str, str], key: str = "") -> Any:
    if isinstance(obj, dict):
        return {k: (v if k in _COLOR_SKIP or k == "template" else _apply_colors(v, mapping, k)) for k, v in obj.items()}
    if isinstance(obj, list | tuple) and not isinstance(obj, str):
        if key.endswith("color"):
            return [_recolor(v, mapping) for v in obj]
        return [_apply_colors(v, mapping, key) for v in obj]
    if key.endswith("color"):
        return _recolor(obj, mapping)
    if isinstance(obj, str) and "style=" in obj:
        return _restyle_text(obj, mapping)
    return obj


def _restyle_text(s: str, mapping: Mapping[str, str]) -> str:
    """Inline styles of a label: colours mapped, font sizes scaled (at least :data:`MIN_FONT`)."""
    s = _INLINE_COLOR.sub(lambda m: m.group(1) + str(_recolor(m.group(2), mapping)), s)
    return _INLINE_SIZE.sub(lambda m: f"{m.group(1)}{_font_size(float(m.group(2)))}px", s)


# ------------------------------------------------------------------------------------------------ sizes
FONT_SCALE = PRESENTATION_FONT / BASE_FONT  # every text grows by this factor, to at least MIN_FONT


def _font_size(size: Any) -> Any:
    if isinstance(size, list | tuple):
        return [_font_size(s) for s in size]
    if isinstance(size, int | float) and not isinstance(size, bool):
        return max(MIN_FONT, round(float(size) * FONT_SCALE))
    return PRESENTATION_FONT


def _scale_fonts(obj: Any) -> Any:
    """Every ``…font`` dict below ``obj``: size scaled by :data:`FONT_SCALE`, at least :data:`MIN_FONT`."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k == "template":
                out[k] = v
            elif _FONT_KEY.search(k) and isinstance(v, dict):
                out[k] = {**_scale_fonts(v), "size": _font_size(v.get("size"))}
            else:
                out[k] = _scale_fonts(v)
        return out
    if isinstance(obj, list):
        return [_scale_fonts(v) for v in obj]
    return obj


def _ensure_font(d: dict[str, Any], key: str, default_size: float) -> None:
    f = d.get(key) if isinstance(d.get(key), dict) else {}
    if "size" not in f:
        f = {**f, "size": _font_size(default_size)}
    d[key] = f


def _marker_size(size: Any) -> Any:
    if isinstance(size, list | tuple):
        return [_marker_size(s) for s in size]
    if isinstance(size, int | float) and not isinstance(size, bool):
        return max(MIN_MARKER_SIZE, round(float(size) * 1.4, 1))
    return MIN_MARKER_SIZE


def _thicken(tr: dict[str, Any]) -> dict[str, Any]:
    if isinstance(tr.get("meta"), dict) and tr["meta"].get("role") == "sample":
        return _thicken_sample(tr)
    mode = str(tr.get("mode") or "")
    typ = tr.get("type", "scatter")
    line = tr.get("line")
    draws_line = typ in ("scatter", "box") and ("lines" in mode or typ == "box" or (not mode and "line" in tr))
    if isinstance(line, dict) or draws_line:
        line = dict(line or {})
        w = line.get("width")
        if w is None or w > 0:  # width 0 = an invisible CI band edge: stays invisible
            line["width"] = max(MIN_LINE_WIDTH, round(float(w or 0) * 1.4, 1))
        tr["line"] = line
    marker = tr.get("marker")
    if "markers" in mode or typ == "box" or (isinstance(marker, dict) and "size" in marker):
        marker = dict(marker or {})
        marker["size"] = _marker_size(marker.get("size"))
        tr["marker"] = marker
    return tr


def _thicken_sample(tr: dict[str, Any]) -> dict[str, Any]:
    """A sampled patient's line in a banded chart: thicker for a projector, but well under the median's width, so
    50 lines per group do not hide the bands."""
    if isinstance(tr.get("line"), dict) and (tr["line"].get("width") or 0) > 0:
        tr["line"] = {**tr["line"], "width": max(SAMPLE_LINE_WIDTH, round(float(tr["line"]["width"]) * 1.4, 1))}
    marker = tr.get("marker")
    if isinstance(marker, dict) and isinstance(marker.get("size"), int | float):
        tr["marker"] = {**marker, "size": max(SAMPLE_MARKER_SIZE, round(float(marker["size"]) * 1.4, 1))}
    return tr


def _legend_rows(names: list[str], font: float, width: float) -> int:
    rows, cur = 1, 0.0
    for nm in names:
        w = CHAR_PX * 1.1 * font * len(nm) + 40 + font
        if cur and cur + w > width:
            rows, cur = rows + 1, 0.0
        cur += w
    return rows if names else 0


def for_presentation(
    fig: go.Figure, caption: str | None = None, width: int | None = None, min_height: int | None = None
) -> go.Figure:
    """A copy of ``fig`` for a projector: every font at least :data:`MIN_FONT` px (the layout font
    :data:`PRESENTATION_FONT`; titles, axis titles and ticks, legend, annotations, hover labels and trace text
    scaled up by :data:`FONT_SCALE`), drawn lines at least :data:`MIN_LINE_WIDTH` px and markers at least
    :data:`MIN_MARKER_SIZE` px (a large cohort's sampled patients: :data:`SAMPLE_LINE_WIDTH` /
    :data:`SAMPLE_MARKER_SIZE`, under the medians), group colours mapped to :data:`PRESENTATION_PALETTE` by
    :func:`presentation_colors` (by colour, so a group keeps one colour across its lines, CI bands with their
    transparency, and markers), margins and height grown so the plot area keeps its size (a heatmap's grows with
    its cell text), and ``caption`` burned
    in at the presentation size (:func:`with_caption`; ``width`` as there). ``min_height``: the figure is at least
    that tall (px) before the caption goes in (the caption sits in paper coordinates: growing the figure after it
    would push it off the bottom)."""
    d = go.Figure(fig).to_dict()
    layout = d.get("layout", {})
    data = d.get("data", [])
    mapping = presentation_colors([*_walk_colors(data), *_walk_colors(layout)])
    data = [_thicken(_scale_fonts(_apply_colors(tr, mapping))) for tr in data]
    old_margin = dict(layout.get("margin") or {})
    layout = _scale_fonts(_apply_colors(layout, mapping))
    layout["font"] = {**layout.get("font", {}), "size": PRESENTATION_FONT}
    # fonts the figure leaves to plotly's defaults get an explicit size (the ones it sets were scaled above)
    _ensure_font(layout.setdefault("hoverlabel", {}), "font", BASE_FONT)
    if isinstance(layout.get("title"), dict):
        _ensure_font(layout["title"], "font", BASE_FONT + 5)
        if isinstance(layout["title"].get("subtitle"), dict):
            _ensure_font(layout["title"]["subtitle"], "font", BASE_FONT)
    axes = [k for k in layout if re.fullmatch(r"[xy]axis\d*", k)] or ["xaxis", "yaxis"]
    for k in axes:
        ax = layout.setdefault(k, {})
        _ensure_font(ax, "tickfont", BASE_FONT - 1)
        if not isinstance(ax.get("title"), dict):
            ax["title"] = {"text": ax["title"]} if ax.get("title") else {}
        _ensure_font(ax["title"], "font", BASE_FONT + 1)
    legend = layout.setdefault("legend", {})
    _ensure_font(legend, "font", BASE_FONT - 1)
    if isinstance(legend.get("title"), dict):
        _ensure_font(legend["title"], "font", BASE_FONT)
    for a in layout.get("annotations", []):
        _ensure_font(a, "font", BASE_FONT)
    for s in layout.get("shapes", []):
        ln = s.get("line")
        if isinstance(ln, dict) and ln.get("width", 1) > 0:
            ln["width"] = max(3, ln.get("width", 1))

    # margins: grown with the text so labels, title and legend fit; the plot area keeps its height
    w = float(width or layout.get("width") or DEFAULT_WIDTH)
    m = {k: float(old_margin.get(k, v)) for k, v in {"l": 80, "r": 80, "t": 100, "b": 80}.items()}
    new = {"l": m["l"] * FONT_SCALE, "r": max(m["r"], m["r"] * FONT_SCALE * 0.8), "b": m["b"] * FONT_SCALE}
    top = m["t"] * FONT_SCALE
    leg = layout.get("legend", {})
    top_legend = leg.get("orientation") == "h" and float(leg.get("y", 0) or 0) >= 1.0
    if top_legend:
        names = [str(tr.get("name") or "") for tr in data if tr.get("showlegend") is not False and tr.get("name")]
        rows = _legend_rows(names, leg["font"]["size"], w - new["l"] - new["r"])
        t = layout.get("title") if isinstance(layout.get("title"), dict) else {}
        title_px = (t.get("font", {}).get("size", 0) * 1.4 + 14) if t.get("text") else 0
        sub = t.get("subtitle") if isinstance(t.get("subtitle"), dict) else None
        if sub and sub.get("text"):
            title_px += (str(sub["text"]).count("<br>") + 1) * sub["font"]["size"] * 1.35
        top = max(top, 12 + title_px + rows * (leg["font"]["size"] * 1.5 + 4) + 12)
    new["t"] = top
    h = float(layout.get("height") or 450)
    new_h = h + (new["t"] - m["t"]) + (new["b"] - m["b"])
    if any(tr.get("type") == "heatmap" for tr in data):  # cell text grew: the cells grow with it
        new_h += max(h - m["t"] - m["b"], 0) * (FONT_SCALE - 1)
    layout["margin"] = {**old_margin, **{k: round(v) for k, v in new.items()}}
    layout["height"] = round(max(new_h, min_height or 0))
    new_h = layout["height"]
    t = layout.get("title")
    if isinstance(t, dict) and t.get("yref") == "container" and t.get("yanchor") == "top":
        t["y"] = 1 - 10 / new_h
    out = go.Figure({"data": data, "layout": layout})
    if caption:
        out = with_caption(out, caption, width=int(w), font_size=PRESENTATION_FONT)
    return out
