"""Property-based tests (hypothesis) of the reader and the validator, issue 16: whatever bytes or cells a
hospital's export contains, no exception escapes, and every problem names its file (and, for a cell, its row and
column); a refused upload leaves nothing half-loaded."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from misc_dash import contract as C
from misc_dash.loading import Problem, validate_files
from tests.test_loading import FILES

SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
NAMES = [f"{t}.csv" for t in C.TABLES_BY_NAME] + ["metadata.json", "Patients.CSV", "x.csv", "cohort.zip", "a.xlsx"]
cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "=1+1", "+1", "-1", "@x", "inf", "nan", "1e309", "0x10", "１２", "\u202eA", '"', ","]),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


def _check(cohort, problems) -> None:
    assert all(isinstance(p, Problem) for p in problems)
    for p in problems:
        assert p.file, p
        assert p.row is None or p.row >= 1, p
        if p.value is not None:  # a cell's problem says where the cell is
            assert p.row is not None and p.column, p
    errors = [p for p in problems if p.severity == "error"]
    assert (cohort is None) == bool(errors)
    if cohort is not None:
        assert cohort.n_patients > 0


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(NAMES), st.binary(max_size=400)), min_size=1, max_size=4))
def test_any_bytes_under_any_name_never_raise(files):
    cohort, problems = validate_files(files)
    _check(cohort, problems)


@SETTINGS
@given(
    table=st.sampled_from([t.name for t in C.TABLES]),
    header=st.lists(
        st.one_of(st.sampled_from(sorted({c for t in C.TABLES for c in t.column_names})), st.text()),
        min_size=1,
        max_size=8,
    ),
    rows=st.lists(st.lists(cells, min_size=0, max_size=9), max_size=6),
)
@example(table="patients", header=["anakinra_indication"], rows=[])  # found by hypothesis: a KeyError, fixed
def test_any_cells_in_a_contract_table_never_raise(table, header, rows):
    buf = io.StringIO()
    buf.write(",".join(h.replace(",", " ").replace("\n", " ").replace('"', "") for h in header) + "\n")
    for r in rows:
        buf.write(",".join('"' + c.replace('"', '""') + '"' for c in r) + "\n")
    files = {f"{name}.csv": text.encode() for name, text in FILES.items()}
    files[f"{table}.csv"] = buf.getvalue().encode("utf-8", "surrogatepass")
    cohort, problems = validate_files(list(files.items()))
    _check(cohort, problems)
