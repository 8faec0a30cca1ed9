"""Loading and validating a cohort.

A cohort is a folder of CSV or Parquet files (one per table, named after it: ``labs.csv``, ``labs.parquet``),
one ``.xlsx`` workbook (one sheet per table), or one ``.zip`` holding such a folder. Validation collects
**every** problem at once — file, row, column, value, and how to fix it — and a cohort with any error never
loads (``load_cohort`` raises :class:`CohortInvalid`). Types, ranges, allowed values, missing cells and
duplicate keys are checked column by column with vector operations (pyarrow compute and numpy), one small check
per rule of :mod:`misc_dash.contract`; rules that span rows or tables (patients that do not exist, time points
out of order) are small vectorised checks of their own. Only the rows that fail become :class:`Problem` objects,
at most :data:`MAX_PROBLEMS_PER_RULE` per rule and column, then one summary ("… and N more rows").

Everything is read as text first (an empty cell is missing; a UTF-8 byte-order mark is skipped), then
converted with Python's own rules for numbers (``float()``, ``int()``; surrounding spaces allowed). A
``metadata.json`` may list the cohort's tables with their row counts (``"tables": {"labs": 70722, …}``): a
listed table that is absent or has another row count is an error (a truncated file, or a file the browser
refused to upload).

A validated cohort read from a folder or file on disk is kept in a Parquet cache (:mod:`misc_dash.cache`), so
reopening it skips parsing and validation; ``MISC_DASH_CACHE=off`` disables that.

Row numbers are the line numbers a user sees in a spreadsheet: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import warnings
import zipfile
from collections import abc
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import cache
from . import contract as C

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COHORT_DIR = REPO_ROOT / "data" / "default_cohort"

_PANDAS_DTYPE = {"str": "str", "int": "Int64", "float": "float64", "bool": "boolean"}

MAX_PROBLEMS_PER_RULE = 50  # rows listed per rule and column; the rest are counted in one summary problem
ZIP_MAX_BYTES = 1 << 30  # total uncompressed size of the members read from one .zip

TABLE_SUFFIXES = (".csv", ".parquet")
ENV_COHORT = "MISC_DASH_COHORT"


def upload_too_large(items: Iterable[tuple[str, object]]) -> Problem | None:
    """One problem when the uploaded files together hold more than :data:`ZIP_MAX_BYTES` (the most one upload is
    read from, as for a .zip's members): Streamlit limits each file (server.maxUploadSize), not their sum, and
    reading several large files at once would hold many times their size in this server's memory."""
    items = list(items)
    total = sum(len(d) if not isinstance(d, Path) else d.stat().st_size for _, d in items)
    if total <= ZIP_MAX_BYTES:
        return None
    return Problem(
        "upload",
        f"the {len(items)} files hold {total / 1e6:.0f} MB together, more than the {ZIP_MAX_BYTES / 1e6:.0f} MB "
        "this server reads from one upload; nothing was read",
        "upload one cohort at a time, as one .zip or as Parquet files (smaller than CSV)",
    )


Progress = Callable[[float, str], None]


def _no_progress(fraction: float, message: str) -> None:
    return None


def _stage(progress: Progress | None, lo: float, hi: float) -> Progress:
    """A progress callback for one stage: its 0–1 mapped onto ``lo``–``hi`` of the caller's."""
    if progress is None:
        return _no_progress

    def report(fraction: float, message: str) -> None:
        progress(lo + (hi - lo) * min(max(fraction, 0.0), 1.0), message)

    return report


# --------------------------------------------------------------------------------------------- problems
@dataclass(frozen=True)
class Problem:
    """One thing wrong with a cohort, phrased for the person who has to fix the file."""

    file: str
    message: str
    fix: str
    row: int | None = None  # spreadsheet row (header = 1)
    column: str | None = None
    value: str | None = None
    severity: str = "error"  # "error" blocks loading; "warning" is shown but does not

    def text(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        val = f" (value: {self.value!r})" if self.value is not None else ""
        return f"{self.severity.upper()}: {where}: {self.message}{val}. Fix: {self.fix}"

    def to_dict(self) -> dict:
        return {
            "severity": self.severity,
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "fix": self.fix,
        }


class CohortInvalid(Exception):
    """Raised when a cohort has at least one error. ``problems`` holds every problem found."""

    def __init__(self, problems: list[Problem], source: str = ""):
        self.problems = problems
        self.source = source
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"{source}: {len(errors)} problem(s) prevent loading")

    def report(self) -> str:
        return "\n".join(p.text() for p in self.problems)


def _cell_problems(
    rows: np.ndarray, cells, label: str, column: str, msg: str, fix: str, show: Callable = str
) -> list[Problem]:
    """One rule's problems for the failing cells ``rows`` of a column (``cells``: its arrow array), each showing
    the cell's value (``show``); capped as :func:`_capped`."""
    shown = cells.take(pa.array(rows[:MAX_PROBLEMS_PER_RULE])).to_pylist()
    first = {int(r): v for r, v in zip(rows, shown)}
    return _capped(
        rows,
        lambda i: Problem(label, msg, fix, row=i + 2, column=column, value=show(first[i])),
        msg,
        label,
        fix,
        column,
    )


def _capped(
    rows: np.ndarray,
    make: Callable[[int], Problem],
    what: str,
    label: str,
    fix: str,
    column: str | None,
    severity: str = "error",
) -> list[Problem]:
    """Problems for the failing rows (0-based data positions): the first :data:`MAX_PROBLEMS_PER_RULE` each
    built by ``make``, then one summary counting the rest (placed at the first row it counts)."""
    rows = np.asarray(rows)
    out = [make(int(i)) for i in rows[:MAX_PROBLEMS_PER_RULE]]
    rest = len(rows) - MAX_PROBLEMS_PER_RULE
    if rest > 0:
        out.append(
            Problem(
                label,
                f"… and {rest} more row{'s' if rest > 1 else ''} with the same problem ({what}), not listed one by one",
                fix,
                row=int(rows[MAX_PROBLEMS_PER_RULE]) + 2,
                column=column,
                severity=severity,
            )
        )
    return out


# --------------------------------------------------------------------------------------------- cohort
@dataclass(frozen=True, eq=False)
class Cohort:
    """A validated cohort: typed tables (every contract table present, possibly empty) and metadata."""

    tables: Mapping[str, pd.DataFrame]
    name: str
    synthetic: bool
    description: str = ""
    source: str = ""
    warnings: tuple[Problem, ...] = ()
    fingerprint: str = ""
    metadata: Mapping = field(default_factory=lambda: MappingProxyType({}))  # metadata.json as read
    _rows: dict = field(default_factory=dict, repr=False, compare=False)  # patient_rows per table, on first use

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]

    def codes(self, table: str, column: str) -> tuple[np.ndarray, np.ndarray]:
        """``pd.factorize(column, sort=True)`` of a text column (codes, -1 for missing; sorted distinct values),
        computed once per cohort: a subset takes its parent's codes of the rows it keeps."""
        key = (table, column)
        got = self._rows.get(key)
        if got is None:
            if isinstance(self.tables, _SubsetTables):
                got = self.tables.codes(table, column)
            else:
                codes, uniques = pd.factorize(self.tables[table][column].to_numpy(object), sort=True)
                codes.setflags(write=False)
                got = (codes, np.asarray(uniques, dtype=object))
            self._rows[key] = got
        return got

    def patient_rows(self, table: str) -> np.ndarray:
        """For each row of ``table``, the position of its patient in :attr:`patients` (-1 if not there).

        Computed once per table (a subset derives it from its parent's without reading a patient id): per-patient
        derivations then work on integers instead of hashing millions of id strings on every filter change."""
        rows = self._rows.get(table)
        if rows is None:
            if isinstance(self.tables, _SubsetTables):
                rows = self.tables.patient_rows(table)
            else:
                ids = pd.Index(self.patients["patient_id"].to_numpy(object))
                rows = ids.get_indexer(self.tables[table]["patient_id"].to_numpy(object))
            rows.setflags(write=False)
            self._rows[table] = rows
        return rows

    @property
    def patients(self) -> pd.DataFrame:
        return self.tables["patients"]

    @property
    def n_patients(self) -> int:
        return len(self.tables["patients"])

    @property
    def resampled(self) -> bool:
        """A synthetic cohort resampled from the reconstructed one (``python -m misc_dash synth``), not the
        reconstruction itself (its metadata says ``"resampled_from"``; older resamples only say so in their
        description)."""
        if not self.synthetic:
            return False
        return bool(self.metadata.get("resampled_from")) or self.description.lower().startswith("patients resampled")

    def __hash__(
        self,
    ) -> int:  # usable as a cache key: identical content → identical hash (for a subset: same parent, same ids)
        return hash(self.fingerprint)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cohort) and other.fingerprint == self.fingerprint

    def own_bytes(self) -> int:
        """Approximate memory of the tables this cohort holds itself: all of them for a loaded cohort; for a
        subset, only the tables filtered so far (the parent's are shared)."""
        if isinstance(self.tables, _SubsetTables):
            tables = {k: v for k, v in self.tables._done.items() if k not in self.tables._shared}
        else:
            tables = self.tables
        return int(sum(df.memory_usage(index=True, deep=False).sum() for df in list(tables.values())))

    @property
    def is_subset(self) -> bool:
        return isinstance(self.tables, _SubsetTables)

    def subset(self, patient_ids: Iterable[str], name: str | None = None) -> Cohort:
        """The same cohort restricted to some patients (every table filtered)."""
        pos = pd.Index(self.patients["patient_id"].to_numpy(object)).get_indexer(
            np.asarray(list(patient_ids), dtype=object)
        )
        keep = np.zeros(self.n_patients, bool)
        keep[pos[pos >= 0]] = True  # ids that are not patients of this cohort select nothing
        tables = _SubsetTables(self, keep)
        # the subset is determined by this cohort's content and the kept patients: derive its fingerprint from those
        # instead of hashing every table again on each filter change
        h = hashlib.sha256(f"{self.fingerprint}|subset|{self.n_patients}|".encode())
        h.update(np.packbits(keep).tobytes())
        return Cohort(
            tables=tables,
            name=name or self.name,
            synthetic=self.synthetic,
            description=self.description,
            source=self.source,
            warnings=self.warnings,
            fingerprint=h.hexdigest()[:16],
            metadata=self.metadata,
        )


