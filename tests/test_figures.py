"""Figure builders (misc_dash.figures): inspected through fig.data / fig.layout only — no rendering."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from misc_dash import figures as F
from misc_dash.stats import kaplan_meier, wilcoxon_paired
from misc_dash.vocabulary import PHENOTYPES, TREATMENT_GROUPS

G3 = ("IVIG monotherapy", "IVIG + anakinra without CS", "IVIG + anakinra with CS")
ALLOWED = {"scatter", "bar", "box", "heatmap", "sankey"}


# ----------------------------------------------------------------------------------------- helpers / data
def _check_common(fig: go.Figure) -> None:
    """Every figure: allowed trace types only (never WebGL), plotly_white, base font >= 14, legend entries with n."""
    assert isinstance(fig, go.Figure)
    go.Figure(fig.to_dict())  # full plotly validation (builders skip it for speed): raises on a misspelt property
    for tr in fig.data:
        assert tr.type in ALLOWED, tr.type
        assert "gl" not in tr.type
    assert fig.layout.template == pio.templates["plotly_white"]
    assert fig.layout.font.size >= 14
    for tr in fig.data:
        if tr.showlegend is not False and tr.name and fig.layout.showlegend is not False:
            assert "(n = " in tr.name, tr.name


def _traj(n_per_group: int = 5, groups=G3, seed: int = 0, days=(0, 2, 4, 6)) -> pd.DataFrame:
    """n_per_group patients per group, one value per patient per day (vectorised: 10,000 patients stay fast)."""
    rng = np.random.default_rng(seed)
    nd, ng = len(days), len(groups)
    gi = np.repeat(np.arange(ng), n_per_group * nd)
    pi = np.tile(np.repeat(np.arange(n_per_group), nd), ng)
    day = np.tile(np.asarray(days, float), ng * n_per_group)
    pid = np.array([f"P{a}-{b:05d}" for a, b in zip(gi, pi)], dtype=object)
    return pd.DataFrame(
        {
            "patient_id": pid,
            "group": np.asarray(groups, dtype=object)[gi] if ng else np.array([], dtype=object),
            "day": day,
            "value": rng.normal(45, 5, day.size) + day,
            "day_since_treatment": day - 1,
        }
    )


def _pairs(n_per_group: int = 6, groups=G3) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for gi, g in enumerate(groups):
        for i in range(n_per_group):
            b = float(rng.normal(45, 6))
            rows.append((f"Q{gi}-{i}", g, b, b + float(rng.normal(6, 3)), 0, int(rng.integers(3, 20))))
    return pd.DataFrame(rows, columns=["patient_id", "group", "baseline", "followup", "baseline_day", "followup_day"])


def _curves():
    c1 = kaplan_meier([1, 2, 2, 3, 5, 6, 8], [1, 1, 0, 1, 1, 0, 1], G3[0])
    c2 = kaplan_meier([0.5, 1, 1.5, 4, 4, 9, 10, 12], [1, 0, 1, 1, 1, 0, 1, 0], G3[1])
    return {G3[0]: c1, G3[1]: c2}


def _legend_traces(fig):
    return [t for t in fig.data if t.showlegend is not False and t.name]


def _hlines(fig):
    return [s for s in fig.layout.shapes if s.y0 is not None and s.y0 == s.y1 and str(s.xref).endswith("domain")]


# ----------------------------------------------------------------------------------------- colours
def test_group_colors_fixed_and_consistent():
    c = F.group_colors(TREATMENT_GROUPS)
    assert c["IVIG monotherapy"] == "#0072B2"
    assert c["IVIG + anakinra without CS"] == "#E69F00"
    assert c["IVIG + anakinra with CS"] == "#D55E00"
    # same colour whatever else is shown and in which order
    assert F.group_colors(["IVIG + anakinra with CS"])["IVIG + anakinra with CS"] == "#D55E00"
    assert F.group_colors(list(reversed(G3))) == {g: c[g] for g in G3}
    p = F.group_colors(PHENOTYPES)
    assert p == {"Non-specific": "#009E73", "KD-like": "#CC79A7", "CV shock": "#D55E00", "KDSS-like": "#56B4E9"}
    assert len(set(c.values())) == len(TREATMENT_GROUPS)
    assert len(set(p.values())) == len(PHENOTYPES)
    for v in (*c.values(), *p.values()):
        assert v in F.OKABE_ITO


def test_group_colors_positional_for_other_groupings():
    c = F.group_colors(["Female", "Male"])
    assert c == {"Female": F.OKABE_ITO[0], "Male": F.OKABE_ITO[1]}
    # a fixed group in the same figure: the others skip its colour
    c = F.group_colors(["No CV shock", "CV shock"])
    assert c["CV shock"] == "#D55E00" and c["No CV shock"] == "#0072B2"
    many = F.group_colors([f"g{i}" for i in range(12)])
    assert len(many) == 12 and set(many.values()) <= set(F.OKABE_ITO)
    assert F.group_colors([]) == {}


# ----------------------------------------------------------------------------------------- KM
def test_km_figure_structure_at_risk_censor_median():
    curves = _curves()
    days = (0, 2, 4, 6, 8, 10, 12)
    fig = F.build_km_figure(curves, G3, days, origin="admission", threshold_c=38.0)
    _check_common(fig)
    names = [t.name for t in _legend_traces(fig)]
    assert names == [f"{G3[0]} (n = 7)", f"{G3[1]} (n = 8)"]
    for g, c in curves.items():
        main = next(t for t in fig.data if t.name == F.legend_name(g, c.n))
        assert main.line.shape == "hv"
        assert list(main.x) == list(c.timeline) and list(main.y) == list(c.survival)
        assert main.line.color == F.group_colors(G3)[g]
        # number at risk: one text row per group, values = KMCurve.at_risk at the given days, group colour
        ar = next(t for t in fig.data if t.name == f"{g} at risk")
        assert ar.mode == "text" and ar.xaxis == "x2"
        assert [int(v) for v in ar.text[: len(days)]] == list(c.at_risk(days))
        assert list(ar.x[: len(days)]) == [float(d) for d in days]
        assert ar.textfont.color == main.line.color
        # censor marks at the censor times, on the curve
        cm = next(t for t in fig.data if t.name == f"{g} censored")
        assert list(cm.x) == list(c.censor_times)
        assert list(cm.y) == [c.survival_at(t) for t in c.censor_times]
        assert cm.marker.symbol.startswith("line-ns")
        # CI band in the curve's legend group
        band = next(t for t in fig.data if t.name == f"{g} 95% CI")
        assert band.fill == "tonexty" and band.legendgroup == g and band.showlegend is False
        # dotted median lines when reached
        if c.median is not None:
            med = next(t for t in fig.data if t.name == f"{g} median")
            assert med.line.dash == "dot"
            assert list(med.x) == [0.0, c.median, c.median] and list(med.y) == [0.5, 0.5, 0.0]
    assert fig.layout.xaxis.title.text == "Days since admission"
    assert "Proportion still febrile" in fig.layout.yaxis.title.text and "38" in fig.layout.yaxis.title.text
    assert tuple(fig.layout.yaxis.range) == (-0.02, 1.03)
    assert fig.layout.xaxis2.matches == "x" or fig.layout.xaxis.matches == "x2"  # shared x with the table row


def test_km_figure_logrank_origin_and_no_ci():
    from misc_dash.stats import logrank

    curves = _curves()
    t = np.r_[curves[G3[0]].durations, curves[G3[1]].durations]
    e = np.r_[[1, 1, 0, 1, 1, 0, 1], [1, 0, 1, 1, 1, 0, 1, 0]]
    lr = logrank(t, e, [G3[0]] * 7 + [G3[1]] * 8, group_order=G3[:2])
    fig = F.build_km_figure(curves, G3, (0, 5, 10), logrank=lr, origin="treatment", show_ci=False, threshold_c=37.5)
    _check_common(fig)
    assert lr.label() in fig.layout.title.subtitle.text
    assert fig.layout.xaxis.title.text == "Days since treatment start"
    assert "37.5" in fig.layout.yaxis.title.text
    assert not [t for t in fig.data if t.fill == "tonexty"]
    # the table extends with the same step to cover every follow-up time (max 12 → 15)
    ar = next(t for t in fig.data if t.name == f"{G3[1]} at risk")
    assert list(ar.x) == [0.0, 5.0, 10.0, 15.0]


def test_km_empty_curves_and_median_not_reached():
    assert isinstance(F.build_km_figure({}, G3, (0, 2)), go.Figure)
    c = kaplan_meier([1, 2, 3], [1, 0, 0], "X")  # S never reaches 0.5
    fig = F.build_km_figure({"X": c}, None, (0, 2))
    _check_common(fig)
    assert not [t for t in fig.data if t.name == "X median"]


# ----------------------------------------------------------------------------------------- echo
@pytest.mark.parametrize("measure,normal", [("lvef_pct", 55.0), ("strain_ap4_pct", -21.4)])
def test_echo_trajectories(measure, normal):
    traj = _traj(5)
    fig = F.build_echo_trajectories(traj, G3, measure, normal)
    _check_common(fig)
    # normal threshold: a dotted horizontal line at the threshold
    hl = _hlines(fig)
    assert len(hl) == 1 and hl[0].y0 == normal and hl[0].line.dash == "dot"
    assert any(f"{normal:g}".replace("-", "−") in (a.text or "") for a in fig.layout.annotations)
    ytitle = fig.layout.yaxis.title.text
    if measure == "lvef_pct":
        assert ytitle == "LVEF (%)"
    else:
        assert "strain" in ytitle and "(%)" in ytitle and "more negative" in ytitle
        assert fig.layout.yaxis.autorange != "reversed"
    assert fig.layout.xaxis.title.text == "Days since admission"
    lines = _legend_traces(fig)
    assert [t.name for t in lines] == [f"{g} (n = 5)" for g in G3]
    # one polyline per patient inside one trace: 5 patients × 4 days + 5 gaps; hover = id, day, value
    t0 = lines[0]
    assert len(t0.x) == 25 and np.isnan(np.asarray(t0.x, float)).sum() == 5
    assert t0.customdata[0] == "P0-00000" and t0.customdata[4] is None
    assert "customdata" in t0.hovertemplate and "%{x" in t0.hovertemplate and "%{y" in t0.hovertemplate
    # group line: median of the patients' interpolated trajectories, every day from 0 to 6 (>= 3 patients defined)
    med = next(t for t in fig.data if t.name == f"{G3[0]} median")
    assert list(med.x) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    ref = _interpolated_median_ref(traj[traj.group == G3[0]])
    assert np.allclose(np.asarray(med.y, float), ref["median"].to_numpy(float), rtol=0, atol=1e-12)
    sub = traj[traj.group == G3[0]]
    assert list(med.y)[::2] == pytest.approx(sub.groupby("day")["value"].median().tolist())  # measured days
    assert med.line.width > t0.line.width
    assert "interpolated trajectories" in med.hovertemplate and "≥ 3 patients" in med.hovertemplate
    assert "interpolated trajectories, days with ≥ 3 patients" in fig.layout.title.subtitle.text
    # no patient id outside hover
    assert "P0-" not in (fig.layout.title.text or "") + (fig.layout.title.subtitle.text or "")


def test_echo_median_rule_and_treatment_axis():
    traj = _traj(2)  # 2 patients per group: no median line anywhere
    fig = F.build_echo_trajectories(traj, G3, "lvef_pct", 55.0, x="day_since_treatment")
    assert not [t for t in fig.data if (t.name or "").endswith("median")]
    assert fig.layout.xaxis.title.text == "Days since treatment start"
    assert any(s.x0 == 0 and s.x1 == 0 for s in fig.layout.shapes)


def test_echo_group_line_follows_patients_not_who_was_measured():
    """The old rule (median of whoever had an echo that day) zig-zags when patients are measured on different days;
    the group line is the median of each patient's interpolated trajectory, only where >= 3 patients' trajectories
    are defined (first to last echo, no extrapolation), with a gap where fewer are."""
    rows = [
        # three patients measured on alternating days, all improving by 2 %/day
        *(("A", d, 40.0 + 2 * d) for d in (0, 2, 4, 6)),
        *(("B", d, 42.0 + 2 * d) for d in (1, 3, 5)),
        *(("C", d, 44.0 + 2 * d) for d in (0, 3, 6)),
        # a fourth patient only late: days 9-11 have one patient (no line), then three again from day 12
        ("D", 9, 60.0),
        ("D", 14, 62.0),
        ("E", 12, 58.0),
        ("E", 14, 60.0),
        ("F", 11, 59.0),
        ("F", 13, 61.0),
    ]
    traj = pd.DataFrame(rows, columns=["patient_id", "day", "value"]).assign(group=G3[0])
    fig = F.build_echo_trajectories(traj, G3, "lvef_pct", 55.0)
    med = next(t for t in fig.data if t.name == f"{G3[0]} median")
    x, y = np.asarray(med.x, float), np.asarray(med.y, float)
    # days 1-5: all three defined; day 0 and 6 only A and C; B ends at 5 (not extended): days 0 and 6 have 2
    # patients → no line; days 12-13 D, E, F defined; day 14: D, E only (F ended at 13)
    ref = _interpolated_median_ref(traj)
    assert ref["day"].tolist() == [1, 2, 3, 4, 5, 12, 13]
    keep = ~np.isnan(x)
    assert x[keep].tolist() == [1, 2, 3, 4, 5, 12, 13] and np.isnan(x).sum() == 1  # a gap between day 5 and 12
    assert np.allclose(y[keep], ref["median"].to_numpy(float), rtol=0, atol=1e-12)
    assert np.allclose(np.diff(y[keep][:5]), 2.0, rtol=0, atol=1e-12)  # a straight improving line, no zig-zag
    assert list(med.customdata[keep]) == [3] * 7


def test_many_patients_one_trace_per_group():
    """Up to the band threshold every patient is drawn, one line trace per group (the figure's size does not grow
    with the number of traces); above it, bands and a sample (tests/test_figures_scale.py)."""
    small = F.build_echo_trajectories(_traj(5), G3, "lvef_pct", 55.0)
    big = F.build_echo_trajectories(_traj(100), G3, "lvef_pct", 55.0)  # 300 patients: the threshold itself
    assert F.BAND_ABOVE == 300
    assert len(big.data) == len(small.data) == 6
    assert all(t.type == "scatter" for t in big.data)  # never Scattergl, however large
    assert [t.name for t in _legend_traces(big)] == [f"{g} (n = 100)" for g in G3]
    assert F.summary_note(big) is None and big.layout.meta is None
    # the 300-patient slope and dosing figures too
    assert len(F.build_paired_slope(_pairs(100), G3, "lvef_pct", 55.0).data) == len(
        F.build_paired_slope(_pairs(4), G3, "lvef_pct", 55.0).data
    )
    assert len(F.build_dosing_figure(_daily(300)).data) == len(F.build_dosing_figure(_daily(6)).data) == 8


# ----------------------------------------------------------------------------------------- paired slope
def test_paired_slope():
    pairs = _pairs(6)
    tests = {
        g: wilcoxon_paired(pairs.loc[pairs.group == g, "baseline"], pairs.loc[pairs.group == g, "followup"], label=g)
        for g in G3
    }
    fig = F.build_paired_slope(pairs, G3, "lvef_pct", 55.0, tests=tests)
    _check_common(fig)
    assert fig.layout.xaxis3 is not None and fig.layout.yaxis2.matches == "y"  # one panel per group, shared y
    lines = [t for t in fig.data if "(n = " in (t.name or "")]
    assert [t.name for t in lines] == [f"{g} (n = 6)" for g in G3]
    assert list(lines[0].x[:3]) == ["Baseline", "Follow-up", None]
    assert list(lines[0].customdata[:3]) == ["Q0-0, day 0", f"Q0-0, day {pairs.followup_day[0]}", None]
    # per-group annotation: pairs and the Wilcoxon p
    texts = " ".join(a.text for a in fig.layout.annotations)
    for g in G3:
        assert g in texts
        assert f"6 pairs: p {'= ' if tests[g].p_text()[0] not in '<>' else ''}{tests[g].p_text()}" in texts
    assert "Wilcoxon" in texts
    hl = _hlines(fig)
    assert len(hl) == 3 and all(s.y0 == 55.0 and s.line.dash == "dot" for s in hl)
    med = next(t for t in fig.data if t.name == f"{G3[0]} median")
    sub = pairs[pairs.group == G3[0]]
    assert list(med.y) == pytest.approx([sub.baseline.median(), sub.followup.median()])


def test_paired_slope_without_tests_and_missing_group():
    fig = F.build_paired_slope(_pairs(3, groups=G3[:2]), G3, "strain_ap4_pct", -21.4)
    _check_common(fig)
    assert "No pairs: IVIG + anakinra with CS" in fig.layout.title.subtitle.text
    assert all(s.y0 == -21.4 for s in _hlines(fig))


# ----------------------------------------------------------------------------------------- cytokines
def _cyto() -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(2)
    for gi, g in enumerate(G3[:2]):
        for i in range(6):
            for c in ("IL-6", "IL-10", "CXCL9"):
                rows.append((f"C{gi}{i}", g, c, float(np.exp(rng.normal(1, 1)))))
    rows += [("C00", G3[0], "IL-6", 0.0), ("C01", G3[0], "IL-10", -1.0)]
    return pd.DataFrame(rows, columns=["patient_id", "group", "cytokine", "fold_difference"])


def test_cytokine_boxes_log_axis_and_nonpositive_note():
    fig = F.build_cytokine_figure(_cyto(), G3)
    _check_common(fig)
    assert fig.layout.yaxis.type == "log"
    assert "log" in fig.layout.yaxis.title.text and "upper limit of normal" in fig.layout.yaxis.title.text
    assert fig.layout.boxmode == "group"
    assert [t.type for t in fig.data] == ["box", "box"]
    assert [t.name for t in fig.data] == [f"{G3[0]} (n = 6)", f"{G3[1]} (n = 6)"]
    for t in fig.data:
        assert t.boxpoints == "all" and t.jitter > 0 and t.offsetgroup
        assert (np.asarray(t.y) > 0).all()
    assert len(fig.data[0].y) == 18  # the 0 and the −1 are not drawn
    assert [s.y0 for s in _hlines(fig)] == [1]
    texts = " ".join(a.text for a in fig.layout.annotations)
    assert "2 values ≤ 0 not drawn" in texts
    assert F.build_cytokine_figure(_cyto().query("fold_difference <= 0"), G3).data == ()


def test_cytokine_heatmap():
    recs = [
        {
            "cytokine": "IL-6",
            "groups": {G3[0]: {"median": 4.0, "n": 5, "q1": 2, "q3": 8}, G3[1]: {"median": 0.5, "n": 4}},
            "p_value": 0.01,
            "q_value": 0.02,
        },
        {
            "cytokine": "IL-10",
            "groups": {G3[0]: {"median": 1.0, "n": 5}, G3[1]: {"median": None, "n": 0}},
            "p_value": None,
            "q_value": None,
        },
    ]
    fig = F.build_cytokine_heatmap(recs, G3)
    _check_common(fig)
    (h,) = fig.data
    assert h.type == "heatmap" and h.zmid == 0
    z = np.asarray(h.z, float)
    assert z[0].tolist() == [2.0, -1.0] and z[1, 0] == 0.0 and math.isnan(z[1, 1])
    assert "log2 fold" in h.colorbar.title.text
    assert h.text[0][0].startswith("4") and h.text[1][1] == "—"
    assert len(h.x) == 2  # the empty third group is not a column
    assert "IL-6" in h.y[0]


# ----------------------------------------------------------------------------------------- dosing, labs, AE
def _daily(n: int) -> pd.DataFrame:
    rows = []
    for i in range(n):
        shock = "+ CV shock" if i % 2 else "− CV shock"
        for k, dose in enumerate((8, 10, 6, 4)):
            rows.append((f"A{i:04d}", shock, 2 + k, k, float(dose), "IV"))
    return pd.DataFrame(rows, columns=["patient_id", "shock", "day", "day_since_start", "dose_mg_kg_day", "route"])


def test_dosing_figure():
    fig = F.build_dosing_figure(_daily(6))
    _check_common(fig)
    assert [t.name for t in _legend_traces(fig)] == ["− CV shock (n = 3)", "+ CV shock (n = 3)"]
    assert _legend_traces(fig)[1].line.color.startswith("rgba(213,94,0")  # vermillion = shock
    assert fig.layout.yaxis.title.text == "Anakinra dose (mg/kg/day)"
    assert fig.layout.xaxis.title.text == "Days since anakinra start"
    peak = next(t for t in fig.data if t.name == "+ CV shock peak")
    assert list(peak.y) == [10.0] * 3 and list(peak.x) == [1.0] * 3
    start = next(t for t in fig.data if t.name == "+ CV shock start")
    assert list(start.x) == [0.0] * 3
    assert F.build_dosing_figure(_daily(2), x="day").layout.xaxis.title.text == "Days since admission"


def _labs(n_per_group: int) -> pd.DataFrame:
    t = _traj(n_per_group)
    return t.assign(analyte="crp", unit="mg/dL", value=t["value"] / 10)


def test_labs_figure():
    labs = _labs(4)
    labs.loc[0, "value"] = 0.0
    fig = F.build_labs_figure(labs, "crp", G3)
    _check_common(fig)
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.yaxis.title.text.startswith("CRP (mg/dL)")
    assert fig.layout.xaxis.title.text == "Days since treatment start"
    assert [s.line.dash for s in fig.layout.shapes if s.x0 == 0 and s.x1 == 0] == ["dash"]
    assert "1 value ≤ 0 not drawn" in fig.layout.title.subtitle.text
    fig = F.build_labs_figure(labs, "crp", G3, x="day", log_y=False)
    assert fig.layout.yaxis.type != "log"
    assert not [s for s in fig.layout.shapes if s.x0 == 0 and s.x1 == 0]
    assert isinstance(F.build_labs_figure(labs, "ferritin", G3), go.Figure)


def test_ae_figure():
    recs = [
        {
            "event": "rash",
            "label": "Rash",
            "groups": {G3[0]: {"count": 1, "n": 4}, G3[1]: {"count": 0, "n": 5}},
            "p_value": 0.44,
        },
        {
            "event": "death",
            "label": "Death",
            "groups": {G3[0]: {"count": 0, "n": 4}, G3[1]: {"count": 2, "n": 5}},
            "p_value": None,
        },
    ]
    fig = F.build_ae_figure(recs, G3)
    _check_common(fig)
    assert [t.type for t in fig.data] == ["bar", "bar"]
    assert [t.name for t in fig.data] == [f"{G3[0]} (n = 4)", f"{G3[1]} (n = 5)"]
    assert list(fig.data[0].text) == ["1/4", "0/4"] and list(fig.data[1].x) == [0.0, 40.0]
    assert fig.layout.barmode == "group"
    assert "%" in fig.layout.xaxis.title.text
    assert "p = 0.44" in fig.data[0].y[0]


# ----------------------------------------------------------------------------------------- flow, crosstab, empty
def test_flow_figure():
    rows = [
        ("Patients in the current selection", 46, 0),
        ("No anakinra", 14, 1),
        ("IVIG monotherapy", 14, 2),
        ("Anakinra", 32, 1),
        ("IVIG + anakinra without CS", 13, 2),
        ("IVIG + anakinra with CS", 19, 2),
    ]
    fig = F.build_flow_figure(rows)
    _check_common(fig)
    texts = [a.text for a in fig.layout.annotations]
    assert len(texts) == 6 and len(fig.layout.shapes) == 6
    assert "n = 46" in texts[0] and "n = 32</b> (70%)" in texts[3]
    assert all(t.type == "scatter" for t in fig.data)


def test_crosstab_figure():
    ct = pd.DataFrame([[1, 2], [3, 4]], index=["Non-specific", "CV shock"], columns=list(G3[:2]))
    ct["Total"] = ct.sum(axis=1)
    ct.loc["Total"] = ct.sum(axis=0)
    fig = F.build_crosstab_figure(ct)
    _check_common(fig)
    (h,) = fig.data
    assert np.asarray(h.z).tolist() == [[1, 2], [3, 4]]
    assert "(n = 4)" in h.x[0] and "(n = 3)" in h.y[0]


def test_empty_inputs_give_figures():
    e = pd.DataFrame()
    figs = [
        F.empty_figure("No data for this selection."),
        F.build_km_figure({}, G3, (0, 2)),
        F.build_echo_trajectories(e, G3, "lvef_pct", 55.0),
        F.build_echo_trajectories(_traj(0), G3, "lvef_pct", 55.0),
        F.build_paired_slope(e, G3, "lvef_pct", 55.0),
        F.build_cytokine_figure(e, G3),
        F.build_cytokine_heatmap([], G3),
        F.build_dosing_figure(e),
        F.build_labs_figure(e, "crp", G3),
        F.build_ae_figure([], G3),
        F.build_flow_figure([]),
        F.build_crosstab_figure(e),
    ]
    for fig in figs:
        _check_common(fig)
        assert fig.data == ()
        assert fig.layout.xaxis.visible is False
        assert any("No " in (a.text or "") for a in fig.layout.annotations)


def _interpolated_median_ref(df: pd.DataFrame, x: str = "day", min_n: int = 3) -> pd.DataFrame:
    """The group-line rule written plainly: mean per patient and day; each patient interpolated with np.interp on
    the day grid (every measurement day and every whole day between the first and the last), undefined outside the
    patient's first..last day; median across patients per day (pandas, skipping undefined); days with >= min_n."""
    d = df.dropna(subset=["patient_id", x, "value"])
    per = d.groupby(["patient_id", x])["value"].mean().reset_index()
    if per.empty:
        return pd.DataFrame({x: np.array([], float), "median": np.array([], float), "n": np.array([], int)})
    grid = np.union1d(per[x].unique(), np.arange(np.ceil(per[x].min()), np.floor(per[x].max()) + 1))
    cols = {}
    for pid, g in per.groupby("patient_id"):
        xp, fp = g[x].to_numpy(float), g["value"].to_numpy(float)
        v = np.interp(grid, xp, fp)
        v[(grid < xp.min()) | (grid > xp.max())] = np.nan
        cols[pid] = v
    m = pd.DataFrame(cols, index=grid)
    out = pd.DataFrame({x: grid, "median": m.median(axis=1, skipna=True).to_numpy(), "n": m.notna().sum(axis=1)})
    return out[out["n"] >= min_n].reset_index(drop=True)


