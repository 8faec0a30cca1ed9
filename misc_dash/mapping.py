"""Column mapping: a hospital's own export (any column names, codes and units) turned into the data contract.

A :class:`CohortMapping` says, for each contract table, which source table it comes from and, for each contract
column, which source column (or a constant), how the source's codes translate into contract values
(``{"1": "M", "2": "F"}``, ``{"Yes": "1", "No": "0"}``) and which conversion applies (:data:`TRANSFORMS`:
°F → °C, dates → hours or days since admission, …). It is saved as a small JSON file (:meth:`CohortMapping.to_json`)
that ``python -m misc_dash validate PATH --mapping FILE`` and the Data page both accept.

Mapping keeps rows: row *r* of a mapped table is row *r* of its source, so every validation problem is reported on
the user's own file, row and column (:meth:`Mapped.translate`). The mapped tables then go through exactly the
validation of a contract-shaped cohort (:func:`misc_dash.loading.validate_tables`). Source dates are used only to
compute times since admission; no date enters the cohort.
"""

from __future__ import annotations

import io
import json
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from types import MappingProxyType

import numpy as np
import pandas as pd

from . import contract as C
from .loading import (
    TABLE_SUFFIXES,
    CsvFormatError,
    Problem,
    Progress,
    _make_cohort,
    _no_progress,
    _read_csv,
    _read_parquet,
    _stage,
    _validate_tables,
    read_sheets,
    upload_too_large,
    zip_members,
)

FORMAT = "misc-dash-mapping"
VERSION = 1
#: the suffix a saved mapping's file name ends with (how the Data page recognises it among uploaded files)
MAPPING_SUFFIX = ".mapping.json"
#: the file named by a problem of the mapping itself (not of a source table)
MAPPING_LABEL = "mapping"


# --------------------------------------------------------------------------------------------- the mapping value
@dataclass(frozen=True)
class ColumnMap:
    """Where one contract column comes from: a source ``column`` (or a constant ``value`` for every row), codes
    translated by ``values`` (source text → contract text; other values pass through and are validated as they
    are) and an optional ``transform`` (a key of :data:`TRANSFORMS`)."""

    column: str | None = None
    values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    transform: str | None = None
    value: str | None = None
    format: str | None = None  # the source's date format (strftime codes) for the date transforms; default ISO 8601

    def to_json(self):
        plain = not self.values and not self.transform and self.value is None and self.format is None
        if plain and self.column is not None:
            return self.column
        out: dict = {}
        if self.column is not None:
            out["column"] = self.column
        if self.value is not None:
            out["value"] = self.value
        if self.values:
            out["values"] = dict(self.values)
        if self.transform:
            out["transform"] = self.transform
        if self.format:
            out["format"] = self.format
        return out


@dataclass(frozen=True)
class TableMap:
    """One contract table: its ``source`` table (a file name such as ``demographics.csv``, a workbook sheet, a
    REDCap instrument), its columns, and the source codes that mean "missing" (``-99``, ``UNK``)."""

    source: str
    columns: Mapping[str, ColumnMap]
    missing: tuple[str, ...] = ()

    def to_json(self) -> dict:
        out: dict = {"source": self.source, "columns": {k: v.to_json() for k, v in self.columns.items()}}
        if self.missing:
            out["missing"] = list(self.missing)
        return out


@dataclass(frozen=True)
class Admission:
    """Where each patient's admission date-time is (for the date → time-since-admission transforms): the source
    table, its patient-id column and its admission column, with an optional ``strftime`` format."""

    source: str
    id: str
    column: str
    format: str | None = None

    def to_json(self) -> dict:
        out = {"source": self.source, "id": self.id, "column": self.column}
        if self.format:
            out["format"] = self.format
        return out


