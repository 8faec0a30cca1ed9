"""Tests for misc_dash.literature and data/literature.json, checked against the source documents' own text."""

from __future__ import annotations

import copy
import json
import math
import re
import unicodedata
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from misc_dash.literature import (
    EVIDENCE_COLUMNS,
    POINT_COLUMNS,
    LiteratureError,
    build_case003_timeline,
    build_lvef_literature_figure,
    evidence_table,
    load_literature,
    lvef_recovery_points,
)

REPO = Path(__file__).resolve().parents[1]
SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
JSON_PATH = REPO / "data" / "literature.json"

needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"source documents not available at {SEEDS}")

NUM_RE = re.compile(r"\d+(?:\.\d+)?")


def norm(text: str) -> str:
    """The JSON's quoting convention: NFKC, then every whitespace run becomes one space."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def numbers(text: str) -> list[float]:
    return [float(m) for m in NUM_RE.findall(text)]


def has_number(text: str, x: float) -> bool:
    return any(math.isclose(abs(x), n, rel_tol=0, abs_tol=1e-9) for n in numbers(text))


def plain(v):
    return v["value"] if isinstance(v, dict) else v


@pytest.fixture(scope="module")
def lit():
    return load_literature()


@pytest.fixture(scope="module")
def doc():
    return json.loads(JSON_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def source_text():
    cache: dict[str, str] = {}

    def get(name: str) -> str:
        if name not in cache:
            cache[name] = norm((SEEDS / name).read_text(encoding="utf-8"))
        return cache[name]

    return get


def walk(obj):
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk(v)


def study(doc, sid):
    return next(s for s in doc["studies"] if s["id"] == sid)


def value(doc, sid, name):
    return next(v for v in study(doc, sid)["values"] if v["name"] == name)


# ------------------------------------------------------------------------------------ whole-file checks


def test_every_record_has_source_and_citation(doc):
    records = list(doc["studies"])
    for s in doc["studies"]:
        records += s["values"] + s.get("statements", [])
        if "table" in s:
            records += [s["table"], *s["table"]["rows"]]
    for r in walk(doc):
        if "quote" in r:
            records.append(r)
    assert len(records) > 100
    for r in records:
        assert re.fullmatch(r"\d{3}_[0-9a-f]{16}\.txt", r["source"]), r
        assert isinstance(r["citation"], str) and len(r["citation"]) > 20, r


def test_all_five_sources_present(doc):
    assert sorted(s["source"][:3] for s in doc["studies"]) == ["000", "001", "002", "003", "004"]


@needs_seeds
def test_every_quote_is_verbatim_in_its_source(doc, source_text):
    n = 0
    for r in walk(doc):
        if "quote" in r:
            n += 1
            assert norm(r["quote"]) in source_text(r["source"]), (r["source"], r["quote"])
    assert n > 100


@needs_seeds
def test_every_number_appears_in_its_quote(doc):
    for s in doc["studies"]:
        for v in s["values"]:
            if "value_text" in v:
                assert v["value_text"].lower() in v["quote"].lower(), v
                continue
            for key in ("value", "low", "high", "sd"):
                if v.get(key) is not None:
                    assert has_number(v["quote"], plain(v[key])), (s["id"], v["name"], key, v["quote"])


@needs_seeds
def test_evidence_summary_numbers_come_from_the_source(doc, source_text):
    """Every number written in the evidence-table strings occurs somewhere in that study's source."""
    for s in doc["studies"]:
        src_numbers = set(numbers(source_text(s["source"])))
        for col, text in s["summary"].items():
            for x in numbers(text):
                assert any(math.isclose(x, y, abs_tol=1e-9) for y in src_numbers), (s["id"], col, x, text)


# ------------------------------------------------------------------------------------ per source


