"""Every use of a private (undocumented) Streamlit or plotly API, in one place.

Each function here leans on an internal of a pinned library version (Streamlit 1.67, plotly 7.1) and has a
public-API fallback, so the app keeps working if the internal disappears: only slower, or with the old quirk.
``tests/test_compat.py`` checks each internal is still there and still behaves as assumed, so an upgrade that
removes one fails a test loudly instead of silently taking the fallback.

Streamlit is imported inside the functions that need it: the core modules that import this one (plotspec) stay
free of streamlit.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go


# ------------------------------------------------------------------------------------------------ plotly
def figure_without_validation(spec: dict) -> go.Figure:
    """``go.Figure(spec)`` without plotly's per-property validation (``_validate=False``, private).

    The figure builders produce plain dicts (plotspec) that the test suite validates in full, so validating them
    again on every rerun is wasted work. Fallback: the validated constructor (same figure)."""
    try:
        return go.Figure(spec, _validate=False)
    except TypeError:
        return go.Figure(spec)


def figure_data_and_layout(fig: go.Figure) -> tuple[list | None, dict | None]:
    """The figure's own trace and layout dicts (``fig._data``, ``fig._layout``, private), without the deep copy
    that ``fig.to_dict()`` makes; (None, None) when the internal is not there or the figure has frames."""
    data, layout = getattr(fig, "_data", None), getattr(fig, "_layout", None)
    if not isinstance(data, list) or not isinstance(layout, dict) or getattr(fig, "_frame_objs", ()):
        return None, None
    return data, layout


def subplot_cells(fig: go.Figure, rows: int, cols: int) -> dict[tuple[int, int], tuple[dict, tuple[str, ...]]]:
    """For each subplot cell (1-based row, col) of a ``make_subplots`` figure: the trace keyword arguments that
    place a trace in it (``{"xaxis": "x2", "yaxis": "y2"}``) and its layout axis names (``("xaxis2", "yaxis2")``).

    Reads ``fig._grid_ref`` (private): plotly offers no public way to ask which axes a cell uses."""
    cells = {}
    for r in range(rows):
        for c in range(cols):
            ref = fig._grid_ref[r][c][0]
            cells[(r + 1, c + 1)] = (dict(ref.trace_kwargs), tuple(ref.layout_keys))
    return cells


# ------------------------------------------------------------------------------------------------ streamlit
def sidebar_has_content() -> bool | None:
    """True when something was already drawn into the sidebar in the current script run; None when this cannot
    be told (the internal changed, or no script run context).

    Reads the script run context's delta-path cursor for the sidebar container (private)."""
    try:
        from streamlit.proto.RootContainer_pb2 import RootContainer
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is None:
            return None
        cur = ctx.cursors.get(RootContainer.SIDEBAR)
        return cur is not None and cur.index > 0
    except Exception:
        return None


def script_run_token() -> object | None:
    """An object that identifies the current script run (the run context's cursor dict, a new one on every run;
    compare by identity); None when this cannot be told (no run context, or the internal changed)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        return None if ctx is None else ctx.cursors
    except Exception:
        return None


def leave_pages_directory_mode() -> bool:
    """Switch the server out of Streamlit's legacy ``pages/`` directory mode (``PagesManager.uses_pages_directory``,
    a private class attribute). Returns True if it was on.

    Why: with a ``pages/`` folder next to app.py, a fresh server starts in that mode and leaves it only when app.py
    calls ``st.navigation``. A shared link to a page opened as the first request after a start would otherwise run
    the page without app.py's router (see ``misc_dash.ui.state.get_view``)."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # internal moved: nothing to switch
        return False
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        return True
    return False


def internals_present() -> dict[str, bool]:
    """Which of the internals above this installation has (for tests and diagnostics)."""
    out: dict[str, Any] = {}
    try:
        from streamlit.runtime.pages_manager import PagesManager

        out["PagesManager.uses_pages_directory"] = hasattr(PagesManager, "uses_pages_directory")
    except ImportError:
        out["PagesManager.uses_pages_directory"] = False
    try:
        from streamlit.proto.RootContainer_pb2 import RootContainer
        from streamlit.runtime.scriptrunner import get_script_run_ctx  # noqa: F401

        out["RootContainer.SIDEBAR"] = hasattr(RootContainer, "SIDEBAR")
    except ImportError:
        out["RootContainer.SIDEBAR"] = False
    fig = go.Figure()
    out["go.Figure._data"] = isinstance(getattr(fig, "_data", None), list)
    out["go.Figure._layout"] = isinstance(getattr(fig, "_layout", None), dict)
    try:
        go.Figure({}, _validate=False)
        out["go.Figure(_validate=False)"] = True
    except TypeError:
        out["go.Figure(_validate=False)"] = False
    from plotly.subplots import make_subplots

    out["make_subplots()._grid_ref"] = hasattr(make_subplots(rows=1, cols=2), "_grid_ref")
    return out
