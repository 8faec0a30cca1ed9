"""The private Streamlit and plotly internals the app relies on (all used through misc_dash.compat) are still there
and still behave as assumed. A failure here means a library upgrade changed an internal: fix compat.py (its
fallbacks keep the app working meanwhile, slower or with the old deep-link quirk)."""

from __future__ import annotations

import json

import plotly.graph_objects as go
from plotly.subplots import make_subplots
from streamlit.testing.v1 import AppTest

from misc_dash import compat


def test_every_internal_is_present():
    missing = [name for name, ok in compat.internals_present().items() if not ok]
    assert not missing, f"library internals gone: {missing}"


def test_figure_without_validation_equals_the_validated_figure():
    spec = {
        "data": [{"type": "scatter", "x": [1, 2], "y": [3, 4], "name": "a"}],
        "layout": {"title": {"text": "t"}, "xaxis": {"range": [0, 3]}},
    }
    fast, checked = compat.figure_without_validation(spec), go.Figure(spec)
    assert json.loads(fast.to_json()) == json.loads(checked.to_json())


def test_figure_data_and_layout_are_the_figures_own_dicts():
    fig = go.Figure({"data": [{"type": "bar", "x": ["a"], "y": [1]}], "layout": {"height": 300}})
    data, layout = compat.figure_data_and_layout(fig)
    assert data is fig._data and layout is fig._layout
    assert data == fig.to_dict()["data"] and layout["height"] == 300


def test_subplot_cells_name_each_cells_axes():
    fig = make_subplots(rows=2, cols=2)
    cells = compat.subplot_cells(fig, 2, 2)
    assert cells[(1, 1)] == ({"xaxis": "x", "yaxis": "y"}, ("xaxis", "yaxis"))
    assert cells[(1, 2)] == ({"xaxis": "x2", "yaxis": "y2"}, ("xaxis2", "yaxis2"))
    assert cells[(2, 2)] == ({"xaxis": "x4", "yaxis": "y4"}, ("xaxis4", "yaxis4"))
    # a trace placed with those kwargs lands in that cell, as fig.add_trace(row=, col=) places it
    ref = make_subplots(rows=2, cols=2)
    ref.add_trace(go.Scatter(x=[1], y=[1]), row=2, col=2)
    assert ref.data[0].xaxis == cells[(2, 2)][0]["xaxis"]


def test_leave_pages_directory_mode_switches_the_class_attribute():
    from streamlit.runtime.pages_manager import PagesManager

    old = PagesManager.uses_pages_directory
    try:
        PagesManager.uses_pages_directory = True
        assert compat.leave_pages_directory_mode() is True
        assert PagesManager.uses_pages_directory is False
        assert compat.leave_pages_directory_mode() is False
    finally:
        PagesManager.uses_pages_directory = old


def test_sidebar_has_content_tells_whether_the_sidebar_was_drawn_this_run():
    def script():
        import streamlit as st

        from misc_dash import compat

        before = compat.sidebar_has_content()
        st.sidebar.write("filters")
        after = compat.sidebar_has_content()
        st.write(f"before={before} after={after}")

    at = AppTest.from_function(script).run()
    assert not at.exception
    assert [m.value for m in at.markdown if m.value.startswith("before")] == ["before=False after=True"]
    assert compat.sidebar_has_content() is None  # outside a script run: cannot tell
