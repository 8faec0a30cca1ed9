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
    ref.add_trace(
        go.Scatter(x=[1, 2, 3], y=np.array([4.0, np.nan, 6.0]), name="a (n = 3)", line={"color": "#0072B2", "width": 2})
    )
    ref.add_hline(
        y=55, line={"dash": "dot"}, annotation={"text": "normal", "font": {"size": 14}}, annotation_position="top right"
    )
    ref.add_vline(x=0, line={"dash": "dash"}, annotation={"text": "t0"}, annotation_position="top left")
    ref.update_layout(template="plotly_white", height=500, margin={"t": 80})
    ref.update_xaxes(title_text="Day", zeroline=False)
    ref.update_yaxes(title_font={"size": 16})

    spec = FigureSpec()
    spec.add_trace(
        scatter(x=[1, 2, 3], y=np.array([4.0, np.nan, 6.0]), name="a (n = 3)", line={"color": "#0072B2", "width": 2})
    )
    spec.add_hline(
        y=55, line={"dash": "dot"}, annotation={"text": "normal", "font": {"size": 14}}, annotation_position="top right"
    )
    spec.add_vline(x=0, line={"dash": "dash"}, annotation={"text": "t0"}, annotation_position="top left")
    spec.set_template("plotly_white")
    spec.update_layout(height=500, margin={"t": 80})
    spec.update_xaxes(title={"text": "Day"}, zeroline=False)
    spec.update_yaxes(title={"font": {"size": 16}})
    assert _json(spec.figure()) == _json(ref)


def test_subplots_match_make_subplots():
    ref = make_subplots(rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.04, subplot_titles=["A", "B", "C"])
    spec = FigureSpec.subplots(
        rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.04, subplot_titles=["A", "B", "C"]
    )
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


# ----------------------------------------------------------------------------------------- figure_json
def _decode_plotly(o):
    """plotly's JSON with its base64 typed arrays ({"dtype", "bdata", "shape"}) decoded to nested lists, NaN -> None
    (what plotly.js reads from either form: a NaN in a typed array and a null in a list are both a gap)."""
    import base64

    if isinstance(o, dict):
        if "bdata" in o and "dtype" in o:
            arr = np.frombuffer(base64.b64decode(o["bdata"]), dtype=np.dtype(o["dtype"]))
            if "shape" in o:
                arr = arr.reshape([int(s) for s in str(o["shape"]).split(",")])
            return _decode_plotly(arr.tolist())
        return {k: _decode_plotly(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_decode_plotly(v) for v in o]
    if isinstance(o, float) and (o != o or o in (float("inf"), float("-inf"))):
        return None
    return o


def _page_figures():
    """Every kind of figure the pages draw, on the default cohort, for two groupings and two filters."""
    from misc_dash import analyses as A
    from misc_dash import derive, figures
    from misc_dash import filters as F
    from misc_dash.loading import load_default_cohort

    cohort = load_default_cohort()
    pf = derive.patient_frame(cohort)
    for flt in (F.CohortFilter(), F.CohortFilter(phenotype=("CV shock",))):
        for by in ("treatment", "phenotype"):
            ctx = A.prepare(cohort, flt, F.Grouping(by=by), pf_all=pf)
            colors = figures.group_colors(ctx.groups)
            for measure in ("lvef", "strain"):
                er = A.echo(ctx, measure, A.AnalysisOptions())
                yield figures.build_echo_trajectories(
                    er.trajectories, ctx.groups, er.measure, er.normal_threshold, x="day_since_treatment", colors=colors
                )
                yield figures.build_paired_slope(
                    er.pairs,
                    ctx.groups,
                    er.measure,
                    er.normal_threshold,
                    tests={g.group: g.test for g in er.groups},
                    colors=colors,
                )
            fr = A.fever(ctx, A.AnalysisOptions())
            yield figures.build_km_figure(fr.curves, ctx.groups, fr.at_risk_days, logrank=fr.logrank, colors=colors)
            cr = A.cytokines(ctx)
            yield figures.build_cytokine_figure(cr.values, ctx.groups, colors=colors)
            yield figures.build_cytokine_heatmap(list(cr.records), ctx.groups)
            lr = A.labs(ctx)
            for analyte in A.LAB_LABELS:
                yield figures.build_labs_figure(lr.trajectories, analyte, ctx.groups, colors=colors)
            yield figures.build_dosing_figure(A.dosing(ctx).daily)
            yield figures.build_ae_figure(list(A.adverse_events(ctx).records), ctx.groups, colors=colors)
            yield figures.build_flow_figure(A.cohort_flow(ctx))
            yield figures.build_crosstab_figure(A.crosstab(ctx))
    yield figures.empty_figure("No data for this selection.", "Empty")


def test_figure_json_equals_plotly_to_json_for_every_page_figure():
    """plotspec.figure_json (orjson, plain arrays) must give what fig.to_json() gives (plotly 7.1, base64 typed
    arrays) once those are decoded: same keys, same strings, bit-identical numbers, NaN as a gap. Exact equality."""
    from misc_dash.plotspec import figure_json

    n = 0
    for fig in _page_figures():
        assert json.loads(figure_json(fig)) == _decode_plotly(json.loads(fig.to_json()))
        n += 1
    assert n >= 40


def test_figure_json_handles_odd_values_and_falls_back():
    """Object arrays with None, numpy scalars, tuples, datetimes, non-contiguous arrays; frames fall back to plotly."""
    import datetime

    from misc_dash.plotspec import figure_json

    fig = go.Figure(
        [
            go.Scatter(
                x=np.array(["a", None, "b"], dtype=object),
                y=np.arange(6, dtype=np.int64)[::2],
                customdata=np.array([1.5, np.nan, np.inf]),
                name="s",
            ),
            go.Bar(x=[datetime.date(2020, 5, 1), datetime.date(2020, 5, 2)], y=(np.float32(1.25), np.int32(3))),
            go.Heatmap(z=np.array([[1.0, np.nan], [2.0, 3.0]]), x=["p", "q"], y=["r", "s"]),
        ]
    )
    fig.update_layout(title={"text": "t"}, yaxis={"range": (0, np.float64(10.5))})
    assert json.loads(figure_json(fig)) == _decode_plotly(json.loads(fig.to_json()))
    framed = go.Figure(data=[go.Scatter(x=[1], y=[1])], frames=[go.Frame(data=[go.Scatter(x=[2], y=[2])])])
    assert figure_json(framed) == framed.to_json()
