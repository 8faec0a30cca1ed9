"""REDCap: a project's data dictionary and records export turned into a cohort in the data contract.

REDCap (https://projectredcap.org) exports a project as two CSV files: the **data dictionary** (one row per field:
``Variable / Field Name``, ``Form Name``, ``Field Type``, ``Choices, Calculations, OR Slider Labels``, …) and the
**records** (one row per record, plus one row per instance of a repeating instrument; radio, dropdown and yes/no
fields as codes in a *raw* export or as their labels in a *labelled* one; a checkbox as one ``field___code`` column
per choice). This module reads both (:func:`read_export`), turns the records into source tables for the column
mapper of :mod:`misc_dash.mapping` (one table per repeating instrument, named after it, and one table
:data:`NON_REPEATING` of the fields of all non-repeating forms, one row per record), proposes the mapping
(:func:`propose_mapping`: a project built on the data contract needs none) and validates the mapped tables like any
cohort (:func:`import_export`, :func:`import_redcap`). Every problem is told on the records file: its row, the
record, the instrument and instance, the field and the value as exported (:class:`RedcapProblem`).

Nothing in the files is interpreted: calculations and branching logic are never evaluated, labels are text.

:func:`example_from_cohort` writes a REDCap project built on the contract from a cohort (``data/redcap_example``
is the default cohort's). See ``docs/REDCAP.md``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import contract as C
from .loading import Problem, _make_cohort, validate_tables
from .mapping import CohortMapping, ColumnMap, TableMap, _guess_column, _guess_values, _norm, apply_mapping

#: the source table of the fields of every non-repeating form (one row per record); a saved mapping may also name
#: any non-repeating form as the source, meaning this table
NON_REPEATING = "non_repeating"
INSTANCE = "redcap_repeat_instance"
EVENT = "redcap_event_name"
#: export columns that carry no data (with ``<form>_complete``, ``<form>_timestamp`` and ``*_timestamp``)
SYSTEM_COLUMNS = (
    "redcap_repeat_instrument",
    INSTANCE,
    EVENT,
    "redcap_data_access_group",
    "redcap_survey_identifier",
)
_SYSTEM_LABELS = {
    "redcap_repeat_instrument": "Repeat Instrument",
    INSTANCE: "Repeat Instance",
    EVENT: "Event Name",
    "redcap_data_access_group": "Data Access Group",
    "redcap_survey_identifier": "Survey Identifier",
}
FIELD_TYPES = (
    "text",
    "notes",
    "dropdown",
    "radio",
    "checkbox",
    "yesno",
    "truefalse",
    "calc",
    "file",
    "slider",
    "descriptive",
    "sql",
)
#: the data dictionary's header as REDCap writes it (Project Setup → Data Dictionary → Download)
DICTIONARY_HEADER = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
#: the same columns as the API's metadata export names them
API_HEADER = (
    "field_name",
    "form_name",
    "section_header",
    "field_type",
    "field_label",
    "select_choices_or_calculations",
    "field_note",
    "text_validation_type_or_show_slider_number",
    "text_validation_min",
    "text_validation_max",
    "identifier",
    "branching_logic",
    "required_field",
    "custom_alignment",
    "question_number",
    "matrix_group_name",
    "matrix_ranking",
    "field_annotation",
)
_KEYS = (
    "name",
    "form",
    "section",
    "type",
    "label",
    "choices",
    "note",
    "validation",
    "min",
    "max",
    "identifier",
    "branching",
    "required",
    "alignment",
    "question",
    "matrix",
    "ranking",
    "annotation",
)
MAX_CELL_PROBLEMS = 20  # cells listed per field and kind of problem; the rest are counted in one summary

DICTIONARY_FIX = "download the data dictionary again from REDCap (Project Setup → Data Dictionary → Download)"
RECORDS_FIX = (
    'export the records again from REDCap as "CSV / Microsoft Excel (raw data)" or "(labels)", '
    "with variable names as column headers"
)

_FORM_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_INT_RE = r"^[+-]?[0-9]+$"
_NUM_RE = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATETIME_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2})?$"


def _show(s) -> str:
    """Data text for a one-line message: as it is if it is plain, else quoted with its escapes visible."""
    t = str(s)
    return t if t and t.isprintable() and t.strip() == t and "'" not in t else repr(t)


# --------------------------------------------------------------------------------------------- problems
@dataclass(frozen=True)
class RedcapProblem(Problem):
    """A problem told on a REDCap records file: its row, the record (and event, instrument and instance), the
    field (``column``: the export's variable name) and, when it was mapped, the contract column it became."""

    record: str | None = None
    instrument: str | None = None
    instance: str | None = None
    event: str | None = None
    target: str | None = None  # "table.column" the field was mapped to

    def text(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.record is not None:
            where += f", record {_show(self.record)}"
            ctx = []
            if self.event:
                ctx.append(f"event {_show(self.event)}")
            if self.instrument:
                ctx.append(self.instrument + (f" #{_show(self.instance)}" if self.instance else ""))
            if ctx:
                where += f" ({', '.join(ctx)})"
        if self.column:
            where += f", field {self.column!r}"
            if self.target:
                where += f" (→ {self.target})"
        val = f" (value: {self.value!r})" if self.value is not None else ""
        return f"{self.severity.upper()}: {where}: {self.message}{val}. Fix: {self.fix}"

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.update(
            record=self.record, instrument=self.instrument, instance=self.instance, event=self.event, target=self.target
        )
        return out


# --------------------------------------------------------------------------------------------- reading CSV
def _source_bytes(src, what: str) -> tuple[str, bytes | None, list[Problem]]:
    """(file name, bytes) of a path or an uploaded (name, bytes) pair."""
    if isinstance(src, tuple):
        name, data = src
        return PurePosixPath(str(name).replace("\\", "/")).name or what, bytes(data), []
    p = Path(src)
    try:
        return p.name or str(p), p.read_bytes(), []
    except OSError as exc:
        msg = f"cannot be read ({exc.strerror or type(exc).__name__})"
        return p.name or str(p), None, [Problem(str(p), msg, f"give the path of the {what} CSV file REDCap exported")]


def _read_csv_table(label: str, data: bytes, fix: str) -> tuple[tuple[list[str], list[np.ndarray]] | None, list]:
    """A CSV's header and its columns (object arrays: text, None for an empty cell), by position (a labelled
    export's headers repeat). UTF-8 with commas, as REDCap writes it; anything else is named, not guessed."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        msg = 'is not UTF-8 text (it looks like Windows-1252 / Latin-1, e.g. saved again by Excel\'s plain "CSV")'
        return None, [Problem(label, msg, fix + "; do not open and save it in Excel first")]
    if not text.strip():
        return None, [Problem(label, "is empty", fix)]
    first = text[: text.find("\n")] if "\n" in text else text
    if "," not in first:
        for sep, what in ((";", "semicolons"), ("\t", "tabs")):
            if sep in first:
                return None, [Problem(label, f"is separated by {what}, not commas", fix + ", with commas")]
    try:
        header = next(csv.reader(io.StringIO(text)))
    except (csv.Error, StopIteration) as exc:
        return None, [Problem(label, f"cannot be read as CSV ({exc})", fix)]
    width = len(header)
    if width == 0 or not any(h.strip() for h in header):
        return None, [Problem(label, "has no header row", fix)]
    try:
        import pyarrow.csv as pcsv

        table = pcsv.read_csv(
            pa.py_buffer(data),
            read_options=pcsv.ReadOptions(autogenerate_column_names=True, block_size=8 << 20),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types={f"f{j}": pa.string() for j in range(width)},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
        if table.num_columns == width and all(pa.types.is_string(t) for t in table.schema.types):
            cols = [table.column(j).to_numpy(zero_copy_only=False)[1:].astype(object) for j in range(width)]
            return ([h.strip() for h in header], cols), []
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
        pass  # rows with another number of cells: read them one by one to say which
    problems: list[Problem] = []
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        return None, [Problem(label, f"cannot be read as CSV ({exc})", fix)]
    body = [r for r in rows[1:] if r]
    for i, r in enumerate(body):
        if len(r) != width and len(problems) < MAX_CELL_PROBLEMS:
            problems.append(Problem(label, f"has {len(r)} cells where the header has {width}", fix, row=i + 2))
    bad = sum(len(r) != width for r in body)
    if bad > MAX_CELL_PROBLEMS:
        problems.append(Problem(label, f"… and {bad - MAX_CELL_PROBLEMS} more rows with another number of cells", fix))
    if problems:
        return None, problems
    cols = [np.array([r[j] or None for r in body], dtype=object) for j in range(width)]
    return ([h.strip() for h in header], cols), []


def _arrow(a) -> pa.Array:
    return pa.array(np.asarray(a, dtype=object), type=pa.string(), from_pandas=True)


def _strip(a: np.ndarray) -> np.ndarray:
    """Cells with the spaces around them removed; an empty or blank cell is None."""
    t = pc.utf8_trim_whitespace(_arrow(a))
    t = pc.if_else(pc.equal(pc.binary_length(t), 0), pa.scalar(None, pa.string()), t)
    return t.to_numpy(zero_copy_only=False).astype(object)


def _has(a: np.ndarray) -> np.ndarray:
    """Which cells hold a value (cells are text or None)."""
    return np.not_equal(a, None)


def _matches(s, pattern: str) -> np.ndarray:
    """Which cells (text) match ``pattern`` (an empty cell does not)."""
    m = pc.match_substring_regex(_arrow(s), pattern)
    return pc.fill_null(m, False).to_numpy(zero_copy_only=False).astype(bool)


def _key(label: str) -> str:
    """A label as compared with a header or a value: tags removed (compared, never rendered), spaces collapsed,
    case folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", "", str(label))).strip().casefold()


# --------------------------------------------------------------------------------------------- the dictionary
@dataclass(frozen=True)
class Field:
    """One field of the data dictionary (``row``: its row there, header = 1)."""

    name: str
    form: str
    type: str
    label: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (code, label) of a radio, dropdown or checkbox
    validation: str = ""  # the text validation type as written (integer, number, number_1dp, date_ymd, …)
    identifier: bool = False
    row: int = 0

    @property
    def kind(self) -> str:
        """What the text validation makes of the value: "integer", "number", "date", "datetime" or ""."""
        v = self.validation
        if self.type != "text" or not v:
            return ""
        if v in ("integer", "int"):
            return "integer"
        if v.startswith("number") or v == "float":
            return "number"
        if v.startswith("datetime"):
            return "datetime"
        if v.startswith("date"):
            return "date"
        return ""

    @property
    def coded(self) -> bool:
        return self.type in ("radio", "dropdown", "yesno", "truefalse", "checkbox")

    def checkbox_columns(self) -> tuple[tuple[str, str, str], ...]:
        """(export column, code, label) of each choice of a checkbox: ``field___code`` (the code lower case, any
        character other than a letter, digit or underscore written as an underscore, as REDCap does)."""
        return tuple(
            (f"{self.name}___{re.sub(r'[^a-z0-9_]', '_', code.lower())}", code, label) for code, label in self.choices
        )

    def codes(self) -> tuple[tuple[str, str], ...]:
        """(code, label) of each value of a coded field (a checkbox: of one of its columns)."""
        if self.type in ("radio", "dropdown"):
            return self.choices
        if self.type == "yesno":
            return (("1", "Yes"), ("0", "No"))
        if self.type == "truefalse":
            return (("1", "True"), ("0", "False"))
        if self.type == "checkbox":
            return (("1", "Checked"), ("0", "Unchecked"))
        return ()


@dataclass(frozen=True)
class DataDictionary:
    label: str  # the file's name
    fields: tuple[Field, ...]

    @property
    def record_id(self) -> str:
        """The record id field: always the project's first field."""
        return self.fields[0].name

    @property
    def forms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.form for f in self.fields))

    def form_fields(self, form: str) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.form == form and f.type != "descriptive")

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