@needs_seeds
def test_000_index_cohort_values(doc, source_text):
    text = source_text("000_4eecdb1428e15f53.txt")
    assert value(doc, "index_000", "n_total")["value"] == 46
    assert value(doc, "index_000", "n_ivig_monotherapy")["value"] == 14
    assert value(doc, "index_000", "n_ivig_anakinra")["value"] == 32
    assert value(doc, "index_000", "n_ivig_anakinra_with_cs")["value"] == 9
    age = value(doc, "index_000", "age_median_years")
    assert (age["value"], age["low"], age["high"]) == (8, 4, 13)
    for name, triple in {
        "anakinra_start_dose_median": (7.9, 7.5, 8.2),
        "anakinra_max_dose_median": (9.5, 7.7, 10.0),
        "anakinra_duration_median": (9.8, 7.0, 11.3),
    }.items():
        v = value(doc, "index_000", name)
        assert (v["value"], v["low"], v["high"]) == triple
        assert f"{triple[0]} [{triple[1]}–{triple[2]}]" in text
    assert "(0/46 or 0%)" in text and value(doc, "index_000", "deaths")["value"] == 0
    assert "CTCAE grade < 2" in text
    assert value(doc, "index_000", "lft_ctcae_grade_bound")["value"] == {"value": 2, "qualifier": "<"}


@needs_seeds
def test_001_has_no_numbers_invented(doc, source_text):
    s = study(doc, "case_report_001")
    assert s["numeric_data_published"] is False
    assert "no numeric data" in s["numeric_data_note"].lower()
    # the only numeric record is the patient count ("two patients")
    assert [v["name"] for v in s["values"]] == ["n_patients"]
    assert "two patients" in source_text(s["source"])
    text = source_text(s["source"])
    assert "lymphocyte count" in text and "platelet count" in text and "C-reactive protein" in text
    for col in ("age", "route", "dose", "time_to_lvef_recovery"):
        assert "not reported" in s["summary"][col]


@needs_seeds
def test_002_french_series_values(doc, source_text):
    text = source_text("002_6676ec6c99c62816.txt")
    assert value(doc, "series_002", "n_anakinra")["value"] == 18
    assert value(doc, "series_002", "n_cohort")["value"] == 470
    age = value(doc, "series_002", "age_mean_years")
    assert (age["value"], age["sd"]) == (10.06, 3.9) and "10.06 ± 3.9 years" in text
    dose = value(doc, "series_002", "anakinra_dose_mean")
    assert (dose["value"], dose["sd"]) == (2.53, 1.3) and "2.53 ±1.3 mg/kg/day" in text
    lvef = value(doc, "series_002", "lvef_heart_failure_median")
    assert (lvef["value"], lvef["low"], lvef["high"]) == (39.5, 30, 45) and "39.5% [30% - 45%]" in text
    assert value(doc, "series_002", "n_mas")["value"] == 4
    assert value(doc, "series_002", "n_heart_failure")["value"] == 14
    assert value(doc, "series_002", "prior_cst_n")["value"] == 14 and "(n=14/18)" in text
    assert value(doc, "series_002", "prior_ivig_n")["value"] == 10 and "(n=10/18)" in text
    assert value(doc, "series_002", "transaminase_elevation_n")["value"] == 4
    assert value(doc, "series_002", "lvef_recovered_bound")["value"] == {"value": 55, "qualifier": ">"}
    assert "(LVEF>55%)" in text


@needs_seeds
def test_003_table_rows_match_the_printed_lines(doc, source_text):
    raw = (SEEDS / "003_ffc03bf7b5ffba2b.txt").read_text(encoding="utf-8")
    lines = [norm(line) for line in raw.splitlines()]
    t = study(doc, "case_003")["table"]
    assert norm(t["header_raw"]) in lines
    assert [c["label"] for c in t["columns"]].count("3. day") == 2 and t["n_columns"] == 10 == len(t["columns"])
    assert len(t["rows"]) == 15
    for row in t["rows"]:
        line = norm(row["quote"])
        assert line in lines, row["name"]  # the row is a whole printed line
        label = norm(row["label_raw"])
        assert line.startswith(label)
        printed = line[len(label) :].split()
        # raw_values are the printed tokens in order ('< 70' is one token)
        joined = " ".join(row["raw_values"])
        assert joined.split() == printed, row["name"]
        assert row["alignment"].startswith("complete" if row["complete"] else "ambiguous"), row["name"]
        assert row["n_values"] == len(row["cells"]) and row["n_columns"] == 10
        for c in row["cells"]:
            if row["kind"] == "numeric" and c["status"] != "stopped" and not c.get("split_token"):
                assert has_number(c["raw"], c["value"]), (row["name"], c)
            if c["raw"].startswith("<"):
                assert c["qualifier"] == "<" and c["value"] == float(c["raw"][1:]), (row["name"], c)