@dataclass(frozen=True)
class CohortMapping:
    tables: Mapping[str, TableMap]
    admission: Admission | None = None
    name: str = ""

    def to_json(self) -> str:
        out: dict = {"format": FORMAT, "version": VERSION}
        if self.name:
            out["name"] = self.name
        if self.admission is not None:
            out["admission"] = self.admission.to_json()
        out["tables"] = {k: v.to_json() for k, v in self.tables.items()}
        return json.dumps(out, indent=2, ensure_ascii=False) + "\n"

    def with_table(self, name: str, table: TableMap | None) -> CohortMapping:
        tables = dict(self.tables)
        if table is None:
            tables.pop(name, None)
        else:
            tables[name] = table
        return replace(self, tables=MappingProxyType(tables))


def _problem(label: str, message: str, fix: str, column: str | None = None) -> Problem:
    return Problem(label, message, fix, column=column)


def parse_mapping(text: str, label: str = "mapping.json") -> tuple[CohortMapping | None, list[Problem]]:
    """Read a saved mapping; every problem at once (unknown table, column or transform, wrong shape)."""
    problems: list[Problem] = []
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        return None, [_problem(label, f"is not valid JSON ({exc})", "save the mapping again from the Data page")]
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None, [_problem(label, f'is not a cohort mapping (no "format": "{FORMAT}")', "use a saved mapping")]
    if data.get("version") != VERSION:
        problems.append(_problem(label, f"has version {data.get('version')!r}", f"this app reads version {VERSION}"))
    admission = None
    adm = data.get("admission")
    if adm is not None:
        if isinstance(adm, dict) and all(isinstance(adm.get(k), str) for k in ("source", "id", "column")):
            fmt = adm.get("format")
            admission = Admission(adm["source"], adm["id"], adm["column"], fmt if isinstance(fmt, str) else None)
        else:
            problems.append(
                _problem(label, '"admission" needs "source", "id" and "column" (text)', "see docs/MAPPING.md")
            )
    tables: dict[str, TableMap] = {}
    raw_tables = data.get("tables")
    if not isinstance(raw_tables, dict):
        problems.append(_problem(label, '"tables" is missing or not an object', "see docs/MAPPING.md"))
        raw_tables = {}
    for tname, t in raw_tables.items():
        where = f"tables.{tname}"
        spec = C.TABLES_BY_NAME.get(tname)
        if spec is None:
            problems.append(
                _problem(label, f"{where}: unknown table", f"one of: {', '.join(C.TABLES_BY_NAME)}", column=where)
            )
            continue
        if not isinstance(t, dict) or not isinstance(t.get("source"), str) or not isinstance(t.get("columns"), dict):
            problems.append(_problem(label, f'{where} needs "source" (text) and "columns"', "see docs/MAPPING.md"))
            continue
        cols: dict[str, ColumnMap] = {}
        for cname, c in t["columns"].items():
            cwhere = f"{where}.columns.{cname}"
            if cname not in spec.column_names:
                problems.append(
                    _problem(label, f"{cwhere}: not a column of '{tname}'", f"one of: {', '.join(spec.column_names)}")
                )
                continue
            cm = _column_map(c, cwhere, label, problems)
            if cm is not None:
                cols[cname] = cm
        missing = t.get("missing") or []
        if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
            problems.append(_problem(label, f"{where}.missing must be a list of text codes", 'e.g. ["-99", "UNK"]'))
            missing = []
        tables[tname] = TableMap(t["source"], MappingProxyType(cols), tuple(missing))
    name = data.get("name") if isinstance(data.get("name"), str) else ""
    if problems:
        return None, problems
    return CohortMapping(MappingProxyType(tables), admission, name), []


