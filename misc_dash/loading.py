"""Loading and validating a cohort.

A cohort is a folder of CSV files or one ``.xlsx`` workbook (one sheet per table). Validation collects
**every** problem at once — file, row, column, value, and how to fix it — and a cohort with any error never
loads (``load_cohort`` raises :class:`CohortInvalid`). Types, ranges, allowed values, missing cells and
duplicate keys are checked by pandera schemas generated from :mod:`misc_dash.contract`; rules that span rows or
tables (patients that do not exist, time points out of order) are small checks of their own.

Row numbers are the line numbers a user sees in a spreadsheet: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from collections import abc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import pandas as pd
import pandera.pandas as pa

from . import contract as C

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COHORT_DIR = REPO_ROOT / "data" / "default_cohort"

_PANDAS_DTYPE = {"str": "str", "int": "Int64", "float": "float64", "bool": "boolean"}


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

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]

    @property
    def patients(self) -> pd.DataFrame:
        return self.tables["patients"]

    @property
    def n_patients(self) -> int:
        return len(self.tables["patients"])

    def __hash__(
        self,
    ) -> int:  # usable as a cache key: identical content → identical hash (for a subset: same parent, same ids)
        return hash(self.fingerprint)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cohort) and other.fingerprint == self.fingerprint

    def subset(self, patient_ids: Iterable[str], name: str | None = None) -> Cohort:
        """The same cohort restricted to some patients (every table filtered)."""
        ids = pd.Index(list(patient_ids))
        tables = _SubsetTables(self.tables, ids)
        # the subset is determined by this cohort's content and the kept ids: derive its fingerprint from those
        # instead of hashing every table again on each filter change
        h = hashlib.sha256(f"{self.fingerprint}|subset|".encode())
        h.update("\x1f".join(sorted(map(str, ids.unique()))).encode())
        return Cohort(
            tables=tables,
            name=name or self.name,
            synthetic=self.synthetic,
            description=self.description,
            source=self.source,
            warnings=self.warnings,
            fingerprint=h.hexdigest()[:16],
        )


class _SubsetTables(abc.Mapping):
    """A cohort's tables restricted to some patients, each filtered on first use (read-only).

    A filter change makes a subset, and most analyses read only two or three of its ten tables: a table is
    filtered when it is first read, so the tables no analysis reads are never filtered."""

    def __init__(self, parent: Mapping[str, pd.DataFrame], ids: pd.Index):
        self._parent, self._ids, self._done = parent, ids, {}

    def __getitem__(self, table: str) -> pd.DataFrame:
        df = self._done.get(table)
        if df is None:
            src = self._parent[table]
            df = self._done[table] = src[src["patient_id"].isin(self._ids)].reset_index(drop=True)
        return df

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


def _make_cohort(tables, name, synthetic, description, source, warns) -> Cohort:
    return Cohort(
        tables=MappingProxyType(dict(tables)),
        name=name,
        synthetic=synthetic,
        description=description,
        source=source,
        warnings=tuple(warns),
        fingerprint=_fingerprint(tables),
    )


# --------------------------------------------------------------------------------------------- reading
def read_raw_tables(
    path: str | Path | bytes, filename: str | None = None
) -> tuple[dict[str, pd.DataFrame], dict, list[Problem], str]:
    """Read every table as text (no type conversion yet). Returns (tables, metadata, problems, label).

    ``path`` is a folder of CSVs, an ``.xlsx`` file, or the bytes of an uploaded ``.xlsx`` (then pass
    ``filename``).
    """
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    meta: dict = {}
    if isinstance(path, (bytes, bytearray)):
        label = filename or "upload.xlsx"
        return (*_read_workbook(io.BytesIO(path), label, problems), problems, label)  # type: ignore[misc]
    p = Path(path)
    label = p.name or str(p)
    if not p.exists():
        problems.append(
            Problem(str(p), "no such file or folder", "give the path of a cohort folder of CSVs or an .xlsx workbook")
        )
        return tables, meta, problems, label
    if p.is_file():
        if p.suffix.lower() not in (".xlsx", ".xlsm"):
            problems.append(Problem(p.name, "not a cohort", "give a folder of CSV files or an .xlsx workbook"))
            return tables, meta, problems, label
        t, m = _read_workbook(p, p.name, problems)
        return t, m, problems, label
    for f in sorted(p.glob("*.csv")):
        name = f.stem
        if name not in C.TABLES_BY_NAME:
            problems.append(
                Problem(
                    f.name,
                    f"unknown table '{name}' is ignored",
                    f"name it one of: {', '.join(C.TABLES_BY_NAME)}",
                    severity="warning",
                )
            )
            continue
        try:
            tables[name] = pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
        except Exception as exc:  # unreadable file: report, don't crash
            problems.append(
                Problem(
                    f.name, f"cannot be read as CSV ({type(exc).__name__})", "save it as UTF-8 CSV with a header row"
                )
            )
    mf = p / C.METADATA_FILE
    if mf.exists():
        try:
            meta = json.loads(mf.read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                raise ValueError("not an object")
        except Exception:
            problems.append(
                Problem(
                    C.METADATA_FILE,
                    "is not a JSON object",
                    'write e.g. {"name": "My cohort", "synthetic": false}',
                    severity="warning",
                )
            )
            meta = {}
    if not tables and not any(pr.severity == "error" for pr in problems):
        problems.append(Problem(label, "contains no cohort table", "add at least patients.csv (see data/template/)"))
    return tables, meta, problems, label


def _read_workbook(src, label: str, problems: list[Problem]) -> tuple[dict[str, pd.DataFrame], dict]:
    tables: dict[str, pd.DataFrame] = {}
    meta: dict = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sheets = pd.read_excel(
                src, sheet_name=None, dtype=str, keep_default_na=False, na_values=[""], engine="openpyxl"
            )
    except Exception as exc:
        problems.append(
            Problem(label, f"cannot be read as an .xlsx workbook ({type(exc).__name__})", "save the workbook as .xlsx")
        )
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


# --------------------------------------------------------------------------------------------- schemas
def _checks(col: C.ColumnSpec) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if col.allowed:
        checks.append(pa.Check.isin(list(col.allowed), error=f"allowed values: {', '.join(col.allowed)}"))
    if col.min is not None:
        checks.append(pa.Check.gt(col.min) if col.min_exclusive else pa.Check.ge(col.min))
    if col.max is not None:
        checks.append(pa.Check.lt(col.max) if col.max_exclusive else pa.Check.le(col.max))
    return checks


def _type_schema(spec: C.TableSpec, present: list[str]) -> pa.DataFrameSchema:
    cols = {
        c.name: pa.Column(_PANDAS_DTYPE[c.dtype], coerce=True, nullable=True) for c in spec.columns if c.name in present
    }
    return pa.DataFrameSchema(cols, strict=False)


def _value_schema(spec: C.TableSpec, present: list[str]) -> pa.DataFrameSchema:
    cols = {
        c.name: pa.Column(_PANDAS_DTYPE[c.dtype], checks=_checks(c), nullable=c.nullable, coerce=False)
        for c in spec.columns
        if c.name in present
    }
    unique = [u for u in spec.unique if u in present]
    return pa.DataFrameSchema(
        cols, unique=unique if len(unique) == len(spec.unique) and unique else None, report_duplicates="all"
    )


def schemas() -> dict[str, pa.DataFrameSchema]:
    """The full pandera schema of every table (all columns), e.g. for other tools to reuse."""
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


def _normalise_bools(df: pd.DataFrame, spec: C.TableSpec) -> pd.DataFrame:
    df = df.copy()
    for c in spec.columns:
        if c.dtype == "bool" and c.name in df:

            def conv(v):
                if v is None or (isinstance(v, float) and pd.isna(v)):
                    return pd.NA
                s = str(v).strip().lower()
                if s in C.BOOL_TRUE:
                    return True
                if s in C.BOOL_FALSE:
                    return False
                return v

            df[c.name] = df[c.name].map(conv).astype(object)
        elif c.dtype == "str" and c.name in df:
            df[c.name] = df[c.name].map(lambda v: v.strip() if isinstance(v, str) else v)
            df[c.name] = df[c.name].where(df[c.name].ne("") | df[c.name].isna(), pd.NA)
    return df


def _validate_table(name: str, raw: pd.DataFrame, file_label: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    spec = C.TABLES_BY_NAME[name]
    problems: list[Problem] = []
    raw = raw.copy()
    raw.columns = [str(c).strip() for c in raw.columns]
    known = set(spec.column_names)
    for col in raw.columns:
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
    dup_cols = raw.columns[raw.columns.duplicated()].unique()
    for col in dup_cols:
        problems.append(Problem(file_label, f"column '{col}' appears twice", "keep one", row=1, column=col))
    if len(dup_cols):
        return None, problems
    for c in spec.columns:
        if c.required and c.name not in raw.columns:
            problems.append(
                Problem(
                    file_label,
                    f"missing column '{c.name}'",
                    f"add a column '{c.name}': {c.description}",
                    row=1,
                    column=c.name,
                )
            )
    present = [c.name for c in spec.columns if c.name in raw.columns]
    df = _normalise_bools(raw[present], spec)

    # Phase 1 — types (pandera coercion). Cells that cannot be converted are reported and blanked.
    bad_cells: set[tuple[int, str]] = set()
    try:
        typed = _type_schema(spec, present).validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        for _, r in fc.iterrows():
            check = str(r["check"])
            if not check.startswith("coerce_dtype") or pd.isna(r["index"]):
                continue
            col = spec.column(r["column"])
            idx = int(r["index"])
            bad_cells.add((idx, col.name))
            problems.append(
                Problem(
                    file_label,
                    _message_for(col, check),
                    _fix_for(col, check),
                    row=idx + 2,
                    column=col.name,
                    value=str(r["failure_case"]),
                )
            )
        for idx, colname in bad_cells:
            df.loc[idx, colname] = float("nan") if spec.column(colname).dtype == "float" else pd.NA
        typed = _type_schema(spec, present).validate(df, lazy=False)

    # Phase 2 — values: empty cells, allowed values, ranges, duplicate keys.
    try:
        _value_schema(spec, present).validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        seen_dup_rows: set[int] = set()
        for _, r in fc.iterrows():
            check = str(r["check"])
            idx = None if pd.isna(r["index"]) else int(r["index"])
            colname = r["column"] if isinstance(r["column"], str) else None
            if check.startswith("dtype"):
                continue
            if r["schema_context"] == "DataFrameSchema" and (
                "unique" in check.lower() or check == "multiple_fields_uniqueness"
            ):
                if idx is None or idx in seen_dup_rows:
                    continue
                seen_dup_rows.add(idx)
                key = ", ".join(f"{k}={typed.loc[idx, k]}" for k in spec.unique)
                problems.append(
                    Problem(
                        file_label,
                        f"duplicate {'/'.join(spec.unique)} ({key})",
                        "remove or merge the duplicate rows",
                        row=idx + 2,
                        column=spec.unique[-1],
                    )
                )
                continue
            if idx is not None and (idx, colname) in bad_cells:
                continue
            col = spec.column(colname) if colname in known else None
            val = None if pd.isna(r["failure_case"]) else str(r["failure_case"])
            problems.append(
                Problem(
                    file_label,
                    _message_for(col, check),
                    _fix_for(col, check),
                    row=None if idx is None else idx + 2,
                    column=colname,
                    value=val,
                )
            )
    return typed, problems


def _check_patient_links(tables: dict[str, pd.DataFrame], labels: dict[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    if "patients" not in tables or "patient_id" not in tables["patients"]:
        return problems
    ids = set(tables["patients"]["patient_id"].dropna())
    for name, df in tables.items():
        if name == "patients" or "patient_id" not in df:
            continue
        unknown = df["patient_id"].notna() & ~df["patient_id"].isin(ids)
        for idx in df.index[unknown]:
            problems.append(
                Problem(
                    labels[name],
                    "row for a patient who is not in patients",
                    "add the patient to patients or fix the patient_id",
                    row=int(idx) + 2,
                    column="patient_id",
                    value=str(df.at[idx, "patient_id"]),
                )
            )
    return problems


def _check_time_order(name: str, df: pd.DataFrame, label: str) -> list[Problem]:
    """Time points must increase strictly within a patient's series, in file order (ordered tables)."""
    spec = C.TABLES_BY_NAME[name]
    t = spec.time_column
    if not spec.ordered or t is None or t not in df or "patient_id" not in df:
        return []
    problems = []
    keys = ["patient_id", *[s for s in spec.series if s in df]]
    sub = df[keys + [t]].dropna()
    prev = sub.groupby(keys, sort=False)[t].shift()
    bad = sub[t].lt(prev) & prev.notna()  # equal time points are reported as duplicates
    for idx in sub.index[bad]:
        problems.append(
            Problem(
                label,
                f"time points out of order for patient {sub.at[idx, 'patient_id']} "
                f"({t} {sub.at[idx, t]:g} after {prev[idx]:g})",
                f"sort this patient's rows by {t} (increasing)",
                row=int(idx) + 2,
                column=t,
                value=f"{sub.at[idx, t]:g}",
            )
        )
    return problems