def _parse_choices(text: str) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """``"1, M | 2, F"`` → ((code, label), …) and an error (None if none). A label may contain commas: the code
    ends at the first one."""
    out: list[tuple[str, str]] = []
    for item in re.split(r"\s*(?:\||\\n|\n)\s*", text or ""):
        item = item.strip()
        if not item:
            continue
        if "," not in item:
            return (), f"choice {item!r} has no code (write choices as '1, First | 2, Second')"
        code, label = item.split(",", 1)
        code, label = code.strip(), label.strip()
        if not code:
            return (), f"choice {item!r} has an empty code"
        if any(code == c for c, _ in out):
            return (), f"the code {code!r} is used twice"
        out.append((code, label))
    if not out:
        return (), "has no choices (write them as '1, First | 2, Second')"
    return tuple(out), None


def _header_keys(header: list[str]) -> dict[str, int]:
    names = {_key(h): k for k, h in zip(_KEYS, DICTIONARY_HEADER)} | {h: k for k, h in zip(_KEYS, API_HEADER)}
    out: dict[str, int] = {}
    for j, h in enumerate(header):
        k = names.get(_key(h))
        if k and k not in out:
            out[k] = j
    return out


def read_dictionary(src) -> tuple[DataDictionary | None, list[Problem]]:
    """A REDCap data dictionary CSV (``src``: a path or an uploaded (name, bytes) pair): (dictionary or None, every
    problem). The header may be the one REDCap's download writes or the API's short names (``field_name``, …)."""
    label, data, problems = _source_bytes(src, "data dictionary")
    if data is None:
        return None, problems
    table, problems = _read_csv_table(label, data, DICTIONARY_FIX)
    if table is None:
        return None, problems
    header, cols = table
    at = _header_keys(header)
    missing = [DICTIONARY_HEADER[_KEYS.index(k)] for k in ("name", "form", "type") if k not in at]
    if missing:
        return None, [
            Problem(
                label,
                f"is not a REDCap data dictionary (no column {', '.join(repr(m) for m in missing)})",
                DICTIONARY_FIX,
            )
        ]

    def cell(key: str, i: int) -> str:
        j = at.get(key)
        v = cols[j][i] if j is not None else None
        return "" if v is None else str(v).strip()

    def problem(i: int, key: str, message: str, fix: str = DICTIONARY_FIX) -> Problem:
        head = header[at[key]] if key in at else DICTIONARY_HEADER[_KEYS.index(key)]
        return Problem(label, message, fix, row=i + 2, column=head, value=cell(key, i))

    fields: list[Field] = []
    seen: set[str] = set()
    for i in range(len(cols[0])):
        if not any(cols[j][i] is not None and str(cols[j][i]).strip() for j in range(len(cols))):
            continue  # an empty line
        name, form, ftype = cell("name", i).lower(), cell("form", i).lower(), cell("type", i).lower()
        ok = True
        if not _NAME_RE.match(name):
            problems.append(problem(i, "name", "is not a REDCap variable name (lower-case letters, digits, _)"))
            ok = False
        elif name in seen:
            problems.append(problem(i, "name", f"field '{name}' is defined twice"))
            ok = False
        seen.add(name)
        if not _FORM_RE.match(form):
            problems.append(problem(i, "form", f"field '{name}': is not a REDCap form name"))
            ok = False
        if ftype not in FIELD_TYPES:
            problems.append(problem(i, "type", f"field '{name}': unknown field type (one of {', '.join(FIELD_TYPES)})"))
            ok = False
        choices: tuple[tuple[str, str], ...] = ()
        if ftype in ("radio", "dropdown", "checkbox"):
            choices, err = _parse_choices(cell("choices", i))
            if err:
                problems.append(problem(i, "choices", f"field '{name}': {err}"))
                ok = False
        if ok:
            fields.append(
                Field(
                    name,
                    form,
                    ftype,
                    cell("label", i),
                    choices,
                    cell("validation", i).lower() if ftype == "text" else "",
                    cell("identifier", i).lower() in ("y", "yes", "1"),
                    i + 2,
                )
            )
    if not fields and not problems:
        problems.append(Problem(label, "has no fields", DICTIONARY_FIX))
    if fields and fields[0].type == "descriptive":
        problems.append(
            Problem(label, "its first field (the record id) is a descriptive field", DICTIONARY_FIX, row=fields[0].row)
        )
    if problems:
        return None, problems
    return DataDictionary(label, tuple(fields)), []


# --------------------------------------------------------------------------------------------- records: columns
@dataclass(frozen=True)
class _Col:
    """What one column of a records export is."""

    var: str  # its variable name
    kind: str  # "field" | "checkbox" | "complete" | "system" | "ignored"
    field: Field | None = None
    code: str | None = None  # a checkbox column's choice code