def _column_map(c, where: str, label: str, problems: list[Problem]) -> ColumnMap | None:
    if isinstance(c, str):
        return ColumnMap(column=c)
    if not isinstance(c, dict):
        problems.append(_problem(label, f"{where}: a source column name or an object", "see docs/MAPPING.md"))
        return None
    column, value, values, transform = c.get("column"), c.get("value"), c.get("values") or {}, c.get("transform")
    fmt = c.get("format")
    ok = True
    if fmt is not None and not isinstance(fmt, str):
        problems.append(_problem(label, f"{where}.format: a date format", 'e.g. "%d/%m/%Y %H:%M"'))
        ok = False
    if column is None and value is None:
        problems.append(_problem(label, f'{where}: needs "column" or "value"', "name the source column"))
        ok = False
    if not isinstance(column, (str, type(None))) or not isinstance(value, (str, type(None))):
        problems.append(_problem(label, f'{where}: "column" and "value" are text', "quote them"))
        ok = False
    if not isinstance(values, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in values.items()):
        problems.append(_problem(label, f"{where}.values: text → text", 'e.g. {"1": "M", "2": "F"}'))
        ok = False
    if transform is not None and transform not in TRANSFORMS:
        known = ", ".join(TRANSFORMS)
        problems.append(_problem(label, f"{where}: unknown transform {transform!r}", f"one of: {known}"))
        ok = False
    if not ok:
        return None
    return ColumnMap(column, MappingProxyType(dict(values)), transform, value, fmt)


def load_mapping(path: str | Path) -> tuple[CohortMapping | None, list[Problem]]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        return None, [_problem(p.name, f"cannot be read ({type(exc).__name__})", "give the path of a saved mapping")]
    return parse_mapping(text, p.name)


# --------------------------------------------------------------------------------------------- transforms
@dataclass(frozen=True)
class Transform:
    """A conversion of a source column into contract text. ``fn(values, ctx)`` gets the source column (text) and
    returns (converted text, mask of cells it could not convert, what those cells should look like)."""

    label: str
    dtypes: tuple[str, ...]  # contract column types it produces
    fn: Callable[[pd.Series, _TransformContext], tuple[pd.Series, np.ndarray, str]]
    needs_admission: bool = False


@dataclass(frozen=True)
class _TransformContext:
    admission: pd.Series | None  # each row's admission time (NaT when unknown), or None without an admission map
    date_format: str | None = None  # the column's date format (None: ISO 8601)


def _text_numbers(x: np.ndarray) -> pd.Series:
    return pd.Series([None if np.isnan(v) else format(float(v), ".12g") for v in x], dtype=object)


def _fahrenheit(s: pd.Series, ctx: _TransformContext):
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    bad = s.notna().to_numpy() & np.isnan(x)
    return _text_numbers(np.round((x - 32.0) * 5.0 / 9.0, 2)), bad, "a number in °F"


def _hours_to_days(s: pd.Series, ctx: _TransformContext):
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    bad = s.notna().to_numpy() & np.isnan(x)
    return _text_numbers(x / 24.0), bad, "a number of hours"


def _datetimes(s: pd.Series, fmt: str | None) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(s, errors="coerce", format=fmt or "ISO8601")


def _since_admission(unit: str):
    def fn(s: pd.Series, ctx: _TransformContext):
        t = _datetimes(s, ctx.date_format)
        adm = ctx.admission if ctx.admission is not None else pd.Series(pd.NaT, index=s.index)
        bad = (s.notna() & (t.isna() | adm.isna())).to_numpy()
        if unit == "hours":
            x = ((t - adm).dt.total_seconds() / 3600.0).to_numpy(dtype=float)
            return _text_numbers(np.round(x, 4)), bad, "a date-time, for a patient with an admission date-time"
        days = (t.dt.normalize() - adm.dt.normalize()).dt.days.to_numpy(dtype=float)
        return _text_numbers(days), bad, "a date, for a patient with an admission date"

    return fn


def _lower(s: pd.Series, ctx: _TransformContext):
    return s.str.strip().str.lower(), np.zeros(len(s), dtype=bool), "text"


TRANSFORMS: Mapping[str, Transform] = MappingProxyType(
    {
        "fahrenheit_to_celsius": Transform("°F → °C", ("float",), _fahrenheit),
        "hours_to_days": Transform("hours → days", ("float",), _hours_to_days),
        "hours_since_admission": Transform(
            "date-time → hours since admission", ("float",), _since_admission("hours"), needs_admission=True
        ),
        "days_since_admission": Transform(
            "date → days since admission (day 0 = admission day)", ("int",), _since_admission("days"), True
        ),
        "lowercase": Transform("lower case", ("str",), _lower),
    }
)


