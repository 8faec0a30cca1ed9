"""REDCap import (issue 16): the data dictionary and records exports are read (raw or labelled, variable-name or
label headers), a project built on the data contract imports without a mapping file and reproduces the default
cohort's analyses, a bad record is refused with the record, field and value, another project imports through a
saved mapping, and no junk file makes the reader raise."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from misc_dash.__main__ import main
from misc_dash.loading import Problem, load_cohort, load_default_cohort
from misc_dash.redcap import (
    API_HEADER,
    DICTIONARY_HEADER,
    EXAMPLE_DIR,
    FIELD_TYPES,
    NON_REPEATING,
    example_from_cohort,
    example_records,
    import_redcap,
    propose_mapping,
    read_dictionary,
    read_export,
)

DICTIONARY = EXAMPLE_DIR / "MISCCohort_DataDictionary.csv"
RAW = EXAMPLE_DIR / "MISCCohort_DATA_raw.csv"
LABELS = EXAMPLE_DIR / "MISCCohort_DATA_labels.csv"


@pytest.fixture(scope="module")
def default():
    return load_default_cohort()


def _csv(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode()


def _dictionary(*fields, header=DICTIONARY_HEADER) -> bytes:
    """A data dictionary from (name, form, type, label, choices, validation) rows."""
    rows = [list(header)]
    for f in fields:
        name, form, ftype, label, choices, validation = (*f, "", "", "")[:6]
        rows.append([name, form, "", ftype, label, choices, "", validation] + [""] * 10)
    return _csv(rows)


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _run(argv, capsys) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out + out.err


# ------------------------------------------------------------------------------------------------ the dictionary
def test_dictionary_choices_with_commas_and_checkbox_columns():
    data = _dictionary(
        ("record_id", "demographics", "text", "Record ID"),
        ("race", "demographics", "dropdown", "Race", "1, African American | 2, Other | 98, Declined, or not stated"),
        ("sex", "demographics", "radio", "Sex", "1,M|2,F"),
        ("symptoms", "demographics", "checkbox", "Symptoms", "1, Rash | -1, None, really | A, Other"),
        ("kd_like", "demographics", "checkbox", "KD-like", "1, Yes"),
        ("age", "demographics", "text", "Age", "", "number_1dp"),
        ("intro", "demographics", "descriptive", "Read this"),
    )
    dd, problems = read_dictionary(("dict.csv", data))
    assert problems == [] and dd is not None
    assert dd.record_id == "record_id" and dd.forms == ("demographics",)
    assert dd.field("race").choices[-1] == ("98", "Declined, or not stated")
    assert dd.field("sex").choices == (("1", "M"), ("2", "F"))
    assert [c for c, _, _ in dd.field("symptoms").checkbox_columns()] == [
        "symptoms___1",
        "symptoms____1",
        "symptoms___a",
    ]
    assert dd.field("symptoms").choices[1] == ("-1", "None, really")
    assert dd.field("kd_like").checkbox_columns() == (("kd_like___1", "1", "Yes"),)
    assert dd.field("age").kind == "number" and dd.field("intro").type == "descriptive"
    assert dd.form_fields("demographics")[-1].name == "age"  # a descriptive field holds no data


def test_dictionary_with_the_api_short_header():
    data = _dictionary(
        ("record_id", "demographics", "text", "Record ID"),
        ("sex", "demographics", "radio", "Sex", "1, M | 2, F"),
        header=API_HEADER,
    )
    dd, problems = read_dictionary(("metadata.csv", data))
    assert problems == [] and dd.field("sex").choices == (("1", "M"), ("2", "F"))


def test_dictionary_problems_name_row_column_and_value():
    data = _dictionary(
        ("record_id", "demographics", "text", "Record ID"),
        ("sex", "demographics", "radiobutton", "Sex", "1, M | 2, F"),
        ("race", "demographics", "dropdown", "Race", "African American | Other"),
        ("race", "demographics", "text", "Race again"),
        ("Bad Name", "demographics", "text", "?"),
    )
    dd, problems = read_dictionary(("dict.csv", data))
    assert dd is None
    text = [p.text() for p in problems]
    assert any("row 3, column 'Field Type'" in t and "'radiobutton'" in t for t in text), text
    assert any("row 4, column 'Choices, Calculations, OR Slider Labels'" in t and "no code" in t for t in text), text
    assert any("row 5" in t and "defined twice" in t for t in text), text
    assert any("row 6" in t and "not a REDCap variable name" in t for t in text), text
    not_dict, problems = read_dictionary(("records.csv", b"record_id,sex\n1,1\n"))
    assert not_dict is None and "is not a REDCap data dictionary" in problems[0].message


# ------------------------------------------------------------------------------------------------ the example
def test_shipped_example_is_what_the_generator_writes(default):
    """data/redcap_example is generated from the default cohort; regenerate it with
    ``python -c "from misc_dash.redcap import write_example; write_example()"``."""
    files = example_from_cohort(default)
    assert sorted(files) == sorted(p.name for p in EXAMPLE_DIR.glob("*.csv"))
    for name, data in files.items():
        assert (EXAMPLE_DIR / name).read_bytes() == data, f"{name} differs from what example_from_cohort writes"


def test_example_is_shaped_like_a_redcap_project():
    dd, _ = read_dictionary(DICTIONARY)
    assert dd.record_id == "record_id"
    assert dd.forms == (
        "demographics",
        "treatment",
        "outcomes",
        "anakinra_doses",
        "temperatures",
        "echo",
        "cytokines",
        "labs",
        "adverse_events",
    )
    types = {f.name: f.type for f in dd.fields}
    assert types["sex"] == "radio" and types["kd_like"] == "checkbox" and types["ivig"] == "yesno"
    assert {types[f] for f in ("race", "ethnicity", "site", "cytokine", "analyte", "event", "route")} == {"dropdown"}
    assert "descriptive" in types.values()
    raw = _rows(RAW)
    head = raw[0]
    assert head[:3] == ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance"]
    assert "kd_like___1" in head and "demographics_note" not in head
    status = {v for r in raw[1:] for v in (r[head.index("outcomes_complete")],) if v}
    assert status == {"0", "2"}  # some "Incomplete" outcomes forms: their values are data all the same
    labels = _rows(LABELS)
    assert labels[0] == head and labels[1][head.index("sex")] in ("M", "F")
    assert {r[1] for r in labels[1:]} >= {"", "Anakinra Doses", "Echocardiograms", "Laboratory Results"}


@pytest.mark.parametrize("path, values", [(RAW, "raw"), (LABELS, "labels")])
def test_raw_and_labelled_exports_are_told_apart(path, values):
    export, problems = read_export(DICTIONARY, path)
    assert problems == [] and export.values == values and export.headers == "variable names"
    assert export.repeating == ("anakinra_doses", "temperatures", "echo", "cytokines", "labs", "adverse_events")
    assert ("raw export (choice codes)" if values == "raw" else "labelled export (choice labels)") in export.summary()
    assert len(export.sources[NON_REPEATING]) == export.n_records == 46


@pytest.mark.parametrize("values", ["raw", "labels"])
def test_exports_with_field_labels_as_headers_read_the_same(default, values):
    data = example_records(default, values, headers="field labels")
    assert data.startswith(b"Record ID,Repeat Instrument,Repeat Instance,Age at diagnosis,Sex,")
    export, problems = read_export(DICTIONARY, ("labels_headers.csv", data))
    assert problems == [] and export.headers == "field labels" and export.values == values
    cohort, problems = import_redcap(DICTIONARY, ("labels_headers.csv", data))
    assert problems == []
    for name in default.tables:
        pd.testing.assert_frame_equal(cohort.tables[name], default.tables[name])


def test_a_project_built_on_the_contract_needs_no_mapping():
    export, _ = read_export(DICTIONARY, RAW)
    m = propose_mapping(export)
    assert list(m.tables) == [
        "patients",
        "anakinra_doses",
        "temperatures",
        "echo",
        "cytokines",
        "labs",
        "adverse_events",
    ]
    assert m.tables["patients"].source == NON_REPEATING
    assert m.tables["patients"].columns["patient_id"].column == "record_id"
    assert m.tables["patients"].columns["kd_like"].column == "kd_like"  # the single-choice checkbox
    assert m.tables["echo"].columns["day"].column == "echo_day"
    assert m.tables["labs"].columns["value"].column == "labs_value"
    assert m.tables["temperatures"].columns["hour"].column == "hour"
    assert all(not c.values for t in m.tables.values() for c in t.columns.values())  # labels are contract values


# ------------------------------------------------------------------------------------------------ end to end
def _analysis(args, capsys) -> dict:
    code, out = _run(["analyze", "--json", *args], capsys)
    assert code == 0, out
    return json.loads(out)


@pytest.mark.parametrize("records", [RAW, LABELS], ids=["raw", "labels"])
def test_import_redcap_reproduces_the_default_cohorts_analyses(tmp_path, capsys, default, records):
    """The example (raw and labelled) imported with ``import-redcap`` into a folder: ``analyze --json --data DIR``
    equals ``analyze --json`` on the default cohort, except ``cohort.name`` alone (the imported cohort is named
    after the records file; the default after the reconstruction). ``cohort.synthetic`` is compared too: the
    records are the synthetic default patients and are imported with ``--synthetic``. The analysis JSON holds no
    source path or reproduce command, so nothing else is left out. The imported tables also equal the default
    cohort's, row order included."""
    out = tmp_path / "cohort"
    code, text = _run(["import-redcap", DICTIONARY, records, "--out", out, "--synthetic"], capsys)
    assert code == 0, text
    assert "valid — 46 patients, 309 anakinra_doses, 3336 temperatures" in text and "WARNING" not in text
    imported = _analysis(["--data", out], capsys)
    expected = _analysis([], capsys)
    assert imported["cohort"].pop("name") == f"{records.stem} (REDCap import)"
    expected["cohort"].pop("name")
    assert imported == expected
    cohort = load_cohort(out)
    for name in default.tables:
        pd.testing.assert_frame_equal(cohort.tables[name], default.tables[name])
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["synthetic"] is True and meta["redcap"]["export"] == ("raw" if records == RAW else "labels")