def _variable_columns(dd: DataDictionary) -> dict[str, _Col]:
    out: dict[str, _Col] = {}
    for f in dd.fields:
        if f.type == "descriptive":
            out[f.name] = _Col(f.name, "ignored", f)
        elif f.type == "checkbox":
            for col, code, _ in f.checkbox_columns():
                out[col] = _Col(col, "checkbox", f, code)
        else:
            out[f.name] = _Col(f.name, "field", f)
    for form in dd.forms:
        out.setdefault(f"{form}_complete", _Col(f"{form}_complete", "complete"))
        out.setdefault(f"{form}_timestamp", _Col(f"{form}_timestamp", "ignored"))
    for s in SYSTEM_COLUMNS:
        out.setdefault(s, _Col(s, "system"))
    return out


def _label_columns(dd: DataDictionary) -> list[tuple[str, _Col]]:
    """The columns of an export with field labels as headers, in REDCap's order (record id, event, repeat
    instrument and instance, data access group, survey identifier, then each form's fields and its status)."""
    rid = dd.fields[0]
    out = [(_key(rid.label or rid.name), _Col(rid.name, "field", rid))]
    out += [(_key(_SYSTEM_LABELS[s]), _Col(s, "system")) for s in SYSTEM_COLUMNS]
    for form in dd.forms:
        out.append((_key("Survey Timestamp"), _Col(f"{form}_timestamp", "ignored")))
        for f in dd.form_fields(form):
            if f is rid:
                continue
            if f.type == "checkbox":
                for col, code, lab in f.checkbox_columns():
                    out.append((_key(f"{f.label} (choice={lab})"), _Col(col, "checkbox", f, code)))
            else:
                out.append((_key(f.label or f.name), _Col(f.name, "field", f)))
        out.append((_key("Complete?"), _Col(f"{form}_complete", "complete")))
    return out


def _resolve_header(dd: DataDictionary, header: list[str]) -> tuple[list[_Col | None], str]:
    """What each column is, by variable name or (an export with labels as headers) by field label in order."""
    by_var = _variable_columns(dd)
    as_vars: list[_Col | None] = []
    for h in header:
        key = h.strip().lower()
        col = by_var.get(key)
        if col is None and key.endswith("_timestamp"):
            col = _Col(key, "ignored")
        as_vars.append(col)
    expected = _label_columns(dd)
    as_labels: list[_Col | None] = []
    pos = 0
    for h in header:
        key, hit = _key(h), None
        for j in range(pos, len(expected)):
            if expected[j][0] == key:
                hit, pos = expected[j][1], j + 1
                break
        as_labels.append(hit)
    n_vars = sum(c is not None for c in as_vars)
    n_labels = sum(c is not None for c in as_labels)
    if n_labels > n_vars and as_labels and as_labels[0] is not None and as_labels[0].var == dd.record_id:
        return as_labels, "field labels"
    return as_vars, "variable names"


# --------------------------------------------------------------------------------------------- records: export
@dataclass(frozen=True)
class _Origin:
    """Where each row of a source table comes from: its records-file position (0-based data row) and, for the
    non-repeating table of a longitudinal project, the position each merged cell came from."""

    rows: np.ndarray
    form: str | None  # the repeating instrument (None: the non-repeating table)
    cells: Mapping[str, np.ndarray] = field(default_factory=dict)

    def position(self, i: int, column: str | None) -> int:
        c = self.cells.get(column or "")
        return int(c[i]) if c is not None and c[i] >= 0 else int(self.rows[i])


@dataclass
class RedcapExport:
    """A records export read with its data dictionary: the source tables for the mapper and where each row of
    them comes from. ``values``: "raw" (codes) or "labels"; ``headers``: "variable names" or "field labels"."""

    dictionary: DataDictionary
    label: str
    values: str
    headers: str
    longitudinal: bool
    sources: dict[str, pd.DataFrame]
    origins: dict[str, _Origin]
    column_fields: dict[str, str]  # source column → its field's name
    problems: list[Problem]  # about the file itself: always errors (or warnings) as they are
    cell_problems: list[tuple[str, Problem]]  # (field, problem): errors when the mapping uses the field
    n_records: int = 0
    _raw: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _rid: np.ndarray = field(default_factory=lambda: np.array([], dtype=object), repr=False)
    _instance: np.ndarray | None = field(default=None, repr=False)
    _event: np.ndarray | None = field(default=None, repr=False)

    @property
    def repeating(self) -> tuple[str, ...]:
        return tuple(n for n, o in self.origins.items() if o.form is not None)

    def summary(self) -> str:
        what = "raw export (choice codes)" if self.values == "raw" else "labelled export (choice labels)"
        rep = ", ".join(f"{n} ({len(self.sources[n])} rows)" for n in self.repeating) or "none"
        long = "; longitudinal (events merged)" if self.longitudinal else ""
        return (
            f"{self.label}: REDCap {what} with {self.headers} as column headers; {self.n_records} records; "
            f"repeating instruments: {rep}{long}"
        )

    def where(self, source: str, i: int, column: str | None, **kw) -> dict:
        """The records-file location of row ``i`` of a source table (for a :class:`RedcapProblem`)."""
        o = self.origins[source]
        p = o.position(i, column)
        return dict(
            row=p + 2,
            record=self._rid[p],
            instrument=o.form,
            instance=self._instance[p] if self._instance is not None and o.form else None,
            event=self._event[p] if self._event is not None else None,
            **kw,
        )

    def raw_cell(self, column: str, position: int) -> str | None:
        a = self._raw.get(column)
        return None if a is None or a[position] is None else str(a[position])


class _Cells:
    """Cell problems of one export, capped per field and kind."""

    def __init__(self, label: str, rid, form_of_row, instance, event):
        self.label, self.rid, self.form_of_row, self.instance, self.event = label, rid, form_of_row, instance, event
        self.out: list[tuple[str, Problem]] = []

    def add(self, fld: str, column: str, rows, raw, message: str, fix: str, severity: str = "error") -> None:
        rows = np.asarray(rows, dtype=np.int64)
        for p in rows[:MAX_CELL_PROBLEMS]:
            p = int(p)
            form = self.form_of_row[p]
            self.out.append(
                (
                    fld,
                    RedcapProblem(
                        self.label,
                        message,
                        fix,
                        row=p + 2,
                        column=column,
                        value=None if raw[p] is None else str(raw[p]),
                        severity=severity,
                        record=self.rid[p],
                        instrument=form,
                        instance=self.instance[p] if self.instance is not None and form else None,
                        event=self.event[p] if self.event is not None else None,
                    ),
                )
            )
        if len(rows) > MAX_CELL_PROBLEMS:
            rest = len(rows) - MAX_CELL_PROBLEMS
            self.out.append(
                (
                    fld,
                    RedcapProblem(
                        self.label,
                        f"… and {rest} more row{'s' if rest > 1 else ''} with the same problem ({message}), "
                        "not listed one by one",
                        fix,
                        row=int(rows[MAX_CELL_PROBLEMS]) + 2,
                        column=column,
                        severity=severity,
                    ),
                )
            )


def _choice_text(f: Field, mode: str) -> str:
    items = f.codes()
    shown = [f"{c} = {lab}" if mode == "raw" else lab for c, lab in items[:12]]
    return ", ".join(shown) + (", …" if len(items) > 12 else "")


def _detect_values(cols: list[_Col | None], stripped: dict[str, np.ndarray], forms: tuple[str, ...]) -> str:
    """ "labels" if more coded cells read as choice labels than as codes, else "raw"."""
    raw_votes = label_votes = 0
    for c in cols:
        if c is None or c.var not in stripped:
            continue
        if c.kind in ("field", "checkbox") and c.field is not None and c.field.coded:
            pairs = c.field.codes()
        elif c.kind == "complete":
            pairs = (("0", "Incomplete"), ("1", "Unverified"), ("2", "Complete"))
        elif c.var == "redcap_repeat_instrument":
            pairs = tuple((f, "") for f in forms)
        else:
            continue
        codes = {code for code, _ in pairs}
        labels = {_key(lab) for _, lab in pairs if lab}
        counts = pd.Series(stripped[c.var]).value_counts()
        for v, k in counts.items():
            in_codes, in_labels = v in codes, _key(v) in labels
            if in_codes and not in_labels:
                raw_votes += int(k)
            elif in_labels and not in_codes:
                label_votes += int(k)
            elif c.var == "redcap_repeat_instrument" and not in_codes:
                label_votes += int(k)  # an instrument's label
    return "labels" if label_votes > raw_votes else "raw"