class _SubsetTables(abc.Mapping):
    """A cohort's tables restricted to some patients, each filtered on first use (read-only).

    A filter change makes a subset, and most analyses read only two or three of its ten tables: a table is
    filtered when it is first read, so the tables no analysis reads are never filtered."""

    def __init__(self, parent: Cohort, keep: np.ndarray):
        self._cohort, self._parent, self._keep = parent, parent.tables, keep  # keep: per parent patient
        self._all = bool(keep.all())
        self._done: dict[str, pd.DataFrame] = {}
        self._shared: set[str] = set()  # tables that are the parent's own frame (every patient kept)
        # position of each parent patient in the subset (-1: not kept); the last entry serves parent rows of -1
        self._new_pos = np.r_[np.where(keep, np.cumsum(keep) - 1, -1), -1]

    def _row_mask(self, table: str) -> np.ndarray:
        return np.r_[self._keep, False][self._cohort.patient_rows(table)]

    def __getitem__(self, table: str) -> pd.DataFrame:
        df = self._done.get(table)
        if df is None:
            src = self._parent[table]
            if self._all and not (self._cohort.patient_rows(table) < 0).any():
                df, _ = src, self._shared.add(table)  # read-only: every row is kept, share the parent's frame
            else:
                df = src.iloc[np.flatnonzero(self._row_mask(table))].reset_index(drop=True)
            self._done[table] = df
        return df

    def codes(self, table: str, column: str) -> tuple[np.ndarray, np.ndarray]:
        codes, uniques = self._cohort.codes(table, column)
        if table in self._shared:
            return codes, uniques
        return codes[self._row_mask(table)], uniques

    def patient_rows(self, table: str) -> np.ndarray:
        parent_rows = self._cohort.patient_rows(table)
        return self._new_pos[parent_rows[self._row_mask(table)]]

    def __iter__(self):
        return iter(self._parent)

    def __len__(self) -> int:
        return len(self._parent)


def _fingerprint(tables: Mapping[str, pd.DataFrame]) -> str:
    h = hashlib.sha256()
    for name in sorted(tables):
        df = tables[name]
        h.update(name.encode())
        h.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
        h.update(",".join(df.columns).encode())
    return h.hexdigest()[:16]


def _column_hash(s: pd.Series, codes: np.ndarray | None = None, uniques: np.ndarray | None = None) -> np.ndarray:
    """``pandas.util.hash_array`` of a column; for a text column whose codes are known, computed from them
    (the hash of each distinct value, taken by code: what pandas does after factorizing the column again)."""
    if codes is not None and s.dtype == object and len(codes) == len(s):
        hashed = pd.util.hash_array(uniques, categorize=False) if len(uniques) else np.zeros(0, np.uint64)
        out = hashed.take(np.maximum(codes - 1, 0)) if len(hashed) else np.zeros(len(codes), np.uint64)
        out[codes == 0] = np.iinfo(np.uint64).max
        return out
    vals = s.array if isinstance(s.dtype, pd.api.extensions.ExtensionDtype) else s.to_numpy()
    return pd.util.hash_array(vals)


def _frame_hash(df: pd.DataFrame, keys: _Checked | None = None) -> np.ndarray:
    """``pandas.util.hash_pandas_object(df, index=False).values``, from known text codes where there are."""
    n = len(df.columns)
    out = np.array([], dtype=np.uint64)
    mult = np.uint64(1000003)
    for i, c in enumerate(df.columns):
        if keys is not None and c in keys.codes:
            a = _column_hash(df[c], keys.codes[c], keys.uniques[c])
        else:
            a = _column_hash(df[c])
        if i == 0:
            out = np.zeros_like(a) + np.uint64(0x345678)
        inverse_i = n - i
        out ^= a
        out *= mult
        mult += np.uint64(82520 + inverse_i + inverse_i)
    if n:
        out += np.uint64(97531)
    return out


def _fast_fingerprint(tables: Mapping[str, pd.DataFrame], keys: Mapping[str, _Checked]) -> str:
    """:func:`_fingerprint`, reusing the codes validation computed for the text columns."""
    h = hashlib.sha256()
    for name in sorted(tables):
        df = tables[name]
        h.update(name.encode())
        h.update(_frame_hash(df, keys.get(name)).tobytes())
        h.update(",".join(df.columns).encode())
    return h.hexdigest()[:16]


def _make_cohort(tables, name, synthetic, description, source, warns, metadata=None, fingerprint=None) -> Cohort:
    return Cohort(
        tables=MappingProxyType(dict(tables)),
        name=name,
        synthetic=synthetic,
        description=description,
        source=source,
        warnings=tuple(warns),
        fingerprint=fingerprint or _fingerprint(tables),
        metadata=MappingProxyType(dict(metadata or {})),
    )


# --------------------------------------------------------------------------------------------- reading
@dataclass
class _Source:
    """What was read from a cohort source: text tables (pyarrow, every column a string), the file each came
    from, the metadata, the problems so far, the source's label and its kind."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    label: str = ""
    kind: str = "folder"  # "folder" | "xlsx" | "zip" | "files"


def _csv_header(head: bytes) -> list[str] | None:
    """The column names of a CSV from its first bytes (None if they cannot be decoded or hold no full line)."""
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = head[: max(head.rfind(b"\n"), 0)].decode("utf-8-sig", errors="strict") if b"\n" in head else ""
    lines = io.StringIO(text)
    try:
        row = next(csv.reader(lines))
    except (StopIteration, csv.Error):
        return None
    return row if row else None


class CsvFormatError(ValueError):
    """A CSV in a shape the reader does not guess at (another encoding, another separator): what it looks like and
    how to save it instead."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message, self.fix = message, fix


def _check_csv_format(head: bytes, whole: bool = True) -> None:
    """Name the two usual mistakes instead of reading them wrongly: a file that is not UTF-8 (Excel's "CSV" on
    Windows writes Windows-1252 / Latin-1) and a file separated by semicolons or tabs (Excel in many European
    locales)."""
    text = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as exc:
        if whole or exc.start < len(text) - 3:  # not a multibyte character cut at the end of the sample
            raise CsvFormatError(
                "is not UTF-8 text (it looks like Windows-1252 / Latin-1, e.g. 'é' or '°' saved by Excel's plain "
                '"CSV")',
                'save it as "CSV UTF-8 (comma delimited)" (Excel: File → Save As), or re-encode it as UTF-8',
            ) from None
    first = text.split(b"\n", 1)[0]
    if b"," not in first:
        for sep, what in ((b";", "semicolons"), (b"\t", "tabs")):
            if sep in first:
                raise CsvFormatError(
                    f"is separated by {what}, not commas",
                    'save it as CSV with commas between the columns (Excel: "CSV UTF-8 (comma delimited)")',
                )


def _read_csv(src: Path | bytes | memoryview, name: str) -> pa.Table:
    """A CSV as a table of strings: every column text, an empty cell missing, a UTF-8 BOM skipped. pyarrow's
    parser; pandas' when pyarrow refuses the file (e.g. rows with fewer cells than the header)."""
    import pyarrow.csv as pcsv

    if isinstance(src, Path):
        with open(src, "rb") as fh:
            head = fh.read(1 << 20)
    else:
        head = bytes(src[: 1 << 20])
    _check_csv_format(head, whole=len(head) < 1 << 20)
    names = _csv_header(head)
    if names:
        try:
            stream = src if isinstance(src, Path) else pa.BufferReader(pa.py_buffer(src))
            table = pcsv.read_csv(
                stream,
                read_options=pcsv.ReadOptions(block_size=8 << 20),
                parse_options=pcsv.ParseOptions(newlines_in_values=b'"' in head),
                convert_options=pcsv.ConvertOptions(
                    column_types={n: pa.string() for n in names},
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                ),
            )
            if all(pa.types.is_string(t) for t in table.schema.types):  # else it read the header otherwise
                return table
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass  # pandas decides (and names the error the way it always has)
    data = src if isinstance(src, Path) else io.BytesIO(bytes(src))
    fix = "every row needs as many cells as the header: check the separators and quotes in that row"
    with warnings.catch_warnings():
        # a first row with one cell more than the header would silently become the index (a=2, b=3 for 1,2,3)
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            df = pd.read_csv(
                data, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig", index_col=False
            )
        except pd.errors.ParserWarning:
            raise CsvFormatError("has a row with more cells than the header", fix) from None
        except pd.errors.ParserError as exc:
            detail = str(exc).split("error: ")[-1].strip().rstrip(".")  # "Expected 2 fields in line 3, saw 3"
            raise CsvFormatError(f"has a row with another number of cells than the header ({detail})", fix) from None
    return _text_table(df)


def _text_table(df: pd.DataFrame) -> pa.Table:
    """A pandas frame (any cell types) as a table of strings (missing stays missing)."""
    cols = [str(c) for c in df.columns]
    return pa.Table.from_arrays([_as_strings(df.iloc[:, j]) for j in range(df.shape[1])], names=cols)


def _read_parquet(src: Path | bytes | memoryview, name: str) -> pa.Table:
    """A Parquet file as a table of strings (numbers written as text and parsed back like a CSV's)."""
    import pyarrow.parquet as pq

    t = pq.read_table(src if isinstance(src, Path) else pa.BufferReader(pa.py_buffer(src)))
    index_cols = {c for c in ((t.schema.pandas_metadata or {}).get("index_columns") or []) if isinstance(c, str)}
    arrays, names = [], []
    for n, col in zip(t.column_names, t.columns):
        if n in index_cols:
            continue
        arrays.append(_as_strings(col))
        names.append(n)
    return pa.Table.from_arrays(arrays, names=names)


