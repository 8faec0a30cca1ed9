"""misc_dash.plotspec: the dict-built figure must give exactly what the equivalent plotly calls give.

Reference: plotly 7.1's own go.Figure / make_subplots / add_hline / add_vline, compared as JSON (what the browser
receives). Plotly writes an empty object where a compound property was set to None; plotly.js reads both alike."""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.subplots import make_subplots

from misc_dash.plotspec import FigureSpec, bar, scatter


def _json(fig) -> dict:
    return json.loads(pio.to_json(fig, validate=False))


def test_simple_figure_matches_plotly():
    ref = go.Figure()
    ref.add_trace(go.Scatter(x=[1, 2, 3], y=np.array([4.0, np.nan, 6.0]), name="a (n = 3)", line={"color": "#0072B2", "width": 2}))
    ref.add_hline(y=55, line={"dash": "dot"}, annotation={"text": "normal", "font": {"size": 14}}, annotation_position="top right")
    ref.add_vline(x=0, line={"dash": "dash"}, annotation={"text": "t0"}, annotation_position="top left")
    ref.update_layout(template="plotly_white", height=500, margin={"t": 80})
    ref.update_xaxes(title_text="Day", zeroline=False)
    ref.update_yaxes(title_font={"size": 16})

    spec = FigureSpec()
    spec.add_trace(scatter(x=[1, 2, 3], y=np.array([4.0, np.nan, 6.0]), name="a (n = 3)", line={"color": "#0072B2", "width": 2}))
    spec.add_hline(y=55, line={"dash": "dot"}, annotation={"text": "normal", "font": {"size": 14}}, annotation_position="top right")
    spec.add_vline(x=0, line={"dash": "dash"}, annotation={"text": "t0"}, annotation_position="top left")
    spec.set_template("plotly_white")
    spec.update_layout(height=500, margin={"t": 80})
    spec.update_xaxes(title={"text": "Day"}, zeroline=False)
    spec.update_yaxes(title={"font": {"size": 16}})
    assert _json(spec.figure()) == _json(ref)


def test_subplots_match_make_subplots():
    ref = make_subplots(rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.04, subplot_titles=["A", "B", "C"])
    spec = FigureSpec.subplots(rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.04, subplot_titles=["A", "B", "C"])
    for k in (1, 2, 3):
        ref.add_trace(go.Bar(x=[k], y=[k]), row=1, col=k)
        spec.add_trace(bar(x=[k], y=[k]), row=1, col=k)
        ref.add_hline(y=5, line={"dash": "dot"}, row=1, col=k)
        spec.add_hline(y=5, line={"dash": "dot"}, row=1, col=k)
    ref.update_yaxes(title_text="%", row=1, col=1)
    spec.update_yaxes(title={"text": "%"}, row=1, col=1)
    ref.update_xaxes(showgrid=False)
    spec.update_xaxes(showgrid=False)
    assert _json(spec.figure()) == _json(ref)


def test_vline_in_every_row_with_data():
    ref = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07, row_heights=[0.4, 0.2, 0.4])
    spec = FigureSpec.subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07, row_heights=[0.4, 0.2, 0.4])
    for r in (1, 3):
        ref.add_trace(go.Scatter(x=[0, 1], y=[1, 2]), row=r, col=1)
        spec.add_trace(scatter(x=[0, 1], y=[1, 2]), row=r, col=1)
    ref.add_vline(x=0.5, line={"dash": "dash"}, row="all", col=1)
    spec.add_vline(x=0.5, line={"dash": "dash"}, row="all", col=1)
    assert _json(spec.figure()) == _json(ref)


def test_shorthand_is_refused_and_validation_catches_typos():
    with pytest.raises(ValueError, match="nested dict"):
        FigureSpec().update_layout(title_text="x")
    with pytest.raises(ValueError, match="nested dict"):
        scatter(x=[1], line_dash="dot")
    fig = FigureSpec([scatter(x=[1], y=[1], colour="red")]).figure()  # built without validation …
    with pytest.raises(ValueError):
        go.Figure(fig.to_dict())  # … so the tests validate every builder's output in full