def _convert(c: _Col, s: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray, str, str]:
    """A column's cells as source text (codes → labels, yes/no and checkboxes → 1/0, comma decimals → points):
    (values, mask of cells that are not what the field allows, message, fix)."""
    f = c.field
    assert f is not None
    ser = pd.Series(s, dtype=object)
    present = _has(s)
    if f.coded:
        pairs = f.codes()
        if f.type in ("radio", "dropdown"):
            exact = {code: lab for code, lab in pairs} if mode == "raw" else {lab: lab for _, lab in pairs}
            loose = {} if mode == "raw" else {_key(lab): lab for _, lab in pairs}
        else:
            exact = {code: code for code, _ in pairs} if mode == "raw" else {lab: code for code, lab in pairs}
            loose = {} if mode == "raw" else {_key(lab): code for code, lab in pairs}
        table = {}
        for u in pd.unique(ser[present]):
            hit = exact.get(u)
            if hit is None:
                hit = loose.get(_key(u))
            table[u] = hit
        out = ser.map(table).to_numpy(dtype=object)
        bad = present & pd.isna(out)
        out = np.where(bad, s, out)  # an unknown code is kept as it is (and reported)
        what = "choice code" if mode == "raw" else "choice label"
        if f.type == "checkbox":
            msg = f"is not a checkbox value ({'1 or 0' if mode == 'raw' else 'Checked or Unchecked'})"
        elif f.type in ("yesno", "truefalse"):
            msg = f"is not a {f.type} value ({_choice_text(f, mode)})"
        else:
            msg = f"is not a {what} of field '{f.name}' ({_choice_text(f, mode)})"
        export = "a raw export holds codes" if mode == "raw" else "a labelled export holds choice labels"
        return out, bad, msg, f"use one of the data dictionary's choices ({export})"
    kind = f.kind
    if kind in ("integer", "number"):
        if f.validation.endswith("comma_decimal"):
            ser = ser.str.replace(",", ".", regex=False)
        ok = _matches(ser, _INT_RE if kind == "integer" else _NUM_RE)
        bad = present & ~ok
        what = "whole number" if kind == "integer" else "number"
        return (
            ser.to_numpy(dtype=object),
            bad,
            f"is not a {what} (the field is validated as '{f.validation}')",
            f"write a {what}, as REDCap's validation requires",
        )
    if kind in ("date", "datetime"):
        ok = _matches(ser, _DATE_RE if kind == "date" else _DATETIME_RE)
        bad = present & ~ok
        fmt = "YYYY-MM-DD" if kind == "date" else "YYYY-MM-DD HH:MM"
        return ser.to_numpy(dtype=object), bad, f"is not a {kind} ({fmt}, as REDCap exports it)", f"write it as {fmt}"
    return s, np.zeros(len(s), dtype=bool), "", ""


def _instrument_of(values: np.ndarray, forms: tuple[str, ...], has_data: dict[str, np.ndarray]) -> np.ndarray:
    """Each row's repeating instrument (a form name; None when the cell is empty; "" when it cannot be told): the
    form's name (raw export), its label read as a name ("Anakinra Doses" → anakinra_doses), or else the one form
    that has values in that row (a labelled export of an instrument renamed since it was created)."""
    out = np.full(len(values), None, dtype=object)
    present = np.flatnonzero(_has(values))
    known = set(forms)
    by_value: dict[str, str | None] = {}
    for u in pd.unique(values[present]):
        by_value[u] = u if u in known else (_norm(u) if _norm(u) in known else None)
    named = pd.Series(values[present], dtype=object).map(by_value).to_numpy(dtype=object)
    out[present] = named
    for p in present[pd.isna(named)]:  # rare: an instrument label that is not its name
        filled = [f for f in forms if has_data[f][p]]
        out[p] = filled[0] if len(filled) == 1 else ""
    return out


