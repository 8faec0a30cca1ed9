"""Validation: a hand-written broken cohort per rule is rejected with the right message; everything is
reported at once; a bad cohort never half-loads; xlsx and CSV load the same."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from misc_dash import contract as C
from misc_dash.loading import CohortInvalid, load_cohort, validate

ROOT = Path(__file__).resolve().parents[1]

PATIENTS = (
    "patient_id,age_years,sex,race,ethnicity,weight_kg,sars_cov2_pcr,kd_like,cv_shock,ivig,ivig_start_hour,"
    "inflammatory_steroids,stress_hydrocortisone,icu,length_of_stay_days,anakinra_indication\n"
    "A,8,M,African American,Not Latin-American,25,yes,no,1,true,5,0,0,1,10,adjunct\n"
    "B,4,F,Other,Latin-American,16,no,YES,0,True,6,0,1,0,7,\n"
    "C,12.5,F,,,40,,y,yes,1,10,1,0,,12,rescue\n"
)
FILES = {
    "patients": PATIENTS,
    "anakinra_doses": "patient_id,day,dose_mg_kg_day,doses_per_day,route\nA,1,8,4,IV\nA,2,10,4,IV\nC,3,6,4,SC\n",
    "temperatures": "patient_id,hour,temp_c,site\nA,0,39.1,oral\nA,6,37.5,rectal\nB,0,38.9,oral\n",
    "echo": "patient_id,day,lvef_pct,strain_ap4_pct\nA,0,45,-12.5\nA,10,60,\nB,1,62,-20\n",
    "cytokines": "patient_id,cytokine,fold_difference\nA,IL-6,22.1\nA,IL-1β,0.9\n",
    "labs": "patient_id,day,analyte,value,unit\nA,0,crp,180,mg/L\nA,1,crp,120,mg/L\nA,0,troponin,0.05,ng/mL\n",
    "adverse_events": "patient_id,event,ctcae_grade\nC,elevated_lft,1\n",
}


def write(tmp_path: Path, **override: str) -> Path:
    d = tmp_path / "cohort"
    d.mkdir(exist_ok=True)
    for name, text in {**FILES, **override}.items():
        if text is None:
            continue
        (d / f"{name}.csv").write_text(text, encoding="utf-8")
    return d


def problems_for(tmp_path, **override):
    cohort, problems = validate(write(tmp_path, **override))
    return cohort, [p for p in problems if p.severity == "error"]


def test_valid_cohort_loads_with_types(tmp_path):
    c = load_cohort(write(tmp_path))
    assert c.n_patients == 3
    p = c.patients
    assert p["kd_like"].tolist() == [False, True, True]  # no / YES / y
    assert str(p["age_years"].dtype) == "float64"
    assert pd.isna(p.loc[2, "icu"])  # empty stays missing, never filled
    assert set(c.tables) == {t.name for t in C.TABLES}


def test_xlsx_loads_like_csv(tmp_path):
    d = write(tmp_path)
    xl = tmp_path / "cohort.xlsx"
    with pd.ExcelWriter(xl) as w:
        for name in FILES:
            pd.read_csv(d / f"{name}.csv", dtype=str).to_excel(w, sheet_name=name, index=False)
    a, b = load_cohort(d), load_cohort(xl)
    for name in FILES:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=True)


@pytest.mark.parametrize(
    "override, file, row, column, message",
    [
        (
            {
                "patients": PATIENTS.replace(",anakinra_indication\n", "\n")
                .replace(",adjunct\n", "\n")
                .replace(",\nC", "\nC")
                .replace(",rescue\n", "\n")
            },
            "patients.csv",
            1,
            "anakinra_indication",
            "missing column",
        ),
        (
            {"echo": "patient_id,day,lvef_pct,strain_ap4_pct,notes\nA,0,45,-12,x\n"},
            "echo.csv",
            1,
            "notes",
            "unknown column",
        ),
        (
            {"temperatures": "patient_id,hour,temp_c,site\nA,0,39.1,oral\nA,six,37.5,oral\n"},
            "temperatures.csv",
            3,
            "hour",
            "not a valid float",
        ),
        ({"patients": PATIENTS.replace("8,M,", "eight,M,")}, "patients.csv", 2, "age_years", "not a valid float"),
        (
            {"patients": PATIENTS.replace("yes,no,1,true", "maybe,no,1,true")},
            "patients.csv",
            2,
            "sars_cov2_pcr",
            "not a valid bool",
        ),
        ({"patients": PATIENTS.replace("B,4,F", "A,4,F")}, "patients.csv", 3, "patient_id", "duplicate patient_id"),
        ({"echo": FILES["echo"] + "Z,3,50,-15\n"}, "echo.csv", 5, "patient_id", "patient who is not in patients"),
        (
            {"echo": "patient_id,day,lvef_pct,strain_ap4_pct\nA,0,145,-12\n"},
            "echo.csv",
            2,
            "lvef_pct",
            "impossible value",
        ),
        (
            {"temperatures": "patient_id,hour,temp_c,site\nA,0,47,oral\n"},
            "temperatures.csv",
            2,
            "temp_c",
            "impossible value",
        ),
        (
            {"temperatures": "patient_id,hour,temp_c,site\nA,0,29.5,oral\n"},
            "temperatures.csv",
            2,
            "temp_c",
            "impossible value",
        ),
        (
            {"anakinra_doses": "patient_id,day,dose_mg_kg_day,doses_per_day,route\nA,1,-8,4,IV\n"},
            "anakinra_doses.csv",
            2,
            "dose_mg_kg_day",
            "out of range",
        ),
        ({"patients": PATIENTS.replace("B,4,F", "B,-4,F")}, "patients.csv", 3, "age_years", "out of range"),
        (
            {"echo": "patient_id,day,lvef_pct,strain_ap4_pct\nA,0,45,12\n"},
            "echo.csv",
            2,
            "strain_ap4_pct",
            "impossible value",
        ),
        (
            {"echo": "patient_id,day,lvef_pct,strain_ap4_pct\nA,5,45,-12\nA,2,50,-14\n"},
            "echo.csv",
            3,
            "day",
            "out of order",
        ),
        (
            {"temperatures": "patient_id,hour,temp_c,site\nA,6,39.1,oral\nA,6,37.5,oral\n"},
            "temperatures.csv",
            3,
            "hour",
            "duplicate",
        ),
        ({"patients": PATIENTS.replace(",M,", ",X,")}, "patients.csv", 2, "sex", "value not allowed"),
        ({"patients": PATIENTS.replace("A,8,", ",8,")}, "patients.csv", 2, "patient_id", "empty cell"),
        (
            {"anakinra_doses": "patient_id,day,dose_mg_kg_day,doses_per_day,route\nA,1,8,4,IM\n"},
            "anakinra_doses.csv",
            2,
            "route",
            "value not allowed",
        ),
        (
            {
                "anakinra_doses": "patient_id,day,dose_mg_kg_day,doses_per_day,route,doses_given\n"
                "A,1,8,4,IV,4\nA,2,10,4,IV,5\n"
            },
            "anakinra_doses.csv",
            3,
            "doses_given",
            "doses_given (5) is more than doses_per_day (4)",
        ),
        (
            {"cytokines": "patient_id,cytokine,fold_difference\nA,IL-99,2\n"},
            "cytokines.csv",
            2,
            "cytokine",
            "value not allowed",
        ),
        ({"patients": None}, "patients.csv", None, None, "required table 'patients' is missing"),
    ],
)
def test_each_rule_rejects_with_message(tmp_path, override, file, row, column, message):
    if override.get("patients", "") is None:
        d = write(tmp_path)
        (d / "patients.csv").unlink()
        cohort, problems = validate(d)
        problems = [p for p in problems if p.severity == "error"]
    else:
        cohort, problems = problems_for(tmp_path, **override)
    assert cohort is None, "a bad cohort must never half-load"
    hits = [
        p
        for p in problems
        if p.file == file
        and message in p.message
        and (row is None or p.row == row)
        and (column is None or p.column == column)
    ]
    assert hits, "\n".join(p.text() for p in problems)
    assert all(p.fix for p in problems)


def test_every_problem_reported_at_once(tmp_path):
    d = write(
        tmp_path,
        patients=PATIENTS.replace(",M,", ",X,").replace("B,4,F", "B,-4,F"),
        echo="patient_id,day,lvef_pct,strain_ap4_pct\nA,0,145,3\nQ,1,50,-10\n",
    )
    with pytest.raises(CohortInvalid) as ei:
        load_cohort(d)
    text = ei.value.report()
    for expected in ("sex", "age_years", "lvef_pct", "strain_ap4_pct", "not in patients"):
        assert expected in text
    assert len([p for p in ei.value.problems if p.severity == "error"]) >= 5


def test_unreadable_upload_bytes_is_a_problem_not_a_crash():
    cohort, problems = validate(b"this is not a workbook", filename="upload.xlsx")
    assert cohort is None and problems and "cannot be read" in problems[0].message


def test_cli_validate_exit_codes(tmp_path):
    ok = subprocess.run(
        [sys.executable, "-m", "misc_dash", "validate", str(write(tmp_path))], capture_output=True, text=True, cwd=ROOT
    )
    assert ok.returncode == 0 and "valid — 3 patients" in ok.stdout
    bad = write(tmp_path, echo="patient_id,day,lvef_pct,strain_ap4_pct\nA,0,145,-12\n")
    r = subprocess.run(
        [sys.executable, "-m", "misc_dash", "validate", str(bad)], capture_output=True, text=True, cwd=ROOT
    )
    assert r.returncode == 1 and "lvef_pct" in r.stdout and "Traceback" not in r.stdout + r.stderr


def test_template_and_dictionary_match_contract():
    for t in C.TABLES:
        cols = pd.read_csv(ROOT / "data" / "template" / f"{t.name}.csv").columns.tolist()
        assert cols == list(t.column_names)
    assert (ROOT / "docs" / "DATA_DICTIONARY.md").read_text(
        encoding="utf-8"
    ).strip() == C.data_dictionary_markdown().strip()
    # the empty template is well formed, but it is not a cohort (issue 16: a 0-patient cohort is refused)
    cohort, problems = validate(ROOT / "data" / "template.xlsx")
    errors = [p for p in problems if p.severity == "error"]
    assert cohort is None and [(p.file, p.message) for p in errors] == [
        ("template.xlsx[patients]", "has no patients (no row below the header)")
    ]


def test_anakinra_duration_is_the_sum_of_doses_given_over_doses_per_day(tmp_path):
    """CONVENTIONS: duration = sum over days of doses_given / doses_per_day (a missing doses_given = a full day);
    validation refuses doses_given > doses_per_day, so no day counts more than one. 4 + 4 + 2 of 4 → 2.5 days."""
    from misc_dash import derive

    doses = "patient_id,day,dose_mg_kg_day,doses_per_day,route,doses_given\nA,1,8,4,IV,\nA,2,10,4,IV,4\nA,3,8,4,IV,2\n"
    cohort = load_cohort(write(tmp_path, anakinra_doses=doses))
    courses = derive.anakinra_courses(cohort["anakinra_doses"], cohort["patients"])
    assert courses.loc["A", "duration_days"] == 2.5
    assert courses.loc["A", "days_on_drug"] == 3


@pytest.mark.parametrize("cell", ["inf", "-Infinity", "1e309", " INF "])
def test_infinite_numbers_are_refused(tmp_path, cell):
    """Issue 16 (hostile input): float() reads these, but no measurement is infinite — the cell is refused with
    the file, row and column, like any other non-number."""
    cohort, problems = problems_for(
        tmp_path, temperatures=f"patient_id,hour,temp_c,site\nA,0,39.1,oral\nA,{cell},37.5,oral\n"
    )
    assert cohort is None
    assert [(p.file, p.row, p.column, p.message) for p in problems] == [
        ("temperatures.csv", 3, "hour", "not a valid float")
    ]


def test_file_names_match_tables_whatever_their_case(tmp_path):
    """Issue 16 (careless input): `Patients.CSV`, ` ECHO.csv` and `Metadata.JSON` are the patients and echo tables
    and the metadata; messages name the user's own file."""
    d = write(tmp_path)
    (d / "patients.csv").rename(d / "Patients.CSV")
    (d / "echo.csv").rename(d / "ECHO.csv")
    (d / "Metadata.JSON").write_text('{"name": "Ward 5"}', encoding="utf-8")
    cohort, problems = validate(d)
    assert cohort is not None, [p.text() for p in problems]
    assert cohort.name == "Ward 5" and cohort.n_patients == 3 and len(cohort["echo"]) == 3
    (d / "ECHO.csv").write_text("patient_id,day,lvef_pct,strain_ap4_pct\nA,zero,45,\n", encoding="utf-8")
    _, problems = validate(d)
    assert [p.file for p in problems if p.severity == "error"] == ["ECHO.csv"]