# --------------------------------------------------------------------------------------------- sources
def _frame(table) -> pd.DataFrame:
    df = table.to_pandas() if hasattr(table, "to_pandas") and not isinstance(table, pd.DataFrame) else table
    df = df.astype(object).where(df.notna(), None)
    df.columns = [str(c).strip() for c in df.columns]
    return df.reset_index(drop=True)


def _read_xlsx_sheets(src, label: str, problems: list[Problem]) -> dict[str, pd.DataFrame]:
    sheets = read_sheets(src, label, problems) or {}
    return {f"{label}[{str(k).strip()}]": _frame(v) for k, v in sheets.items()}


def _read_one(name: str, data: bytes | memoryview | Path, problems: list[Problem]) -> dict[str, pd.DataFrame]:
    low = name.lower()
    try:
        if low.endswith(".csv"):
            return {name: _frame(_read_csv(data, name))}
        if low.endswith(".parquet"):
            return {name: _frame(_read_parquet(data, name))}
        if low.endswith((".xlsx", ".xlsm")):
            return _read_xlsx_sheets(data if isinstance(data, Path) else io.BytesIO(bytes(data)), name, problems)
    except CsvFormatError as exc:
        problems.append(Problem(name, exc.message, exc.fix))
    except Exception as exc:
        problems.append(Problem(name, f"cannot be read ({type(exc).__name__})", "save it as UTF-8 CSV with a header"))
    return {}


def _data_folder(wanted, label: str, problems: list[Problem]):
    folders = [d for d, infos in wanted.items() if any(not i.filename.endswith(".json") for i in infos)]
    if len(folders) != 1:
        problems.append(
            Problem(
                label,
                "holds data files in several folders" if folders else "contains no CSV, Parquet or .xlsx file",
                "zip the export's files in one folder",
            )
        )
        return None
    return wanted[folders[0]]