def read_records(dd: DataDictionary, src) -> tuple[RedcapExport | None, list[Problem]]:
    """A records export read with its data dictionary (``src``: a path or an uploaded (name, bytes) pair)."""
    label, data, problems = _source_bytes(src, "records")
    if data is None:
        return None, problems
    table, problems = _read_csv_table(label, data, RECORDS_FIX)
    if table is None:
        return None, problems
    header, cols = table
    n = len(cols[0])
    info, headers = _resolve_header(dd, header)
    col_of: dict[str, int] = {}
    unknown: list[str] = []
    for j, c in enumerate(info):
        if c is None:
            unknown.append(header[j])
        elif c.var in col_of:
            problems.append(
                Problem(
                    label,
                    f"column {j + 1} ({_show(header[j])}) is field '{c.var}' again",
                    RECORDS_FIX,
                    column=header[j],
                )
            )
        else:
            col_of[c.var] = j
    rid_field = dd.record_id
    if rid_field not in col_of:
        hint = "variable names" if headers == "variable names" else "field labels"
        problems.append(
            Problem(
                label,
                f"has no column for the record id field '{rid_field}' (the data dictionary's first field; the "
                f"header was read as {hint}: {', '.join(_show(h) for h in header[:5])}"
                f"{', …' if len(header) > 5 else ''})",
                RECORDS_FIX + "; check that the data dictionary is this project's",
            )
        )
        return None, problems
    if unknown:
        shown = ", ".join(_show(u) for u in unknown[:10]) + (
            f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        )
        problems.append(
            Problem(
                label,
                f"{len(unknown)} column{'s are' if len(unknown) > 1 else ' is'} not in the data dictionary and "
                f"{'are' if len(unknown) > 1 else 'is'} ignored: {shown}",
                "export the data dictionary and the records of the same project at the same time",
                severity="warning",
            )
        )
    infos = {c.var: c for c in info if c is not None and col_of.get(c.var) is not None}
    raw = {v: cols[j] for v, j in col_of.items() if infos[v].kind in ("field", "checkbox", "system")}
    stripped = {v: _strip(a) for v, a in raw.items()}
    mode = _detect_values(list(infos.values()), stripped, dd.forms)

    rid = stripped[rid_field]
    inst_col = stripped.get("redcap_repeat_instrument")
    instance = stripped.get(INSTANCE)
    event = stripped.get(EVENT)
    longitudinal = event is not None

    # which forms have values in each row (a checkbox counts when ticked: unticked boxes are exported everywhere)
    has_data: dict[str, np.ndarray] = {}
    for form in dd.forms:
        m = np.zeros(n, dtype=bool)
        for f in dd.form_fields(form):
            if f.name == rid_field:
                continue
            if f.type == "checkbox":
                for col, _, _ in f.checkbox_columns():
                    if col in stripped:
                        ticked = pc.is_in(pc.utf8_lower(_arrow(stripped[col])), value_set=pa.array(["1", "checked"]))
                        m |= pc.fill_null(ticked, False).to_numpy(zero_copy_only=False).astype(bool)
            elif f.name in stripped:
                m |= _has(stripped[f.name])
        has_data[form] = m

    form_of_row = (
        _instrument_of(inst_col, dd.forms, has_data) if inst_col is not None else np.full(n, None, dtype=object)
    )
    cells = _Cells(label, rid, form_of_row, instance, event)
    ok = np.ones(n, dtype=bool)
    no_id = np.flatnonzero(~_has(rid))
    if len(no_id):
        cells.add(rid_field, rid_field, no_id, raw[rid_field], "has no record id", RECORDS_FIX)
        ok[no_id] = False
    if inst_col is not None:
        unknown_form = np.flatnonzero(form_of_row == "")
        if len(unknown_form):
            cells.add(
                "redcap_repeat_instrument",
                "redcap_repeat_instrument",
                unknown_form,
                raw["redcap_repeat_instrument"],
                f"is not a form of the data dictionary ({', '.join(dd.forms)})",
                RECORDS_FIX + "; check that the data dictionary is this project's",
            )
            ok[unknown_form] = False
    repeated = _has(instance) if instance is not None else np.zeros(n, dtype=bool)
    if instance is not None:
        bad_inst = repeated & ~_matches(pd.Series(instance, dtype=object), r"^[0-9]+$")
        bad_inst |= repeated & _matches(instance, r"^0+$")
        if bad_inst.any():
            cells.add(
                INSTANCE, INSTANCE, np.flatnonzero(bad_inst), raw[INSTANCE], "is not an instance number", RECORDS_FIX
            )
            ok &= ~bad_inst
    in_instrument = _has(form_of_row) & (form_of_row != "")
    if inst_col is not None:
        lone = in_instrument & ~repeated
        if lone.any():
            cells.add(
                INSTANCE,
                INSTANCE,
                np.flatnonzero(lone),
                instance if instance is not None else np.full(n, None, dtype=object),
                "a row of a repeating instrument has no instance number",
                RECORDS_FIX,
            )
            ok &= ~lone
    event_rows = ok & repeated & ~in_instrument  # a repeated event: its forms' instances
    base_rows = ok & ~repeated & ~in_instrument
    repeating = list(dict.fromkeys(f for f in form_of_row[ok & in_instrument]))
    for form in dd.forms:
        if form not in repeating and has_data[form][event_rows].any():
            repeating.append(form)
    repeating = [f for f in dd.forms if f in repeating]  # in the dictionary's order
    rep_set = set(repeating)

    # the cells, converted; what does not fit its field is reported
    converted: dict[str, np.ndarray] = {}
    column_fields: dict[str, str] = {rid_field: rid_field}
    for v, c in infos.items():
        if c.kind not in ("field", "checkbox") or v == rid_field:
            continue
        assert c.field is not None
        out, bad, msg, fix = _convert(c, stripped[v], mode)
        converted[v] = out
        column_fields[v] = c.field.name
        form = c.field.form
        relevant = ok & (((form_of_row == form) | event_rows) if form in rep_set else base_rows)
        rows = np.flatnonzero(bad & relevant)
        if len(rows):
            cells.add(c.field.name, v, rows, raw[v], msg, fix)

    # a value outside its form's rows is not data of that row
    for form in dd.forms:
        if form in rep_set:
            stray = np.flatnonzero(has_data[form] & ok & ~event_rows & (form_of_row != form))
        else:
            stray = np.flatnonzero(has_data[form] & ok & ~base_rows)
        if len(stray):
            where = "outside its instrument's rows" if form in rep_set else "in a row of a repeating instrument"
            first = next(f for f in dd.form_fields(form) if f.name != rid_field)
            cells.add(
                first.name,
                f"{form} (form)",
                stray,
                np.full(n, None, dtype=object),
                f"has values of form '{form}' {where}; they are ignored",
                "export the records again from REDCap",
                severity="warning",
            )

    sources: dict[str, pd.DataFrame] = {}
    origins: dict[str, _Origin] = {}
    # the non-repeating forms: one row per record (a longitudinal project's events merged)
    base_cols = [
        v
        for form in dd.forms
        if form not in rep_set
        for f in dd.form_fields(form)
        for v in (
            [c for c, _, _ in f.checkbox_columns()] + ([f.name] if len(f.choices) == 1 else [])
            if f.type == "checkbox"
            else [f.name]
        )
        if f.name != rid_field and (v in converted or (f.type == "checkbox" and v == f.name))
    ]
    positions = np.flatnonzero(base_rows)
    codes, uniques = pd.factorize(rid[positions])
    codes = codes.astype(np.int64)
    first = positions[np.unique(codes, return_index=True)[1]] if len(codes) else np.zeros(0, dtype=np.int64)
    if len(positions) > len(uniques) and not longitudinal:
        again = positions[first[codes] != positions]
        cells.add(
            rid_field,
            rid_field,
            again,
            raw[rid_field],
            "the record has a second row without a repeat instance",
            "export the records again from REDCap (one row per record and instance)",
        )
    base = {rid_field: np.asarray(uniques, dtype=object)}
    merged_cells: dict[str, np.ndarray] = {}
    for v in base_cols:
        col = converted.get(v)
        if col is None:  # a single-choice checkbox read as its field: its one column
            f = dd.field(v)
            assert f is not None
            col = converted.get(f.checkbox_columns()[0][0])
            if col is None:
                continue
        if not longitudinal or len(positions) == len(uniques):
            base[v] = col[first]
            continue
        vals = pd.Series(col[positions], dtype=object)
        if v not in infos or infos[v].kind == "checkbox":
            # unticked boxes are exported in every event: ticked in any event is ticked
            ticked = (vals == "1").groupby(codes).any()
            anyval = vals.notna().groupby(codes).any()
            out = np.where(ticked.to_numpy(), "1", np.where(anyval.to_numpy(), "0", None)).astype(object)
            base[v] = out
            continue
        nn = vals.notna().to_numpy()
        firstval = vals[nn].groupby(codes[nn]).first()
        firstpos = pd.Series(positions[nn]).groupby(codes[nn]).first()
        out = np.full(len(uniques), None, dtype=object)
        out[firstval.index.to_numpy()] = firstval.to_numpy()
        src = np.full(len(uniques), -1, dtype=np.int64)
        src[firstpos.index.to_numpy()] = firstpos.to_numpy()
        base[v] = out
        if (src != first).any():
            merged_cells[v] = src
        clash = np.flatnonzero(nn & (vals.to_numpy() != out[codes]))
        if len(clash):
            cells.add(
                column_fields.get(v, v),
                v,
                positions[clash],
                raw.get(v, col),
                "the record has another value for this field in another event (non-repeating fields are merged "
                "across events)",
                "keep one value per record, or make the form a repeating instrument",
            )
    sources[NON_REPEATING] = pd.DataFrame(base, dtype=object)
    origins[NON_REPEATING] = _Origin(first, None, MappingProxyType(merged_cells))
    for v in base_cols:
        column_fields.setdefault(v, v.split("___")[0])

    # each repeating instrument: one row per instance (and event), in the file's order
    for form in repeating:
        rows = np.flatnonzero(ok & ((form_of_row == form) | (event_rows & has_data[form])))
        tab: dict[str, np.ndarray] = {rid_field: rid[rows], INSTANCE: instance[rows] if instance is not None else None}
        if longitudinal:
            tab[EVENT] = event[rows]
        for f in dd.form_fields(form):
            if f.name == rid_field:
                continue
            names = [c for c, _, _ in f.checkbox_columns()] if f.type == "checkbox" else [f.name]
            for v in names:
                if v in converted:
                    tab[v] = converted[v][rows]
            if f.type == "checkbox" and len(f.choices) == 1 and names[0] in converted:
                tab[f.name] = converted[names[0]][rows]
                column_fields[f.name] = f.name
        key = pd.DataFrame(
            {"r": rid[rows], "i": tab[INSTANCE], "e": tab[EVENT] if longitudinal else None}, dtype=object
        )
        again = np.flatnonzero(key.duplicated().to_numpy())
        if len(again):
            cells.add(
                INSTANCE,
                INSTANCE,
                rows[again],
                raw[INSTANCE],
                f"instance of '{form}' given twice for the record",
                "export the records again from REDCap",
            )
        sources[form] = pd.DataFrame(tab, dtype=object)
        origins[form] = _Origin(rows, form)
    # a form named after a contract table that has no rows yet: its (empty) table
    for form in dd.forms:
        if form not in rep_set and _contract_table_of(form) and not has_data[form][base_rows].any():
            names = [rid_field, INSTANCE]
            for f in dd.form_fields(form):
                if f.name != rid_field:
                    names += [c for c, _, _ in f.checkbox_columns()] if f.type == "checkbox" else [f.name]
                    if f.type == "checkbox" and len(f.choices) == 1:
                        names.append(f.name)
            sources[form] = pd.DataFrame({c: pd.Series([], dtype=object) for c in names})
            origins[form] = _Origin(np.zeros(0, dtype=np.int64), form)
    export = RedcapExport(
        dictionary=dd,
        label=label,
        values=mode,
        headers=headers,
        longitudinal=longitudinal,
        sources=sources,
        origins=origins,
        column_fields=column_fields,
        problems=problems,
        cell_problems=cells.out,
        n_records=len(uniques),
        _raw={v: cols[j] for v, j in col_of.items()},
        _rid=rid,
        _instance=instance,
        _event=event,
    )
    return export, list(problems)