def test_imported_records_are_real_patients_unless_marked(tmp_path, capsys):
    code, text = _run(["import-redcap", DICTIONARY, RAW, "--out", tmp_path / "c", "--name", "Hospital X"], capsys)
    assert code == 0, text
    meta = json.loads((tmp_path / "c" / "metadata.json").read_text())
    assert meta["synthetic"] is False and meta["name"] == "Hospital X"
    assert "real patients" in text


def test_a_proposed_mapping_saved_and_reused_gives_the_same_cohort(tmp_path, capsys, default):
    mfile = tmp_path / "project.mapping.json"
    code, text = _run(["import-redcap", DICTIONARY, LABELS, "--propose-mapping", mfile], capsys)
    assert code == 0 and mfile.exists(), text
    assert not (tmp_path / "cohort").exists()
    code, text = _run(["import-redcap", DICTIONARY, RAW, "--mapping", mfile, "--out", tmp_path / "cohort"], capsys)
    assert code == 0, text
    assert f"mapping: {mfile} for patients, anakinra_doses" in text
    cohort = load_cohort(tmp_path / "cohort")
    for name in default.tables:
        pd.testing.assert_frame_equal(cohort.tables[name], default.tables[name])


def _bad_raw(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """The raw example with an unknown choice code, a non-number in a number field and an instrument row of a
    record that does not exist; returns the file and each change's file row."""
    rows = _rows(RAW)
    head = rows[0]
    where = {}
    for k, r in enumerate(rows):
        if r[0] == "SYN-002" and r[1] == "" and "sex" not in where:
            r[head.index("sex")], where["sex"] = "3", k + 1
        if r[0] == "SYN-003" and r[1] == "temperatures" and r[2] == "2":
            r[head.index("temp_c")], where["temp_c"] = "38,5 °C", k + 1
    stray = list(rows[-1])
    stray[0] = "SYN-999"
    rows.append(stray)
    where["SYN-999"] = len(rows)
    path = tmp_path / "MISCCohort_DATA_bad.csv"
    path.write_bytes(_csv(rows))
    return path, where


def test_bad_records_are_refused_naming_record_field_and_value(tmp_path, capsys):
    path, where = _bad_raw(tmp_path)
    code, text = _run(["import-redcap", DICTIONARY, path, "--out", tmp_path / "cohort"], capsys)
    assert code == 1 and "Traceback" not in text
    assert not (tmp_path / "cohort").exists()
    lines = [x.strip() for x in text.splitlines() if x.strip().startswith("ERROR")]
    assert len(lines) == 3, text
    assert lines[0].startswith(
        f"ERROR: MISCCohort_DATA_bad.csv, row {where['sex']}, record SYN-002, field 'sex': is not a choice code"
    )
    assert "(value: '3')" in lines[0] and "1 = M, 2 = F" in lines[0]
    assert lines[1].startswith(
        f"ERROR: MISCCohort_DATA_bad.csv, row {where['temp_c']}, record SYN-003 (temperatures #2), field 'temp_c': "
        "is not a number"
    )
    assert "(value: '38,5 °C')" in lines[1]
    assert lines[2].startswith(
        f"ERROR: MISCCohort_DATA_bad.csv, row {where['SYN-999']}, record SYN-999 (adverse_events #"
    ) or lines[2].startswith(f"ERROR: MISCCohort_DATA_bad.csv, row {where['SYN-999']}, record SYN-999 (labs #")
    assert "field 'record_id' (→ " in lines[2] and "not in patients" in lines[2] and "(value: 'SYN-999')" in lines[2]


def test_a_labelled_value_that_is_not_a_label_is_refused(tmp_path):
    rows = _rows(LABELS)
    head = rows[0]
    rows[1][head.index("sex")] = "Male"
    rows[1][head.index("sars_cov2_pcr")] = "1"  # a code, in a labelled export
    out = tmp_path / "labels.csv"
    out.write_bytes(_csv(rows))
    cohort, problems = import_redcap(DICTIONARY, out)
    assert cohort is None
    text = [p.text() for p in problems if p.severity == "error"]
    assert len(text) == 2, text
    assert "row 2, record SYN-001, field 'sex': is not a choice label of field 'sex' (M, F) (value: 'Male')" in text[0]
    assert "field 'sars_cov2_pcr': is not a yesno value (Yes, No) (value: '1')" in text[1]


def test_a_contract_value_out_of_range_is_told_on_the_records_file(tmp_path):
    rows = _rows(RAW)
    head = rows[0]
    k = next(i for i, r in enumerate(rows) if r[1] == "echo" and r[0] == "SYN-004")
    rows[k][head.index("lvef_pct")] = "140"
    out = tmp_path / "raw.csv"
    out.write_bytes(_csv(rows))
    cohort, problems = import_redcap(DICTIONARY, out)
    assert cohort is None and len(problems) == 1
    assert (
        problems[0]
        .text()
        .startswith(
            f"ERROR: raw.csv, row {k + 1}, record SYN-004 (echo #1), field 'lvef_pct': impossible value (value: '140')"
        )
    )
    assert problems[0].target is None  # the field is the contract column's name


# ------------------------------------------------------------------------------------------------ other projects
HOSPITAL_DICTIONARY = _dictionary(
    ("study_id", "baseline", "text", "Study ID"),
    ("age", "baseline", "text", "Age (years)", "", "number"),
    ("gender", "baseline", "radio", "Gender", "1, Male | 2, Female"),
    ("kawasaki", "baseline", "radio", "Kawasaki-like", "1, Yes | 0, No"),
    ("shock", "baseline", "yesno", "Shock"),
    ("ivig_given", "therapy", "yesno", "IVIG"),
    ("steroids", "therapy", "checkbox", "Steroids", "1, Methylprednisolone | 2, Hydrocortisone (stress dose)"),
    ("vital_hour", "vitals", "text", "Hours since admission", "", "number"),
    ("temp_f", "vitals", "text", "Temperature (°F)", "", "number"),
    ("temp_site", "vitals", "dropdown", "Site", "1, Oral | 2, Rectal"),
)
HOSPITAL_RECORDS = (
    b"study_id,redcap_repeat_instrument,redcap_repeat_instance,age,gender,kawasaki,shock,baseline_complete,"
    b"ivig_given,steroids___1,steroids___2,therapy_complete,vital_hour,temp_f,temp_site,vitals_complete\n"
    b"H1,,,8,1,1,0,2,1,1,0,2,,,,\n"
    b"H1,vitals,1,,,,,,,0,0,,0,102.2,1,2\n"
    b"H1,vitals,2,,,,,,,0,0,,6,99.5,2,1\n"
    b"H2,,,4,2,0,1,0,1,0,1,2,,,,\n"
    b"H2,vitals,1,,,,,,,0,0,,0,101.3,1,2\n"
)
EMPTY = {"value": ""}
HOSPITAL_MAPPING = {
    "format": "misc-dash-mapping",
    "version": 1,
    "name": "Hospital X",
    "tables": {
        "patients": {
            "source": "baseline",  # a non-repeating form: the table of the non-repeating fields
            "columns": {
                "patient_id": "study_id",
                "age_years": "age",
                "sex": {"column": "gender", "values": {"Male": "M", "Female": "F"}},
                "kd_like": "kawasaki",
                "cv_shock": "shock",
                "ivig": "ivig_given",
                "inflammatory_steroids": "steroids___1",
                "stress_hydrocortisone": "steroids___2",
                **{c: EMPTY for c in ("race", "ethnicity", "weight_kg", "sars_cov2_pcr", "ivig_start_hour", "icu")},
                **{c: EMPTY for c in ("length_of_stay_days", "anakinra_indication")},
            },
        },
        "temperatures": {
            "source": "vitals",
            "columns": {
                "patient_id": "study_id",
                "hour": "vital_hour",
                "temp_c": {"column": "temp_f", "transform": "fahrenheit_to_celsius"},
                "site": {"column": "temp_site", "transform": "lowercase"},
            },
        },
    },
}


def test_another_project_needs_its_mapping_and_imports_with_it(tmp_path, capsys):
    d, r = tmp_path / "Hospital_DataDictionary.csv", tmp_path / "Hospital_DATA.csv"
    d.write_bytes(HOSPITAL_DICTIONARY)
    r.write_bytes(HOSPITAL_RECORDS)
    code, text = _run(["import-redcap", d, r, "--out", tmp_path / "cohort"], capsys)
    assert code == 1
    assert "no source column is mapped to patients.kd_like (required)" in text
    assert "repeating instrument 'vitals' (3 rows) is not mapped to a table" in text
    mfile = tmp_path / "hospital.mapping.json"
    mfile.write_text(json.dumps(HOSPITAL_MAPPING))
    code, text = _run(["import-redcap", d, r, "--mapping", mfile, "--out", tmp_path / "cohort"], capsys)
    assert code == 0, text
    cohort = load_cohort(tmp_path / "cohort")
    assert cohort.name == "Hospital X" and not cohort.synthetic
    p = cohort.tables["patients"]
    assert p["patient_id"].tolist() == ["H1", "H2"] and p["sex"].tolist() == ["M", "F"]
    assert p["kd_like"].tolist() == [True, False] and p["cv_shock"].tolist() == [False, True]
    assert p["inflammatory_steroids"].tolist() == [True, False]
    assert p["stress_hydrocortisone"].tolist() == [False, True]
    assert p["race"].isna().all()
    t = cohort.tables["temperatures"]
    assert t["patient_id"].tolist() == ["H1", "H1", "H2"] and t["hour"].tolist() == [0.0, 6.0, 0.0]
    assert t["temp_c"].tolist() == [39.0, 37.5, 38.5] and t["site"].tolist() == ["oral", "rectal", "oral"]


def test_a_mapped_value_problem_names_the_field_and_its_contract_column(tmp_path):
    records = HOSPITAL_RECORDS.replace(b"H1,vitals,2,,,,,,,0,0,,6,99.5", b"H1,vitals,2,,,,,,,0,0,,6,199.5")
    mapping_file = tmp_path / "m.mapping.json"
    mapping_file.write_text(json.dumps(HOSPITAL_MAPPING))
    from misc_dash.mapping import load_mapping

    mapping, _ = load_mapping(mapping_file)
    cohort, problems = import_redcap(("d.csv", HOSPITAL_DICTIONARY), ("r.csv", records), mapping)
    assert cohort is None
    (p,) = [p for p in problems if p.severity == "error"]
    assert p.text().startswith(
        "ERROR: r.csv, row 4, record H1 (vitals #2), field 'temp_f' (→ temperatures.temp_c): impossible value "
        "(read as '93.06') (value: '199.5')"
    )


def test_a_longitudinal_project_merges_its_events(tmp_path):
    dictionary = _dictionary(
        ("record_id", "demographics", "text", "Record ID"),
        ("sex", "demographics", "radio", "Sex", "1, M | 2, F"),
        ("kd_like", "demographics", "checkbox", "KD-like", "1, Yes"),
        ("icu", "outcomes", "yesno", "ICU"),
        ("hour", "temperatures", "text", "Hour", "", "number"),
        ("temp_c", "temperatures", "text", "Temp", "", "number"),
    )
    head = "record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,sex,kd_like___1,icu,hour,temp_c"
    records = [
        head,
        "A,admission_arm_1,,,1,1,,,",
        "A,admission_arm_1,temperatures,1,,0,,0,39.5",
        "A,discharge_arm_1,,,,0,1,,",
        "A,discharge_arm_1,temperatures,1,,0,,48,37.0",
        "B,admission_arm_1,,,2,0,,,",
        "B,discharge_arm_1,,,,0,0,,",
    ]
    export, problems = read_export(("d.csv", dictionary), ("r.csv", "\n".join(records).encode()))
    assert export.longitudinal and "longitudinal (events merged)" in export.summary()
    base = export.sources[NON_REPEATING]
    assert base["sex"].tolist() == ["M", "F"] and base["icu"].tolist() == ["1", "0"]
    assert base["kd_like"].tolist() == ["1", "0"]  # ticked in one event is ticked
    assert export.sources["temperatures"]["hour"].tolist() == ["0", "48"]
    clash = [*records[:3], "A,discharge_arm_1,,,2,0,1,,"]
    cohort, problems = import_redcap(("d.csv", dictionary), ("r.csv", "\n".join(clash).encode()))
    assert cohort is None
    assert any(
        p.row == 4
        and p.column == "sex"
        and p.value == "2"
        and "another value for this field in another event" in p.message
        for p in problems
    ), [p.text() for p in problems]


# ------------------------------------------------------------------------------------------------ the command line
def test_usage_and_unreadable_files(tmp_path, capsys):
    code, text = _run(["import-redcap", DICTIONARY, RAW], capsys)
    assert code == 2 and "needs --out DIR" in text
    code, text = _run(
        ["import-redcap", DICTIONARY, RAW, "--out", tmp_path / "a", "--propose-mapping", "m.json"], capsys
    )
    assert code == 2
    code, text = _run(["import-redcap", tmp_path / "missing.csv", RAW, "--out", tmp_path / "a"], capsys)
    assert code == 1 and "missing.csv: cannot be read" in text and "Traceback" not in text
    latin = tmp_path / "latin.csv"
    latin.write_bytes("record_id,race\n1,Caucasién\n".encode("latin-1"))
    code, text = _run(["import-redcap", DICTIONARY, latin, "--out", tmp_path / "a"], capsys)
    assert code == 1 and "is not UTF-8 text" in text
    semi = tmp_path / "semi.csv"
    semi.write_bytes(b"record_id;sex\n1;1\n")
    code, text = _run(["import-redcap", DICTIONARY, semi, "--out", tmp_path / "a"], capsys)
    assert code == 1 and "separated by semicolons" in text
    code, text = _run(["import-redcap", DICTIONARY, DICTIONARY, "--out", tmp_path / "a"], capsys)
    assert code == 1 and "no column for the record id field 'record_id'" in text
    assert not (tmp_path / "a").exists()


# ------------------------------------------------------------------------------------------------ properties
SETTINGS = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
NAMES = ["record_id", "sex", "kd_like", "age_years", "x", "", "Bad", "labs_day", "analyte"]
FORMS = ["demographics", "labs", "temperatures", "", "Form 1"]
CHOICES = ["1, M | 2, F", "1, Yes", "", "junk", "1, a | 1, b", "crp, crp | 2,", "1,"]
HEADS = [
    "record_id",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_event_name",
    "sex",
    "kd_like___1",
    "kd_like",
    "age_years",
    "labs_day",
    "analyte",
    "demographics_complete",
    "Record ID",
    "Sex",
    "x_timestamp",
]
cells = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["", "1", "0", "2", "M", "Yes", "Checked", "labs", "Labs", "-1", "1e309", "=1+1", '"', ","]),
)
dictionary_rows = st.lists(
    st.tuples(
        st.sampled_from(NAMES) | st.text(max_size=6),
        st.sampled_from(FORMS),
        st.sampled_from(FIELD_TYPES) | st.text(max_size=6),
        st.text(max_size=6),
        st.sampled_from(CHOICES) | st.text(max_size=10),
        st.sampled_from(["", "number", "integer", "date_ymd"]),
    ),
    max_size=6,
)
records_header = st.lists(st.sampled_from(HEADS) | st.text(max_size=6), min_size=1, max_size=6)
records_rows = st.lists(st.lists(cells, min_size=0, max_size=7), max_size=6)