def read_sources(
    source: str | Path | Iterable[tuple[str, bytes]], progress: Progress | None = None
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Every table of a hospital export, whatever its names: CSV and Parquet files (named by file name), the
    sheets of a workbook (``book.xlsx[sheet]``), the files of a .zip. ``source``: a folder, a file, or uploaded
    (name, bytes) pairs. Values are text (None = empty cell). A saved mapping (``*.mapping.json``) is not a
    table and is skipped."""
    progress = progress or _no_progress
    problems: list[Problem] = []
    if isinstance(source, (str, Path)):
        p = Path(source)
        if not p.exists():
            return {}, [Problem(str(p), "no such file or folder", "give the path of the export's folder or file")]
        files: list[tuple[str, bytes | memoryview | Path]] = (
            [(f.name, f) for f in sorted(p.iterdir()) if f.is_file()] if p.is_dir() else [(p.name, p)]
        )
    else:
        files = [(PurePosixPath(str(n).replace("\\", "/")).name, d) for n, d in source]
        too_large = upload_too_large(files)
        if too_large is not None:
            return {}, [too_large]
    out: dict[str, pd.DataFrame] = {}
    for k, (name, data) in enumerate(files):
        progress(k / max(len(files), 1), f"Reading {name}")
        if name.lower().endswith(".zip"):
            src = data if isinstance(data, Path) else bytes(data)
            members = zip_members(src, name, problems, choose=_data_folder) or {}
            for m, b in members.items():
                if m.lower().endswith(MAPPING_SUFFIX) or m.lower().endswith(".json"):
                    continue
                out.update(_read_one(m, b, problems))
        elif PurePosixPath(name).suffix.lower() in (*TABLE_SUFFIXES, ".xlsx", ".xlsm"):
            out.update(_read_one(name, data, problems))
    if not out and not problems:
        problems.append(Problem("upload", "contains no table", "give CSV, Parquet or .xlsx files (or a .zip of them)"))
    progress(1.0, "Read")
    return out, problems


# --------------------------------------------------------------------------------------------- proposing
_SYNONYMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "patient_id": ("record_id", "study_id", "subject_id", "pseudo_id", "id", "patient"),
        "age_years": ("age", "age_yrs", "age_at_diagnosis"),
        "sex": ("gender", "sex_at_birth"),
        "weight_kg": ("weight", "wt_kg", "wt"),
        "temp_c": ("temperature", "temp", "temperature_c"),
        "lvef_pct": ("lvef", "ef", "ejection_fraction"),
        "strain_ap4_pct": ("strain", "gls_ap4", "ap4_strain"),
        "length_of_stay_days": ("los", "los_days", "length_of_stay"),
        "dose_mg_kg_day": ("dose", "daily_dose_mg_kg"),
        "fold_difference": ("fold", "fold_uln"),
        "ctcae_grade": ("grade",),
    }
)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def _guess_column(col: C.ColumnSpec, table: str, columns: list[str]) -> str | None:
    by_norm = {_norm(c): c for c in columns}
    for cand in (col.name, f"{table}_{col.name}", *_SYNONYMS.get(col.name, ())):
        if _norm(cand) in by_norm:
            return by_norm[_norm(cand)]
    return None


def _table_of_source(name: str) -> str:
    stem = PurePosixPath(name.split("[")[-1].rstrip("]") if "[" in name else name).stem
    return _norm(stem)


def _guess_values(spec: C.ColumnSpec, values: Iterable[str]) -> dict[str, str]:
    """Codes whose contract value is unambiguous: same text in another case, Male/Female, Checked/Unchecked."""
    out: dict[str, str] = {}
    words = {"male": "M", "female": "F", "m": "M", "f": "F"} if spec.name == "sex" else {}
    for v in values:
        t = str(v).strip()
        low = t.lower()
        if spec.dtype == "bool":
            if low in ("checked", "ja", "si", "sí", "oui", "positive", "pos"):
                out[t] = "1"
            elif low in ("unchecked", "nein", "non", "negative", "neg"):
                out[t] = "0"
        elif spec.allowed:
            if t in spec.allowed:
                continue
            hit = [a for a in spec.allowed if a.lower() == low] or ([words[low]] if low in words else [])
            if hit:
                out[t] = hit[0]
    return out


def propose_mapping(sources: Mapping[str, pd.DataFrame]) -> CohortMapping:
    """A first mapping to confirm: each contract table from the source named after it (or sharing most of its
    column names), each column from the source column of the same name, ``<table>_<column>`` or a usual synonym,
    and the codes whose contract value is unambiguous."""
    tables: dict[str, TableMap] = {}
    for spec in C.TABLES:
        best, score = None, 0
        for name, df in sources.items():
            cols = list(df.columns)
            s = sum(_guess_column(c, spec.name, cols) is not None for c in spec.columns if c.name != "patient_id")
            s += 100 if _table_of_source(name) == spec.name else 0
            if s > score:
                best, score = name, s
        if best is None or (spec.name != "patients" and score < 2):
            continue  # a long table from a source named after it or sharing two of its columns
        df = sources[best]
        cols: dict[str, ColumnMap] = {}
        for c in spec.columns:
            src = _guess_column(c, spec.name, list(df.columns))
            if src is None:
                continue
            values = _guess_values(c, pd.Series(df[src]).dropna().astype(str).unique()[:200])
            cols[c.name] = ColumnMap(src, MappingProxyType(values))
        tables[spec.name] = TableMap(best, MappingProxyType(cols))
    return CohortMapping(MappingProxyType(tables))


# --------------------------------------------------------------------------------------------- applying
@dataclass(frozen=True)
class Mapped:
    """The contract tables a mapping makes (text), each one's label (its source's name), the problems of the
    mapping itself, and where each contract column came from (for :meth:`translate`)."""

    tables: Mapping[str, pd.DataFrame]
    labels: Mapping[str, str]
    problems: tuple[Problem, ...]
    origin: Mapping[tuple[str, str], str]  # (label, contract column) → source column
    flagged: frozenset[tuple[str, int, str]] = frozenset()  # (label, row, contract column) the mapping reported

    def validate(self, progress: Progress | None = None) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
        """Validate the mapped tables like a contract-shaped cohort; every problem (the mapping's first), each told
        on the source, none twice (a cell the mapping could not convert is not reported again as empty)."""
        tables, probs, _ = _validate_tables(dict(self.tables), dict(self.labels), progress)
        unbuilt = set(C.TABLES_BY_NAME) - set(self.tables)
        kept = [
            self.translate(p)
            for p in probs
            if (p.file, p.row, p.column) not in self.flagged
            and not (p.message.startswith("required table") and unbuilt and self.problems)
        ]
        return tables, list(self.problems) + kept

    def translate(self, p: Problem) -> Problem:
        """A validation problem about a mapped table, told on the source: its file, row and column."""
        src = self.origin.get((p.file, p.column or ""))
        if src is None or src == p.column:
            return p
        return replace(p, column=f"{src} (→ {p.column})")


def _admission_times(sources, mapping: CohortMapping, problems: list[Problem]) -> pd.Series | None:
    adm = mapping.admission
    if adm is None:
        return None
    df = sources.get(adm.source)
    if df is None or adm.id not in df or adm.column not in df:
        problems.append(
            Problem(
                MAPPING_LABEL,
                f"admission date-times: no table '{adm.source}' with columns '{adm.id}' and '{adm.column}'",
                "choose the table and columns that hold each patient's admission date-time",
            )
        )
        return None
    t = _datetimes(df[adm.column], adm.format)
    bad = df[adm.column].notna() & t.isna()
    for i in np.flatnonzero(bad.to_numpy())[:20]:
        problems.append(
            Problem(
                adm.source,
                "is not a date-time",
                f"write it as YYYY-MM-DD HH:MM{' or as ' + adm.format if adm.format else ''}",
                row=int(i) + 2,
                column=adm.column,
                value=str(df[adm.column].iloc[i]),
            )
        )
    ids = df[adm.id].astype(str).str.strip()
    return pd.Series(t.to_numpy(), index=ids.to_numpy())[~ids.duplicated().to_numpy()]


def apply_mapping(sources: Mapping[str, pd.DataFrame], mapping: CohortMapping) -> Mapped:
    """The contract tables ``mapping`` makes from ``sources`` (text, one row per source row)."""
    problems: list[Problem] = []
    admission = _admission_times(sources, mapping, problems)
    tables: dict[str, pd.DataFrame] = {}
    labels: dict[str, str] = {}
    origin: dict[tuple[str, str], str] = {}
    flagged: set[tuple[str, int, str]] = set()
    for tname, tm in mapping.tables.items():
        spec = C.TABLES_BY_NAME[tname]
        df = sources.get(tm.source)
        if df is None:
            problems.append(
                Problem(
                    MAPPING_LABEL,
                    f"the source table '{tm.source}' for '{tname}' is not in the export",
                    f"choose one of: {', '.join(sources) or 'no tables were read'}",
                )
            )
            continue
        missing = set(tm.missing)
        out: dict[str, pd.Series] = {}
        pid = tm.columns.get("patient_id")
        row_admission = None
        if admission is not None and pid is not None and pid.column in df:
            keys = df[pid.column].astype(str).str.strip()
            row_admission = pd.Series(admission.reindex(keys.to_numpy()).to_numpy(), index=df.index)
        for cname, cm in tm.columns.items():
            if cm.column is None:
                out[cname] = pd.Series([cm.value or None] * len(df), dtype=object)  # "" is an empty cell
                continue
            if cm.column not in df:
                problems.append(
                    Problem(
                        tm.source,
                        f"has no column '{cm.column}' (mapped to {tname}.{cname})",
                        f"choose one of its columns: {', '.join(map(str, df.columns))}",
                        column=cm.column,
                    )
                )
                continue
            s = df[cm.column].astype(object)
            s = s.where(s.isna(), s.astype(str).str.strip())
            s = s.where(~s.isin(missing) & (s != ""), None)
            if cm.values:
                s = s.map(lambda v, m=cm.values: m.get(v, v) if v is not None else None)
            if cm.transform:
                tr = TRANSFORMS[cm.transform]
                if tr.needs_admission and mapping.admission is None:
                    problems.append(
                        Problem(
                            tm.source,
                            f"'{cm.column}' → {tname}.{cname} converts dates to times since admission, but the "
                            "mapping does not say where admission date-times are",
                            "choose the admission date-time column",
                            column=cm.column,
                        )
                    )
                    continue
                s, bad, expected = tr.fn(s, _TransformContext(row_admission, cm.format))
                flagged.update((tm.source, int(i) + 2, cname) for i in np.flatnonzero(bad))
                for i in np.flatnonzero(bad)[:20]:
                    problems.append(
                        Problem(
                            tm.source,
                            f"cannot convert for {tname}.{cname} ({tr.label})",
                            f"give {expected}",
                            row=int(i) + 2,
                            column=cm.column,
                            value=str(df[cm.column].iloc[i]),
                        )
                    )
                if bad.sum() > 20:
                    problems.append(
                        Problem(
                            tm.source,
                            f"… and {int(bad.sum()) - 20} more cells that cannot be converted",
                            f"give {expected}",
                            column=cm.column,
                        )
                    )
            out[cname] = s.reset_index(drop=True)
            origin[(tm.source, cname)] = cm.column
        for c in spec.columns:
            if c.required and c.name not in tm.columns:
                problems.append(
                    Problem(
                        tm.source,
                        f"no source column is mapped to {tname}.{c.name} (required)",
                        f"choose the column of '{tm.source}' that holds {c.description[:60].rstrip('.')}",
                    )
                )
        tables[tname] = pd.DataFrame({k: out[k] for k in spec.column_names if k in out}, dtype=object)
        labels[tname] = tm.source
    if "patients" not in mapping.tables:
        problems.append(Problem(MAPPING_LABEL, "maps no source table to 'patients'", "choose the table of patients"))
    return Mapped(
        tables=MappingProxyType(tables),
        labels=MappingProxyType(labels),
        problems=tuple(problems),
        origin=MappingProxyType(origin),
        flagged=frozenset(flagged),
    )


def preview(
    sources: Mapping[str, pd.DataFrame], mapping: CohortMapping, rows: int = 5
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """The first ``rows`` rows of every mapped table and every problem (the mapping's and the validation's), before
    anything is loaded."""
    mapped = apply_mapping(sources, mapping)
    heads = {name: df.head(rows) for name, df in mapped.tables.items()}
    return heads, mapped.validate()[1]


def validate_mapped(
    sources: Mapping[str, pd.DataFrame],
    mapping: CohortMapping,
    name: str = "",
    synthetic: bool = False,
    source: str = "mapped",
    progress: Progress | None = None,
):
    """Map and validate: (cohort or None, problems), the problems told on the source files. The cohort is real
    patient data unless ``synthetic`` (the caller decides; a file never does)."""
    progress = progress or _no_progress
    mapped = apply_mapping(sources, mapping)
    tables, problems = mapped.validate(_stage(progress, 0.0, 0.95))
    if any(p.severity == "error" for p in problems):
        progress(1.0, "Refused")
        return None, problems
    cohort = _make_cohort(
        tables,
        name or mapping.name or "Mapped cohort",
        synthetic,
        "",
        source,
        [p for p in problems if p.severity != "error"],
        metadata={"mapping": json.loads(mapping.to_json())},
    )
    progress(1.0, "Loaded")
    return cohort, problems