def read_export(dictionary, records) -> tuple[RedcapExport | None, list[Problem]]:
    """The data dictionary and the records export (paths or uploaded (name, bytes) pairs) read together."""
    dd, problems = read_dictionary(dictionary)
    if dd is None:
        return None, problems
    return read_records(dd, records)


# --------------------------------------------------------------------------------------------- proposing
#: a contract column no field holds, left empty (it may be)
EMPTY = ColumnMap(value="")


def _contract_table_of(form: str) -> str | None:
    """The contract's long table a form is named after (``labs``, ``lab``, ``adverse_event``…)."""
    n = _norm(form)
    for spec in C.TABLES:
        if spec.name != "patients" and n in (spec.name, spec.name.rstrip("s"), spec.name + "s"):
            return spec.name
    return None


def _column_map(export: RedcapExport, spec: C.TableSpec, col: C.ColumnSpec, source: str) -> ColumnMap | None:
    df = export.sources[source]
    rid = export.dictionary.record_id
    if col.name == "patient_id":
        return ColumnMap(rid)
    columns = [c for c in df.columns if c not in (rid, INSTANCE, EVENT) and "___" not in c]
    src = _guess_column(col, spec.name, columns)
    if src is None:
        return None
    f = export.dictionary.field(export.column_fields.get(src, src))
    values = {}
    if f is not None and f.type in ("radio", "dropdown"):
        values = _guess_values(col, [lab for _, lab in f.choices])
    return ColumnMap(src, MappingProxyType(values))


def propose_mapping(export: RedcapExport) -> CohortMapping:
    """The mapping a REDCap project built on the data contract needs (so it needs no mapping file), and for any
    other project what can be matched: ``patients`` from the non-repeating forms, its ``patient_id`` the record
    id; each long table from the repeating instrument named after it; each column from the field of the same name
    or ``<table>_<column>`` (or a usual synonym), its choice labels as contract values."""
    tables: dict[str, TableMap] = {}
    for spec in C.TABLES:
        if spec.name == "patients":
            source = NON_REPEATING
        else:
            source = next((s for s, o in export.origins.items() if o.form and _contract_table_of(s) == spec.name), "")
            if not source:
                continue
        cols = {}
        for c in spec.columns:
            cm = _column_map(export, spec, c, source)
            if cm is None and c.nullable:
                cm = EMPTY  # a column that may be empty, and no field holds it
            if cm is not None:
                cols[c.name] = cm
        tables[spec.name] = TableMap(source, MappingProxyType(cols))
    return CohortMapping(MappingProxyType(tables), name="")


def resolve_mapping(export: RedcapExport, mapping: CohortMapping | None) -> CohortMapping:
    """The mapping used: the proposal, with every table a saved mapping maps taken from it as written (a
    non-repeating form named as a source means :data:`NON_REPEATING`)."""
    proposed = propose_mapping(export)
    if mapping is None:
        return proposed
    base = {f for f in export.dictionary.forms if f not in export.repeating}

    def source(s: str) -> str:
        return NON_REPEATING if s in base else s

    tables = dict(proposed.tables)
    for t, tm in mapping.tables.items():
        tables[t] = replace(tm, source=source(tm.source))
    adm = mapping.admission
    if adm is not None:
        adm = replace(adm, source=source(adm.source))
    return CohortMapping(MappingProxyType(tables), adm, mapping.name)


# --------------------------------------------------------------------------------------------- importing
_LINK_MESSAGE = "row for a patient who is not in patients"


def _translate(export: RedcapExport, mapping: CohortMapping, p: Problem, table: str, source: str) -> Problem:
    """A problem about a mapped table, told on the records file."""
    tm = mapping.tables.get(table)
    cm = tm.columns.get(p.column or "") if tm is not None and p.column else None
    var = cm.column if cm is not None else None
    if var is not None and var not in export._raw:
        f = export.dictionary.field(var)
        if f is not None and f.type == "checkbox" and f.choices:
            var = f.checkbox_columns()[0][0]  # a single-choice checkbox read as its field
    target = f"{table}.{p.column}" if p.column else None
    fix = p.fix
    if cm is not None and cm.column is None:  # a constant of the mapping: no field, no cell of the file
        return replace(p, file=export.label, message=f"{target}, the mapping's constant {cm.value!r}: {p.message}")
    if p.message == _LINK_MESSAGE:
        fix = "the record has rows in this instrument but no row of the non-repeating forms: fix the record id"
    origin = export.origins.get(source)
    n = len(export.sources.get(source, ()))
    if p.row is not None and origin is not None and 0 <= p.row - 2 < n:
        where = export.where(source, p.row - 2, var)
        cell = export.raw_cell(var, where["row"] - 2) if var else None
        message = p.message
        if p.value is not None and cell is not None and not _same(p.value, cell.strip()):
            message += f" (read as {p.value!r})"
        value = cell if cell is not None else p.value
        return RedcapProblem(
            export.label,
            message,
            fix,
            column=var or p.column,
            value=value,
            severity=p.severity,
            target=target if var != p.column else None,
            **where,
        )
    what = "the non-repeating forms" if source == NON_REPEATING else f"instrument '{source}'"
    return RedcapProblem(
        export.label,
        f"{what} → {table}: {p.message}",
        fix,
        column=var or p.column,
        severity=p.severity,
        target=target if var and var != p.column else None,
    )


def _is_empty_constant(cm: ColumnMap) -> bool:
    """A constant that is no value: an empty cell in every row (the mapper would pass "" on as text)."""
    return cm.column is None and not (cm.value or "").strip()


def _same(a: str, b: str) -> bool:
    """The same cell value, as text or as a number ("140" and "140.0")."""
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def _used_fields(export: RedcapExport, mapping: CohortMapping) -> set[str]:
    used = {export.dictionary.record_id}
    for tm in mapping.tables.values():
        for cm in tm.columns.values():
            if cm.column is not None:
                used.add(export.column_fields.get(cm.column, cm.column.split("___")[0]))
    if mapping.admission is not None:
        used |= {mapping.admission.id, mapping.admission.column}
    return used


def _notes(export: RedcapExport, mapping: CohortMapping, used: set[str], own: Mapping) -> list[Problem]:
    """Warnings: instruments and fields the mapping leaves out, contract columns the proposal leaves empty,
    identifiers it takes in (``own``: the tables a saved mapping maps)."""
    out: list[Problem] = []
    for t, tm in mapping.tables.items():
        empty = [c for c, cm in tm.columns.items() if cm == EMPTY and t not in own]
        if empty:
            out.append(
                Problem(
                    export.label,
                    f"no field holds {', '.join(f'{t}.{c}' for c in empty)}: left empty (the contract allows it)",
                    f"name a field after the column ({', '.join(empty[:3])}) or map it with --mapping FILE",
                    severity="warning",
                )
            )
    sources = {tm.source for tm in mapping.tables.values()}
    for form in export.repeating:
        if form not in sources and len(export.sources[form]):
            out.append(
                Problem(
                    export.label,
                    f"repeating instrument '{form}' ({len(export.sources[form])} rows) is not mapped to a table; "
                    "its rows are not imported",
                    "map it with --mapping FILE if it holds cohort data",
                    severity="warning",
                )
            )
    base = export.sources[NON_REPEATING]
    unused = sorted(
        {export.column_fields.get(c, c) for c in base.columns}
        - used
        - {f.name for f in export.dictionary.fields if f.type == "descriptive"}
    )
    if NON_REPEATING in sources and unused:
        shown = ", ".join(unused[:10]) + (f" and {len(unused) - 10} more" if len(unused) > 10 else "")
        out.append(
            Problem(
                export.label,
                f"{len(unused)} field{'s' if len(unused) > 1 else ''} of the non-repeating forms "
                f"{'are' if len(unused) > 1 else 'is'} not mapped and not imported: {shown}",
                "map them with --mapping FILE if they hold contract columns",
                severity="warning",
            )
        )
    for name in sorted(used):
        f = export.dictionary.field(name)
        if f is not None and f.identifier:
            out.append(
                Problem(
                    export.dictionary.label,
                    f"field '{name}' is marked as an identifier in the data dictionary and is imported",
                    "a cohort holds no names, dates or record numbers: use a pseudonymous record id and leave "
                    "identifiers out of the mapping",
                    row=f.row,
                    column="Identifier?",
                    severity="warning",
                )
            )
    return out


