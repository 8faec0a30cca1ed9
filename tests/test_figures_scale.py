"""Charts of a large cohort (issue 15): every figure of every view, for a 3,000-patient synthetic cohort, sends less
than 1 MB to the browser, and the per-patient charts switch to bands / precomputed boxes with a seeded sample of
patients (said in the subtitle and the caption). Also the band helpers against numpy and the escaping of data text."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from misc_dash import analyses as A
from misc_dash import figures as F
from misc_dash import views
from misc_dash.figures.bands import band_traces, grouped_quantiles
from misc_dash.figures.lines import _group_bands, _group_median, _interpolated
from misc_dash.plotspec import figure_json
from misc_dash.vocabulary import LAB_LABELS

MB = 1_000_000
N = 3000
G2 = ("IVIG monotherapy", "IVIG + anakinra without CS")

# cards whose chart draws one mark per patient at or below the threshold: above it, a summary (figures.summary_note)
SUMMARISED = {
    "cardiac.trajectories",
    "cardiac.paired",
    "fever.temperature",
    "cytokines.fold",
    "labs.trajectory",
    "anakinra.doses",
}


@pytest.fixture(scope="module")
def big():
    from misc_dash.loading import _make_cohort, load_default_cohort
    from misc_dash.synth import synthesize

    base = load_default_cohort()
    cohort = _make_cohort(synthesize(N, seed=1, base=base), f"synth {N}", True, "", "", ())
    ctx = A.prepare(cohort)
    memo: dict = {}

    def runner(name, opts, **params):
        key = (name, opts, tuple(sorted(params.items())))
        if key not in memo:
            memo[key] = A.run(name, ctx, opts, **params)
        return memo[key]

    return views.ViewContext(ctx, cohort.n_patients, runner=runner)


def _option_values(name: str):
    view = views.VIEWS[name]
    if view.options is None:
        return [None]
    opts = view.all_chart_options(view.options())
    if name == "labs":  # every analyte is its own chart
        from dataclasses import replace

        opts = [replace(o, analyte=a) for o in opts for a in LAB_LABELS]
    return opts


def test_every_figure_of_every_view_under_1_mb_and_summarised(big):
    t0 = time.perf_counter()
    seen: dict[str, int] = {}
    for name in views.VIEWS:
        for options in _option_values(name):
            for card in views.build_cards(name, big, options):
                if card.figure is None:
                    continue
                size = len(figure_json(card.figure))
                assert size < MB, (name, options, card.key, size)
                seen[card.key] = max(seen.get(card.key, 0), size)
                note = F.summary_note(card.figure)
                if card.key in SUMMARISED:
                    assert note, card.key  # the band / precomputed-box path is taken
                    assert f"{N:,} patients" in note or "patients" in note
                    assert note in card.caption or note[1:] in card.caption, (card.key, card.caption)
                    for tr in card.figure.data:  # never one trace per patient, never WebGL
                        assert tr.type in ("scatter", "box")
                elif card.key == "literature.lvef":
                    assert "random sample of 50" in card.caption
    assert set(seen) >= SUMMARISED, sorted(seen)
    assert {"overview.flow", "fever.km", "cytokines.heatmap", "safety.table3", "literature.lvef"} <= set(seen)
    assert time.perf_counter() - t0 < 60


def test_band_charts_structure(big):
    (traj, *_) = views.build_cards("cardiac", big)
    fig = traj.figure
    go.Figure(fig.to_dict())  # plotly's full validation
    fills = [t for t in fig.data if t.fill]
    assert fills and all(t.fill == "tonexty" for t in fills)
    for t in fills:  # each filled edge follows its invisible lower edge: tonexty fills down to the trace before it
        lower = fig.data[fig.data.index(t) - 1]
        assert lower.fill is None and lower.line.width == 0 and lower.name == f"{t.name} lower"
        assert np.all(np.asarray(lower.y, float) <= np.asarray(t.y, float) + 1e-12)
    samples = [t for t in fig.data if (t.name or "").endswith(" sample")]
    assert samples
    for t in samples:
        ids = {str(c).split(",")[0] for c in t.customdata if c is not None}
        assert 0 < len(ids) <= F.SAMPLE_PER_GROUP
    # the legend counts every patient of the group (the median line carries it), not the sample
    legend = [t for t in fig.data if t.showlegend is not False]
    sizes = big.ctx.group_sizes()
    for t in legend:
        assert t.mode == "lines" and t.line.width == 4.5
        assert int(t.name.split("(n = ")[1].rstrip(")")) <= sizes[t.legendgroup]
    assert "random patients per group" in fig.layout.title.subtitle.text
    assert "R type 6" in fig.layout.title.subtitle.text
    # the same cohort gives the same sample
    again = views.build_cards("cardiac", big)[0].figure
    assert figure_json(again) == figure_json(fig)

    (cyto,) = views.build_cards("cytokines", big)
    boxes = [t for t in cyto.figure.data if t.type == "box"]
    assert boxes and all(t.q1 is not None and t.y is None and t.boxpoints is False for t in boxes)
    go.Figure(cyto.figure.to_dict())


def test_quantiles_match_numpy_weibull():
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 40, 3000)
    vals = np.round(rng.normal(0, 1, keys.size), 1)  # ties
    vals[::97] = np.nan
    qs = (0.1, 0.25, 0.5, 0.75, 0.9)
    k, n, q = grouped_quantiles(keys, vals, qs)
    for j, key in enumerate(k):
        v = vals[(keys == key) & ~np.isnan(vals)]
        assert n[j] == v.size
        assert np.allclose(q[j], np.quantile(v, qs, method="weibull"), rtol=0, atol=1e-12)
    # tiny groups: the quantiles clamp to the first and last value, as numpy's
    k, n, q = grouped_quantiles(np.array([0, 1, 1]), np.array([3.0, 1.0, 2.0]), qs)
    assert q[0].tolist() == [3.0] * 5 and np.allclose(q[1], np.quantile([1.0, 2.0], qs, method="weibull"))


def _trajectories(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        days = np.sort(rng.choice(np.arange(0, 15), size=int(rng.integers(1, 5)), replace=False))
        for d in days:
            rows.append((f"P{i:04d}", G2[i % 2], float(d), float(rng.normal(45 + d, 5))))
    return pd.DataFrame(rows, columns=["patient_id", "group", "day", "value"])


def test_group_bands_are_quantiles_of_the_interpolated_trajectories():
    df = _trajectories(400)
    sub = df[df.group == G2[0]]
    bands = _group_bands(sub, "day", "value")
    med = _group_median(sub, "day", "value")
    assert np.array_equal(bands["day"].to_numpy(), med["day"].to_numpy())
    assert np.array_equal(bands["median"].to_numpy(), med["median"].to_numpy())
    grid, k, val = _interpolated(sub, "day", "value")
    for _, row in bands.iterrows():
        v = val[grid[k] == row["day"]]
        ref = np.quantile(v, (0.1, 0.25, 0.75, 0.9), method="weibull")
        assert np.allclose(row[["p10", "q1", "q3", "p90"]].to_numpy(float), ref, rtol=0, atol=1e-12)
        assert row["n"] == v.size >= 3
        assert row["p10"] <= row["q1"] <= row["median"] <= row["q3"] <= row["p90"]


def test_a_gap_in_the_bands_starts_a_new_pair_of_traces():
    # 400 patients measured on days 0-3 and 10-12 only, each on one of the two stretches: no trajectory spans 4-9
    rows = []
    for i in range(400):
        days = (0, 1, 2, 3) if i % 2 else (10, 11, 12)
        rows += [(f"P{i:04d}", G2[0], float(d), 50.0 + d + (i % 7)) for d in days]
    df = pd.DataFrame(rows, columns=["patient_id", "group", "day", "value"])
    fig = F.build_echo_trajectories(df, G2, "lvef_pct", 55.0)
    fills = [t for t in fig.data if t.fill == "tonexty"]
    assert len(fills) == 4  # (10–90 %, IQR) × two runs of days
    assert sorted(tuple(t.x) for t in fills if "IQR" in t.name) == [(0, 1, 2, 3), (10, 11, 12)]
    med = next(t for t in fig.data if t.showlegend is not False)
    assert np.isnan(np.asarray(med.x, float)).sum() == 1  # the median line breaks once
    assert F.summary_note(fig).startswith("400 patients: median, IQR and 10–90 % band per day")
    # band_traces on its own: one pair per run
    tr = band_traces([0.0, 1.0, 5.0], [1, 1, 1], [2, 2, 2], np.array([False, False, True]), "#0072B2", 0.2, "b", "g")
    assert [t.get("fill") for t in tr] == [None, "tonexty", None, "tonexty"]


def test_threshold_is_per_chart_and_below_it_nothing_changes():
    df = _trajectories(F.BAND_ABOVE)
    fig = F.build_echo_trajectories(df, G2, "lvef_pct", 55.0)
    assert F.summary_note(fig) is None and not any(t.fill for t in fig.data)
    assert len(fig.data) == 4  # patient lines + median per group
    fig = F.build_echo_trajectories(_trajectories(F.BAND_ABOVE + 1), G2, "lvef_pct", 55.0)
    assert F.summary_note(fig) is not None


def test_sample_is_reproducible_and_bounded():
    ids = np.array([f"X{i}" for i in range(1000)], dtype=object)
    a = F.sample_ids(ids)
    assert a.size == F.SAMPLE_PER_GROUP and len(set(a)) == a.size
    assert np.array_equal(a, F.sample_ids(ids[::-1]))  # order of the rows does not matter
    assert np.array_equal(F.sample_ids(ids[:10]), np.sort(ids[:10]))


def test_data_text_is_escaped_in_hover_legend_and_ticks():
    """Patient ids and group / cytokine names go into plotly labels, which read <, > and & as markup."""
    df = _trajectories(20)
    df["patient_id"] = df["patient_id"].str.replace("P", "<b>P&")
    df["group"] = df["group"].map({G2[0]: "A <i>&", G2[1]: "B"})
    fig = F.build_echo_trajectories(df, ("A <i>&", "B"), "lvef_pct", 55.0)
    shown = json.dumps(  # what plotly renders (legendgroup is an id, never drawn)
        [[t.name, t.hovertemplate, list(t.customdata)] for t in fig.data] + [fig.layout.title.subtitle.text]
    )
    assert "<b>P&" not in shown and "&lt;b&gt;P&amp;" in shown
    assert "A <i>&" not in shown and "A &lt;i&gt;&amp; (n = 10)" in shown
    cyto = pd.DataFrame(
        {"patient_id": ["<p1>", "p2", "p3"], "group": ["x&y"] * 3, "cytokine": ["IL<6>"] * 3, "fold_difference": 2.0}
    )
    fig = F.build_cytokine_figure(cyto, ("x&y",))
    text = json.dumps(
        [[t.name, t.hovertemplate, list(t.customdata), list(t.x)] for t in fig.data]
        + [list(fig.layout.xaxis.categoryarray)],
        ensure_ascii=False,
    )
    assert "<p1>" not in text and "IL<6>" not in text and "x&y" not in text
    assert "&lt;p1&gt;" in text and "IL&lt;6&gt;" in text and "x&amp;y (n = 3)" in text


def test_presentation_keeps_the_sampled_lines_under_the_medians(big):
    from misc_dash.figures.present import MIN_LINE_WIDTH, SAMPLE_LINE_WIDTH

    for name in ("cardiac", "labs", "anakinra"):
        fig = F.for_presentation(views.build_cards(name, big)[0].figure)
        roles = [(t.meta or {}).get("role") if isinstance(t.meta, dict) else None for t in fig.data]
        samples = [t for t, r in zip(fig.data, roles) if r == "sample" and t.line is not None and t.line.width]
        medians = [t for t in fig.data if t.showlegend is not False and t.name and "(n = " in t.name]
        assert samples and medians, name
        assert all(SAMPLE_LINE_WIDTH <= t.line.width < MIN_LINE_WIDTH for t in samples)
        assert all(t.line.width >= MIN_LINE_WIDTH for t in medians)
        assert all(t.line.width == 0 for t in fig.data if t.fill)  # band edges stay invisible


def test_dosing_bands_are_steps_with_an_end_per_run():
    rows = []
    for i in range(400):
        days = (0, 1, 2, 3) if i % 4 < 2 else (0, 1, 6, 7)  # days 4-5: nobody on anakinra
        rows += [(f"A{i:04d}", "+ CV shock" if i % 2 else "− CV shock", d, d, 10.0 - d, "IV") for d in days]
    daily = pd.DataFrame(rows, columns=["patient_id", "shock", "day", "day_since_start", "dose_mg_kg_day", "route"])
    fig = F.build_dosing_figure(daily)
    go.Figure(fig.to_dict())
    iqr = [t for t in fig.data if t.fill and t.name.endswith("IQR")]
    assert [tuple(t.x) for t in iqr if t.legendgroup == "+ CV shock"] == [(0, 1, 2, 3, 4), (6, 7, 8)]
    assert all(t.line.shape == "hv" for t in iqr)
    med = next(t for t in fig.data if t.legendgroup == "+ CV shock" and t.showlegend is not False)
    assert np.asarray(med.y, float)[:5].tolist() == [10.0, 9.0, 8.0, 7.0, 7.0]  # the last day holds until d + 1
    assert med.name == "+ CV shock (n = 200)" and med.line.shape == "hv"
    assert "50 random patients per group (of 400)" in fig.layout.title.subtitle.text
