"""Column mapping (issue 16): a hospital's own export, with its own names, codes, units and dates, mapped onto the
data contract. The warehouse export of tests/warehouse.py is the default cohort written the way a warehouse would
write it; mapped back it must be exactly the default cohort."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from misc_dash import mapping as M
from misc_dash.__main__ import main
from misc_dash.loading import load_default_cohort
from tests import warehouse


@pytest.fixture(scope="module")
def default():
    return load_default_cohort()


@pytest.fixture(scope="module")
def sources():
    src, problems = M.read_sources(list(warehouse.export_files().items()))
    assert problems == []
    return src


def _mapping():
    m, problems = M.parse_mapping(warehouse.mapping_text())
    assert problems == [], problems
    return m


def assert_same_tables(a, b):
    """Same tables, same rows in the same order; floats to 1e-9 (°F → °C and date arithmetic round-trip)."""
    for name in b.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=False, rtol=0, atol=1e-9)


def test_warehouse_export_maps_back_to_the_default_cohort(sources, default):
    cohort, problems = M.validate_mapped(sources, _mapping())
    assert cohort is not None, [p.text() for p in problems]
    assert problems == []
    assert_same_tables(cohort, default)
    assert cohort.synthetic is False  # the app decides; a mapped export is real unless the user says otherwise


def test_a_zip_of_the_export_reads_the_same(sources):
    src, problems = M.read_sources([("export.zip", warehouse.export_zip())])
    assert problems == [] and set(src) == set(sources)


def test_mapping_file_round_trips():
    m = _mapping()
    again, problems = M.parse_mapping(m.to_json())
    assert problems == [] and again.to_json() == m.to_json()
    assert json.loads(m.to_json())["tables"]["patients"]["columns"]["age_years"] == "AGE"  # plain names stay plain


def test_cli_validate_with_a_saved_mapping_gives_the_same_cohort(tmp_path, default, capsys):
    """The issue's Must show: a saved mapping reused from the CLI gives the same cohort."""
    export = tmp_path / "export"
    export.mkdir()
    for n, b in warehouse.export_files().items():
        (export / n).write_bytes(b)
    (tmp_path / "hospital.mapping.json").write_text(warehouse.mapping_text(), encoding="utf-8")
    out = tmp_path / "cohort"
    rc = main(["validate", str(export), "--mapping", str(tmp_path / "hospital.mapping.json"), "--out", str(out)])
    assert rc == 0, capsys.readouterr().out
    assert "valid — 46 patients" in capsys.readouterr().out
    from misc_dash.loading import load_cohort

    again = load_cohort(out)
    assert_same_tables(again, default)
    assert again.synthetic is False


def test_problems_are_told_on_the_users_file_row_and_column(sources):
    bad = {k: v.copy() for k, v in sources.items()}
    bad["demographics.csv"].loc[3, "AGE"] = "eight"
    bad["demographics.csv"].loc[5, "GENDER"] = "9"
    bad["vitals.csv"].loc[10, "TEMP_F"] = "hot"
    bad["echo_reports.csv"].loc[2, "STUDY_DATE"] = "2021-13-45"
    cohort, problems = M.validate_mapped(bad, _mapping())
    assert cohort is None
    where = {(p.file, p.row, p.column) for p in problems}
    assert ("demographics.csv", 5, "AGE (→ age_years)") in where
    assert ("demographics.csv", 7, "GENDER (→ sex)") in where
    assert ("vitals.csv", 12, "TEMP_F") in where
    assert ("echo_reports.csv", 4, "STUDY_DATE") in where
    assert all(p.file in bad for p in problems)


def test_unmapped_required_column_and_unknown_source_are_named(sources):
    m = _mapping()
    pts = m.tables["patients"]
    cols = {k: v for k, v in pts.columns.items() if k != "sex"}
    m = m.with_table("patients", M.TableMap(pts.source, cols, pts.missing))
    m = m.with_table("echo", M.TableMap("nope.csv", m.tables["echo"].columns))
    cohort, problems = M.validate_mapped(sources, m)
    assert cohort is None
    text = " ".join(p.text() for p in problems)
    assert "patients.sex (required)" in text and "'nope.csv'" in text


