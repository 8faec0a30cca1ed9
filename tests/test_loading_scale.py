"""Large cohorts (issue 15): vectorised validation with capped problem lists, Python's number rules, fast CSV and
Parquet reading, .zip cohorts (in memory, guarded), the table manifest, progress, the Parquet cache, exports
beyond .xlsx's limits, the memory-bounded analysis cache, the server's cohort (MISC_DASH_COHORT) and the banner of
a resampled cohort. Small generated cohorts only."""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from misc_dash import cache
from misc_dash import contract as C
from misc_dash import loading as L
from misc_dash.loading import DEFAULT_COHORT_DIR, load_cohort, validate, validate_files

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def base():
    return load_cohort(DEFAULT_COHORT_DIR)


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory, base):
    """A 300-patient resample, written as `python -m misc_dash synth` writes it."""
    from misc_dash.synth import synthesize, write_cohort

    out = tmp_path_factory.mktemp("s300")
    write_cohort(synthesize(300, seed=1, base=base), out, name="Synthetic resample (N=300, seed=1)")
    return out


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("MISC_DASH_CACHE", str(d))
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    return d


@pytest.fixture()
def no_cache(monkeypatch):
    monkeypatch.setenv("MISC_DASH_CACHE", "off")


def copy_dir(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def assert_same_cohort(a, b):
    assert a.fingerprint == b.fingerprint
    assert (a.name, a.synthetic, a.description, a.warnings) == (b.name, b.synthetic, b.description, b.warnings)
    assert list(a.tables) == list(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=True)


# ------------------------------------------------------------------------------------------------ validation
def test_resample_loads_with_contract_dtypes_and_pandas_fingerprint(synth_dir, no_cache):
    c = load_cohort(synth_dir)
    assert c.n_patients == 300 and c.synthetic and c.resampled
    want = {"str": "object", "int": "Int64", "float": "float64", "bool": "boolean"}
    for t in C.TABLES:
        assert [str(x) for x in c[t.name].dtypes] == [want[col.dtype] for col in t.columns], t.name
    assert c.fingerprint == L._fingerprint(c.tables)  # computed from the validation's codes, same value
    assert c.metadata["tables"] == {n: len(df) for n, df in c.tables.items() if len(df)}


def test_a_broken_large_file_lists_50_rows_per_rule_then_a_summary(synth_dir, tmp_path, no_cache):
    d = copy_dir(synth_dir, tmp_path / "broken")
    t = pd.read_csv(d / "temperatures.csv", dtype=str, keep_default_na=False)
    n = len(t)
    t.loc[::2, "temp_c"] = "hot"  # half the rows: not a number
    t.loc[1::2, "site"] = "ear"  # the other half: not an allowed site
    t.to_csv(d / "temperatures.csv", index=False)
    cohort, problems = validate(d)
    assert cohort is None
    mine = [p for p in problems if p.file == "temperatures.csv"]
    bad_num = [p for p in mine if p.column == "temp_c"]
    bad_site = [p for p in mine if p.column == "site"]
    assert len(bad_num) == len(bad_site) == L.MAX_PROBLEMS_PER_RULE + 1
    assert bad_num[0].message == "not a valid float" and bad_num[0].value == "hot" and bad_num[0].row == 2
    assert bad_site[0].message == "value not allowed" and bad_site[0].fix.startswith("use one of: oral")
    (summary,) = [p for p in bad_num if p.message.startswith("…")]
    assert f"and {(n + 1) // 2 - L.MAX_PROBLEMS_PER_RULE} more rows" in summary.message
    assert summary.row == 2 + 2 * L.MAX_PROBLEMS_PER_RULE and summary.fix
    assert len(problems) < 300


def test_python_number_rules_vectorised(tmp_path, no_cache):
    """Cells are read as Python's float()/int() read them (spaces around, '1_0', unicode digits), 'nan' is an
    empty cell, pyarrow's extra hexadecimal integers are refused, and a column of odd cells still loads."""
    from tests.test_loading import PATIENTS

    d = tmp_path / "c"
    d.mkdir()
    (d / "patients.csv").write_text(PATIENTS, encoding="utf-8")
    (d / "echo.csv").write_text(
        "patient_id,day,lvef_pct,strain_ap4_pct\nA, 1 ,1_0,\nA,+2,٣,\nA,3,nan,\nB,0x10,50,\nB,5.0,50,\n",
        encoding="utf-8",
    )
    _, problems = validate(d)
    got = {(p.row, p.column, p.message, p.value) for p in problems if p.file == "echo.csv"}
    assert {(5, "day", "not a valid int", "0x10"), (6, "day", "not a valid int", "5.0")} <= got
    assert not [p for p in problems if p.row in (2, 3, 4)]
    (d / "echo.csv").write_text("patient_id,day,lvef_pct,strain_ap4_pct\nA, 1 ,1_0,\nA,+2,٣,\nA,3,nan,\n")
    c = load_cohort(d)
    assert c["echo"]["day"].tolist() == [1, 2, 3]
    assert c["echo"]["lvef_pct"].tolist()[:2] == [10.0, 3.0] and np.isnan(c["echo"]["lvef_pct"][2])


def test_csv_reading_keeps_text_semantics(tmp_path, no_cache):
    """BOM skipped, quoted cells with commas and newlines, empty cell missing, short rows padded (pandas),
    a header naming a column twice reported, an empty file reported."""
    from tests.test_loading import FILES, write

    d = write(tmp_path)
    (d / "labs.csv").write_bytes(
        '\ufeffpatient_id,day,analyte,value,unit\nA,0,crp,180,"mg/L, serum"\nA,1,crp,120,"mg\n/L"\n'
        "A,2,crp,90\n".encode()
    )
    labs = load_cohort(d)["labs"]
    assert labs["unit"].tolist()[:2] == ["mg/L, serum", "mg\n/L"] and labs["unit"].isna().tolist() == [0, 0, 1]
    (d / "labs.csv").write_text(FILES["labs"].replace("value,unit", "value,value"))
    _, problems = validate(d)
    assert any(p.message == "column 'value' appears twice" for p in problems)
    (d / "labs.csv").write_text("")
    _, problems = validate(d)
    assert any(p.file == "labs.csv" and "cannot be read as CSV" in p.message for p in problems)


def test_progress_reports_from_0_to_1(synth_dir, no_cache):
    seen = []
    load_cohort(synth_dir, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and all(isinstance(m, str) and m for _, m in seen)
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(fractions))
    assert any("labs.csv" in m for _, m in seen)


# ------------------------------------------------------------------------------------------------ formats
def test_parquet_folder_and_zip_load_like_csv(synth_dir, tmp_path, no_cache):
    a = load_cohort(synth_dir)
    pq_dir = tmp_path / "pq"
    pq_dir.mkdir()
    for name, df in a.tables.items():
        df.to_parquet(pq_dir / f"{name}.parquet", index=False)
    (pq_dir / "metadata.json").write_text((synth_dir / "metadata.json").read_text())
    b = load_cohort(pq_dir)
    for name in a.tables:
        pd.testing.assert_frame_equal(a[name], b[name])
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        for f in synth_dir.iterdir():
            zf.write(f, f"export/cohort/{f.name}")  # in a subfolder
        zf.writestr("__MACOSX/export/cohort/._labs.csv", b"junk")
    c, problems = validate_files([("cohort.zip", zbuf.getvalue())])
    assert c is not None and c.name == a.name, [p.text() for p in problems]
    for name in a.tables:
        pd.testing.assert_frame_equal(a[name], c[name])
    zpath = tmp_path / "cohort.zip"
    zpath.write_bytes(zbuf.getvalue())
    assert load_cohort(zpath).fingerprint == a.fingerprint


def test_zip_guards(tmp_path, monkeypatch, no_cache):
    from tests.test_loading import FILES

    def make(members: dict[str, bytes]) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for n, data in members.items():
                zf.writestr(n, data)
        return buf.getvalue()

    files = {f"{k}.csv": v.encode() for k, v in FILES.items()}
    ok, _ = validate_files([("c.zip", make({"../../evil/patients.csv": b"x", **files}))])
    assert ok is not None and any("unsafe path" in p.message for p in ok.warnings)
    _, problems = validate_files([("c.zip", make({f"a/{n}": d for n, d in files.items()} | {"b/labs.csv": b"x"}))])
    assert any("several folders" in p.message for p in problems)
    monkeypatch.setattr(L, "ZIP_MAX_BYTES", 10_000)
    _, problems = validate_files([("bomb.zip", make({**files, "labs.csv": b"0" * 50_000}))])
    assert any("would unpack to" in p.message for p in problems)
    _, problems = validate_files([("c.zip", b"PK\x03\x04 not a zip")])
    assert problems[0].message.startswith("cannot be read as a .zip")


def test_several_files_together_over_the_limit_are_not_read(monkeypatch, no_cache):
    """Streamlit limits each uploaded file (server.maxUploadSize), not their sum: several files that together hold
    more than ZIP_MAX_BYTES (what one upload is read from, as for a .zip's members) are refused before any is
    parsed, with one problem saying so, on both upload paths (contract files and a hospital export to map)."""
    from misc_dash import mapping as M
    from tests.test_loading import FILES

    files = [(f"{k}.csv", v.encode()) for k, v in FILES.items()]
    total = sum(len(b) for _, b in files)
    monkeypatch.setattr(L, "ZIP_MAX_BYTES", total - 1)
    cohort, problems = validate_files(files)
    assert cohort is None and len(problems) == 1
    assert problems[0].file == "upload" and f"the {len(files)} files hold" in problems[0].message
    assert "one .zip" in problems[0].fix
    sources, problems = M.read_sources(files)
    assert sources == {} and len(problems) == 1 and "nothing was read" in problems[0].message
    monkeypatch.setattr(L, "ZIP_MAX_BYTES", total)
    cohort, problems = validate_files(files)
    assert cohort is not None  # at the limit: read


def test_manifest_refuses_an_upload_missing_a_file(synth_dir, no_cache):
    """What the browser does at ~24,000 patients with 50 MB per file: labs.csv and temperatures.csv never
    arrive. With the manifest in metadata.json the upload is refused, naming the files and suggesting a .zip."""
    files = [(f.name, f.read_bytes()) for f in synth_dir.iterdir() if f.name not in ("labs.csv", "temperatures.csv")]
    cohort, problems = validate_files(files)
    assert cohort is None
    errors = {p.file: p for p in problems if p.severity == "error"}
    assert set(errors) == {"labs.csv", "temperatures.csv"}
    assert "metadata.json lists table 'labs'" in errors["labs.csv"].message and ".zip" in errors["labs.csv"].fix
    short = [(n, b if n != "echo.csv" else b.rsplit(b"\n", 3)[0] + b"\n") for n, b in files]
    short += [(f.name, f.read_bytes()) for f in synth_dir.iterdir() if f.name in ("labs.csv", "temperatures.csv")]
    cohort, problems = validate_files(short)
    assert cohort is None and any(p.file == "echo.csv" and "but metadata.json lists" in p.message for p in problems)


def test_upload_without_manifest_warns_about_missing_typical_tables(tmp_path, no_cache):
    from tests.test_loading import FILES

    files = [(f"{k}.csv", v.encode()) for k, v in FILES.items() if k not in ("labs", "temperatures")]
    cohort, _ = validate_files(files)
    assert cohort is not None and cohort.name == "Uploaded cohort" and cohort.source == "upload"
    (w,) = [p for p in cohort.warnings if p.file == "upload"]
    assert "temperatures, labs" in w.message and ".zip" in w.fix and w.severity == "warning"
    full, _ = validate_files([(f"{k}.csv", v.encode()) for k, v in FILES.items()])
    assert not [p for p in full.warnings if p.file == "upload"]


# ------------------------------------------------------------------------------------------------ cache
def test_cached_load_equals_cold_load(synth_dir, tmp_path, cache_dir):
    d = copy_dir(synth_dir, tmp_path / "c")
    cold = load_cohort(d)
    cache.flush()
    assert len(list(cache_dir.iterdir())) == 1
    seen = []
    warm = load_cohort(d, progress=lambda f, m: seen.append(m))
    assert "Opened from the cache" in seen
    assert_same_cohort(cold, warm)
    assert warm.source == str(d) and warm.metadata == cold.metadata and warm.resampled


def test_changed_file_invalidates_and_corrupt_entry_falls_back(synth_dir, tmp_path, cache_dir):
    d = copy_dir(synth_dir, tmp_path / "c")
    first = load_cohort(d)
    cache.flush()
    (entry,) = cache_dir.iterdir()
    (entry / "labs.parquet").write_bytes(b"not parquet")
    again = load_cohort(d)  # the corrupt entry is ignored and removed: read from the CSVs
    assert_same_cohort(first, again)
    cache.flush()
    labs = (d / "labs.csv").read_text().splitlines()
    (d / "labs.csv").write_text("\n".join(labs[:-1]) + "\n")  # one row fewer (manifest: an error)
    _, problems = validate(d)
    assert any(p.file == "labs.csv" and "metadata.json lists" in p.message for p in problems)
    meta = json.loads((d / "metadata.json").read_text())
    meta["tables"]["labs"] -= 1
    (d / "metadata.json").write_text(json.dumps(meta))
    changed = load_cohort(d)
    assert len(changed["labs"]) == len(first["labs"]) - 1 and changed.fingerprint != first.fingerprint


def test_cache_off_and_uploads_are_not_cached(synth_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    monkeypatch.setenv("MISC_DASH_CACHE", "off")
    assert cache.cache_dir() is None and L._cache_key(synth_dir) is None
    monkeypatch.setenv("MISC_DASH_CACHE", str(tmp_path / "cc"))
    validate_files([(f.name, f.read_bytes()) for f in synth_dir.iterdir()])
    cache.flush()
    assert not (tmp_path / "cc").exists()  # an upload stays in memory, as the Data page promises
    monkeypatch.delenv("MISC_DASH_CACHE")
    assert cache.cache_dir().name == "misc_dash"


# ------------------------------------------------------------------------------------------------ exports
def test_zip_exports_round_trip_formula_safe(base, tmp_path, no_cache):
    tables = {n: df.copy() for n, df in base.tables.items()}
    tables["patients"].loc[0, "race"] = "=HYPERLINK(1)"
    meta = L.export_metadata(base, tables, "x (filtered)", "All patients")
    assert meta["tables"]["patients"] == 46 and meta["synthetic"] is True
    for fmt in ("csv", "parquet"):
        data = L.cohort_zip(tables, meta, fmt=fmt)
        c, problems = validate_files([("x.zip", data)])
        assert c is not None, [p.text() for p in problems]
        assert c.n_patients == 46 and c.name == "x (filtered)"
        # issue 16: written as text (a CSV quote-prefixes it), read back as it was
        assert c["patients"].loc[0, "race"] == "=HYPERLINK(1)"
        for name in ("temperatures", "labs", "anakinra_doses"):
            pd.testing.assert_frame_equal(c[name], base[name])


def test_xlsx_export_of_formula_like_text_loads_back_as_it_was(base, no_cache):
    """Issue 16: a cohort whose text starts like a formula exports to .xlsx as text and re-imports unchanged."""
    tables = {n: df.copy() for n, df in base.tables.items()}
    tables["patients"].loc[0, "race"] = "=HYPERLINK(1)"
    tables["patients"].loc[1, "race"] = "@SUM(A1)"
    meta = L.export_metadata(base, tables, "x (filtered)", "All patients")
    c, problems = validate_files([("x.xlsx", L.cohort_xlsx(tables, meta))])
    assert c is not None, [p.text() for p in problems]
    assert c["patients"]["race"].tolist()[:2] == ["=HYPERLINK(1)", "@SUM(A1)"]


def test_xlsx_export_refused_beyond_a_sheet_and_formula_safe(base, tmp_path):
    from openpyxl import load_workbook

    assert L.xlsx_refusal({"labs": (1_048_576, 5)}).startswith("an .xlsx sheet holds at most 1,048,576 rows")
    assert "cells" in L.xlsx_refusal({"labs": (500_000, 5)})
    assert L.xlsx_refusal(base.tables) is None
    tables = {n: df.copy() for n, df in base.tables.items()}
    tables["patients"].loc[0, "race"] = "=1+1"
    data = L.cohort_xlsx(tables, L.export_metadata(base, tables, "x", "y"))
    cell = load_workbook(io.BytesIO(data))["patients"]["D2"]
    assert cell.value == "=1+1" and cell.data_type == "s"
    (tmp_path / "x.xlsx").write_bytes(data)
    back = load_cohort(tmp_path / "x.xlsx")
    assert back.n_patients == 46 and back["patients"].loc[0, "race"] == "=1+1"


# ------------------------------------------------------------------------------------------------ UI pieces
def test_budget_cache_evicts_by_size_and_keeps_the_newest(monkeypatch):
    from misc_dash.ui import state

    store = state.BudgetCache()
    monkeypatch.setenv(state.ENV_CACHE_MB, "1")
    big = lambda: np.zeros(300_000)  # 2.4 MB: over the budget alone
    small = lambda: np.zeros(10_000)
    store.get(("a",), small)
    store.get(("b",), small)
    assert len(store) == 2
    store.get(("c",), big)
    assert store.keys() == [("c",)]  # the others evicted, the newest kept though it is over budget
    calls = []
    store.get(("d",), lambda: calls.append(1) or 1)
    store.get(("d",), lambda: calls.append(1) or 1)
    assert calls == [1]
    with pytest.raises(ZeroDivisionError):
        store.get(("e",), lambda: 1 / 0)
    assert ("e",) not in store.keys()  # noqa: SIM118

    @state.budget_cached()
    def f(key: str, _ignored):
        return np.zeros(10)

    assert f("k", object()) is f("k", object())  # underscore arguments are not part of the key
    f.clear()
    assert not [k for k in state.STORE.keys() if k[0].endswith("f")]  # noqa: SIM118


def test_the_same_upload_is_one_copy_for_every_session(no_cache):
    from misc_dash.ui import state
    from tests.test_loading import FILES

    files = [(f"{k}.csv", v.encode()) for k, v in FILES.items()]
    a, _ = validate_files(files)
    b, _ = validate_files(files)
    assert a is not b and state.shared_upload(a) is a and state.shared_upload(b) is a


def test_approx_bytes_counts_a_subset_not_its_parent(base):
    from misc_dash.ui.state import approx_bytes

    sub = base.subset(base.patients["patient_id"][:10])
    assert approx_bytes(sub) == 0  # nothing filtered yet
    sub["temperatures"]
    assert 0 < approx_bytes(sub) < approx_bytes(base["temperatures"])
    assert approx_bytes(base) == 0  # a loaded cohort is shared, not the cache's


def test_resampled_cohort_banner_says_so(base, synth_dir, no_cache):
    from misc_dash import analyses as A
    from misc_dash import views

    c = load_cohort(synth_dir)
    h = views.build_header(views.ViewContext(A.prepare(c), c.n_patients), "T")
    assert "resampled from the reconstructed index cohort (300 patients)" in h.banner_md
    assert h.banner_md.startswith("**SYNTHETIC COHORT — not real patients.**")
    vc = views.ViewContext(A.prepare(c), c.n_patients)
    assert "resampled" in vc.source
    h0 = views.build_header(views.ViewContext(A.prepare(base), 46), "T")
    assert h0.banner_md == views.SYNTHETIC_BANNER.format(n=46)


# ------------------------------------------------------------------------------------------------ MISC_DASH_COHORT
def _app():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_server_cohort_is_opened_and_named(synth_dir, tmp_path, monkeypatch, no_cache):
    d = copy_dir(synth_dir, tmp_path / "server")
    monkeypatch.setenv("MISC_DASH_COHORT", str(d))
    at = _app()
    text = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert "All patients — n = 300" in text
    assert any("resampled from the reconstructed index cohort (300 patients)" in w.value for w in at.warning)
    assert any("Synthetic resample (N=300, seed=1)" in w.value.replace("\\", "") for w in at.sidebar.warning)


def test_bad_server_cohort_says_so_and_falls_back(tmp_path, monkeypatch, no_cache):
    from tests.test_loading import write

    d = write(tmp_path, echo="patient_id,day,lvef_pct,strain_ap4_pct\nA,0,145,-12\n")
    monkeypatch.setenv("MISC_DASH_COHORT", str(d))
    at = _app()
    (err,) = [e for e in at.error if "server's cohort could not be opened" in e.value]
    assert "1 problem(s)" in err.value and "reconstructed default cohort is shown instead" in err.value
    assert "All patients — n = 46" in "\n".join(m.value for m in at.markdown).replace("\\", "")
    monkeypatch.setenv("MISC_DASH_COHORT", str(tmp_path / "nowhere"))
    at = _app()
    assert any("could not be opened" in e.value for e in at.error)


def test_a_command_line_run_writes_the_cache_before_it_exits(synth_dir, cache_dir):
    """`python -m misc_dash analyze` loads, prints and exits: the background write still lands (it runs while the
    interpreter shuts down, when pyarrow can no longer start its thread pool)."""
    import subprocess
    import sys

    code = (
        "import misc_dash.cache as c; c.MIN_BYTES = 0\n"
        "from misc_dash.loading import load_cohort\n"
        f"load_cohort({str(synth_dir)!r})\n"
    )
    env = {**__import__("os").environ, "MISC_DASH_CACHE": str(cache_dir), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "not written" not in out.stderr
    entries = [p for p in cache_dir.iterdir() if not p.name.startswith(".")]
    assert len(entries) == 1 and any(entries[0].glob("*.parquet"))


def test_a_real_server_cohort_is_never_downloaded_patient_by_patient(tmp_path, monkeypatch, no_cache):
    """A real cohort the server opens for every viewer (MISC_DASH_COHORT) has no filtered-cohort download; an upload
    of the same patients (the session's own) keeps it."""
    from misc_dash.loading import DEFAULT_COHORT_DIR, export_metadata, load_default_cohort, write_cohort_folder

    c = load_default_cohort()
    meta = export_metadata(c, dict(c.tables), "Hospital registry", "")
    meta["synthetic"] = False
    d = write_cohort_folder(dict(c.tables), meta, tmp_path / "registry")
    monkeypatch.setenv("MISC_DASH_COHORT", str(d))
    at = _app()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    assert any("No patient-level download of the server's cohort" in i.value for i in at.info)
    assert not [b for b in at.get("download_button") if "patients (.zip of CSVs)" in str(b.proto.label)]
    files = [(p.name, p.read_bytes(), "text/csv") for p in sorted(DEFAULT_COHORT_DIR.glob("*.csv"))]
    at.file_uploader(key="upload_files").set_value(files).run()
    at.button[[b.label for b in at.button].index("Validate and load")].click().run()
    assert not at.exception
    assert not any("server's cohort" in i.value for i in at.info)
    assert [b for b in at.get("download_button") if "patients (.zip of CSVs)" in str(b.proto.label)]