@pytest.mark.parametrize(
    "patient_id", ["A\u200b", "\u202eA", "A\u2066x\u2069", "\ufeffB"], ids=["zero-width", "RLO", "isolate", "BOM"]
)
def test_invisible_and_bidi_characters_are_flagged(tmp_path, patient_id):
    """Issue 16 (hostile input): ids that differ only by invisible characters, and text with bidirectional control
    characters, are refused with the file, row, column and the value spelled out (escaped)."""
    rows = PATIENTS.splitlines()
    rows[3] = rows[3].replace("C,", f"{patient_id},", 1)
    cohort, problems = problems_for(tmp_path, patients="\n".join(rows) + "\n")
    hidden = [p for p in problems if "control character" in p.message]
    assert cohort is None and [(p.file, p.row, p.column) for p in hidden] == [("patients.csv", 4, "patient_id")]
    assert "\\u" in hidden[0].value or "\\ufeff" in hidden[0].value


def test_latin1_and_semicolon_files_are_named_as_such(tmp_path):
    """Issue 16 (careless input): a Windows-1252 file and a semicolon- or tab-separated file each get one problem
    saying what the file is and how to save it, instead of a parse error or columns read wrongly."""
    d = write(tmp_path)
    (d / "echo.csv").write_bytes("patient_id,day,lvef_pct,strain_ap4_pct\nA,0,45,\nA,1,50,\n# café\n".encode("cp1252"))
    (d / "labs.csv").write_text("patient_id;day;analyte;value;unit\nA;0;crp;180;mg/L\n", encoding="utf-8")
    (d / "cytokines.csv").write_text("patient_id\tcytokine\tfold_difference\nA\tIL-6\t22.1\n", encoding="utf-8")
    cohort, problems = validate(d)
    got = {p.file: p.message for p in problems if p.severity == "error"}
    assert cohort is None
    assert got["echo.csv"].startswith("is not UTF-8 text")
    assert got["labs.csv"] == "is separated by semicolons, not commas"
    assert got["cytokines.csv"] == "is separated by tabs, not commas"