def _text(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8", "surrogatepass")


def _check(cohort, problems) -> None:
    assert all(isinstance(p, Problem) for p in problems)
    for p in problems:
        assert p.file in ("dict.csv", "records.csv"), p
        assert p.row is None or p.row >= 1, p
        if p.value is not None:  # a cell's problem says where the cell is: its row and field (or column)
            assert p.row is not None and p.column, p
        p.text()
    assert (cohort is None) == any(p.severity == "error" for p in problems)


@SETTINGS
@given(rows=dictionary_rows, header=records_header, body=records_rows)
@example(
    rows=[
        ("record_id", "demographics", "text", "Record ID", "", ""),
        ("sex", "demographics", "radio", "S", "1, M", ""),
    ],
    header=["record_id", "sex"],
    body=[["1", "2"], ["", "1"], ["1", "1"]],
)
def test_junk_dictionaries_and_records_never_raise(rows, header, body):
    dictionary = _text([list(DICTIONARY_HEADER)] + [[*r[:2], "", *r[2:]] + [""] * 10 for r in rows])
    records = _text([header, *body])
    cohort, problems = import_redcap(("dict.csv", dictionary), ("records.csv", records))
    _check(cohort, problems)


@SETTINGS
@given(dictionary=st.binary(max_size=300), records=st.binary(max_size=300))
def test_any_bytes_never_raise(dictionary, records):
    cohort, problems = import_redcap(("dict.csv", dictionary), ("records.csv", records))
    _check(cohort, problems)


@SETTINGS
@given(header=records_header, body=records_rows)
def test_junk_records_with_the_example_dictionary_never_raise(header, body):
    cohort, problems = import_redcap(("dict.csv", DICTIONARY.read_bytes()), ("records.csv", _text([header, *body])))
    _check(cohort, problems)


_EXAMPLE_ROWS = _rows(RAW)
_LABEL_ROWS = _rows(LABELS)
_KEEP = [
    k for k, r in enumerate(_EXAMPLE_ROWS) if r[0] in ("record_id", "SYN-001", "SYN-002") and r[2] in ("", "1", "2")
]
_SMALL = [_EXAMPLE_ROWS[k] for k in _KEEP]


@SETTINGS
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(_SMALL) - 1), st.integers(0, len(_SMALL[0]) - 1), cells), min_size=1, max_size=6
    ),
    labelled=st.booleans(),
)
@example(edits=[(0, 0, "Record ID")], labelled=False)
@example(edits=[(1, 1, "labs"), (1, 2, "1")], labelled=False)
def test_edited_example_records_never_raise_and_name_every_cell(edits, labelled):
    """The example's first records with any cells changed (the header too): no exception; every problem names the
    file and, for a cell, its row and field; a cell problem is told at the row that was changed (or a row that
    depends on it)."""
    rows = [list(r) for r in ([_LABEL_ROWS[k] for k in _KEEP] if labelled else _SMALL)]
    for i, j, v in edits:
        rows[i][j] = v
    cohort, problems = import_redcap(("dict.csv", DICTIONARY.read_bytes()), ("records.csv", _text(rows)))
    _check(cohort, problems)
    for p in problems:
        assert isinstance(p.text(), str) and "\n" not in p.text(), p
