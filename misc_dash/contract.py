"""The cohort data contract: every table and column a cohort may contain.

This module is the single source of truth for the data dictionary (`docs/DATA_DICTIONARY.md`), the empty
template a hospital fills in (`data/template/`), and the validation schemas (`misc_dash.loading`).

Names here are a contract that hospitals' scripts rely on: add, never rename.

All times are relative to hospital admission: ``hour`` 0 = admission, ``day`` 0 = the calendar day of
admission. No dates, names or record numbers belong in a cohort.
"""

from __future__ import annotations

from dataclasses import dataclass

BOOL_TRUE = ("1", "true", "yes", "y", "t")
BOOL_FALSE = ("0", "false", "no", "n", "f")

CYTOKINES = ("IFNγ", "IL-1β", "IL-2", "IL-6", "IL-8", "IL-12", "IL-17", "sIL-2R", "TNFα")
ADVERSE_EVENTS = (
    "elevated_lft",
    "neutropenia",
    "hemolytic_anemia",
    "anaphylaxis",
    "rash",
    "rehospitalization",
    "thrombosis",
    "death",
)
LAB_ANALYTES = (
    "crp",
    "ferritin",
    "troponin",
    "bnp",
    "nt_probnp",
    "procalcitonin",
    "lymphocytes",
    "platelets",
    "d_dimer",
    "alt",
    "ast",
    "wbc",
    "neutrophils",
    "fibrinogen",
    "albumin",
    "sodium",
    "creatinine",
    "esr",
)
TEMP_SITES = ("oral", "rectal", "axillary", "tympanic")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    dtype: str  # "str" | "int" | "float" | "bool"
    description: str
    required: bool = True  # the column must be present in the table
    nullable: bool = False  # empty cells allowed
    unit: str = ""
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False

    @property
    def range_text(self) -> str:
        if self.min is None and self.max is None:
            return ""
        lo = "" if self.min is None else f"{'>' if self.min_exclusive else '≥'} {self.min:g}"
        hi = "" if self.max is None else f"{'<' if self.max_exclusive else '≤'} {self.max:g}"
        return ", ".join(x for x in (lo, hi) if x)


@dataclass(frozen=True)
class TableSpec:
    name: str
    required: bool
    description: str
    columns: tuple[ColumnSpec, ...]
    unique: tuple[str, ...] = ()  # a combination of columns that must be unique
    time_column: str | None = None  # must increase strictly within a patient (and within `series`)
    series: tuple[str, ...] = ()  # extra keys that split a patient's rows into separate time series
    ordered: bool = False  # rows must be in increasing time order within each series

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _bool(name: str, description: str, **kw) -> ColumnSpec:
    return ColumnSpec(name, "bool", description + " (0/1, true/false or yes/no).", **kw)


PATIENTS = TableSpec(
    name="patients",
    required=True,
    description="One row per patient: demographics, phenotype flags and treatments.",
    unique=("patient_id",),
    columns=(
        ColumnSpec("patient_id", "str", "Pseudonymous identifier, unique within the cohort. Never a record number."),
        ColumnSpec("age_years", "float", "Age at diagnosis.", unit="years", min=0, max=21),
        ColumnSpec("sex", "str", "Sex.", allowed=("M", "F")),
        ColumnSpec(
            "race",
            "str",
            "Race as recorded (free text, e.g. African American, Caucasian, Asian, Other).",
            nullable=True,
        ),
        ColumnSpec(
            "ethnicity",
            "str",
            "Ethnicity as recorded (free text, e.g. Latin-American, Not Latin-American).",
            nullable=True,
        ),
        ColumnSpec(
            "weight_kg",
            "float",
            "Body weight at admission (used for mg/dose).",
            unit="kg",
            min=0,
            min_exclusive=True,
            max=200,
            nullable=True,
        ),
        _bool("sars_cov2_pcr", "SARS-CoV-2 PCR positive", nullable=True),
        _bool("kd_like", "Kawasaki-disease-like features (AHA criteria)"),
        _bool("cv_shock", "Cardiovascular shock: fluid-refractory hypotension needing vasoactive support"),
        _bool("ivig", "Received IVIG"),
        ColumnSpec(
            "ivig_start_hour",
            "float",
            "Start of the first IVIG infusion.",
            unit="hours since admission",
            min=0,
            nullable=True,
        ),
        _bool("inflammatory_steroids", "Received inflammatory-dose corticosteroids (e.g. methylprednisolone)"),
        _bool("stress_hydrocortisone", "Received stress-dose hydrocortisone"),
        _bool("icu", "Admitted to intensive care", nullable=True),
        ColumnSpec("length_of_stay_days", "float", "Hospital length of stay.", unit="days", min=0, nullable=True),
        ColumnSpec(
            "anakinra_indication",
            "str",
            "Why anakinra was started: adjunct (critically ill, given with IVIG) or rescue (refractory to IVIG); "
            "empty if no anakinra.",
            nullable=True,
            allowed=("adjunct", "rescue"),
        ),
    ),
)