def import_export(
    export: RedcapExport, mapping: CohortMapping | None = None, *, name: str = "", synthetic: bool = False
) -> tuple[object | None, list[Problem], CohortMapping]:
    """Map and validate a read export: (cohort or None, every problem, the mapping used). The cohort is real
    patient data unless ``synthetic`` (the caller decides; a file never does)."""
    used_map = resolve_mapping(export, mapping)
    used = _used_fields(export, used_map)
    problems: list[Problem] = list(export.problems)
    seen: set[tuple[int | None, str | None]] = set()
    for fld, p in export.cell_problems:
        if fld not in used and p.severity == "error":
            p = replace(p, severity="warning", message=p.message + " — the field is not imported")
        problems.append(p)
        seen.add((p.row, p.column))
    problems += _notes(export, used_map, used, mapping.tables if mapping is not None else {})
    mapped = apply_mapping(export.sources, used_map)
    blank = {(t, c) for t, tm in used_map.tables.items() for c, cm in tm.columns.items() if _is_empty_constant(cm)}
    mapped_tables = {
        t: df.assign(**{c: None for c in df.columns if (t, c) in blank}) if any(k[0] == t for k in blank) else df
        for t, df in mapped.tables.items()
    }
    table_of_source = {tm.source: t for t, tm in used_map.tables.items()}
    for p in mapped.problems:
        t = table_of_source.get(p.file)
        problems.append(_translate(export, used_map, p, t, p.file) if t else p)
    if any(p.severity == "error" for p in mapped.problems):
        return None, _sorted(export, problems), used_map
    labels = {t: f"{t} ← {tm.source}" for t, tm in used_map.tables.items()}
    back = {lab: (t, used_map.tables[t].source) for t, lab in labels.items()}
    tables, probs = validate_tables(mapped_tables, labels)
    for p in probs:
        if p.file in back:
            t, source = back[p.file]
            p = _translate(export, used_map, p, t, source)
        if p.row is not None and (p.row, p.column) in seen:
            continue  # the reader told it already
        problems.append(p)
    problems = _sorted(export, problems)
    if any(p.severity == "error" for p in problems):
        return None, problems, used_map
    meta = {
        "mapping": json.loads(used_map.to_json()),
        "redcap": {
            "dictionary": export.dictionary.label,
            "records": export.label,
            "export": export.values,
            "headers": export.headers,
            "longitudinal": export.longitudinal,
            "repeating_instruments": {n: len(export.sources[n]) for n in export.repeating},
        },
    }
    cohort = _make_cohort(
        tables,
        name or used_map.name or f"{PurePosixPath(export.label).stem} (REDCap import)",
        synthetic,
        f"Imported from the REDCap project of {export.dictionary.label} ({export.label}, "
        f"{'raw' if export.values == 'raw' else 'labelled'} export).",
        export.label,
        [p for p in problems if p.severity != "error"],
        metadata=meta,
    )
    return cohort, problems, used_map


def _sorted(export: RedcapExport, problems: list[Problem]) -> list[Problem]:
    order = {export.dictionary.label: 0, export.label: 1}
    return sorted(problems, key=lambda p: (order.get(p.file, 2), p.row or 0))


def import_redcap(dictionary, records, mapping: CohortMapping | None = None, *, name: str = "", synthetic=False):
    """A REDCap data dictionary and records export (paths or uploaded (name, bytes) pairs) as a cohort in the data
    contract: (cohort or None, every problem). ``mapping``: a saved mapping whose sources are the instrument
    tables (:data:`NON_REPEATING` or a non-repeating form's name for the non-repeating fields); the tables it maps
    replace the proposal's (:func:`propose_mapping`)."""
    export, problems = read_export(dictionary, records)
    if export is None:
        return None, problems
    cohort, problems, _ = import_export(export, mapping, name=name, synthetic=synthetic)
    return cohort, problems


# --------------------------------------------------------------------------------------------- the example
@dataclass(frozen=True)
class _ExField:
    name: str
    type: str
    label: str
    column: str | None = None  # the contract column it holds (in its form's table)
    choices: tuple[tuple[str, str], ...] = ()
    validation: str = ""
    min: str = ""
    max: str = ""
    note: str = ""
    section: str = ""
    branching: str = ""
    required: bool = False


def _ch(*labels: str, codes: tuple[str, ...] | None = None) -> tuple[tuple[str, str], ...]:
    return tuple(zip(codes or tuple(str(k) for k in range(1, len(labels) + 1)), labels))


def _num(name, label, column=None, *, integer=False, lo="", hi="", note="", required=True, **kw) -> _ExField:
    return _ExField(
        name,
        "text",
        label,
        column or name,
        validation="integer" if integer else "number",
        min=lo,
        max=hi,
        note=note,
        required=required,
        **kw,
    )


#: the example project's forms: (form name, instrument label, contract table, repeating, fields)
EXAMPLE_FORMS: tuple[tuple[str, str, str, bool, tuple[_ExField, ...]], ...] = (
    (
        "demographics",
        "Demographics",
        "patients",
        False,
        (
            _ExField("record_id", "text", "Record ID", "patient_id", required=True),
            _ExField(
                "demographics_note",
                "descriptive",
                "Pseudonymous study data only: no names, dates of birth or medical record numbers.",
                section="Patient",
            ),
            _num("age_years", "Age at diagnosis", lo="0", hi="21", note="years"),
            _ExField("sex", "radio", "Sex", "sex", _ch("M", "F"), required=True),
            _ExField(
                "race",
                "dropdown",
                "Race",
                "race",
                _ch(
                    "African American",
                    "Caucasian",
                    "Asian",
                    "Other",
                    "Declined, or not stated",
                    codes=("1", "2", "3", "4", "98"),
                ),
            ),
            _ExField(
                "ethnicity",
                "dropdown",
                "Ethnicity",
                "ethnicity",
                _ch("Latin-American", "Not Latin-American", "Unknown, not recorded", codes=("1", "2", "98")),
            ),
            _num("weight_kg", "Body weight at admission", lo="0", hi="200", note="kg", required=False),
            _ExField("sars_cov2_pcr", "yesno", "SARS-CoV-2 PCR positive", "sars_cov2_pcr", section="Phenotype"),
            _ExField(
                "kd_like",
                "checkbox",
                "Kawasaki-disease-like features (AHA criteria)",
                "kd_like",
                _ch("Yes"),
            ),
            _ExField(
                "cv_shock",
                "yesno",
                "Cardiovascular shock (fluid-refractory hypotension needing vasoactive support)",
                "cv_shock",
                required=True,
            ),
        ),
    ),
    (
        "treatment",
        "Treatment",
        "patients",
        False,
        (
            _ExField("ivig", "yesno", "Received IVIG", "ivig", required=True),
            _num(
                "ivig_start_hour",
                "Start of the first IVIG infusion",
                lo="0",
                note="hours since admission",
                required=False,
                branching="[ivig] = '1'",
            ),
            _ExField(
                "inflammatory_steroids",
                "yesno",
                "Inflammatory-dose corticosteroids (e.g. methylprednisolone)",
                "inflammatory_steroids",
                required=True,
            ),
            _ExField("stress_hydrocortisone", "yesno", "Stress-dose hydrocortisone", "stress_hydrocortisone"),
            _ExField(
                "anakinra_indication",
                "dropdown",
                "Why anakinra was started",
                "anakinra_indication",
                _ch("adjunct", "rescue"),
                note="adjunct: critically ill, given with IVIG; rescue: refractory to IVIG; empty if no anakinra",
            ),
        ),
    ),
    (
        "outcomes",
        "Outcomes",
        "patients",
        False,
        (
            _ExField("icu", "yesno", "Admitted to intensive care", "icu"),
            _num("length_of_stay_days", "Hospital length of stay", lo="0", note="days", required=False),
        ),
    ),
    (
        "anakinra_doses",
        "Anakinra Doses",
        "anakinra_doses",
        True,
        (
            _num("anakinra_doses_day", "Day of treatment", "day", integer=True, lo="0", note="days since admission"),
            _num("dose_mg_kg_day", "Total daily dose", lo="0", hi="50", note="mg/kg/day"),
            _num("doses_per_day", "Scheduled doses that day", integer=True, lo="1", hi="24", note="4 = every 6 h"),
            _ExField("route", "dropdown", "Route", "route", _ch("IV", "SC"), required=True),
            _num("doses_given", "Doses actually given that day", lo="0", required=False),
        ),
    ),
    (
        "temperatures",
        "Temperatures",
        "temperatures",
        True,
        (
            _num("hour", "Time of the reading", lo="0", note="hours since admission"),
            _num("temp_c", "Temperature", lo="30", hi="45", note="°C"),
            _ExField("site", "dropdown", "Measurement site", "site", _ch(*C.TEMP_SITES)),
        ),
    ),
    (
        "echo",
        "Echocardiograms",
        "echo",
        True,
        (
            _num("echo_day", "Day of the study", "day", integer=True, lo="0", note="days since admission"),
            _num("lvef_pct", "LVEF (Simpson biplane)", lo="0", hi="100", note="%", required=False),
            _num("strain_ap4_pct", "Apical 4-chamber longitudinal strain", lo="-50", hi="0", note="%", required=False),
        ),
    ),
    (
        "cytokines",
        "Cytokines",
        "cytokines",
        True,
        (
            _ExField("cytokine", "dropdown", "Cytokine", "cytokine", _ch(*C.CYTOKINES), required=True),
            _num("fold_difference", "Value / upper limit of normal", lo="0", note="fold"),
        ),
    ),
    (
        "labs",
        "Laboratory Results",
        "labs",
        True,
        (
            _num("labs_day", "Day of the sample", "day", integer=True, lo="0", note="days since admission"),
            _ExField("analyte", "dropdown", "Analyte", "analyte", _ch(*C.LAB_ANALYTES), required=True),
            _num("labs_value", "Result", "value", lo="0"),
            _ExField("labs_unit", "text", "Unit as reported", "unit", note="e.g. mg/L, ng/mL, 10^9/L"),
        ),
    ),
    (
        "adverse_events",
        "Adverse Events",
        "adverse_events",
        True,
        (
            _ExField("event", "dropdown", "Event (CTCAE v5.0)", "event", _ch(*C.ADVERSE_EVENTS), required=True),
            _num("ctcae_grade", "CTCAE grade", integer=True, lo="1", hi="5", required=False),
        ),
    ),
)
EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "redcap_example"
EXAMPLE_PROJECT = "MISCCohort"


