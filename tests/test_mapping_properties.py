"""Property-based tests (hypothesis) of the mapper, issue 16: whatever a saved mapping file holds and whatever
mapping a user clicks together over whatever cells, no exception escapes, and every problem names its file (a
source table or the mapping file) and, for a cell, its row and column."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from misc_dash import contract as C
from misc_dash import mapping as M
from tests import warehouse
from tests.test_hostile_properties import SETTINGS, cells

SOURCES, _ = M.read_sources(list(warehouse.export_files().items()))
SOURCE_NAMES = sorted(SOURCES)
SOURCE_COLUMNS = sorted({str(c) for df in SOURCES.values() for c in df.columns})

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=12,
)


@SETTINGS
@given(
    st.one_of(
        st.text(max_size=60),
        json_values.map(json.dumps),
        st.dictionaries(
            st.sampled_from(["format", "version", "tables", "admission", "name"]), json_values, max_size=5
        ).map(lambda d: json.dumps({"format": M.FORMAT, "version": 1, **d})),
    )
)
def test_any_mapping_file_is_read_or_refused_with_where(text):
    m, problems = M.parse_mapping(text, "x.mapping.json")
    assert (m is None) == bool(problems)
    assert all(p.file == "x.mapping.json" for p in problems)


column_maps = st.builds(
    M.ColumnMap,
    column=st.one_of(st.none(), st.sampled_from(SOURCE_COLUMNS), st.text(max_size=5)),
    values=st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=3),
    transform=st.one_of(st.none(), st.sampled_from(sorted(M.TRANSFORMS))),
    value=st.one_of(st.none(), cells),
    format=st.one_of(st.none(), st.sampled_from(["%d/%m/%Y", "%Y", "%H:%M", "x"])),
)


@st.composite
def mappings(draw):
    tables = {}
    for spec in draw(st.lists(st.sampled_from(C.TABLES), unique=True, max_size=4)):
        cols = draw(st.dictionaries(st.sampled_from(spec.column_names), column_maps, max_size=5))
        tables[spec.name] = M.TableMap(
            draw(st.one_of(st.sampled_from(SOURCE_NAMES), st.text(max_size=5))),
            cols,
            tuple(draw(st.lists(st.text(max_size=3), max_size=2))),
        )
    admission = draw(
        st.one_of(
            st.none(),
            st.builds(
                M.Admission,
                st.sampled_from(SOURCE_NAMES),
                st.sampled_from(SOURCE_COLUMNS),
                st.sampled_from(SOURCE_COLUMNS),
                st.one_of(st.none(), st.just("%Y-%m-%d %H:%M:%S"), st.text(max_size=4)),
            ),
        )
    )
    return M.CohortMapping(tables, admission)


@SETTINGS
@given(
    mapping=mappings(),
    edits=st.lists(st.tuples(st.sampled_from(SOURCE_NAMES), st.integers(0, 40), st.integers(0, 16), cells), max_size=6),
)
def test_any_mapping_over_any_cells_never_raises_and_says_where(mapping, edits):
    sources = {k: v.copy() for k, v in SOURCES.items()}
    for name, row, col, value in edits:
        df = sources[name]
        df.iat[row % len(df), col % df.shape[1]] = value
    cohort, problems = M.validate_mapped(sources, mapping)
    errors = [p for p in problems if p.severity == "error"]
    assert (cohort is None) == bool(errors)
    for p in problems:
        assert p.file, p
        if p.value is not None:
            assert p.row is not None and p.row >= 2 and p.column, p
    again, _ = M.parse_mapping(mapping.to_json())  # what the page saves is a mapping it reads back
    assert again is None or again.to_json() == mapping.to_json() or not mapping.tables