ANAKINRA_DOSES = TableSpec(
    name="anakinra_doses",
    required=False,
    description="One row per patient-day on anakinra.",
    unique=("patient_id", "day"),
    time_column="day",
    ordered=True,
    columns=(
        ColumnSpec("patient_id", "str", "Patient (must exist in patients)."),
        ColumnSpec("day", "int", "Day of treatment.", unit="days since admission (day 0 = admission day)", min=0),
        ColumnSpec("dose_mg_kg_day", "float", "Total daily dose.", unit="mg/kg/day", min=0, min_exclusive=True, max=50),
        ColumnSpec("doses_per_day", "int", "Scheduled number of doses that day (4 = every 6 h).", min=1, max=24),
        ColumnSpec("route", "str", "Route of administration.", allowed=("IV", "SC")),
        ColumnSpec(
            "doses_given",
            "float",
            "Optional: doses actually given that day (default = doses_per_day), at most doses_per_day. Treatment "
            "duration in days is the sum of doses_given / doses_per_day, so a last, partial day counts as a fraction.",
            required=False,
            nullable=True,
            min=0,
        ),
    ),
)

TEMPERATURES = TableSpec(
    name="temperatures",
    required=False,
    description="Recorded body temperatures (routine vital signs).",
    unique=("patient_id", "hour"),
    time_column="hour",
    ordered=True,
    columns=(
        ColumnSpec("patient_id", "str", "Patient (must exist in patients)."),
        ColumnSpec("hour", "float", "Time of the reading.", unit="hours since admission", min=0),
        ColumnSpec("temp_c", "float", "Temperature.", unit="°C", min=30, max=45),
        ColumnSpec("site", "str", "Measurement site.", allowed=TEMP_SITES, nullable=True),
    ),
)

ECHO = TableSpec(
    name="echo",
    required=False,
    description="Echocardiograms: several studies per patient.",
    unique=("patient_id", "day"),
    time_column="day",
    ordered=True,
    columns=(
        ColumnSpec("patient_id", "str", "Patient (must exist in patients)."),
        ColumnSpec("day", "int", "Day of the study.", unit="days since admission", min=0),
        ColumnSpec(
            "lvef_pct",
            "float",
            "Left-ventricular ejection fraction (Simpson biplane); normal ≥ 55.",
            unit="%",
            min=0,
            max=100,
            nullable=True,
        ),
        ColumnSpec(
            "strain_ap4_pct",
            "float",
            "Apical 4-chamber longitudinal strain (negative; normal ≈ −21.4, less negative = worse).",
            unit="%",
            max=0,
            min=-50,
            nullable=True,
        ),
    ),
)

CYTOKINES_TABLE = TableSpec(
    name="cytokines",
    required=False,
    description="Circulating cytokines before anakinra, as fold difference over the upper limit of normal.",
    unique=("patient_id", "cytokine"),
    columns=(
        ColumnSpec("patient_id", "str", "Patient (must exist in patients)."),
        ColumnSpec("cytokine", "str", "Cytokine.", allowed=CYTOKINES),
        ColumnSpec("fold_difference", "float", "Value / upper limit of normal (1 = at the limit).", unit="fold", min=0),
    ),
)

LABS = TableSpec(
    name="labs",
    required=False,
    description="Laboratory values as daily trajectories.",
    unique=("patient_id", "analyte", "day"),
    time_column="day",
    series=("analyte",),
    ordered=False,
    columns=(
        ColumnSpec("patient_id", "str", "Patient (must exist in patients)."),
        ColumnSpec("day", "int", "Day of the sample.", unit="days since admission", min=0),
        ColumnSpec("analyte", "str", "Analyte code (lower case).", allowed=LAB_ANALYTES),
        ColumnSpec("value", "float", "Result.", min=0),
        ColumnSpec("unit", "str", "Unit as reported, e.g. mg/L, ng/mL, pg/mL, 10^9/L.", nullable=True),
    ),
)