def test_003_specific_cells(doc):
    t = study(doc, "case_003")["table"]
    rows = {r["name"]: r for r in t["rows"]}
    assert [c["value"] for c in rows["ef_pct"]["cells"]] == [44, 67, 53, 52, 62, 66, 64, 76]
    assert rows["ef_pct"]["cells"][0]["column"] == 0  # anchored: EF 44% at PICU transfer
    assert rows["crp"]["cells"][0]["value"] == 171 and rows["procalcitonin"]["cells"][0]["value"] == 53
    assert rows["probnp"]["complete"] and rows["troponin_i"]["complete"] and rows["lmwh"]["complete"]
    last = rows["probnp"]["cells"][-1]
    assert (last["raw"], last["value"], last["qualifier"]) == ("< 70", 70.0, "<")
    tro = rows["troponin_i"]["cells"]
    assert [c["qualifier"] for c in tro] == [None] * 4 + ["<"] * 6
    assert rows["dobutamine"]["cells"][-1]["status"] == "stopped"
    assert [c["value"] for c in rows["dobutamine"]["cells"][:5]] == [10, 15, 15, 7.5, 5]
    assert [c["value"] for c in rows["milrinone"]["cells"][:5]] == [0.25, 0.25, 0.25, 0.25, 0.125]
    assert [c["value"] for c in rows["methylprednisolone"]["cells"]] == [2, 2, 30, 30, 30, 2, 2, 2]
    ana = rows["anakinra"]
    assert [c["value"] for c in ana["cells"]] == [8] * 4
    assert "ambiguous" in ana["alignment"] and ana["alternatives"]
    pct = rows["procalcitonin"]
    assert pct["raw_values"] == ["53", "28", "9.52", "41", "4.", "3", "0.3", "0.04"]
    split = [c for c in pct["cells"] if c.get("split_token")]
    assert len(split) == 1 and split[0]["value"] == 4.3 and split[0]["raw"] == "4. 3"
    assert any(a.get("values") == [53, 28, 9.52, 41, 4, 3, 0.3, 0.04] for a in pct["alternatives"])
    assert t["anakinra_start"]["table_day"] == 3


@needs_seeds
def test_003_narrative_values(doc, source_text):
    text = source_text("003_ffc03bf7b5ffba2b.txt")
    assert "fractional shortening were 44% and 22%" in text
    assert value(doc, "case_003", "ef_at_picu_transfer")["value"] == 44
    assert value(doc, "case_003", "anakinra_dose")["value"] == 8 and "a dose of 8 mg/kg/day" in text
    assert value(doc, "case_003", "anakinra_n_doses")["value"] == 4 and "in four doses" in text
    assert value(doc, "case_003", "discharge_hospital_day")["value"] == 14
    assert "CRP: 171 mg/L, procalcitonin: 53 mcg/L" in text


@needs_seeds
def test_004_florence_letter_and_reply(doc, source_text):
    text = source_text("004_3f192487d6c37e5b.txt")
    assert value(doc, "series_004", "n_children")["value"] == 9
    assert value(doc, "series_004", "n_lvef_le_40")["value"] == 5 and "≤ 40% in 5/9 patients" in text
    age = value(doc, "series_004", "age_mean_years")
    assert (age["value"], age["low"], age["high"]) == (10.2, 8.5, 13) and "10.2 y [IQR] 8.5–13" in text
    assert value(doc, "series_004", "anakinra_dose")["value"] == 10
    assert value(doc, "series_004", "anakinra_max_dose")["value"] == 400
    t = value(doc, "series_004", "time_to_lvef_gt55_median_h")
    assert (t["value"], t["low"], t["high"]) == (24, 12, 36) and "24 h (range 12–36 h)" in text
    stop = value(doc, "series_004", "stop_weeks")
    assert (stop["value"], stop["low"], stop["high"]) == (5, 4, 6)
    start = value(doc, "series_004", "reply_anakinra_start_day_median")
    ceased = value(doc, "series_004", "reply_anakinra_stop_day_median")
    assert (start["value"], start["low"], start["high"]) == (12, 7, 17)
    assert (ceased["value"], ceased["low"], ceased["high"]) == (22, 18, 25)
    assert "initiated 12 [7–17] and ceased 22 [18–25] days" in text
    for name in ("reply_n_adults", "reply_anakinra_start_day_median", "reply_followup_after_stop_days"):
        assert "NOT MIS-C" in value(doc, "series_004", name)["population"]
    reply = study(doc, "series_004")["reply"]
    assert reply["is_misc"] is False and "NOT MIS-C" in reply["population"]