def test_an_unreadable_typical_table_is_not_reported_as_not_uploaded():
    """A Latin-1 labs.csv is named as such, and not also as "labs.csv was not uploaded" (it was)."""
    from misc_dash.loading import DEFAULT_COHORT_DIR, validate_files

    files = [(p.name, p.read_bytes()) for p in sorted(DEFAULT_COHORT_DIR.glob("*.csv"))]
    latin1 = lambda b: b.decode().replace("U/L", "µmol/l é", 5).encode("latin-1")
    files = [(n, latin1(b) if n == "labs.csv" else b) for n, b in files]
    cohort, problems = validate_files(files)
    assert cohort is None
    assert any(p.file == "labs.csv" and "not UTF-8" in p.message for p in problems)
    assert not any("was not uploaded" in p.message for p in problems)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("patient_id,age_years\nSYN-001,5,3\n", "more cells than the header"),
        ("patient_id,age_years\nSYN-001,5\nSYN-002,6,7\n", "Expected 2 fields in line 3, saw 3"),
    ],
)
def test_a_row_with_extra_cells_is_named_not_misread(text, fragment):
    """pandas reads 'a,b / 1,2,3' as a=2, b=3 (the first cell becomes the index): named instead."""
    from misc_dash.loading import validate_files

    cohort, problems = validate_files([("patients.csv", text.encode())])
    assert cohort is None
    assert any(p.file == "patients.csv" and fragment in p.message for p in problems), [p.text() for p in problems]