ADVERSE_EVENTS_TABLE = TableSpec(
    name="adverse_events",
    required=False,
    description="Adverse events (CTCAE v5.0); one row per patient and event.",
    unique=("patient_id", "event"),
    columns=(
        ColumnSpec("patient_id", "str", "Patient (must exist in patients)."),
        ColumnSpec("event", "str", "Event.", allowed=ADVERSE_EVENTS),
        ColumnSpec("ctcae_grade", "int", "CTCAE v5.0 grade (1–5).", min=1, max=5, nullable=True),
    ),
)

TABLES: tuple[TableSpec, ...] = (
    PATIENTS,
    ANAKINRA_DOSES,
    TEMPERATURES,
    ECHO,
    CYTOKINES_TABLE,
    LABS,
    ADVERSE_EVENTS_TABLE,
)
TABLES_BY_NAME: dict[str, TableSpec] = {t.name: t for t in TABLES}

# Optional metadata file in a cohort folder (or a sheet named "metadata" with key/value columns).
METADATA_FILE = "metadata.json"

# Tables that typical cohorts have rows in: an upload of several files without one of them is warned about (the
# browser refuses a file over its upload limit on its own, and the other files upload without it).
TYPICAL_TABLES: tuple[str, ...] = ("temperatures", "labs")


def data_dictionary_markdown() -> str:
    """The data dictionary, generated from the specs above (written to docs/DATA_DICTIONARY.md)."""
    out = [
        "# Data dictionary",
        "",
        "_Generated from `misc_dash/contract.py` by `python -m misc_dash dictionary`; do not edit by hand._",
        "",
        "A cohort is a folder of CSV files (one per table, named `<table>.csv`) or one `.xlsx` workbook with one "
        "sheet per table (same names). All times are relative to hospital admission: `hour` 0 = admission, `day` 0 "
        "= the calendar day of admission. No dates, names or record numbers. Booleans accept 0/1, true/false, yes/no. "
        'An optional `metadata.json` (`{"name": …, "synthetic": true|false, "description": …}`) names the cohort.',
        "",
        "A cohort may also come as Parquet files (`<table>.parquet`; every column is read as text and checked like a "
        "CSV's) or as one `.zip` of the folder (the files at its top or in one subfolder; read in memory, never "
        'unpacked to disk). `metadata.json` may list the tables with their row counts (`"tables": '
        '{"patients": 46, "labs": 3240}`, as the dashboard\'s exports and `python -m misc_dash synth` write it): '
        "a listed table that is missing or has another number of rows is an error. The browser refuses an uploaded "
        "file over the upload limit on its own while the other files go through, so upload a large cohort as one "
        "`.zip` or as Parquet files.",
        "",
        "Empty template: `data/template/` (CSV headers) and `data/template.xlsx`.",
        "",
        "## Derived quantities",
        "Defined once in `misc_dash/derive.py`; see `docs/CONVENTIONS.md` for the exact definitions of phenotype, "
        "treatment group, corticosteroids, anakinra course, time to defervescence and echo pairs.",
        "",
    ]
    for t in TABLES:
        out.append(f"## `{t.name}` ({'required' if t.required else 'optional'})")
        out.append("")
        out.append(t.description)
        if t.unique:
            out.append(f"Unique key: {', '.join(f'`{c}`' for c in t.unique)}.")
        if t.time_column:
            order = " and rows must be in increasing order of it" if t.ordered else ""
            out.append(f"Time column `{t.time_column}`: no duplicates within a patient{order}.")
        out.append("")
        out.append("| column | type | unit | allowed values / range | column required | empty allowed | description |")
        out.append("|---|---|---|---|---|---|---|")
        for c in t.columns:
            allowed = ", ".join(c.allowed) if c.allowed else c.range_text
            out.append(
                f"| `{c.name}` | {c.dtype} | {c.unit} | {allowed} | {'yes' if c.required else 'no'} | "
                f"{'yes' if c.nullable else 'no'} | {c.description} |"
            )
        out.append("")
    return "\n".join(out)