def test_dates_need_an_admission_and_iso_or_a_stated_format(sources):
    data = json.loads(warehouse.mapping_text())
    del data["admission"]
    m, _ = M.parse_mapping(json.dumps(data))
    cohort, problems = M.validate_mapped(sources, m)
    assert cohort is None and any("admission date-times" in p.message for p in problems)
    data = json.loads(warehouse.mapping_text())
    del data["tables"]["echo"]["columns"]["day"]["format"]  # 05/03/2021 is not guessed as a date
    m, _ = M.parse_mapping(json.dumps(data))
    cohort, problems = M.validate_mapped(sources, m)
    assert cohort is None and any(p.column == "STUDY_DATE" and p.row == 2 for p in problems)


def test_days_since_admission_counts_calendar_days():
    """Day 0 is the calendar day of admission (data contract): admitted 23:00, seen 01:00 next day = day 1."""
    s = pd.Series(["2021-03-02 01:00", "2021-03-01 23:30"], dtype=object)
    adm = pd.Series(pd.to_datetime(["2021-03-01 23:00", "2021-03-01 23:00"]))
    out, bad, _ = M.TRANSFORMS["days_since_admission"].fn(s, M._TransformContext(adm))
    assert list(out) == ["1", "0"] and not bad.any()
    out, bad, _ = M.TRANSFORMS["hours_since_admission"].fn(s, M._TransformContext(adm))
    assert list(out) == ["2", "0.5"]


def test_fahrenheit_to_celsius():
    out, bad, _ = M.TRANSFORMS["fahrenheit_to_celsius"].fn(pd.Series(["100.4", "98.6", None, "x"]), None)
    assert list(out[:2]) == ["38", "37"] and out[2] is None and list(bad) == [False, False, False, True]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("{", "not valid JSON"),
        ('{"tables": {}}', "not a cohort mapping"),
        ('{"format": "misc-dash-mapping", "version": 1, "tables": {"visits": {}}}', "unknown table"),
        (
            '{"format": "misc-dash-mapping", "version": 1, "tables": {"patients": {"source": "a.csv", '
            '"columns": {"age": "AGE"}}}}',
            "not a column of 'patients'",
        ),
        (
            '{"format": "misc-dash-mapping", "version": 1, "tables": {"patients": {"source": "a.csv", '
            '"columns": {"age_years": {"column": "AGE", "transform": "kelvin"}}}}}',
            "unknown transform",
        ),
    ],
)
def test_a_bad_mapping_file_is_refused_with_where(text, fragment):
    m, problems = M.parse_mapping(text, "hospital.mapping.json")
    assert m is None and any(fragment in p.message for p in problems)
    assert all(p.file == "hospital.mapping.json" for p in problems)


def test_proposed_mapping_finds_the_contract_shape_and_synonyms(sources):
    from misc_dash.loading import DEFAULT_COHORT_DIR

    own, _ = M.read_sources(DEFAULT_COHORT_DIR)
    cohort, problems = M.validate_mapped(own, M.propose_mapping(own))
    assert cohort is not None and problems == []
    proposed = M.propose_mapping(sources)
    pts = proposed.tables["patients"]
    assert pts.source == "demographics.csv"
    assert pts.columns["patient_id"].column == "STUDY_ID" and pts.columns["age_years"].column == "AGE"
    assert proposed.tables["labs"].source == "labs.csv"


def test_mapping_keeps_rows_one_to_one(sources):
    mapped = M.apply_mapping(sources, _mapping())
    for name, tm in _mapping().tables.items():
        assert len(mapped.tables[name]) == len(sources[tm.source])
    assert np.all(mapped.tables["patients"]["patient_id"].to_numpy() == sources["demographics.csv"]["STUDY_ID"])