def _as_strings(col) -> pa.ChunkedArray:
    """A column (pyarrow or pandas) as strings; missing stays missing."""
    if isinstance(col, pd.Series):
        values = col.to_numpy(dtype=object, na_value=None)
        try:
            return pa.chunked_array([pa.array(values, type=pa.string(), from_pandas=True)])
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return pa.chunked_array([pa.array([None if _isna(v) else str(v) for v in values], type=pa.string())])
    if isinstance(col, pa.Array):
        col = pa.chunked_array([col], type=col.type)
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if pa.types.is_string(col.type):
        return col
    if pa.types.is_null(col.type):
        return pa.chunked_array([pa.nulls(len(col), pa.string())])
    if pa.types.is_floating(col.type):
        # shortest round-trip text, as a CSV writer would; NaN is missing (as pandas writes it)
        col = pc.if_else(pc.is_nan(col), pa.scalar(None, col.type), col)
    return col.cast(pa.string())


def _isna(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _parse_meta(text: str, problems: list[Problem]) -> dict:
    try:
        meta = json.loads(text)
        if not isinstance(meta, dict):
            raise ValueError("not an object")
        return meta
    except Exception:
        problems.append(
            Problem(
                C.METADATA_FILE,
                "is not a JSON object",
                'write e.g. {"name": "My cohort", "synthetic": false}',
                severity="warning",
            )
        )
        return {}


def _size(src) -> int:
    return src.stat().st_size if isinstance(src, Path) else len(src)


def _read_members(members: Mapping[str, Path | bytes | memoryview], out: _Source, progress: Progress) -> None:
    """Read a cohort's files (a folder's, a zip's or an upload's): ``<table>.csv`` / ``<table>.parquet`` and
    ``metadata.json``; anything else is reported and ignored."""
    by_table: dict[str, list[str]] = {}
    meta_name = next((f for f in members if PurePosixPath(f).name.lower() == C.METADATA_FILE), None)
    for fname in members:
        p = PurePosixPath(fname)
        if fname == meta_name:
            continue
        if p.suffix.lower() not in TABLE_SUFFIXES:
            continue
        table = p.stem.strip().lower()  # Patients.CSV is patients.csv
        if table not in C.TABLES_BY_NAME:
            out.problems.append(
                Problem(
                    fname,
                    f"unknown table '{p.stem}' is ignored",
                    f"name it one of: {', '.join(C.TABLES_BY_NAME)}",
                    severity="warning",
                )
            )
            continue
        by_table.setdefault(table, []).append(fname)
    total = sum(_size(members[f]) for fs in by_table.values() for f in fs) or 1
    done = 0
    for name in C.TABLES_BY_NAME:
        fnames = by_table.get(name)
        if not fnames:
            continue
        if len(fnames) > 1:
            out.problems.append(
                Problem(fnames[0], f"table '{name}' is given twice ({', '.join(fnames)})", "keep one of the files")
            )
            continue
        fname = fnames[0]
        src = members[fname]
        progress(done / total, f"Reading {fname}")
        parquet = fname.lower().endswith(".parquet")
        try:
            out.tables[name] = _read_parquet(src, fname) if parquet else _read_csv(src, fname)
            out.files[name] = fname
        except CsvFormatError as exc:
            out.problems.append(Problem(fname, exc.message, exc.fix))
        except Exception as exc:  # unreadable file: report, don't crash
            if parquet:
                out.problems.append(
                    Problem(fname, f"cannot be read as Parquet ({type(exc).__name__})", "write it again as Parquet")
                )
            else:
                out.problems.append(
                    Problem(
                        fname, f"cannot be read as CSV ({type(exc).__name__})", "save it as UTF-8 CSV with a header row"
                    )
                )
        done += _size(src)
    if meta_name is not None:
        src = members[meta_name]
        try:
            text = src.read_text(encoding="utf-8") if isinstance(src, Path) else bytes(src).decode("utf-8-sig")
        except Exception:
            text = ""
        out.meta = _parse_meta(text, out.problems)
    progress(1.0, "Read")


def _safe_member(name: str) -> bool:
    """A zip member name that is a plain relative path (no drive, no root, no '..')."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or ":" in name.split("/")[0]:
        return False
    return ".." not in PurePosixPath(name).parts


def _cohort_folder(wanted: Mapping[str, list[zipfile.ZipInfo]], label: str, problems: list[Problem]):
    """The members of the one folder of a .zip that holds cohort tables (None, with a problem, otherwise)."""
    with_tables = [
        d
        for d, infos in wanted.items()
        if any(PurePosixPath(i.filename).stem in C.TABLES_BY_NAME for i in infos if i.filename[-5:] != ".json")
    ]
    if len(with_tables) > 1:
        problems.append(
            Problem(
                label,
                f"holds cohort tables in several folders ({', '.join(sorted(with_tables))})",
                "zip one cohort folder at a time",
            )
        )
        return None
    if not with_tables:
        problems.append(
            Problem(label, "contains no cohort table", "zip the cohort's CSV or Parquet files (e.g. patients.csv)")
        )
        return None
    return wanted[with_tables[0]]


def zip_members(
    src: Path | bytes,
    label: str,
    problems: list[Problem],
    progress: Progress = _no_progress,
    choose: Callable[[Mapping[str, list[zipfile.ZipInfo]], str, list[Problem]], list | None] = _cohort_folder,
) -> dict[str, memoryview] | None:
    """The data files of a .zip (``.csv``, ``.parquet``, ``.xlsx``, ``.json``), read in memory: no member is
    written to disk, names with '..' or an absolute path are refused, and at most :data:`ZIP_MAX_BYTES` are
    decompressed. ``choose(members by folder, label, problems)`` picks the members to read (default: the one
    folder holding cohort tables). Returns {file name: bytes}, or None with the problems appended."""
    try:
        zf = zipfile.ZipFile(src if isinstance(src, Path) else io.BytesIO(src))
    except Exception as exc:
        problems.append(
            Problem(label, f"cannot be read as a .zip ({type(exc).__name__})", "make the .zip again (File → Compress)")
        )
        return None
    with zf:
        wanted: dict[str, list[zipfile.ZipInfo]] = {}
        for info in zf.infolist():
            n = info.filename
            if info.is_dir() or n.startswith("__MACOSX/") or PurePosixPath(n).name.startswith("."):
                continue
            if not _safe_member(n):
                problems.append(
                    Problem(
                        f"{label}:{n}",
                        "member with an unsafe path is ignored",
                        "put the cohort files in the .zip by relative names",
                        severity="warning",
                    )
                )
                continue
            p = PurePosixPath(n)
            if p.suffix.lower() in (*TABLE_SUFFIXES, ".xlsx", ".json"):
                wanted.setdefault(str(p.parent), []).append(info)
        infos = choose(wanted, label, problems)
        if infos is None:
            return None
        if any(i.flag_bits & 0x1 for i in infos):
            problems.append(Problem(label, "is password-protected", "make the .zip without a password"))
            return None
        declared = sum(i.file_size for i in infos)
        if declared > ZIP_MAX_BYTES:
            problems.append(
                Problem(
                    label,
                    f"would unpack to {declared / 1e6:.0f} MB, more than the {ZIP_MAX_BYTES / 1e6:.0f} MB this "
                    "server reads from one .zip",
                    "send a smaller cohort, or Parquet files (smaller than CSV)",
                )
            )
            return None
        members: dict[str, memoryview] = {}
        read = 0
        for k, info in enumerate(infos):
            progress(k / max(len(infos), 1), f"Unpacking {PurePosixPath(info.filename).name}")
            buf = bytearray()
            try:
                with zf.open(info) as fh:
                    while chunk := fh.read(8 << 20):
                        buf += chunk
                        read += len(chunk)
                        if read > ZIP_MAX_BYTES or len(buf) > info.file_size:
                            raise ValueError("larger than declared")
            except ValueError:
                problems.append(
                    Problem(label, "unpacks to more data than it declares", "make the .zip again from the CSV files")
                )
                return None
            except Exception as exc:
                problems.append(
                    Problem(
                        f"{label}:{info.filename}",
                        f"cannot be unpacked ({type(exc).__name__})",
                        "make the .zip again from the CSV files",
                    )
                )
                return None
            members[PurePosixPath(info.filename).name] = memoryview(buf)
    return members


def _read_zip(src: Path | bytes, label: str, out: _Source, progress: Progress) -> None:
    """A .zip of a cohort folder (at its top or in one subfolder): see :func:`zip_members`."""
    members = zip_members(src, label, out.problems, _stage(progress, 0.0, 0.5))
    if members is not None:
        members = {n: b for n, b in members.items() if not n.lower().endswith(".xlsx")}
        _read_members(members, out, _stage(progress, 0.5, 1.0))


def _read_source(path, filename: str | None = None, progress: Progress | None = None) -> _Source:
    """Read a cohort source (folder, .xlsx/.zip path, or the bytes of an uploaded .xlsx/.zip) as text tables."""
    progress = progress or _no_progress
    if isinstance(path, (bytes, bytearray, memoryview)):
        label = filename or "upload.xlsx"
        out = _Source(label=label)
        if label.lower().endswith(".zip"):
            out.kind = "zip"
            _read_zip(bytes(path), label, out, progress)
        else:
            out.kind = "xlsx"
            _read_xlsx_into(io.BytesIO(path), label, out, progress)
        return out
    p = Path(path)
    out = _Source(label=p.name or str(p))
    if not p.exists():
        out.problems.append(
            Problem(
                str(p),
                "no such file or folder",
                "give the path of a cohort folder of CSVs or an .xlsx workbook",
            )
        )
        return out
    if p.is_file():
        suffix = p.suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            out.kind = "xlsx"
            _read_xlsx_into(p, p.name, out, progress)
        elif suffix == ".zip":
            out.kind = "zip"
            _read_zip(p, p.name, out, progress)
        else:
            out.problems.append(Problem(p.name, "not a cohort", "give a folder of CSV files or an .xlsx workbook"))
        return out
    members = {f.name: f for f in sorted(p.iterdir()) if f.is_file()}
    members = {
        n: f for n, f in members.items() if Path(n).suffix.lower() in TABLE_SUFFIXES or n.lower() == C.METADATA_FILE
    }
    _read_members(members, out, progress)
    if not out.tables and not any(pr.severity == "error" for pr in out.problems):
        out.problems.append(
            Problem(out.label, "contains no cohort table", "add at least patients.csv (see data/template/)")
        )
    return out


def _read_xlsx_into(src, label: str, out: _Source, progress: Progress) -> None:
    progress(0.0, f"Reading {label}")
    tables, meta = _read_workbook(src, label, out.problems)
    out.meta = meta
    for name, df in tables.items():
        out.tables[name] = _text_table(df)
        out.files[name] = f"{label}[{name}]"
    progress(1.0, "Read")


def read_raw_tables(
    path: str | Path | bytes, filename: str | None = None
) -> tuple[dict[str, pd.DataFrame], dict, list[Problem], str]:
    """Read every table as text (no type conversion yet). Returns (tables, metadata, problems, label).

    ``path`` is a folder of CSV/Parquet files, an ``.xlsx`` or ``.zip`` file, or the bytes of an uploaded
    ``.xlsx`` or ``.zip`` (then pass ``filename``).
    """
    src = _read_source(path, filename)
    tables = {name: t.to_pandas() for name, t in src.tables.items()}
    return tables, src.meta, src.problems, src.label


def read_sheets(src, label: str, problems: list[Problem]) -> dict[str, pd.DataFrame] | None:
    """Every sheet of an .xlsx as text (an empty cell missing); None, with a problem, if it cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.read_excel(
                src, sheet_name=None, dtype=str, keep_default_na=False, na_values=[""], engine="openpyxl"
            )
    except Exception as exc:
        problems.append(
            Problem(label, f"cannot be read as an .xlsx workbook ({type(exc).__name__})", "save the workbook as .xlsx")
        )
        return None


def _read_workbook(src, label: str, problems: list[Problem]) -> tuple[dict[str, pd.DataFrame], dict]:
    tables: dict[str, pd.DataFrame] = {}
    meta: dict = {}
    sheets = read_sheets(src, label, problems)
    if sheets is None:
        return tables, meta
    for sheet, df in sheets.items():
        name = str(sheet).strip()
        if name == "dictionary":  # the template's own help sheet
            continue
        if name == "metadata":
            try:
                meta = {str(k): v for k, v in zip(df.iloc[:, 0], df.iloc[:, 1])}
                if "synthetic" in meta:
                    meta["synthetic"] = str(meta["synthetic"]).strip().lower() in C.BOOL_TRUE
            except Exception:
                problems.append(
                    Problem(
                        f"{label}[metadata]", "needs two columns: key, value", "or delete the sheet", severity="warning"
                    )
                )
            continue
        if name not in C.TABLES_BY_NAME:
            problems.append(
                Problem(
                    f"{label}[{name}]",
                    f"unknown sheet '{name}' is ignored",
                    f"name it one of: {', '.join(C.TABLES_BY_NAME)}",
                    severity="warning",
                )
            )
            continue
        tables[name] = df
    return tables, meta


# --------------------------------------------------------------------------------------------- manifest
def cohort_manifest(tables: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """The table manifest written into metadata.json (``"tables"``): the row count of every table with rows."""
    return {name: len(df) for name, df in tables.items() if len(df)}


def _manifest(meta: Mapping, problems: list[Problem]) -> dict[str, int] | None:
    m = meta.get("tables")
    if m is None:
        return None
    if isinstance(m, str):  # an .xlsx metadata sheet holds it as JSON text
        try:
            m = json.loads(m)
        except ValueError:
            m = None
    ok = isinstance(m, dict) and all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0 for k, v in m.items()
    )
    if not ok:
        problems.append(
            Problem(
                C.METADATA_FILE,
                "'tables' is not a list of tables and row counts; it is ignored",
                'write e.g. "tables": {"patients": 46, "labs": 3240}, or remove it',
                severity="warning",
            )
        )
        return None
    return m


def _check_manifest(src: _Source) -> list[Problem]:
    """Every table metadata.json lists is there with the rows it lists: an upload that lost a file (the browser
    refuses files over its size limit one by one) or a truncated file is refused, not loaded short."""
    problems: list[Problem] = []
    manifest = _manifest(src.meta, problems)
    if not manifest:
        return problems
    zip_fix = (
        "upload the whole cohort as one .zip (the browser refuses any single file over the upload limit, while "
        "the other files go through), or as Parquet files; if the table was removed on purpose, remove it from "
        f'{C.METADATA_FILE}\'s "tables"'
    )
    for name, rows in manifest.items():
        if name not in C.TABLES_BY_NAME:
            continue
        if name not in src.tables:
            label = f"{src.label}[{name}]" if src.kind == "xlsx" else f"{name}.csv"
            problems.append(
                Problem(
                    label,
                    f"{C.METADATA_FILE} lists table '{name}' with {rows} rows, but the file is missing",
                    zip_fix,
                )
            )
        elif src.tables[name].num_rows != rows:
            problems.append(
                Problem(
                    src.files.get(name, f"{name}.csv"),
                    f"has {src.tables[name].num_rows} rows but {C.METADATA_FILE} lists {rows}: the file is incomplete "
                    "or was changed",
                    zip_fix.replace(
                        "if the table was removed on purpose, remove it from", "if it was edited, update"
                    ).replace('\'s "tables"', "'s row count"),
                )
            )
    return problems


# --------------------------------------------------------------------------------------------- pandera schemas
def _checks(col: C.ColumnSpec) -> list:
    import pandera.pandas as pa_

    checks: list = []
    if col.allowed:
        checks.append(pa_.Check.isin(list(col.allowed), error=f"allowed values: {', '.join(col.allowed)}"))
    if col.min is not None:
        checks.append(pa_.Check.gt(col.min) if col.min_exclusive else pa_.Check.ge(col.min))
    if col.max is not None:
        checks.append(pa_.Check.lt(col.max) if col.max_exclusive else pa_.Check.le(col.max))
    return checks


def _type_schema(spec: C.TableSpec, present: list[str]):
    import pandera.pandas as pa_

    cols = {
        c.name: pa_.Column(_PANDAS_DTYPE[c.dtype], coerce=True, nullable=True)
        for c in spec.columns
        if c.name in present
    }
    return pa_.DataFrameSchema(cols, strict=False)


def _value_schema(spec: C.TableSpec, present: list[str]):
    import pandera.pandas as pa_

    cols = {
        c.name: pa_.Column(_PANDAS_DTYPE[c.dtype], checks=_checks(c), nullable=c.nullable, coerce=False)
        for c in spec.columns
        if c.name in present
    }
    unique = [u for u in spec.unique if u in present]
    return pa_.DataFrameSchema(
        cols, unique=unique if len(unique) == len(spec.unique) and unique else None, report_duplicates="all"
    )


def schemas() -> dict:
    """The full pandera schema of every table (all columns), e.g. for other tools to reuse. (Validation itself
    uses the vectorised checks below, which give the same verdicts.)"""
    return {t.name: _value_schema(t, list(t.column_names)) for t in C.TABLES}


def _fix_for(col: C.ColumnSpec | None, check: str) -> str:
    if col is None:
        return "correct the value"
    if check.startswith("coerce_dtype") or check.startswith("dtype"):
        return {
            "int": "write a whole number",
            "float": "write a number (decimal point '.', no units)",
            "bool": "write 0/1, true/false or yes/no",
            "str": "write text",
        }[col.dtype]
    if check == "not_nullable":
        return f"fill in {col.name}" + (f" ({col.unit})" if col.unit else "")
    if col.allowed:
        return f"use one of: {', '.join(col.allowed)}"
    if col.range_text:
        return f"{col.name} must be {col.range_text}" + (f" {col.unit}" if col.unit else "")
    return "correct the value"


def _message_for(col: C.ColumnSpec | None, check: str) -> str:
    if check.startswith("coerce_dtype") or check.startswith("dtype"):
        return f"not a valid {col.dtype if col else 'value'}"
    if check == "not_nullable":
        return "empty cell in a column that must be filled"
    if check.startswith("isin") or check.startswith("allowed values"):
        return "value not allowed"
    if col is not None and col.name in ("lvef_pct", "temp_c", "strain_ap4_pct"):
        return "impossible value"
    if check.startswith(("greater_than", "less_than", "in_range")):
        return "value out of range"
    return f"failed check {check}"


# --------------------------------------------------------------------------------------------- parsing cells
_FLOAT_RE = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_INT_RE = r"^-?[0-9]{1,18}$"
_INT64 = (-(2**63), 2**63 - 1)


def _np(a, dtype=None) -> np.ndarray:
    out = a.to_numpy(zero_copy_only=False) if isinstance(a, (pa.Array, pa.ChunkedArray)) else np.asarray(a)
    return out.astype(dtype, copy=False) if dtype is not None else out


def _valid(a: pa.ChunkedArray) -> np.ndarray:
    if a.null_count == 0:
        return np.ones(len(a), dtype=bool)
    return _np(pc.is_valid(a), bool)


def _odd_cells(a: pa.ChunkedArray, simple: pa.ChunkedArray) -> np.ndarray:
    """Positions of the non-missing cells that do not match the simple pattern (parsed one by one)."""
    return np.flatnonzero(_valid(a) & ~_np(pc.fill_null(simple, False), bool))


def _parse_float(a: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(values, bad): ``float()`` of each cell (NaN where missing or bad; an infinite number is bad). A column
    of plain numbers is converted in one vector cast (its non-finite results re-read by ``float()``); a column
    with anything else (spaces inside, '1_000', unicode digits, garbage) casts its plain decimal numbers and reads
    the rest one by one with ``float()``."""
    t = pc.ascii_trim_whitespace(a)
    bad = np.zeros(len(a), dtype=bool)
    try:
        values = _np(pc.cast(t, pa.float64()), np.float64)
        odd = np.flatnonzero(~np.isfinite(values) & _valid(a))  # 'nan', 'inf', '1e400': as Python reads them
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        simple = pc.match_substring_regex(t, _FLOAT_RE)
        values = _np(pc.cast(pc.if_else(simple, t, pa.scalar(None, pa.string())), pa.float64()), np.float64)
        odd = _odd_cells(a, simple)
    if len(odd):
        values = values.copy()
        for i, s in zip(odd, a.take(pa.array(odd)).to_pylist()):
            try:
                values[i] = float(s)
            except (TypeError, ValueError):
                values[i], bad[i] = np.nan, True
    infinite = np.isinf(values)  # 'inf', 'Infinity', '1e309': no measurement is infinite
    if infinite.any():
        values = values.copy()
        values[infinite], bad[infinite] = np.nan, True
    return values, bad


def _parse_int(a: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, missing, bad): ``int()`` of each cell within int64. A column of plain integers is converted in
    one vector cast (pyarrow also reads '0x1f', which ``int()`` refuses: such a column takes the slow path);
    otherwise the plain integers are cast and the rest read one by one with ``int()``."""
    t = pc.ascii_trim_whitespace(a)
    valid = _valid(a)
    bad = np.zeros(len(a), dtype=bool)
    try:
        cast = pc.cast(t, pa.int64())
        if (
            pc.any(pc.greater_equal(pc.find_substring(t, "x", ignore_case=False), 0)).as_py()
            or pc.any(pc.greater_equal(pc.find_substring(t, "X", ignore_case=False), 0)).as_py()
        ):
            raise pa.ArrowInvalid("hexadecimal")
        return _np(pc.fill_null(cast, 0), np.int64), ~valid, bad
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    simple = pc.match_substring_regex(t, _INT_RE)
    cast = pc.cast(pc.if_else(simple, t, pa.scalar(None, pa.string())), pa.int64())
    values = _np(pc.fill_null(cast, 0), np.int64).copy()
    odd = _odd_cells(a, simple)
    for i, s in zip(odd, a.take(pa.array(odd)).to_pylist()):
        try:
            v = int(s)
            if not _INT64[0] <= v <= _INT64[1]:
                raise ValueError
            values[i] = v
        except (TypeError, ValueError):
            bad[i] = True
    return values, ~valid | bad, bad


def _parse_bool(a: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, missing, bad): 0/1, true/false, yes/no, y/n, t/f in any case, spaces around allowed."""
    low = pc.utf8_lower(pc.utf8_trim_whitespace(a))
    true = _np(pc.fill_null(pc.is_in(low, value_set=pa.array(C.BOOL_TRUE)), False), bool)
    false = _np(pc.fill_null(pc.is_in(low, value_set=pa.array(C.BOOL_FALSE)), False), bool)
    bad = _valid(a) & ~true & ~false
    return true, ~(true | false), bad


_HIDDEN_CHARS = "[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad]"


_QUOTED_FORMULA = r"^'[=+\-@\t\r]"  # text a formula-safe export quote-prefixed (misc_dash.exports.tables.safe_text)


def _normalise_str(a: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text with the spaces around it removed; a cell left empty is missing. The single quote a formula-safe
    export put before text starting like a formula ("'=HYPERLINK…") is removed, so an export loads back as it was."""
    t = pc.utf8_trim_whitespace(a)
    if pc.any(pc.starts_with(t, "'")).as_py():  # rare: only then look for quote-prefixed formulas
        quoted = pc.fill_null(pc.match_substring_regex(t, _QUOTED_FORMULA), False)
        t = pc.if_else(quoted, pc.utf8_slice_codeunits(t, 1), t)
    return pc.if_else(pc.equal(pc.binary_length(t), 0), pa.scalar(None, pa.string()), t)


def _normalise_bools(df: pd.DataFrame, spec: C.TableSpec) -> pd.DataFrame:
    """Booleans as True/False/NA (anything else left as it was) and text stripped, an empty text cell missing."""
    df = df.copy()
    for c in spec.columns:
        if c.name not in df:
            continue
        a = _as_strings(df[c.name])
        if c.dtype == "bool":
            values, missing, bad = _parse_bool(a)
            out = pd.Series(pd.array(values, dtype="boolean"), index=df.index).astype(object)
            out[missing] = pd.NA
            out[bad] = df[c.name][bad]
            df[c.name] = out
        elif c.dtype == "str":
            df[c.name] = pd.Series(_normalise_str(a).to_pandas().to_numpy(), index=df.index)
    return df


def _codes_of(values) -> np.ndarray:
    """Integer codes of a column's values (equal values, equal codes; every missing value the same code)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        enc = pc.dictionary_encode(values, null_encoding="mask")
        idx = enc.combine_chunks().indices if isinstance(enc, pa.ChunkedArray) else enc.indices
        return _np(pc.fill_null(idx, -1), np.int64) + 1
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int64) + 1


def _combined_codes(parts: list[np.ndarray]) -> np.ndarray:
    """One integer code per row for a combination of columns (rows equal on every column, equal codes)."""
    key = parts[0].astype(np.int64)
    for p in parts[1:]:
        card = int(p.max()) + 1 if len(p) else 1
        span = int(key.max()) + 1 if len(key) else 1
        if span * card >= 2**62:  # re-number before the product overflows
            key, _ = pd.factorize(key)
            span = int(key.max()) + 1 if len(key) else 1
            if span * card >= 2**62:
                return pd.DataFrame({"a": key, "b": p}).groupby(["a", "b"], sort=False).ngroup().to_numpy()
        key = key * card + p
    return key


def _rank_codes(codes: np.ndarray, uniques: np.ndarray) -> np.ndarray:
    """Codes (0 = missing, k = uniques[k - 1]) renumbered in the values' sort order (0 stays missing)."""
    if not len(uniques):
        return codes
    order = _np(pc.sort_indices(pa.array(uniques, type=pa.string())), np.int64)
    rank = np.empty(len(uniques) + 1, dtype=np.int64)
    rank[0] = 0
    rank[order + 1] = np.arange(1, len(uniques) + 1)
    return rank[codes]


def _key_parts(df: pd.DataFrame, cols: list[str], checked: _Checked | None = None) -> list[np.ndarray]:
    """The columns of a key as arrays that compare like the values (missing equal to missing): text as codes
    (the first column in order of appearance, the others in sort order), numbers as (missing?, value)."""
    parts: list[np.ndarray] = []
    for j, c in enumerate(cols):
        s = df[c]
        if checked is not None and c in checked.codes:
            codes = checked.codes[c]
            parts.append(codes if j == 0 else _rank_codes(codes, checked.uniques[c]))
        elif s.dtype == object or str(s.dtype) == "boolean":
            parts.append(_codes_of(s))
        else:
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
            miss = np.isnan(v)
            parts += [miss.astype(np.int8), np.where(miss, 0.0, v)]
    return parts


def _duplicated(parts: list[np.ndarray]) -> np.ndarray:
    """Rows whose key (``parts``, compared lexicographically) occurs more than once — every row of each
    duplicate group, as ``DataFrame.duplicated(keep=False)``. A file sorted by its key (the usual case) is
    checked by comparing neighbours; otherwise the rows are sorted first."""
    n = len(parts[0])
    if n < 2:
        return np.zeros(n, dtype=bool)
    p0 = parts[0]
    if len(parts) == 1 and p0.dtype.kind in "iu" and p0.min() >= 0 and p0.max() < 4 * n + 1024:
        return np.bincount(p0)[p0] > 1
    undecided = np.ones(n - 1, dtype=bool)
    in_order = True
    for p in parts:
        if (undecided & (p[1:] < p[:-1])).any():
            in_order = False
            break
        undecided &= p[1:] == p[:-1]
    order = None
    if in_order:
        same = undecided
    else:
        order = np.lexsort(parts[::-1])
        same = np.logical_and.reduce([p[order][1:] == p[order][:-1] for p in parts])
    dup = np.zeros(n, dtype=bool)
    dup[1:] |= same
    dup[:-1] |= same
    if order is not None:
        out = np.zeros(n, dtype=bool)
        out[order] = dup
        return out
    return dup


@dataclass
class _Checked:
    """A validated table: the typed frame, its problems, and row codes of its text columns (for the checks
    across rows and tables)."""

    df: pd.DataFrame | None
    problems: list[Problem]
    codes: dict[str, np.ndarray] = field(default_factory=dict)
    uniques: dict[str, np.ndarray] = field(default_factory=dict)


def _column_names(raw) -> list[str]:
    return [str(c).strip() for c in (raw.column_names if isinstance(raw, pa.Table) else raw.columns)]


def _raw_column(raw, j: int) -> pa.ChunkedArray:
    return _as_strings(raw.column(j) if isinstance(raw, pa.Table) else raw.iloc[:, j])


def _check_table(name: str, raw, file_label: str, progress: Progress = _no_progress) -> _Checked:
    spec = C.TABLES_BY_NAME[name]
    problems: list[Problem] = []
    columns = _column_names(raw)
    known = set(spec.column_names)
    for col in columns:
        if col not in known:
            problems.append(
                Problem(
                    file_label,
                    f"unknown column '{col}'",
                    f"remove or rename it; columns of {name} are: {', '.join(spec.column_names)}",
                    row=1,
                    column=col,
                )
            )
    dup_cols = list(dict.fromkeys(c for i, c in enumerate(columns) if c in columns[:i]))
    for col in dup_cols:
        problems.append(Problem(file_label, f"column '{col}' appears twice", "keep one", row=1, column=col))
    if dup_cols:
        return _Checked(None, problems)
    for c in spec.columns:
        if c.required and c.name not in columns:
            problems.append(
                Problem(
                    file_label,
                    f"missing column '{c.name}'",
                    f"add a column '{c.name}': {c.description}",
                    row=1,
                    column=c.name,
                )
            )
    present = [c for c in spec.columns if c.name in columns]
    n = raw.num_rows if isinstance(raw, pa.Table) else len(raw)
    out: dict[str, object] = {}
    checked = _Checked(None, problems)
    for k, c in enumerate(present):
        progress(k / max(len(present), 1), f"Checking {file_label}, column {c.name}")
        a = _raw_column(raw, columns.index(c.name))
        value_text = None  # the typed values as text, for the problems of value checks
        numeric = None
        # types: a cell that cannot be converted is reported and treated as missing
        if c.dtype == "str":
            t = _normalise_str(a)
            missing = ~_valid(t)
            values = t
            # invisible and bidirectional control characters: two ids that look equal are not, and reordered
            # text shows something other than what is stored ("Trojan Source")
            bad = np.zeros(n, dtype=bool)
            hidden = np.zeros(n, dtype=bool)
            if not pc.all(pc.fill_null(pc.string_is_ascii(t), True)).as_py():  # the characters are all non-ASCII
                hidden = _np(pc.fill_null(pc.match_substring_regex(t, _HIDDEN_CHARS), False), bool)
            if hidden.any():
                msg = "contains an invisible or text-direction control character"
                fix = "delete it (zero-width spaces, direction marks and overrides are not shown but change the value)"
                problems += _cell_problems(np.flatnonzero(hidden), t, file_label, c.name, msg, fix, show=ascii)
        elif c.dtype == "bool":
            values, missing, bad = _parse_bool(a)
        elif c.dtype == "int":
            values, missing, bad = _parse_int(a)
            numeric = np.where(missing, np.nan, values.astype(np.float64))
            value_text = lambda i, v=values: str(int(v[i]))
        else:
            values, bad = _parse_float(a)
            missing = np.isnan(values)
            numeric = values
            value_text = lambda i, v=values: str(float(v[i]))
        if bad.any():
            msg, fix = _message_for(c, "coerce_dtype"), _fix_for(c, "coerce_dtype")
            problems += _cell_problems(np.flatnonzero(bad), a, file_label, c.name, msg, fix)
        # values: empty cells, allowed values, ranges (cells that were not valid are not checked again)
        if not c.nullable:
            rows = np.flatnonzero(missing & ~bad)
            if len(rows):
                msg, fix = _message_for(c, "not_nullable"), _fix_for(c, "not_nullable")
                problems += _capped(
                    rows,
                    lambda i, c=c, msg=msg, fix=fix: Problem(file_label, msg, fix, row=i + 2, column=c.name),
                    msg,
                    file_label,
                    fix,
                    c.name,
                )
        if c.allowed and c.dtype == "str":
            ok = _np(pc.fill_null(pc.is_in(values, value_set=pa.array(c.allowed)), True), bool) | missing
            rows = np.flatnonzero(~ok)
            if len(rows):
                msg, fix = _message_for(c, "isin"), _fix_for(c, "isin")
                problems += _cell_problems(rows, values, file_label, c.name, msg, fix)
        if numeric is not None and (c.min is not None or c.max is not None):
            with np.errstate(invalid="ignore"):
                fails = np.zeros(n, dtype=bool)
                checks = []
                if c.min is not None:
                    checks.append(("greater_than" if c.min_exclusive else "greater_than_or_equal_to", c.min, True))
                if c.max is not None:
                    checks.append(("less_than" if c.max_exclusive else "less_than_or_equal_to", c.max, False))
                for check, bound, lower in checks:
                    if lower:
                        inside = numeric > bound if c.min_exclusive else numeric >= bound
                    else:
                        inside = numeric < bound if c.max_exclusive else numeric <= bound
                    rows = np.flatnonzero(~inside & ~np.isnan(numeric) & ~fails)
                    fails[rows] = True
                    if len(rows):
                        msg, fix = _message_for(c, check), _fix_for(c, check)
                        problems += _capped(
                            rows,
                            lambda i, c=c, msg=msg, fix=fix, vt=value_text: Problem(
                                file_label, msg, fix, row=i + 2, column=c.name, value=vt(i)
                            ),
                            msg,
                            file_label,
                            fix,
                            c.name,
                        )
        # the typed column
        if c.dtype == "str":
            enc = pc.dictionary_encode(values, null_encoding="mask").combine_chunks()
            codes = _np(pc.fill_null(enc.indices, -1), np.int32)
            uniques = np.asarray(enc.dictionary.to_pylist(), dtype=object)
            checked.codes[c.name], checked.uniques[c.name] = codes + 1, uniques
            col_values = uniques[codes] if len(uniques) else np.full(n, None, dtype=object)
            if len(uniques):
                col_values[codes < 0] = None
            out[c.name] = col_values
        elif c.dtype == "bool":
            out[c.name] = pd.arrays.BooleanArray(values, missing)
        elif c.dtype == "int":
            out[c.name] = pd.arrays.IntegerArray(np.where(missing, 0, values), missing)
        else:
            out[c.name] = values
    typed = pd.DataFrame(out, columns=[c.name for c in present])  # consolidated: a copy; free the columns
    out.clear()
    a = t = values = numeric = missing = bad = col_values = enc = None  # the last column's arrays
    typed.index = pd.RangeIndex(n)
    # duplicate keys (every row of a duplicate group), when every key column is present
    unique = [u for u in spec.unique if u in typed.columns]
    if unique and len(unique) == len(spec.unique) and n:
        rows = np.flatnonzero(_duplicated(_key_parts(typed, unique, checked)))
        if len(rows):
            what = f"duplicate {'/'.join(spec.unique)}"
            problems += _capped(
                rows,
                lambda i: Problem(
                    file_label,
                    f"{what} ({', '.join(f'{k}={typed.loc[i, k]}' for k in spec.unique)})",
                    "remove or merge the duplicate rows",
                    row=i + 2,
                    column=spec.unique[-1],
                ),
                what,
                file_label,
                "remove or merge the duplicate rows",
                spec.unique[-1],
            )
    checked.df = typed
    progress(1.0, f"Checked {file_label}")
    return checked


def _validate_table(name: str, raw, file_label: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Validate one raw text table (pandas or pyarrow); return (typed table or None, problems)."""
    checked = _check_table(name, raw, file_label)
    return checked.df, checked.problems


# --------------------------------------------------------------------------------------------- across rows/tables
def _pid_codes(df: pd.DataFrame, keys: _Checked | None) -> tuple[np.ndarray, np.ndarray]:
    """(codes, uniques) of a table's patient_id: code 0 = missing, code k = uniques[k - 1]."""
    if keys is not None and "patient_id" in keys.codes:
        return keys.codes["patient_id"], keys.uniques["patient_id"]
    codes, uniques = pd.factorize(df["patient_id"], use_na_sentinel=True)
    return codes.astype(np.int64) + 1, np.asarray(uniques, dtype=object)


def _check_patient_links(
    tables: dict[str, pd.DataFrame], labels: dict[str, str], keys: Mapping[str, _Checked] | None = None
) -> list[Problem]:
    problems: list[Problem] = []
    if "patients" not in tables or "patient_id" not in tables["patients"]:
        return problems
    ids = pd.Index(tables["patients"]["patient_id"].dropna().unique())
    keys = keys or {}
    for name, df in tables.items():
        if name == "patients" or "patient_id" not in df:
            continue
        codes, uniques = _pid_codes(df, keys.get(name))
        known = np.concatenate([[True], ids.get_indexer(pd.Index(uniques, dtype=object)) >= 0])
        rows = np.flatnonzero(~known[codes])
        pid = df["patient_id"]
        problems += _capped(
            rows,
            lambda i, name=name, pid=pid: Problem(
                labels[name],
                "row for a patient who is not in patients",
                "add the patient to patients or fix the patient_id",
                row=i + 2,
                column="patient_id",
                value=str(pid.iat[i]),
            ),
            "row for a patient who is not in patients",
            labels[name],
            "add the patient to patients or fix the patient_id",
            "patient_id",
        )
    return problems


def _check_time_order(name: str, df: pd.DataFrame, label: str, keys: _Checked | None = None) -> list[Problem]:
    """Time points must increase strictly within a patient's series, in file order (ordered tables)."""
    spec = C.TABLES_BY_NAME[name]
    t = spec.time_column
    if not spec.ordered or t is None or t not in df or "patient_id" not in df or not len(df):
        return []
    cols = ["patient_id", *[s for s in spec.series if s in df]]
    parts = [keys.codes[k] if keys is not None and k in keys.codes else _codes_of(df[k]) for k in cols]
    tv = df[t].to_numpy(dtype=np.float64, na_value=np.nan)
    keep = ~np.isnan(tv)
    for p in parts:
        keep &= p > 0  # rows with a missing key or time are not part of a series
    rows = np.flatnonzero(keep)
    k, tt = _combined_codes([p[rows] for p in parts]), tv[rows]
    if len(k) > 1 and not (k[1:] >= k[:-1]).all():  # series not in contiguous blocks: group them, keep file order
        order = np.argsort(k, kind="stable")
        rows, k, tt = rows[order], k[order], tt[order]
    pos = np.flatnonzero((k[1:] == k[:-1]) & (tt[1:] < tt[:-1])) + 1  # equal time points are duplicates
    order = np.argsort(rows[pos], kind="stable")
    bad, prev = rows[pos][order], tt[pos - 1][order]
    prev_of = dict(zip(bad[:MAX_PROBLEMS_PER_RULE].tolist(), prev[:MAX_PROBLEMS_PER_RULE].tolist()))
    pid = df["patient_id"]
    return _capped(
        bad,
        lambda i: Problem(
            label,
            f"time points out of order for patient {pid.iat[i]} ({t} {tv[i]:g} after {prev_of[i]:g})",
            f"sort this patient's rows by {t} (increasing)",
            row=i + 2,
            column=t,
            value=f"{tv[i]:g}",
        ),
        "time points out of order",
        label,
        f"sort this patient's rows by {t} (increasing)",
        t,
    )


def _check_doses_given(tables: dict[str, pd.DataFrame], labels: dict[str, str]) -> list[Problem]:
    """A day's ``doses_given`` cannot exceed its ``doses_per_day``: treatment duration is the sum over days of
    doses_given / doses_per_day, so each day counts at most one day on drug."""
    d = tables.get("anakinra_doses")
    if d is None or not {"doses_given", "doses_per_day"} <= set(d.columns):
        return []
    given = d["doses_given"].to_numpy(dtype=np.float64, na_value=np.nan)
    per_day = d["doses_per_day"].to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        rows = np.flatnonzero(given > per_day)
    fix = (
        "a day's doses given cannot exceed the doses scheduled that day; if an extra dose was given, record "
        "the day's actual schedule as doses_per_day"
    )
    return _capped(
        rows,
        lambda i: Problem(
            labels["anakinra_doses"],
            f"doses_given ({given[i]:g}) is more than doses_per_day ({per_day[i]:g}) on day "
            f"{d['day'].iat[i] if 'day' in d else None} for patient {d['patient_id'].iat[i]}",
            fix,
            row=i + 2,
            column="doses_given",
            value=f"{given[i]:g}",
        ),
        "doses_given more than doses_per_day",
        labels["anakinra_doses"],
        fix,
        "doses_given",
    )


def _check_consistency(tables: dict[str, pd.DataFrame], labels: dict[str, str]) -> list[Problem]:
    """Cross-table plausibility (warnings: they do not block loading)."""
    pts = tables.get("patients")
    doses = tables.get("anakinra_doses")
    if pts is None or doses is None or "patient_id" not in doses:
        return []
    if not {"patient_id", "anakinra_indication"} <= set(pts.columns):  # a missing column is reported already
        return []
    on_drug = pd.Index(doses["patient_id"].dropna().unique())
    ind = pts["anakinra_indication"]
    rows = np.flatnonzero(ind.notna().to_numpy() & ~pts["patient_id"].isin(on_drug).to_numpy())
    msg = "anakinra_indication is set but the patient has no anakinra_doses rows"
    fix = "add the dose rows or clear the indication"
    return _capped(
        rows,
        lambda i: Problem(
            labels["patients"],
            msg,
            fix,
            row=i + 2,
            column="anakinra_indication",
            value=str(ind.iat[i]),
            severity="warning",
        ),
        msg,
        labels["patients"],
        fix,
        "anakinra_indication",
        severity="warning",
    )


def _check_has_patients(tables: Mapping[str, pd.DataFrame], labels: Mapping[str, str]) -> list[Problem]:
    """A cohort needs at least one patient: an empty template is not a cohort (every page would be empty)."""
    pts = tables.get("patients")
    if pts is None or len(pts):
        return []
    return [
        Problem(
            labels["patients"],
            "has no patients (no row below the header)",
            "add one row per patient (patient_id and the other columns; see docs/DATA_DICTIONARY.md)",
            row=2,
        )
    ]


def validate_tables(
    raw: Mapping[str, pd.DataFrame | pa.Table],
    labels: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Validate raw text tables (pandas or pyarrow); return (typed tables with every contract table present,
    problems)."""
    full, problems, _ = _validate_tables(raw, labels, progress)
    return full, problems


def _validate_tables(
    raw, labels, progress, consume: bool = False
) -> tuple[dict[str, pd.DataFrame], list[Problem], dict[str, _Checked]]:
    """:func:`validate_tables`, also returning each table's codes; ``consume``: remove each raw table from
    ``raw`` once it is checked (its memory is freed while the next is checked)."""
    labels = dict(labels or {})
    progress = progress or _no_progress
    problems: list[Problem] = []
    typed: dict[str, pd.DataFrame] = {}
    keys: dict[str, _Checked] = {}
    sizes = {
        n: max(t.num_rows if isinstance(t, pa.Table) else len(t), 1) * max(len(_column_names(t)), 1)
        for n, t in raw.items()
    }
    total, done = sum(sizes.values()) or 1, 0
    for spec in C.TABLES:
        lab = labels.setdefault(spec.name, f"{spec.name}.csv")
        if spec.name not in raw:
            if spec.required:
                problems.append(
                    Problem(
                        lab,
                        f"required table '{spec.name}' is missing",
                        f"add {spec.name}.csv (or a sheet '{spec.name}'); see data/template/",
                    )
                )
            continue
        share = sizes[spec.name] / total
        table = raw.pop(spec.name) if consume else raw[spec.name]
        checked = _check_table(spec.name, table, lab, _stage(progress, 0.9 * done, 0.9 * (done + share)))
        del table
        done += share
        problems += checked.problems
        if checked.df is not None:
            typed[spec.name] = checked.df
            keys[spec.name] = checked
    progress(0.9, "Checking patients and time order across tables")
    problems += _check_patient_links(typed, labels, keys)
    for name, df in typed.items():
        problems += _check_time_order(name, df, labels[name], keys.get(name))
    problems += _check_doses_given(typed, labels)
    problems += _check_consistency(typed, labels)
    problems += _check_has_patients(typed, labels)
    order = {lab: i for i, lab in enumerate(labels.values())}
    problems.sort(key=lambda p: (order.get(p.file, len(order)), p.row or 0))
    # every contract table present (empty if absent) with every column, so downstream code never guesses
    full: dict[str, pd.DataFrame] = {}
    for spec in C.TABLES:
        df = typed.get(spec.name)
        if df is None:
            df = pd.DataFrame({c.name: pd.Series(dtype=_PANDAS_DTYPE[c.dtype]) for c in spec.columns})
        for c in spec.columns:
            if c.name not in df:
                df[c.name] = pd.Series(
                    [float("nan") if c.dtype == "float" else pd.NA] * len(df),
                    dtype=_PANDAS_DTYPE[c.dtype],
                    index=df.index,
                )
        if list(df.columns) != list(spec.column_names) or not isinstance(df.index, pd.RangeIndex):
            df = df[list(spec.column_names)].reset_index(drop=True)
        full[spec.name] = df
    progress(1.0, "Validated")
    return full, problems, keys


# --------------------------------------------------------------------------------------------- validate / load
def _cohort_from_cache(key: str | None, source: str) -> Cohort | None:
    hit = cache.read(key) if key else None
    if hit is None:
        return None
    tables, data = hit
    try:
        if list(tables) != [t.name for t in C.TABLES]:
            raise ValueError("tables")
        return _make_cohort(
            tables,
            data["name"],
            bool(data["synthetic"]),
            data["description"],
            source,
            [Problem(**p) for p in data["warnings"]],
            metadata=data.get("metadata") or {},
            fingerprint=data["fingerprint"],
        )
    except Exception:
        return None


def _cohort_to_cache(key: str | None, cohort: Cohort) -> None:
    if not key:
        return
    try:
        meta = json.loads(json.dumps(dict(cohort.metadata), default=str))
    except (TypeError, ValueError):
        meta = {}
    cache.write_async(
        key,
        dict(cohort.tables),
        {
            "name": cohort.name,
            "synthetic": cohort.synthetic,
            "description": cohort.description,
            "warnings": [p.to_dict() for p in cohort.warnings],
            "fingerprint": cohort.fingerprint,
            "metadata": meta,
        },
    )


def _cache_key(path) -> str | None:
    if isinstance(path, (bytes, bytearray, memoryview)) or not cache.enabled():
        return None
    try:
        return cache.source_key(path)
    except OSError:
        return None


def _validate_source(src: _Source, source: str, progress: Progress, extra: Iterable[Problem] = ()) -> tuple:
    problems = src.problems + list(extra)
    if any(p.severity == "error" for p in problems):
        progress(1.0, "Refused")
        return None, problems
    problems += _check_manifest(src)
    labels = {t.name: src.files.get(t.name) or (f"{src.label}[{t.name}]" if src.kind == "xlsx" else f"{t.name}.csv")
              for t in C.TABLES}  # fmt: skip
    tables, probs, keys = _validate_tables(src.tables, labels, _stage(progress, 0.0, 0.92), consume=True)
    pa.default_memory_pool().release_unused()
    problems += probs
    if any(p.severity == "error" for p in problems):
        progress(1.0, "Refused")
        return None, problems
    progress(0.93, "Fingerprinting the cohort")
    meta = src.meta
    cohort = _make_cohort(
        tables,
        str(meta.get("name") or src.label),
        bool(meta.get("synthetic", False)),
        str(meta.get("description", "")),
        source,
        [p for p in problems if p.severity != "error"],
        metadata=meta,
        fingerprint=_fast_fingerprint(tables, keys),
    )
    return cohort, problems


def validate(
    path: str | Path | bytes, filename: str | None = None, progress: Progress | None = None
) -> tuple[Cohort | None, list[Problem]]:
    """Read and validate. Returns (cohort or None, all problems). Never raises on bad data.

    ``path``: a cohort folder (CSV or Parquet files), an ``.xlsx`` or ``.zip`` file, or the bytes of an uploaded
    ``.xlsx`` / ``.zip`` (then pass ``filename``). ``progress(fraction, message)`` is called as the work advances
    (fraction 0–1). A folder or file on disk is read from the cohort cache when it has not changed since it was
    last validated (:mod:`misc_dash.cache`)."""
    progress = progress or _no_progress
    source = str(path) if not isinstance(path, (bytes, bytearray, memoryview)) else (filename or "upload.xlsx")
    progress(0.0, "Looking for a cached copy")
    key = _cache_key(path)
    cohort = _cohort_from_cache(key, source)
    if cohort is not None:
        progress(1.0, "Opened from the cache")
        return cohort, list(cohort.warnings)
    src = _read_source(path, filename, _stage(progress, 0.0, 0.4))
    cohort, problems = _validate_source(src, source, _stage(progress, 0.4, 0.97))
    if cohort is not None and key:
        _cohort_to_cache(key, cohort)  # in the background
    progress(1.0, "Loaded" if cohort is not None else "Refused")
    return cohort, problems


TYPICAL_TABLES = C.TYPICAL_TABLES


def validate_files(
    files: Mapping[str, bytes] | Iterable[tuple[str, bytes]], progress: Progress | None = None
) -> tuple[Cohort | None, list[Problem]]:
    """Validate uploaded files, held in memory (nothing is written to disk or cached): one ``.xlsx``, one
    ``.zip`` of a cohort folder, or several ``<table>.csv`` / ``<table>.parquet`` files and ``metadata.json``.

    Several CSV/Parquet files without a table manifest and without a table that typical cohorts have
    (:data:`misc_dash.contract.TYPICAL_TABLES`) get a warning naming the missing tables: the browser refuses a
    file over its upload limit on its own, and the rest would load without it."""
    progress = progress or _no_progress
    items = list(files.items() if isinstance(files, Mapping) else files)
    items = [(PurePosixPath(str(n).replace("\\", "/")).name, data) for n, data in items]
    too_large = upload_too_large(items)
    if too_large is not None:
        return None, [too_large]
    for suffix in ((".xlsx", ".xlsm"), (".zip",)):
        chosen = [(n, d) for n, d in items if n.lower().endswith(suffix)]
        if chosen:
            name, data = chosen[0]
            ignored = [
                Problem(
                    n, f"is ignored: {name} was uploaded with it", "upload one cohort at a time", severity="warning"
                )
                for n, _ in items
                if n != name
            ]
            src = _read_source(bytes(data), name, _stage(progress, 0.0, 0.4))
            return _validate_source(src, name, _stage(progress, 0.4, 1.0), ignored)
    src = _Source(label="upload", kind="files")
    members = {}
    for n, data in items:
        if PurePosixPath(n).suffix.lower() in TABLE_SUFFIXES or PurePosixPath(n).name.lower() == C.METADATA_FILE:
            members[n] = memoryview(bytes(data))
        else:
            src.problems.append(
                Problem(
                    n,
                    "is not a cohort file and is ignored",
                    "upload <table>.csv or <table>.parquet files, metadata.json, one .xlsx or one .zip",
                    severity="warning",
                )
            )
    _read_members(members, src, _stage(progress, 0.0, 0.4))
    if not src.tables and not any(p.severity == "error" for p in src.problems):
        src.problems.append(
            Problem("upload", "contains no cohort table", "add at least patients.csv (see data/template/)")
        )
    extra = []
    uploaded = {PurePosixPath(n).stem.strip().lower() for n in members}  # read or not: a bad file was uploaded
    absent = [t for t in C.TYPICAL_TABLES if t not in uploaded]
    if absent and src.tables and _manifest(src.meta, []) is None:
        extra.append(
            Problem(
                "upload",
                f"no {', '.join(absent)} table in the upload: {', '.join(f'{t}.csv' for t in absent)} "
                f"{'was' if len(absent) == 1 else 'were'} not uploaded",
                "if the cohort has them, upload again: the browser refuses a file over the upload limit on its own "
                "while the others go through; send a large cohort as one .zip or as Parquet files",
                severity="warning",
            )
        )
    cohort, problems = _validate_source(src, "upload", _stage(progress, 0.4, 1.0), extra)
    if cohort is not None and (cohort.name == "upload"):
        cohort = _make_cohort(
            cohort.tables,
            "Uploaded cohort",
            cohort.synthetic,
            cohort.description,
            cohort.source,
            cohort.warnings,
            cohort.metadata,
            cohort.fingerprint,
        )
    return cohort, problems


def load_cohort(
    path: str | Path | bytes | None = None, filename: str | None = None, progress: Progress | None = None
) -> Cohort:
    """Load and validate a cohort; raise :class:`CohortInvalid` with every problem if anything is wrong."""
    src = DEFAULT_COHORT_DIR if path is None else path
    cohort, problems = validate(src, filename, progress)
    if cohort is None:
        raise CohortInvalid(problems, filename or str(src))
    return cohort


def default_cohort_path() -> Path:
    """The cohort the dashboard opens on: ``$MISC_DASH_COHORT`` if set (a hospital's folder, .xlsx or .zip),
    else the reconstructed synthetic cohort shipped in data/default_cohort."""
    import os

    env = os.environ.get(ENV_COHORT)
    return Path(env) if env else DEFAULT_COHORT_DIR


def load_default_cohort() -> Cohort:
    return load_cohort(default_cohort_path())


# --------------------------------------------------------------------------------------------- writing
XLSX_MAX_CELLS = 500_000  # beyond this many cells a workbook takes too long to write (openpyxl): offer a .zip


def export_metadata(cohort: Cohort, tables: Mapping[str, pd.DataFrame], name: str, description: str) -> dict:
    """metadata.json of an exported cohort: name, synthetic flag, description and the table manifest."""
    meta = {"name": name, "synthetic": bool(cohort.synthetic), "description": description}
    if cohort.resampled:
        meta["resampled_from"] = cohort.metadata.get("resampled_from") or "reconstructed index cohort"
    meta["tables"] = cohort_manifest(tables)
    return meta


def xlsx_refusal(tables: Mapping[str, pd.DataFrame | tuple[int, int]]) -> str | None:
    """Why these tables cannot go in one .xlsx (None if they can): a sheet holds at most 1,048,576 rows, and a
    workbook of millions of cells takes minutes to write. ``tables``: frames, or their (rows, columns)."""
    from .exports.tables import EXCEL_MAX_ROWS

    shapes = {n: (t.shape if isinstance(t, pd.DataFrame) else tuple(t)) for n, t in tables.items()}
    big = {n: r for n, (r, _) in shapes.items() if r + 1 > EXCEL_MAX_ROWS}
    if big:
        names = ", ".join(f"{n} ({r:,} rows)" for n, r in big.items())
        return f"an .xlsx sheet holds at most {EXCEL_MAX_ROWS:,} rows, and {names} would not fit"
    cells = sum(r * c for r, c in shapes.values())
    if cells > XLSX_MAX_CELLS:
        return f"{cells:,} cells would take too long to write as .xlsx (more than {XLSX_MAX_CELLS:,})"
    return None


def _formula_safe_strings(s: pd.Series) -> pa.Array:
    """A text column for a spreadsheet format: text that starts like a formula gets a leading single quote
    (misc_dash.exports.tables.safe_text, vectorised)."""
    from .exports.tables import FORMULA_START

    a = pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.string(), from_pandas=True)
    risky = None
    for start in FORMULA_START:
        m = pc.starts_with(a, start)
        risky = m if risky is None else pc.or_(risky, m)
    quoted = pc.binary_join_element_wise(pa.scalar("'"), a, pa.scalar(""))
    return pc.if_else(pc.fill_null(risky, False), quoted, a)


def _arrow_table(df: pd.DataFrame, formula_safe: bool) -> pa.Table:
    arrays, names = [], []
    for col in df.columns:
        s = df[col]
        if s.dtype == object:
            a = (
                _formula_safe_strings(s)
                if formula_safe
                else pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.string(), from_pandas=True)
            )
        elif str(s.dtype) == "boolean":
            a = pa.array(s.map({True: "true", False: "false"}).to_numpy(dtype=object, na_value=None), pa.string())
        else:
            a = pa.Array.from_pandas(s)
        arrays.append(a)
        names.append(str(col))
    return pa.Table.from_arrays(arrays, names=names)


def _csv_bytes(df: pd.DataFrame) -> bytes:
    """A table as UTF-8 CSV with a BOM (Excel reads it as UTF-8), text that starts like a formula quote-prefixed."""
    import pyarrow.csv as pcsv

    out = pa.BufferOutputStream()
    pcsv.write_csv(_arrow_table(df, formula_safe=True), out)
    return b"\xef\xbb\xbf" + out.getvalue().to_pybytes()


def write_cohort_folder(tables: Mapping[str, pd.DataFrame], meta: Mapping, out_dir: str | Path) -> Path:
    """A cohort as a folder of ``<table>.csv`` files and metadata.json (with the table manifest), as
    :func:`cohort_zip` writes them; loadable by :func:`validate`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        (out / f"{name}.csv").write_bytes(_csv_bytes(df))
    (out / C.METADATA_FILE).write_text(json.dumps(dict(meta), indent=2, ensure_ascii=False), encoding="utf-8")
    return out


def cohort_zip(tables: Mapping[str, pd.DataFrame], meta: Mapping, fmt: str = "csv") -> bytes:
    """A cohort as one .zip: ``<table>.csv`` (UTF-8 with BOM, formula-safe text) or ``<table>.parquet`` files
    and metadata.json (with the table manifest), loadable by :func:`validate` / the Data page."""
    import pyarrow.parquet as pq

    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown format {fmt!r}")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, df in tables.items():
            if fmt == "csv":
                zf.writestr(f"{name}.csv", _csv_bytes(df), compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
            else:
                out = pa.BufferOutputStream()
                pq.write_table(pa.Table.from_pandas(df, preserve_index=False), out)
                zf.writestr(f"{name}.parquet", out.getvalue().to_pybytes(), compress_type=zipfile.ZIP_STORED)
        zf.writestr(C.METADATA_FILE, json.dumps(dict(meta), indent=2, ensure_ascii=False), zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def cohort_xlsx(tables: Mapping[str, pd.DataFrame], meta: Mapping) -> bytes:
    """A cohort as one .xlsx (a sheet per table and a key/value ``metadata`` sheet with the manifest as JSON).
    Text cells are strings, never formulas (quote-prefixed when they start like one); numbers stay numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from .exports.tables import is_formula_like

    refusal = xlsx_refusal(tables)
    if refusal:
        raise ValueError(refusal)
    wb = Workbook(write_only=True)

    def text(ws, v: str):
        cell = WriteOnlyCell(ws, value=v)
        cell.data_type = "s"
        if is_formula_like(v):
            cell.quotePrefix = True
        return cell

    for name, df in tables.items():
        ws = wb.create_sheet(name)
        ws.append([text(ws, str(c)) for c in df.columns])
        cols = []
        for c in df.columns:
            s = df[c]
            if str(s.dtype) == "boolean":
                cols.append(s.map({True: "true", False: "false"}).to_numpy(dtype=object, na_value=None))
            elif s.dtype == object:
                cols.append(s.to_numpy(dtype=object, na_value=None))
            else:
                cols.append(s.astype(object).where(s.notna(), None).to_numpy())
        for row in zip(*cols):
            ws.append([text(ws, v) if isinstance(v, str) else (v.item() if hasattr(v, "item") else v) for v in row])
    ws = wb.create_sheet("metadata")
    ws.append([text(ws, "key"), text(ws, "value")])
    for k, v in meta.items():
        value = json.dumps(v) if isinstance(v, (dict, list)) else (str(v).lower() if isinstance(v, bool) else str(v))
        ws.append([text(ws, str(k)), text(ws, value)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
