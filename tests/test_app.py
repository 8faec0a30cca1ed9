"""AppTest: every page runs on the default cohort without an exception, shows its headline numbers, reacts to a
filter change, and says so plainly when a filter empties the cohort."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = [
    "pages/overview.py",
    "pages/table1.py",
    "pages/cardiac.py",
    "pages/fever.py",
    "pages/cytokines.py",
    "pages/labs.py",
    "pages/adjusted.py",
    "pages/anakinra.py",
    "pages/safety.py",
    "pages/literature.py",
    "pages/data.py",
    "pages/ledger.py",
]


def start(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def markdown_text(at: AppTest) -> str:
    """All markdown on the page, with markdown escapes removed (as the reader sees it)."""
    import re

    return re.sub(r"\\(.)", r"\1", "\n".join(m.value for m in at.markdown))


def plotly_specs(at: AppTest) -> list[dict]:
    """The figures on the page: the in-place chart component's (ui.plot), or st.plotly_chart's when it falls back."""
    specs = [
        json.loads(json.loads(el.proto.json)["spec"])
        for el in at.get("bidi_component")
        if el.proto.component_name == "misc_dash_plot"
    ]
    return specs + [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def markdown_tables(at: AppTest) -> list[pd.DataFrame]:
    """The markdown tables on the page (ui.summary_table), cells unescaped, as DataFrames of strings."""
    import re

    def cells(line: str) -> list[str]:
        parts = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        return [re.sub(r"\\(.)", r"\1", p.strip()) for p in parts]

    out = []
    for m in at.markdown:
        lines = m.value.splitlines()
        if len(lines) >= 2 and lines[0].startswith("| ") and re.fullmatch(r"\|(:?-+:?\|)+", lines[1]):
            out.append(pd.DataFrame([cells(x) for x in lines[2:]], columns=cells(lines[0])))
    return out


def test_cytokine_views_one_at_a_time():
    """Cytokines: the fold-difference chart and the panel heatmap are two views of one selector (ui.view_switch);
    the per-cytokine table with Mann–Whitney p and BH q is under either."""
    at = start("pages/cytokines.py")
    types = lambda: [{tr.get("type", "scatter") for tr in s["data"]} for s in plotly_specs(at)]
    assert len(types()) == 1 and "heatmap" not in types()[0]
    (t,) = markdown_tables(at)
    assert "q (BH)" in t.columns and len(t) >= 5
    at.session_state["cyto_chart"] = "Panel heatmap (medians)"
    at.run()
    assert not at.exception and types() == [{"heatmap"}]
    assert len(markdown_tables(at)) == 1


def test_cardiac_inputs_are_in_the_address_and_drive_the_analysis():
    """Every Cardiac input that changes a number (follow-up day, normal thresholds) is drawn and bound to the
    address, so a shared link reopens the same numbers (issue 14; they used to be drawn only when needed and lost
    from links). LVEF normal ≥ 60 %: baseline normal 10/13, 10/19, 1/8 (vs 13/13, 13/19, 4/8 at 55 %)."""
    at = start("pages/cardiac.py")
    keys = {n.key for n in at.number_input}
    assert keys == {"cardiac_fu_day", "cardiac_lvef_normal", "cardiac_strain_normal"}
    assert at.number_input(key="cardiac_fu_day").disabled  # used only with "nearest"
    at.number_input(key="cardiac_lvef_normal").set_value(60.0).run()
    assert not at.exception
    assert at.expander[0].label == "Normal thresholds: LVEF ≥ 60 %, Ap4 strain ≤ -21.4 %"
    assert markdown_tables(at)[0]["Normal at baseline"].tolist() == ["10/13 (77%)", "10/19 (53%)", "1/8 (13%)"]
    at.radio(key="cardiac_fu").set_value("nearest").run()
    assert not at.number_input(key="cardiac_fu_day").disabled
    at.number_input(key="cardiac_fu_day").set_value(5).run()
    assert not at.exception and at.number_input(key="cardiac_fu_day").value == 5
    # (the address round trip itself is checked in the browser: tests/test_browser_rounds.py)


def test_markdown_table_escapes_cohort_text():
    """ui.markdown_table (the per-group summaries): a group name with markdown/HTML/table syntax stays literal text,
    numbers are right-aligned, missing values show as a dash; the table parses back cell for cell."""
    from misc_dash.ui import markdown_table

    df = pd.DataFrame({"Group": ["A | B *x* <b>", "C\nD"], "Patients": [3, 4], "Median": [1.5, None]})
    md = markdown_table(df)
    assert "<b>" not in md and "\\|" in md and "\\*x\\*" in md
    assert md.splitlines()[1] == "|:---|---:|---:|"

    class _M:  # the parser reads AppTest markdown elements; feed it this one
        markdown = (type("E", (), {"value": md})(),)

    (t,) = markdown_tables(_M())
    assert t.values.tolist() == [["A | B *x* &lt;b&gt;", "3", "1.5"], ["C D", "4", "—"]]


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_and_labels_synthetic(page):
    at = start(page)
    assert any("SYNTHETIC COHORT" in w.value for w in at.warning), "the synthetic-data banner must be on every page"
    assert "All patients — n = 46" in markdown_text(at)


def test_overview_headline_numbers():
    at = start()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Patients"] == "46 of 46"
    assert metrics["Anakinra"] == "32"
    assert metrics["CV shock"] == "23"
    assert any("Confounding by indication" in w.value for w in at.warning)


def test_table1_default_groups_and_published_p_values():
    """Paper Table 1 (IVIG monotherapy 14 vs IVIG + anakinra 32): CV shock p = 0.02, non-specific 0.005."""
    at = start("pages/table1.py")
    at.selectbox(key="compare_by").set_value("anakinra").run()
    df = at.dataframe[0].value
    row = df[df["Variable"] == "CV shock"].iloc[0]
    assert row["p"] == "0.02"
    assert row["Without anakinra (n = 14)"] == "3 (21%)"
    assert row["With anakinra (n = 32)"] == "20 (62%)" or row["With anakinra (n = 32)"] == "20 (63%)"
    assert df[df["Variable"] == "Non-specific"].iloc[0]["p"] == "0.005"


@pytest.mark.parametrize("page", PAGES)
def test_filter_change_changes_n(page):
    """(Persistence across pages is a property of app.py drawing the sidebar; AppTest's switch_page runs the
    page script alone, so that part is checked in the browser test.)"""
    at = start(page)
    at.multiselect(key="f_phenotype").select("CV shock").run()
    assert not at.exception, [e.message for e in at.exception]
    assert "CV shock — n = 11" in markdown_text(at)


def test_empty_filter_warns_plainly():
    at = start("pages/cardiac.py")
    at.multiselect(key="f_treatment").select("IVIG monotherapy").run()
    at.multiselect(key="f_phenotype").select("KDSS-like").run()
    at.multiselect(key="f_cs").select("With CS").run()  # the one KDSS-like IVIG-monotherapy patient had no CS
    assert not at.exception
    assert any("No patients match" in w.value for w in at.warning)


def test_fever_page_reproduces_fig1a_logrank():
    """Fig. 1A: log-rank IVIG monotherapy vs IVIG + anakinra from admission, p = 0.003."""
    at = start("pages/fever.py")
    at.selectbox(key="compare_by").set_value("anakinra").run()
    txt = markdown_text(at)
    assert "Log-rank (2 groups), n = 14 vs 32: p = 0.003" in txt
    spec = plotly_specs(at)[0]
    assert all(tr.get("type", "scatter") != "scattergl" for tr in spec["data"])


def test_fever_chart_switch_draws_the_temperature_chart():
    """Fever: the Kaplan–Meier chart and the daily maximum temperature are two views of one selector
    (ui.view_switch, ``fever_chart``); switching draws the temperature chart and keeps the log-rank line."""
    at = start("pages/fever.py")
    assert at.session_state["fever_chart"] == "Time to defervescence"
    at.session_state["fever_chart"] = "Temperature over time"
    at.run()
    assert not at.exception
    (spec,) = plotly_specs(at)
    assert "temperature" in spec["layout"]["title"]["text"].lower()
    assert "Log-rank" in markdown_text(at)


def test_cardiac_page_shows_wilcoxon_per_group():
    at = start("pages/cardiac.py")
    txt = markdown_text(at)
    assert "Wilcoxon signed-rank" in txt
    # the per-group summary is one markdown table (ui.summary_table): escaped cells, read back unescaped
    (t,) = markdown_tables(at)
    assert t["Group"].tolist() == ["IVIG monotherapy", "IVIG + anakinra without CS", "IVIG + anakinra with CS"]
    assert t["Pairs"].tolist() == ["13", "19", "8"]
    assert t["p"].tolist() == ["0.009", "0.05", "0.04"]
    assert "Baseline, median [Q1, Q3]" in t.columns


def test_cardiac_charts_one_at_a_time():
    """The two Cardiac charts are views of one selector (ui.view_switch): only the selected chart is built and
    sent; switching (its state key, bound to the URL) reruns and draws the other one. The per-group Wilcoxon
    table is under the charts, on screen with either."""
    at = start("pages/cardiac.py")
    assert at.session_state["cardiac_chart"] == "Trajectories over time"
    titles = lambda: [s["layout"]["title"]["text"] for s in plotly_specs(at)]
    assert titles() == ["<b>LVEF over time</b>"]
    assert len(markdown_tables(at)) == 1
    at.session_state["cardiac_chart"] = "Before and after (paired)"
    at.run()
    assert not at.exception
    assert titles() == ["<b>LVEF: first vs follow-up echo</b>"]
    slope = plotly_specs(at)[0]  # one panel per group, n = pairs (13 / 19 / 8, as in the table)
    assert [tr["name"] for tr in slope["data"] if not tr["name"].endswith("median")] == [
        "IVIG monotherapy (n = 13)",
        "IVIG + anakinra without CS (n = 19)",
        "IVIG + anakinra with CS (n = 8)",
    ]
    assert len(markdown_tables(at)) == 1


@pytest.mark.parametrize(
    "page, key",
    [
        ("pages/cardiac.py", "details_cardiac_unpaired"),
        ("pages/safety.py", "details_safety_detail"),
        ("pages/anakinra.py", "details_anakinra_courses"),
    ],
)
def test_patient_lists_are_drawn_when_their_expander_opens(page, key):
    """Patient-level lists sit in closed expanders and are drawn only when opened (ui.details_table): the closed
    expander is on the page, its table is not; opening it (state key) reruns and draws the table."""
    at = start(page)
    before = len(at.dataframe)
    assert key in at.session_state and not at.session_state[key]
    at.session_state[key] = True
    at.run()
    assert not at.exception
    assert len(at.dataframe) == before + 1
    assert len(at.dataframe[-1].value) > 0


def test_custom_groups_compare_a_vs_b():
    at = start("pages/table1.py")
    at.selectbox(key="compare_by").set_value("custom").run()
    at.multiselect(key="ga_phenotype").select("CV shock").run()
    at.multiselect(key="gb_phenotype").select("Non-specific").run()
    assert not at.exception
    cols = at.dataframe[0].value.columns
    assert any(c.startswith("Group A (n = 11)") for c in cols)
    assert any(c.startswith("Group B (n = 15)") for c in cols)


def test_bad_upload_is_rejected_and_default_cohort_stays():
    at = start("pages/data.py")
    bad_echo = b"patient_id,day,lvef_pct,strain_ap4_pct\nX1,0,145,3\n"
    at.file_uploader(key="upload_files").set_value([("echo.csv", bad_echo, "text/csv")]).run()
    at.button[[b.label for b in at.button].index("Validate and load")].click().run()
    assert not at.exception
    assert any("was not loaded" in e.value for e in at.error)
    assert "All patients — n = 46" in markdown_text(at)
    at.switch_page("pages/fever.py").run()
    assert not at.exception and "All patients — n = 46" in markdown_text(at)


def test_good_upload_replaces_cohort(tmp_path):
    from misc_dash.loading import DEFAULT_COHORT_DIR

    files = [(p.name, p.read_bytes(), "text/csv") for p in sorted(DEFAULT_COHORT_DIR.glob("*.csv"))]
    pts = next(f for f in files if f[0] == "patients.csv")
    lines = pts[1].decode().splitlines()
    files = [f for f in files if f[0] != "patients.csv"] + [("patients.csv", pts[1], "text/csv")]
    at = start("pages/data.py")
    at.file_uploader(key="upload_files").set_value(files).run()
    at.button[[b.label for b in at.button].index("Validate and load")].click().run()
    assert not at.exception
    assert not any(
        "SYNTHETIC COHORT" in w.value for w in at.warning
    )  # no metadata.json uploaded: not labelled synthetic
    assert f"n = {len(lines) - 1}" in markdown_text(at)


def _upload_and_load(at: AppTest, files) -> AppTest:
    at.file_uploader(key="upload_files").set_value(files).run()
    at.button[[b.label for b in at.button].index("Validate and load")].click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _zip_of(folder: Path, subfolder: str = "") -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f"{subfolder}{f.name}")
    return buf.getvalue()


def test_data_page_says_the_upload_limit_and_loads_one_zip():
    """Issue 15: the per-file limit and the advice (one .zip or Parquet) next to the uploader; a .zip of the
    cohort folder (in a subfolder, with metadata.json) loads as the cohort it names."""
    from misc_dash.loading import DEFAULT_COHORT_DIR

    at = start("pages/data.py")
    assert any("200 MB" in c.value and ".zip" in c.value and "Parquet" in c.value for c in at.caption)
    _upload_and_load(at, [("cohort.zip", _zip_of(DEFAULT_COHORT_DIR, "default_cohort/"), "application/zip")])
    assert not at.error
    assert "All patients — n = 46" in markdown_text(at)
    # issue 16: metadata.json says synthetic, but only the uploader decides: not ticked → labelled real, with a notice
    assert not any("SYNTHETIC COHORT" in w.value for w in at.warning)
    from misc_dash.ui import K_UPLOAD_PROBLEMS

    assert any("labelled as real patients" in str(p) for p in at.session_state[K_UPLOAD_PROBLEMS])
    assert any("labelled as real patients" in c.value for c in at.caption)  # and said on the page


def test_an_upload_is_synthetic_only_when_the_uploader_says_so():
    """Issue 16 (honest labels): "synthetic" is the uploader's answer on the Data page, not the file's metadata."""
    from misc_dash.loading import DEFAULT_COHORT_DIR

    at = start("pages/data.py")
    at.checkbox(key="upload_synthetic").check().run()
    _upload_and_load(at, [("cohort.zip", _zip_of(DEFAULT_COHORT_DIR), "application/zip")])
    assert any("SYNTHETIC COHORT" in w.value for w in at.warning)
    files = [(p.name, p.read_bytes(), "text/csv") for p in sorted(DEFAULT_COHORT_DIR.glob("*.csv"))]
    at = start("pages/data.py")
    at.checkbox(key="upload_synthetic").check().run()
    _upload_and_load(at, files)  # no metadata.json at all: still synthetic, because the uploader said so
    assert any("SYNTHETIC COHORT" in w.value for w in at.warning)


def test_upload_missing_a_listed_table_is_refused_with_a_message(tmp_path):
    """The browser refuses files over the per-file limit one by one: an upload whose metadata.json lists labs
    and temperatures that did not arrive is refused as a whole, naming them and suggesting a .zip."""
    import json

    from misc_dash.loading import DEFAULT_COHORT_DIR, cohort_manifest, load_cohort

    c = load_cohort(DEFAULT_COHORT_DIR)
    meta = {"name": "Big", "synthetic": True, "tables": cohort_manifest(c.tables)}
    files = [(p.name, p.read_bytes(), "text/csv") for p in sorted(DEFAULT_COHORT_DIR.glob("*.csv"))]
    files = [f for f in files if f[0] not in ("labs.csv", "temperatures.csv")]
    files.append(("metadata.json", json.dumps(meta).encode(), "application/json"))
    at = _upload_and_load(start("pages/data.py"), files)
    assert any("was not loaded: 2 problem(s)" in e.value for e in at.error)
    shown = at.dataframe[0].value
    assert set(shown["file"]) >= {"labs.csv", "temperatures.csv"}
    assert shown["fix"].str.contains(".zip", regex=False).all()
    # without metadata.json: loaded, with a visible warning naming the missing tables
    at = _upload_and_load(start("pages/data.py"), files[:-1])
    assert any("Tables may be missing" in w.value and "temperatures, labs" in w.value for w in at.warning)


def test_filtered_cohort_downloads_beyond_xlsx_offer_a_zip(monkeypatch):
    """The .xlsx download is offered while the selection fits a workbook; beyond it (here: a lowered cell
    limit) the page says why and offers the .zip downloads (always there), which load back."""
    import io
    import zipfile

    from misc_dash import loading

    at = start("pages/data.py")
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download 46 patients (.xlsx, same data contract)" in labels
    assert "Download 46 patients (.zip of CSVs)" in labels and "Download 46 patients (.zip of Parquet)" in labels
    monkeypatch.setattr(loading, "XLSX_MAX_CELLS", 1000)
    at.run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert not any(".xlsx, same" in x for x in labels) and "Download 46 patients (.zip of CSVs)" in labels
    assert any("No .xlsx for this selection" in i.value and "cells" in i.value for i in at.info)
    data = loading.cohort_zip(
        loading.load_cohort(loading.DEFAULT_COHORT_DIR).tables, {"name": "x", "tables": {"patients": 46}}
    )
    assert "metadata.json" in zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_charts_are_drawn_in_place_with_the_installed_plotly_js():
    """ui.plot sends the figure to the in-place chart component with the URL of plotly.js under static/ (a copy of
    the installed plotly package's bundle, served by Streamlit's static file serving)."""
    import plotly
    from plotly.offline import get_plotlyjs_version

    at = start("pages/fever.py")
    comps = [el for el in at.get("bidi_component") if el.proto.component_name == "misc_dash_plot"]
    assert len(comps) == 1
    data = json.loads(comps[0].proto.json)
    assert data["src"] == f"app/static/plotly-{get_plotlyjs_version()}.min.js"
    served = Path(APP).parent / "static" / data["src"].removeprefix("app/static/")
    bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert served.read_bytes() == bundled.read_bytes()
    assert data["height"] == json.loads(data["spec"])["layout"]["height"]


def test_charts_fall_back_to_st_plotly_chart_without_static_serving():
    from streamlit import config

    from misc_dash import ui

    old = config.get_option("server.enableStaticServing")
    config.set_option("server.enableStaticServing", False)
    ui.plotly_js_url.clear()
    try:
        at = start("pages/fever.py")
        assert len(at.get("plotly_chart")) == 1
        assert not [el for el in at.get("bidi_component") if el.proto.component_name == "misc_dash_plot"]
        assert plotly_specs(at)[0]["layout"]["title"]["text"]
    finally:
        config.set_option("server.enableStaticServing", old)
        ui.plotly_js_url.clear()
