"""Daily maximum temperature (analyses.temperature, figures.temperature, the Fever page's second chart): the analysis
against a brute-force reference and a hand-made cohort, the figure's structure and size at 10,000 patients."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from misc_dash import analyses as A
from misc_dash import figures as F
from misc_dash import views
from misc_dash.loading import Cohort, load_default_cohort
from misc_dash.plotspec import figure_json

MONO, ANAK = "IVIG monotherapy", "IVIG + anakinra without CS"


@pytest.fixture(scope="module")
def cohort():
    return load_default_cohort()


# ------------------------------------------------------------------------------------------------ reference
def _reference(ctx: A.Context, origin: str, min_n: int = 3):
    """Patient by patient, reading by reading, in plain Python: the origin as the fever analysis (hour 0, or the
    treatment start = ivig_start_hour, else 24 × the first anakinra day), readings before it ignored, day = whole
    days since it (a boundary up to floating point: the later day); then per group and day the type-6 quartiles."""
    daily = {}
    temps = ctx.cohort["temperatures"]
    by_patient = {pid: g for pid, g in temps.groupby("patient_id")}
    for p in ctx.pf.itertuples(index=False):
        if p.group is None or (isinstance(p.group, float) and math.isnan(p.group)):
            continue
        if origin == "admission":
            o = 0.0
        elif not pd.isna(p.ivig_start_hour):
            o = float(p.ivig_start_hour)
        elif not pd.isna(p.start_day):
            o = 24.0 * float(p.start_day)
        else:
            continue
        rows = by_patient.get(p.patient_id)
        if rows is None:
            continue
        for hour, temp in zip(rows["hour"], rows["temp_c"]):
            if pd.isna(hour) or pd.isna(temp) or float(hour) < o:
                continue
            rel = (float(hour) - o) / 24.0
            day = math.floor(rel + 1e-9)
            key = (p.patient_id, p.group, day)
            daily[key] = max(daily.get(key, -math.inf), float(temp))
    d = pd.DataFrame([(*k, v) for k, v in daily.items()], columns=["patient_id", "group", "day", "temp_max"])
    rows = []
    for g in ctx.groups:
        for day in sorted(d.loc[d["group"] == g, "day"].unique()):
            v = d.loc[(d["group"] == g) & (d["day"] == day), "temp_max"].to_numpy(float)
            if len(v) >= min_n:
                q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75], method="weibull")
                rows.append((g, int(day), len(v), med, q1, q3))
    s = pd.DataFrame(rows, columns=["group", "day", "n", "median", "q1", "q3"])
    return d.sort_values(["patient_id", "day"]).reset_index(drop=True), s


@pytest.mark.parametrize("origin", ["admission", "treatment"])
@pytest.mark.parametrize("grouping", ["treatment", "phenotype"])
def test_daily_max_matches_brute_force_on_the_default_cohort(cohort, origin, grouping):
    ctx = A.prepare(cohort, grouping=grouping)
    tr = A.run("temperature", ctx, A.AnalysisOptions(fever_origin=origin))
    assert isinstance(tr, A.TemperatureResult) and tr.origin == origin
    ref_daily, ref_summary = _reference(ctx, origin)
    got = tr.daily.sort_values(["patient_id", "day"]).reset_index(drop=True)
    assert got["patient_id"].tolist() == ref_daily["patient_id"].tolist()
    assert got["day"].tolist() == ref_daily["day"].tolist()
    assert got["group"].tolist() == ref_daily["group"].tolist()
    assert got["temp_max"].tolist() == ref_daily["temp_max"].tolist()  # a maximum is one of the readings: exact
    assert len(tr.summary) == len(ref_summary) > 10
    assert tr.summary[["group", "day", "n"]].values.tolist() == ref_summary[["group", "day", "n"]].values.tolist()
    for c in ("median", "q1", "q3"):
        assert np.allclose(tr.summary[c].to_numpy(float), ref_summary[c].to_numpy(float), rtol=0, atol=1e-12)
    assert (tr.summary["n"] >= 3).all()
    assert tr.n_patients == {g: int((ref_daily.drop_duplicates("patient_id")["group"] == g).sum()) for g in ctx.groups}
    # the same patients and origin as the time to defervescence (the analysis the page shows under the chart)
    fr = A.run("fever", ctx, A.AnalysisOptions(fever_origin=origin))
    assert set(tr.daily["patient_id"]) == set(fr.per_patient["patient_id"])
    assert len(tr.excluded) == len(fr.excluded)


def _tiny_cohort(base: Cohort) -> Cohort:
    """Three IVIG-monotherapy and two IVIG + anakinra patients of the default cohort with hand-made readings."""
    pf = A.prepare(base).pf
    mono = pf.loc[pf["group"] == MONO, "patient_id"].tolist()[:3]
    anak = pf.loc[pf["group"] == ANAK, "patient_id"].tolist()[:2]
    ids = mono + anak
    sub = base.subset(ids)
    tables = {k: sub[k].copy() for k in base.tables}
    p = tables["patients"]
    start = dict(zip(ids, [10.0, 24.3, 0.0, 6.0, 48.0]))
    p["ivig_start_hour"] = p["patient_id"].map(start)
    p1, p2, p3, p4, p5 = ids
    readings = [
        (p1, 0.0, 39.0), (p1, 5.0, 40.0), (p1, 23.9, 38.5), (p1, 24.0, 38.0), (p1, 30.0, 39.5), (p1, 50.0, 37.0),
        (p2, 2.0, 38.2), (p2, 26.0, 38.8), (p2, 47.0, 37.9), (p2, 48.3, 37.5), (p2, 49.0, 36.9),
        (p3, 1.0, 40.1), (p3, 60.0, 37.2),
        (p4, 0.0, 39.9), (p4, 25.0, 39.0),
        (p5, 12.0, 40.0), (p5, 36.0, 39.2),
    ]  # fmt: skip
    tables["temperatures"] = pd.DataFrame(readings, columns=["patient_id", "hour", "temp_c"]).assign(site="oral")
    return Cohort(tables, name="tiny", synthetic=True), ids


def test_daily_max_on_a_hand_made_cohort(cohort):
    """Known answers. From admission: day 0 = hours [0, 24) (P1: max of 39.0, 40.0, 38.5 = 40.0; its 24.0 h reading
    is day 1); monotherapy day 0 = {40.0, 38.2, 40.1}, day 1 has 2 patients (no summary), day 2 = {37.0, 37.5, 37.2}.
    From treatment: P1's readings before 10 h are ignored; P2 starts at 24.3 h, so its 48.3 h reading is exactly
    1 day later (computed as 0.9999999999999999) and counts for day 1; P5 (start 48 h) has no reading after it. The
    anakinra group never has 3 patients on a day: no summary rows."""
    tiny, (p1, p2, p3, p4, p5) = _tiny_cohort(cohort)
    ctx = A.prepare(tiny)
    adm = A.daily_max_temperature(ctx, A.AnalysisOptions(fever_origin="admission"))
    got = {(r.patient_id, r.day): r.temp_max for r in adm.daily.itertuples()}
    assert got == {
        (p1, 0): 40.0, (p1, 1): 39.5, (p1, 2): 37.0,
        (p2, 0): 38.2, (p2, 1): 38.8, (p2, 2): 37.5,
        (p3, 0): 40.1, (p3, 2): 37.2,
        (p4, 0): 39.9, (p4, 1): 39.0,
        (p5, 0): 40.0, (p5, 1): 39.2,
    }  # fmt: skip
    assert adm.summary.to_dict("records") == [
        {"group": MONO, "day": 0, "n": 3, "median": 40.0, "q1": 38.2, "q3": 40.1},
        {"group": MONO, "day": 2, "n": 3, "median": 37.2, "q1": 37.0, "q3": 37.5},
    ]
    assert adm.n_patients[MONO] == 3 and adm.n_patients[ANAK] == 2 and adm.excluded.empty
    trt = A.daily_max_temperature(ctx, A.AnalysisOptions(fever_origin="treatment"))
    got = {(r.patient_id, r.day): r.temp_max for r in trt.daily.itertuples()}
    assert got == {
        (p1, 0): 39.5,
        (p1, 1): 37.0,
        (p2, 0): 38.8,
        (p2, 1): 37.5,
        (p3, 0): 40.1,
        (p3, 2): 37.2,
        (p4, 0): 39.0,
    }
    assert trt.summary.to_dict("records") == [{"group": MONO, "day": 0, "n": 3, "median": 39.5, "q1": 38.8, "q3": 40.1}]
    assert trt.excluded["patient_id"].tolist() == [p5]
    assert trt.excluded["reason"].tolist() == ["no temperature reading at or after the origin"]
    assert trt.n_patients[ANAK] == 1
    js = json.loads(json.dumps(A.temperature.to_json(trt)))
    assert js["summary"][MONO][0]["median"] == 39.5 and js["excluded"] == 1


def test_registry_entry_reads_only_the_origin_and_is_not_in_the_json():
    spec = A.ANALYSES["temperature"]
    assert spec.options == ("fever_origin",) and spec.json_key is None
    opts = A.AnalysisOptions(fever_origin="treatment", fever_threshold=37.5, cox=True)
    assert spec.narrow(opts) == A.AnalysisOptions(fever_origin="treatment")


# ------------------------------------------------------------------------------------------------ figure
def _check(fig: go.Figure) -> None:
    go.Figure(fig.to_dict())  # plotly's full validation (the builders skip it)
    assert all(t.type == "scatter" for t in fig.data)  # SVG traces only, never scattergl
    assert fig.layout.font.size >= 14


def test_temperature_figure_structure(cohort):
    tiny, _ = _tiny_cohort(cohort)
    ctx = A.prepare(tiny)
    tr = A.daily_max_temperature(ctx)
    fig = F.build_temperature_figure(tr, ctx.groups, F.group_colors(ctx.groups), threshold_c=38.0)
    _check(fig)
    assert "temperature" in fig.layout.title.text.lower()
    assert fig.layout.xaxis.title.text.startswith("Days since admission")
    assert fig.layout.yaxis.title.text == "Daily maximum temperature (°C)"
    # the fever threshold: a dotted horizontal line at 38 with its label
    hl = [s for s in fig.layout.shapes if s.y0 == s.y1 == 38.0]
    assert len(hl) == 1 and hl[0].line.dash == "dot"
    assert any("38 °C" in (a.text or "") for a in fig.layout.annotations)
    assert "38 °C" in fig.layout.title.subtitle.text
    # patient lines: one trace per group, NaN gaps between patients, translucent group colour
    lines = {t.legendgroup: t for t in fig.data if t.mode == "lines" and t.customdata is not None and t.fill is None}
    assert set(lines) == {MONO, ANAK}
    mono = lines[MONO]
    assert np.isnan(np.asarray(mono.x, float)).sum() == 3 and mono.line.color.startswith("rgba(0,114,178,0.2")
    # monotherapy median on days 0 and 2 only (day 1 had 2 patients): a gap, not a line across day 1
    med = next(t for t in fig.data if t.legendgroup == MONO and t.mode == "lines+markers")
    assert np.asarray(med.x, float).tolist()[::2] == [0.0, 2.0] and math.isnan(med.x[1])
    assert np.asarray(med.y, float).tolist()[::2] == [40.0, 37.2]
    assert med.name == "IVIG monotherapy (n = 3)" and med.line.width > mono.line.width
    band = next(t for t in fig.data if t.legendgroup == MONO and t.fill == "toself")
    assert [v for v in band.y if v is not None] == [40.1, 38.2, 37.5, 37.0]
    # the anakinra group never has 3 patients on a day: no median, no band, its legend entry on the patient lines
    assert not [t for t in fig.data if t.legendgroup == ANAK and (t.fill or t.mode == "lines+markers")]
    assert lines[ANAK].name == "IVIG + anakinra without CS (n = 2)" and lines[ANAK].showlegend is not False
    trt = A.daily_max_temperature(ctx, A.AnalysisOptions(fever_origin="treatment"))
    fig = F.build_temperature_figure(trt, ctx.groups, threshold_c=37.5, origin="treatment")
    _check(fig)
    assert fig.layout.xaxis.title.text.startswith("Days since treatment start")
    assert [s.y0 for s in fig.layout.shapes if s.y0 == s.y1] == [37.5]


def test_temperature_figure_on_the_default_cohort_and_empty(cohort):
    ctx = A.prepare(cohort)
    tr = A.run("temperature", ctx)
    fig = F.build_temperature_figure(tr, ctx.groups, F.group_colors(ctx.groups))
    _check(fig)
    for g in ctx.groups:  # the median trace has one point per summary day (gaps as NaN)
        med = next(t for t in fig.data if t.legendgroup == g and t.mode == "lines+markers")
        x = np.asarray(med.x, float)
        assert x[~np.isnan(x)].tolist() == tr.summary_of(g)["day"].astype(float).tolist()
        assert f"(n = {tr.n_patients[g]})" in med.name
    assert "sample" not in fig.layout.title.subtitle.text  # 46 patients: every line drawn
    empty = A.TemperatureResult("admission", tr.daily.iloc[:0], tr.summary.iloc[:0], tr.excluded, {})
    e = F.build_temperature_figure(empty, ctx.groups)
    _check(e)
    assert e.data == () and any("No temperature" in (a.text or "") for a in e.layout.annotations)


def _big_result(n_patients: int, days: int = 12, seed: int = 3) -> A.TemperatureResult:
    rng = np.random.default_rng(seed)
    pid = np.repeat([f"B{i:05d}" for i in range(n_patients)], days)
    group = np.repeat(np.array([MONO, ANAK])[np.arange(n_patients) % 2], days)
    day = np.tile(np.arange(days), n_patients)
    daily = pd.DataFrame(
        {"patient_id": pid, "group": group, "day": day, "temp_max": 40 - 0.25 * day + rng.normal(0, 0.5, day.size)}
    )
    q = daily.groupby(["group", "day"])["temp_max"]
    summary = pd.concat(
        [
            q.size().rename("n"),
            q.median().rename("median"),
            q.quantile(0.25).rename("q1"),
            q.quantile(0.75).rename("q3"),
        ],
        axis=1,
    ).reset_index()
    daily["n_readings"] = 4
    return A.TemperatureResult("admission", daily, summary, daily.iloc[:0, :2], {MONO: 1, ANAK: 1})


def test_many_patients_draw_a_reproducible_sample_of_lines():
    tr = _big_result(1000)
    fig = F.build_temperature_figure(tr, (MONO, ANAK))
    _check(fig)
    lines = [t for t in fig.data if t.mode == "lines" and t.customdata is not None]
    ids = {c for t in lines for c in t.customdata if c is not None}
    assert len(ids) == 200
    assert "a random sample of 200 of 1,000 patients" in fig.layout.title.subtitle.text
    again = F.build_temperature_figure(tr, (MONO, ANAK))
    assert [list(t.customdata) for t in again.data if t.mode == "lines" and t.customdata is not None] == [
        list(t.customdata) for t in lines
    ]
    # the legend counts every patient, not the sample
    assert [t.name for t in fig.data if t.showlegend is not False] == [f"{MONO} (n = 500)", f"{ANAK} (n = 500)"]
    assert len(F.build_temperature_figure(_big_result(300), (MONO, ANAK)).data) == len(fig.data)


def test_figure_json_under_1_mb_at_10000_patients(tmp_path):
    """A 10,000-patient synthetic cohort (as ``python -m misc_dash synth --patients 10000 --seed 1``): the figure's
    JSON stays well under 1 MB (bands from everyone, 200 patient lines)."""
    from misc_dash.loading import load_cohort
    from misc_dash.synth import synthesize, write_cohort

    t0 = time.perf_counter()
    write_cohort(synthesize(10000, seed=1), tmp_path / "big10k")
    big = load_cohort(tmp_path / "big10k")
    ctx = A.prepare(big)
    sizes = {}
    for origin in ("admission", "treatment"):
        tr = A.run("temperature", ctx, A.AnalysisOptions(fever_origin=origin))
        assert sum(tr.n_patients.values()) > 9000
        fig = F.build_temperature_figure(tr, ctx.groups, F.group_colors(ctx.groups), origin=origin)
        sizes[origin] = len(figure_json(fig))
        assert "a random sample of 200 of" in fig.layout.title.subtitle.text
    assert time.perf_counter() - t0 < 60
    assert max(sizes.values()) < 250_000, sizes  # well under 1 MB (about 70 kB)


# ------------------------------------------------------------------------------------------------ view
def test_fever_cards_one_chart_at_a_time(cohort):
    vc = views.ViewContext(A.prepare(cohort), cohort.n_patients)
    (km,) = views.build_cards("fever", vc)  # default: the KM chart, tests and table in one card
    assert km.key == "fever.km" and km.figure is not None and km.tests and km.tables
    temp, km2 = views.build_cards("fever", vc, views.FeverOptions(chart=views.fever.CHARTS[1]))
    assert temp.key == "fever.temperature" and temp.figure_key == "temp" and not temp.heading
    assert temp.title == "Daily maximum temperature" and "temperature" in temp.figure.layout.title.text
    assert "38 °C" in temp.caption and vc.description in temp.caption
    assert km2.key == "fever.km" and km2.figure is None and km2.heading
    assert [t.result.p_value for t in km2.tests] == [t.result.p_value for t in km.tests]
    assert km2.tables[0].df.equals(km.tables[0].df)