def _text(v) -> str:
    """A typed cell as REDCap holds it: empty when missing, 1/0 for a boolean, numbers without a trailing .0."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        r = repr(float(v))
        return r[:-2] if r.endswith(".0") else r
    return str(v)


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def _status(form: str, k: int) -> str:
    """A form's status for the k-th record or instance (0 Incomplete, 1 Unverified, 2 Complete): the values of an
    incomplete form are data all the same."""
    if form == "treatment" and k % 9 == 4:
        return "1"
    if form == "outcomes" and k % 7 == 3:
        return "0"
    if form in ("echo", "temperatures") and k % 53 == 17:
        return "0"
    if form == "labs" and k % 97 == 11:
        return "1"
    return "2"


def example_dictionary() -> bytes:
    """The example project's data dictionary CSV."""
    rows = [list(DICTIONARY_HEADER)]
    for form, _, _, _, fields in EXAMPLE_FORMS:
        for f in fields:
            choices = " | ".join(f"{c}, {lab}" for c, lab in f.choices)
            rows.append(
                [f.name, form, f.section, f.type, f.label, choices, f.note, f.validation, f.min, f.max, "",
                 f.branching, "y" if f.required else "", "", "", "", "", ""]
            )  # fmt: skip
    return _csv(rows)


def example_records(cohort, values: str = "raw", headers: str = "variable names") -> bytes:
    """The records export of the example project holding ``cohort`` (typed tables): ``values`` "raw" or "labels";
    ``headers`` "variable names" or "field labels". Records in the order of ``cohort``'s patients, each one's
    instances in the order of its rows (REDCap exports a record's base row, then each repeating instrument's
    instances in turn), so a cohort whose tables are grouped by patient in that order reads back as it was."""
    lab = values == "labels"
    statuses = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}
    head: list[str] = []
    titles: list[str] = []
    layout: list[tuple[str, _ExField | None, str | None]] = []  # (column, field, checkbox code or "complete")
    for var, title in (
        ("record_id", "Record ID"),
        ("redcap_repeat_instrument", "Repeat Instrument"),
        (INSTANCE, "Repeat Instance"),
    ):
        head.append(var)
        titles.append(title)
    for form, _, _, _, fields in EXAMPLE_FORMS:
        for f in fields:
            if f.type == "descriptive" or f.name == "record_id":
                continue
            if f.type == "checkbox":
                for code, clab in f.choices:
                    head.append(f"{f.name}___{code}")
                    titles.append(f"{f.label} (choice={clab})")
                    layout.append((head[-1], f, code))
            else:
                head.append(f.name)
                titles.append(f.label)
                layout.append((f.name, f, None))
        head.append(f"{form}_complete")
        titles.append("Complete?")
        layout.append((head[-1], None, form))
    index = {c: k for k, c in enumerate(head)}
    rows = [titles if headers == "field labels" else head]
    boxes = [(index[c], f, code) for c, f, code in layout if f is not None and f.type == "checkbox"]

    def coded(f: _ExField, v) -> str:
        t = _text(v)
        if not t:
            return ""
        if f.type in ("radio", "dropdown"):
            code = next((c for c, lb in f.choices if lb == t), None)
            if code is None:
                raise ValueError(f"{f.name}: {t!r} is not one of the example's choices")
            return t if lab else code
        if f.type == "yesno":
            return ("Yes" if t == "1" else "No") if lab else t
        return t

    def blank_row(pid: str) -> list[str]:
        row = [""] * len(head)
        row[0] = pid
        for j, _, _ in boxes:
            row[j] = "Unchecked" if lab else "0"  # REDCap exports unticked boxes in every row
        return row

    pts = cohort.tables["patients"]
    groups = {t: cohort.tables[t].groupby("patient_id", sort=False).indices for _, _, t, rep, _ in EXAMPLE_FORMS if rep}
    counters: dict[str, int] = {}
    for k, prow in enumerate(pts.to_dict("records")):
        pid = str(prow["patient_id"])
        row = blank_row(pid)
        for form, _, _, rep, fields in EXAMPLE_FORMS:
            if rep:
                continue
            for f in fields:
                if f.column is None or f.name == "record_id":
                    continue
                if f.type == "checkbox":
                    ticked = _text(prow[f.column]) == "1"
                    row[index[f"{f.name}___{f.choices[0][0]}"]] = (
                        ("Checked" if ticked else "Unchecked") if lab else ("1" if ticked else "0")
                    )
                else:
                    row[index[f.name]] = coded(f, prow[f.column])
            s = _status(form, k)
            row[index[f"{form}_complete"]] = statuses[s] if lab else s
        rows.append(row)
        for form, ilabel, table, rep, fields in EXAMPLE_FORMS:
            if not rep:
                continue
            df = cohort.tables[table]
            for n, i in enumerate(groups[table].get(prow["patient_id"], ())):
                r = blank_row(pid)
                r[1] = ilabel if lab else form
                r[2] = str(n + 1)
                for f in fields:
                    r[index[f.name]] = coded(f, df[f.column].iat[i])
                c = counters[form] = counters.get(form, -1) + 1
                s = _status(form, c)
                r[index[f"{form}_complete"]] = statuses[s] if lab else s
                rows.append(r)
    return _csv(rows)


def example_from_cohort(cohort, project: str = EXAMPLE_PROJECT) -> dict[str, bytes]:
    """A REDCap project built on the data contract holding ``cohort``: {file name: bytes} of its data dictionary,
    its raw records export and its labelled one (variable names as headers), named as REDCap names them."""
    return {
        f"{project}_DataDictionary.csv": example_dictionary(),
        f"{project}_DATA_raw.csv": example_records(cohort, "raw"),
        f"{project}_DATA_labels.csv": example_records(cohort, "labels"),
    }


def write_example(out_dir: str | Path = EXAMPLE_DIR, cohort=None) -> list[Path]:
    """Write the example project's files (of the default cohort unless ``cohort``) into ``out_dir``."""
    from .loading import DEFAULT_COHORT_DIR, load_cohort

    cohort = cohort if cohort is not None else load_cohort(DEFAULT_COHORT_DIR)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in example_from_cohort(cohort).items():
        (out / name).write_bytes(data)
        paths.append(out / name)
    return paths