def test_group_median_is_median_of_interpolated_trajectories():
    """figures._group_median (numpy; runs for every group on every rerun) against the plain definition
    (:func:`_interpolated_median_ref`: np.interp per patient, pandas median per day, n >= 3) on 300 random frames with
    missing days, values and patient ids, repeated and fractional days: same days and n, medians to 1e-12."""
    from misc_dash import figures as FG

    rng = np.random.default_rng(11)
    for _ in range(300):
        n = int(rng.integers(0, 80))
        df = pd.DataFrame(
            {
                "patient_id": rng.choice([f"P{i}" for i in range(12)] + [None], n),
                "day": rng.choice([0, 1, 2, 3.5, 5, 8, 13, np.nan], n),
                "value": np.where(rng.random(n) < 0.15, np.nan, rng.normal(55, 8, n)),
            }
        )
        a, b = FG._group_median(df, "day", "value"), _interpolated_median_ref(df)
        assert np.array_equal(a["day"].to_numpy(float), b["day"].to_numpy(float))
        assert np.array_equal(a["n"].to_numpy(int), b["n"].to_numpy(int))
        assert np.allclose(a["median"].to_numpy(float), b["median"].to_numpy(float), rtol=0, atol=1e-12)
        # gap: a grid day (fewer than 3 trajectories) left out between this day and the previous one drawn
        d = df.dropna()["day"].to_numpy(float)
        if len(a):
            grid = np.union1d(d, np.arange(np.ceil(d.min()), np.floor(d.max()) + 1))
            pos = np.searchsorted(grid, a["day"].to_numpy(float))
            assert a["gap"].tolist() == [False, *(np.diff(pos) > 1)]


def test_package_reexports_every_builder_and_helper():
    """misc_dash.figures is a package by topic; the names the pages, tests and benchmarks use stay importable from
    the package itself (public ones in __all__)."""
    from misc_dash import figures as FG

    for name in (*FG.__all__, "_group_median", "_margins_for_labels", "_style", "legend_name", "rgba", "X_TITLES"):
        assert hasattr(FG, name), name
    assert FG._group_median is FG.lines._group_median and FG.build_km_figure is FG.survival.build_km_figure