def _check_doses_given(tables: dict[str, pd.DataFrame], labels: dict[str, str]) -> list[Problem]:
    """A day's ``doses_given`` cannot exceed its ``doses_per_day``: treatment duration is the sum over days of
    doses_given / doses_per_day, so each day counts at most one day on drug."""
    d = tables.get("anakinra_doses")
    if d is None or not {"doses_given", "doses_per_day"} <= set(d.columns):
        return []
    given, per_day = d["doses_given"].astype(float), d["doses_per_day"].astype(float)
    bad = given.gt(per_day) & given.notna() & per_day.notna()
    return [
        Problem(
            labels["anakinra_doses"],
            f"doses_given ({given[i]:g}) is more than doses_per_day ({per_day[i]:g}) on day "
            f"{d.at[i, 'day']} for patient {d.at[i, 'patient_id']}",
            "a day's doses given cannot exceed the doses scheduled that day; if an extra dose was given, record "
            "the day's actual schedule as doses_per_day",
            row=int(i) + 2,
            column="doses_given",
            value=f"{given[i]:g}",
        )
        for i in d.index[bad]
    ]


def _check_consistency(tables: dict[str, pd.DataFrame], labels: dict[str, str]) -> list[Problem]:
    """Cross-table plausibility (warnings: they do not block loading)."""
    out: list[Problem] = []
    pts = tables.get("patients")
    doses = tables.get("anakinra_doses")
    if pts is None or "anakinra_indication" not in pts or doses is None or "patient_id" not in doses:
        return out
    on_drug = set(doses["patient_id"].dropna())
    for idx, r in pts.iterrows():
        if pd.notna(r.get("anakinra_indication")) and r["patient_id"] not in on_drug:
            out.append(
                Problem(
                    labels["patients"],
                    "anakinra_indication is set but the patient has no anakinra_doses rows",
                    "add the dose rows or clear the indication",
                    row=int(idx) + 2,
                    column="anakinra_indication",
                    value=str(r["anakinra_indication"]),
                    severity="warning",
                )
            )
    return out


