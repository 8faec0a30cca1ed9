"""A plotly figure built as a plain dict, turned into a ``go.Figure`` once at the end.

Why: plotly's object model validates every property on every ``add_trace`` / ``update_layout`` / ``add_hline``
call, which is slow. :class:`FigureSpec` offers the small part of the ``go.Figure`` API the builders use, on
dicts, and :meth:`FigureSpec.figure` wraps the result in a ``go.Figure`` without re-validating
(:func:`misc_dash.compat.figure_without_validation`). The JSON sent to the browser is identical to
what the ``go.Figure`` calls produce (``tests/test_plotspec.py`` compares them), and ``tests/test_figures.py``
validates every builder's output with plotly's full validation, so a misspelt property still fails a test rather
than the page.

Conventions: properties are written as nested dicts (``title={"text": …}``), never plotly's "magic underscore"
shorthand (``title_text=…``); a key with an underscore that plotly would split raises ``ValueError``.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import plotly.graph_objects as go

from .compat import figure_data_and_layout, figure_without_validation, subplot_cells

# real plotly property names that contain an underscore (everything else with "_" is shorthand we do not accept)
_UNDERSCORE_PROPS = frozenset({"error_x", "error_y", "error_z", "plot_bgcolor", "paper_bgcolor"})


def _check_keys(d: Mapping[str, Any]) -> None:
    for k in d:
        if "_" in k and k not in _UNDERSCORE_PROPS:
            raise ValueError(f"plotspec: write {k!r} as a nested dict (no plotly magic-underscore shorthand)")


def merge(dst: dict, src: Mapping[str, Any]) -> dict:
    """Recursive update (plotly's ``update`` semantics for nested dicts; ``None`` removes a property)."""
    _check_keys(src)
    for k, v in src.items():
        if v is None:
            dst.pop(k, None)
        elif isinstance(v, Mapping) and isinstance(dst.get(k), dict):
            merge(dst[k], v)
        elif isinstance(v, Mapping):
            dst[k] = merge({}, v)
        else:
            dst[k] = v
    return dst


def trace(kind: str, **props: Any) -> dict:
    """A trace as a dict: ``trace("scatter", x=…, y=…)`` (same properties as ``go.Scatter``)."""
    _check_keys(props)
    return {"type": kind, **{k: v for k, v in props.items() if v is not None}}


def scatter(**props: Any) -> dict:
    return trace("scatter", **props)


def bar(**props: Any) -> dict:
    return trace("bar", **props)


def box(**props: Any) -> dict:
    return trace("box", **props)


def heatmap(**props: Any) -> dict:
    return trace("heatmap", **props)


@lru_cache(maxsize=1)
def _template(name: str) -> dict:
    import plotly.io as pio

    return pio.templates[name].to_plotly_json()


@lru_cache(maxsize=64)
def _grid(
    rows: int,
    cols: int,
    shared_xaxes: bool,
    shared_yaxes: bool,
    row_heights: tuple | None,
    vertical_spacing: float | None,
    horizontal_spacing: float | None,
    n_titles: int,
):
    """plotly's own make_subplots layout (axis domains, anchors, matches, title annotations) and the axis names of
    each cell, computed once per grid shape (titles are filled in per figure)."""
    from plotly.subplots import make_subplots

    kw: dict[str, Any] = {"rows": rows, "cols": cols, "shared_xaxes": shared_xaxes, "shared_yaxes": shared_yaxes}
    if row_heights is not None:
        kw["row_heights"] = list(row_heights)
    if vertical_spacing is not None:
        kw["vertical_spacing"] = vertical_spacing
    if horizontal_spacing is not None:
        kw["horizontal_spacing"] = horizontal_spacing
    if n_titles:
        kw["subplot_titles"] = [f"__title{i}__" for i in range(n_titles)]
    fig = make_subplots(**kw)
    layout = fig.to_dict()["layout"]
    layout.pop("template", None)
    return layout, subplot_cells(fig, rows, cols)


class FigureSpec:
    """``data`` (list of trace dicts) and ``layout`` (dict), with the go.Figure methods the builders need."""

    def __init__(self, data: Iterable[dict] | None = None, layout: Mapping[str, Any] | None = None):
        self.data: list[dict] = list(data or [])
        self.layout: dict = merge({}, layout or {})
        self._cells: dict[tuple[int, int], tuple[dict, tuple[str, str]]] | None = None

    # ---------------------------------------------------------------------------------------- construction
    @classmethod
    def subplots(
        cls,
        rows: int = 1,
        cols: int = 1,
        *,
        shared_xaxes: bool = False,
        shared_yaxes: bool = False,
        row_heights: Iterable[float] | None = None,
        vertical_spacing: float | None = None,
        horizontal_spacing: float | None = None,
        subplot_titles: Iterable[str] | None = None,
    ) -> FigureSpec:
        """Like ``plotly.subplots.make_subplots`` (the same layout: it is computed by make_subplots, cached)."""
        titles = list(subplot_titles or [])
        layout, cells = _grid(
            rows,
            cols,
            shared_xaxes,
            shared_yaxes,
            tuple(row_heights) if row_heights is not None else None,
            vertical_spacing,
            horizontal_spacing,
            len(titles),
        )
        spec = cls()
        spec.layout = copy.deepcopy(layout)
        for a, text in zip(spec.layout.get("annotations", []), titles):
            a["text"] = text
        spec._cells = cells
        return spec

    def _cell(self, row: int, col: int) -> tuple[dict, tuple[str, str]]:
        if self._cells is None:
            if (row, col) != (1, 1):
                raise ValueError("row/col on a figure without subplots")
            return {}, ("xaxis", "yaxis")
        return self._cells[(row, col)]

    # ---------------------------------------------------------------------------------------- plotly-like API
    def add_trace(self, tr: dict, row: int | None = None, col: int | None = None) -> FigureSpec:
        tr = dict(tr)
        if row is not None:
            tr.update(self._cell(row, col or 1)[0])
        self.data.append(tr)
        return self

    def update_layout(self, props: Mapping[str, Any] | None = None, **kw: Any) -> FigureSpec:
        merge(self.layout, {**(props or {}), **kw})
        return self

    def _axis_keys(self, letter: str, row: int | None, col: int | None) -> list[str]:
        if row is not None or col is not None:
            if self._cells is None:
                return [f"{letter}axis"]
            keys = [
                v[1] for (r, c), v in self._cells.items() if (row is None or r == row) and (col is None or c == col)
            ]
            return [k[0 if letter == "x" else 1] for k in keys]
        if self._cells is None:
            return [f"{letter}axis"]
        return sorted({v[1][0 if letter == "x" else 1] for v in self._cells.values()}, key=lambda k: (len(k), k))

    def _update_axes(
        self, letter: str, props: Mapping[str, Any] | None, row: int | None, col: int | None, kw: Mapping[str, Any]
    ) -> FigureSpec:
        for k in self._axis_keys(letter, row, col):
            merge(self.layout.setdefault(k, {}), {**(props or {}), **kw})
            if not self.layout[k]:
                del self.layout[k]
        return self

    def update_xaxes(
        self, props: Mapping[str, Any] | None = None, row: int | None = None, col: int | None = None, **kw: Any
    ) -> FigureSpec:
        return self._update_axes("x", props, row, col, kw)

    def update_yaxes(
        self, props: Mapping[str, Any] | None = None, row: int | None = None, col: int | None = None, **kw: Any
    ) -> FigureSpec:
        return self._update_axes("y", props, row, col, kw)

    def add_annotation(self, **kw: Any) -> FigureSpec:
        self.layout.setdefault("annotations", []).append(merge({}, kw))
        return self

    def add_shape(self, **kw: Any) -> FigureSpec:
        self.layout.setdefault("shapes", []).append(merge({}, kw))
        return self

    def _refs(self, row: int | None, col: int | None) -> tuple[str, str]:
        tk = self._cell(row or 1, col or 1)[0]
        return tk.get("xaxis", "x"), tk.get("yaxis", "y")

    def add_hline(
        self,
        y: float,
        line: Mapping[str, Any] | None = None,
        annotation: Mapping[str, Any] | None = None,
        annotation_position: str = "top right",
        row: int | None = None,
        col: int | None = None,
    ) -> FigureSpec:
        """A horizontal line across the plot (as plotly's add_hline: x in axis-domain units), optional label."""
        xr, yr = self._refs(row, col)
        shape = {"type": "line", "x0": 0, "x1": 1, "xref": f"{xr} domain", "y0": y, "y1": y, "yref": yr}
        if line:
            shape["line"] = merge({}, line)
        self.layout.setdefault("shapes", []).append(shape)
        if annotation:
            vert, horiz = annotation_position.split()
            a = {
                "showarrow": False,
                "x": 1 if horiz == "right" else 0,
                "xanchor": horiz,
                "xref": f"{xr} domain",
                "y": y,
                "yanchor": "bottom" if vert == "top" else "top",
                "yref": yr,
            }
            self.layout.setdefault("annotations", []).append(merge(a, annotation))
        return self

    def add_vline(
        self,
        x: float,
        line: Mapping[str, Any] | None = None,
        annotation: Mapping[str, Any] | None = None,
        annotation_position: str = "top right",
        row: int | None = None,
        col: int | None = None,
    ) -> FigureSpec:
        """A vertical line over the plot's height (y in axis-domain units), optional label.
        ``row="all"`` draws it in every row of column ``col`` that has a trace (as plotly does)."""
        if row == "all":
            used = {(t.get("xaxis", "x"), t.get("yaxis", "y")) for t in self.data}
            for (r, c), (tk, _) in sorted((self._cells or {}).items()):
                if c == (col or 1) and (tk.get("xaxis", "x"), tk.get("yaxis", "y")) in used:
                    self.add_vline(x, line, annotation, annotation_position, row=r, col=c)
            return self
        xr, yr = self._refs(row, col)
        shape = {"type": "line", "x0": x, "x1": x, "xref": xr, "y0": 0, "y1": 1, "yref": f"{yr} domain"}
        if line:
            shape["line"] = merge({}, line)
        self.layout.setdefault("shapes", []).append(shape)
        if annotation:
            vert, horiz = annotation_position.split()
            a = {
                "showarrow": False,
                "x": x,
                "xanchor": "right" if horiz == "left" else "left",
                "xref": xr,
                "y": 1 if vert == "top" else 0,
                "yanchor": "top" if vert == "top" else "bottom",
                "yref": f"{yr} domain",
            }
            self.layout.setdefault("annotations", []).append(merge(a, annotation))
        return self

    def set_template(self, name: str = "plotly_white") -> FigureSpec:
        self.layout["template"] = _template(name)
        return self

    # ---------------------------------------------------------------------------------------- output
    def to_dict(self) -> dict:
        return {"data": self.data, "layout": self.layout}

    def figure(self) -> go.Figure:
        """The ``go.Figure`` (not re-validated: see the module docstring)."""
        return figure_without_validation(self.to_dict())


# ------------------------------------------------------------------------------------------------ JSON for the browser
def _json_default(o: Any) -> Any:
    """What orjson cannot write natively: object arrays (hover labels, category gaps), non-contiguous or
    unusual-dtype arrays, numpy scalars, pandas/datetime values. Anything else: TypeError (caller falls back)."""
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if hasattr(o, "to_numpy") and hasattr(o, "dtype"):  # pandas Series / Index
        return o.to_numpy().tolist()
    if isinstance(o, (datetime.datetime, datetime.date, datetime.time)):
        return o.isoformat()
    if isinstance(o, (tuple, set, frozenset)):
        return list(o)
    raise TypeError(f"not JSON-serialisable: {type(o).__name__}")


def figure_json(fig: go.Figure) -> str:
    """The figure as the JSON plotly.js reads, like ``fig.to_json()`` but faster: the figure's own data and
    layout are written directly with orjson, without plotly's deep copy and its walk converting every numeric
    array to base64. Numbers become plain JSON numbers (NaN/inf -> null, which plotly.js reads as a gap, as it
    reads NaN in a base64 array). ``tests/test_plotspec.py`` checks the result equals ``fig.to_json()`` (after
    decoding plotly's base64 arrays) for every figure the pages draw. Falls back to ``fig.to_json()`` for
    anything unusual (frames, or a value orjson cannot write)."""
    data, layout = figure_data_and_layout(fig)
    if data is None:
        return fig.to_json()
    try:
        import orjson

        return orjson.dumps(
            {"data": data, "layout": layout}, default=_json_default, option=orjson.OPT_SERIALIZE_NUMPY
        ).decode()
    except (ImportError, TypeError):
        return fig.to_json()