# ------------------------------------------------------------------------------------------------ the Data page
def _upload(at, files):
    at.file_uploader(key="upload_files").set_value(files).run()
    assert not at.exception, [e.message for e in at.exception]


def test_data_page_maps_an_export_with_a_saved_mapping_and_loads_it():
    from tests.test_app import start

    at = start("pages/data.py")
    at.radio(key="upload_kind").set_value("export").run()
    files = [(n, b, "text/csv") for n, b in warehouse.export_files().items()]
    files.append(("hospital.mapping.json", warehouse.mapping_text().encode(), "application/json"))
    _upload(at, files)
    assert any("saved mapping you uploaded" in c.value for c in at.caption)
    at.button(key=next(b.key for b in at.button if b.label == "Preview and check")).click().run()
    assert not at.exception
    assert any("passes every check" in s.value for s in at.success)
    at.button(key=next(b.key for b in at.button if b.label == "Load with this mapping")).click().run()
    assert not at.exception, [e.message for e in at.exception]
    text = " ".join(m.value for m in at.markdown)
    assert "Warehouse export" in text.replace("\\", "") and "as loaded" in text


def test_data_page_proposes_a_mapping_and_names_what_is_left():
    from tests.test_app import start

    at = start("pages/data.py")
    at.radio(key="upload_kind").set_value("export").run()
    _upload(at, [(n, b, "text/csv") for n, b in warehouse.export_files().items()])
    assert any("proposed from the column names" in c.value for c in at.caption)
    # GENDER is 1/2: the page says it must be translated
    assert any("sex: 1, 2" in c.value.replace("\\", "") for c in at.caption)
    at.button(key=next(b.key for b in at.button if b.label == "Load with this mapping")).click().run()
    assert not at.exception
    assert any("not loaded" in e.value or "refused" in e.value.lower() for e in at.error)


def test_data_page_imports_the_redcap_example_without_a_mapping():
    """The shipped REDCap example (a project built on the contract): dictionary + raw records uploaded, imported
    as they are, the default cohort's 46 patients loaded as real data unless ticked."""
    from misc_dash.redcap import EXAMPLE_DIR
    from tests.test_app import start

    at = start("pages/data.py")
    at.radio(key="upload_kind").set_value("redcap").run()
    files = [
        (p.name, p.read_bytes(), "text/csv")
        for p in sorted(EXAMPLE_DIR.glob("*.csv"))
        if "labels" not in p.name  # one records export
    ]
    _upload(at, files)
    assert any("REDCap raw export" in c.value.replace("\\", "") for c in at.caption)
    at.button(key=next(b.key for b in at.button if b.label == "Load with this mapping")).click().run()
    assert not at.exception, [e.message for e in at.exception]
    text = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "REDCap import" in text and "as loaded; 46 patients rows" in text


def test_data_page_redcap_needs_a_dictionary_and_one_records_file():
    from misc_dash.redcap import EXAMPLE_DIR
    from tests.test_app import start

    at = start("pages/data.py")
    at.radio(key="upload_kind").set_value("redcap").run()
    _upload(at, [(p.name, p.read_bytes(), "text/csv") for p in sorted(EXAMPLE_DIR.glob("*DATA*.csv"))])
    assert any("Found 0 dictionary and 2 other CSV" in i.value for i in at.info)


def test_a_workbook_export_names_each_sheet(sources):
    """Each sheet of an .xlsx export is a source table named ``book.xlsx[sheet]``, read as text."""
    import io

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name in ("demographics.csv", "vitals.csv"):
            sources[name].to_excel(xw, sheet_name=name.removesuffix(".csv"), index=False)
    src, problems = M.read_sources([("book.xlsx", buf.getvalue())])
    assert problems == [] and sorted(src) == ["book.xlsx[demographics]", "book.xlsx[vitals]"]
    assert src["book.xlsx[demographics]"]["STUDY_ID"].tolist() == sources["demographics.csv"]["STUDY_ID"].tolist()