def validate_tables(
    raw: Mapping[str, pd.DataFrame], labels: Mapping[str, str] | None = None
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Validate raw text tables; return (typed tables with every contract table present, problems)."""
    labels = dict(labels or {})
    problems: list[Problem] = []
    typed: dict[str, pd.DataFrame] = {}
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
        df, probs = _validate_table(spec.name, raw[spec.name], lab)
        problems += probs
        if df is not None:
            typed[spec.name] = df
    problems += _check_patient_links(typed, labels)
    for name, df in typed.items():
        problems += _check_time_order(name, df, labels[name])
    problems += _check_doses_given(typed, labels)
    problems += _check_consistency(typed, labels)
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
        full[spec.name] = df[list(spec.column_names)].reset_index(drop=True)
    return full, problems


def validate(path: str | Path | bytes, filename: str | None = None) -> tuple[Cohort | None, list[Problem]]:
    """Read and validate. Returns (cohort or None, all problems). Never raises on bad data."""
    raw, meta, problems, label = read_raw_tables(path, filename)
    if any(p.severity == "error" for p in problems):
        return None, problems
    is_xlsx = str(label).lower().endswith((".xlsx", ".xlsm"))
    labels = {t.name: (f"{label}[{t.name}]" if is_xlsx else f"{t.name}.csv") for t in C.TABLES}
    tables, probs = validate_tables(raw, labels)
    problems += probs
    if any(p.severity == "error" for p in problems):
        return None, problems
    name = str(meta.get("name") or label)
    synthetic = bool(meta.get("synthetic", False))
    cohort = _make_cohort(
        tables,
        name,
        synthetic,
        str(meta.get("description", "")),
        str(path) if not isinstance(path, (bytes, bytearray)) else label,
        [p for p in problems if p.severity != "error"],
    )
    return cohort, problems


def load_cohort(path: str | Path | bytes | None = None, filename: str | None = None) -> Cohort:
    """Load and validate a cohort; raise :class:`CohortInvalid` with every problem if anything is wrong."""
    src = DEFAULT_COHORT_DIR if path is None else path
    cohort, problems = validate(src, filename)
    if cohort is None:
        raise CohortInvalid(problems, filename or str(src))
    return cohort


def default_cohort_path() -> Path:
    """The cohort the dashboard opens on: ``$MISC_DASH_COHORT`` if set (a hospital's folder or .xlsx),
    else the reconstructed synthetic cohort shipped in data/default_cohort."""
    import os

    env = os.environ.get("MISC_DASH_COHORT")
    return Path(env) if env else DEFAULT_COHORT_DIR


def load_default_cohort() -> Cohort:
    return load_cohort(default_cohort_path())