# ------------------------------------------------------------------------------------ loader


def test_load_literature_objects(lit):
    assert [s.id for s in lit.studies] == ["index_000", "case_report_001", "series_002", "case_003", "series_004"]
    assert lit.case003.row("ef_pct")["n_values"] == 8
    assert "anakinra" in lit.case003.ambiguous_rows and "probnp" not in lit.case003.ambiguous_rows
    assert lit.study("series_002").value("n_anakinra")["value"] == 18


def test_load_literature_rejects_broken_files(doc, tmp_path):
    broken = copy.deepcopy(doc)
    del broken["studies"][0]["values"][0]["citation"]
    row = next(r for r in study(broken, "case_003")["table"]["rows"] if r["name"] == "troponin_i")
    row["cells"][-1]["qualifier"] = None  # a '< 0.01' stored as the bare number
    study(broken, "series_002")["summary"].pop("dose")
    p = tmp_path / "lit.json"
    p.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(LiteratureError) as exc:
        load_literature(p)
    msg = str(exc.value)
    assert "citation" in msg and "without qualifier" in msg and "'dose'" in msg
    assert len(exc.value.problems) >= 3


# ------------------------------------------------------------------------------------ tables


def test_evidence_table(lit):
    df = evidence_table(lit)
    assert list(df.columns) == list(EVIDENCE_COLUMNS)
    assert len(df) == 5 and not df.isna().any().any()
    assert df["source"].str.contains(r"\d{3}_[0-9a-f]{16}\.txt").all()
    row = df[df["source"].str.contains("002_")].iloc[0]
    assert "Subcutaneous" in row["route"] and "2.53" in row["dose"]


def test_lvef_recovery_points(lit):
    pts = lvef_recovery_points(lit)
    assert list(pts.columns) == list(POINT_COLUMNS)
    assert set(pts["kind"]) == {"individual", "aggregate"}
    ind = pts[pts["kind"] == "individual"]
    assert len(ind) == 8 and (ind["study_id"] == "case_003").all()
    # EF 44% under table '1. day'; anakinra start on table day 3 -> day -2
    first = ind.iloc[0]
    assert first["lvef_pct"] == 44 and first["day"] == -2 and "− 3" in first["anchor"]
    assert not ind["is_bound"].any()
    f4 = pts[(pts["study_id"] == "series_004") & (pts["phase"] == "follow-up")].iloc[0]
    assert (f4["day"], f4["day_low"], f4["day_high"]) == (1.0, 0.5, 1.5)
    assert f4["lvef_pct"] == 55 and f4["lvef_qualifier"] == ">" and f4["is_bound"] and f4["n"] == 5
    b4 = pts[(pts["study_id"] == "series_004") & (pts["phase"] == "baseline")].iloc[0]
    assert b4["lvef_pct"] == 40 and b4["lvef_qualifier"] == "≤" and b4["is_bound"]
    b2 = pts[(pts["study_id"] == "series_002") & (pts["phase"] == "baseline")].iloc[0]
    assert (b2["lvef_pct"], b2["lvef_low"], b2["lvef_high"], b2["is_bound"]) == (39.5, 30, 45, False)
    f2 = pts[(pts["study_id"] == "series_002") & (pts["phase"] == "follow-up")].iloc[0]
    assert f2["day"] == 2 and f2["day_qualifier"] == "≤" and f2["is_bound"] and f2["lvef_qualifier"] == ">"


# ------------------------------------------------------------------------------------ figures


def _cohort():
    return pd.DataFrame(
        {
            "patient_id": ["a", "a", "b", "b", "c"],
            "group": ["IVIG + anakinra without CS"] * 2 + ["IVIG + anakinra with CS"] * 2 + ["IVIG + anakinra with CS"],
            "day_since_anakinra": [0, 9, 0, 11, float("nan")],
            "lvef_pct": [45, 60, 50, 58, 61],
        }
    )


def _assert_svg_scatter_only(fig):
    go.Figure(fig.to_dict())  # full plotly validation (the builders skip it for speed)
    for tr in fig.data:
        assert type(tr) in (go.Scatter, go.Bar), type(tr)
        assert tr.type != "scattergl"


@pytest.mark.parametrize("cohort", [None, "empty", "given"])
def test_lvef_literature_figure(lit, cohort):
    pts = lvef_recovery_points(lit)
    traj = {"empty": _cohort().iloc[0:0], "given": _cohort(), None: None}[cohort]
    fig = build_lvef_literature_figure(pts, traj)
    _assert_svg_scatter_only(fig)
    assert all(isinstance(tr, go.Scatter) for tr in fig.data)
    names = [tr.name for tr in fig.data]
    assert sum(n.startswith("Individual patient: ") for n in names) == 1  # case 003
    agg = [tr for tr in fig.data if tr.name.startswith("Aggregate report")]
    assert len(agg) == 2
    cohort_traces = [tr for tr in fig.data if tr.legendgroup == "cohort"]
    assert len(cohort_traces) == (2 if cohort == "given" else 0)
    for tr in cohort_traces:
        assert tr.line.width <= 1.5
    # bounds drawn with open markers
    for tr in agg:
        assert any(str(s).endswith("-open") for s in tr.marker.symbol)
        assert all("source:" in h for h in tr.hovertext)
    # dotted 55% line
    assert any(sh.type == "line" and sh.y0 == 55 and sh.y1 == 55 and sh.line.dash == "dot" for sh in fig.layout.shapes)
    assert "LVEF" in fig.layout.yaxis.title.text and "%" in fig.layout.yaxis.title.text
    assert "anakinra" in fig.layout.xaxis.title.text.lower() and "days" in fig.layout.xaxis.title.text.lower()
    assert fig.layout.title.text
    fig.to_json()  # serialisable


def test_lvef_figure_rejects_bad_cohort(lit):
    with pytest.raises(ValueError, match="lacks columns"):
        build_lvef_literature_figure(lvef_recovery_points(lit), pd.DataFrame({"patient_id": [1], "lvef_pct": [50]}))


def test_case003_timeline(lit):
    fig = build_case003_timeline(lit)
    _assert_svg_scatter_only(fig)
    bars = [tr for tr in fig.data if isinstance(tr, go.Bar)]
    assert {tr.name.split(" (")[0] for tr in bars} == {
        "Anakinra",
        "IVIG",
        "Methylprednisolone",
        "Dobutamine",
        "Adrenaline",
        "Milrinone",
        "LMWH",
    }
    assert all(tr.orientation == "h" for tr in bars)
    ana = next(tr for tr in bars if tr.name.startswith("Anakinra"))
    assert len(ana.x) == 4 and all("ambiguous" in h for h in ana.hovertext)
    lines = {tr.name.split(" ⚠")[0]: tr for tr in fig.data if isinstance(tr, go.Scatter) and tr.mode == "lines+markers"}
    assert {"EF (%)", "ProBNP (ng/L)", "Troponin I (mcg/L)", "CRP (mg/L)", "Procalcitonin (mcg/L)"} <= set(lines)
    tro = lines["Troponin I (mcg/L)"]
    assert list(tro.marker.symbol).count("square-open") == 6
    assert sum("< 0.01" in h for h in tro.hovertext) == 6
    assert "< 70" in lines["ProBNP (ng/L)"].hovertext[-1]
    assert any("4. 3" in h for h in lines["Procalcitonin (mcg/L)"].hovertext)
    assert fig.layout.yaxis3.type == "log"
    fig.to_json()


def test_cohort_lines_escape_patient_ids_and_group_names():
    """Issue 16 (data text is never markup): a patient id or group name with HTML stays literal text in the hover
    and the legend of the literature LVEF chart."""
    import pandas as pd

    from misc_dash import literature

    df = pd.DataFrame(
        {
            "patient_id": ['<a href="http://x">P1</a>', '<a href="http://x">P1</a>'],
            "group": ["<b style='color:red'>G</b>", "<b style='color:red'>G</b>"],
            "day_since_anakinra": [0.0, 3.0],
            "lvef_pct": [40.0, 55.0],
        }
    )
    (trace,) = literature._cohort_traces(df)
    text = " ".join(h for h in trace["hovertext"] if h) + trace["name"]
    assert "<a " not in text and "<b " not in text and "&lt;a href" in text and "&lt;b style" in text
