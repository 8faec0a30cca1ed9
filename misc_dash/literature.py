"""Literature evidence on anakinra in MIS-C (``data/literature.json``): loading, tables and figures.

Pure functions (no streamlit). The JSON is a hand transcription of the source documents in
``../shared/seeds``; every record carries its source file and a short citation, every numeric value a verbatim
quote. This module never invents numbers: it reads them from the JSON (looked up by record name).

Time axis of the LVEF comparison: **days since the first anakinra day** (day 0 = anakinra start).

Case 003 (a letter with a day-by-day table whose column alignment was lost in the text layout) is placed on that
axis through ``table.anakinra_start`` in the JSON: the anakinra start is on the table's "3. day" (inferred from
the narrative; see the anakinra row's ``alignment`` field), so an EF printed under "N. day" is at day N - 3.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from .figures.style import _esc  # cohort data text (patient ids, group names) is never markup in a hover
from .plotspec import FigureSpec, bar, scatter

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = REPO_ROOT / "data" / "literature.json"

EVIDENCE_COLUMNS = (
    "study",
    "design",
    "n",
    "age",
    "route",
    "dose",
    "duration",
    "co_treatments",
    "time_to_lvef_recovery",
    "adverse_events",
    "source",
)
POINT_COLUMNS = (
    "study_id",
    "study",
    "source",
    "kind",  # "individual" | "aggregate"
    "phase",  # "baseline" | "follow-up" | "before anakinra" | "on/after anakinra"
    "day",  # days since anakinra start (day 0 = first anakinra day)
    "day_low",
    "day_high",
    "day_qualifier",  # "" or "≤" (e.g. "within 48 h")
    "lvef_pct",
    "lvef_low",
    "lvef_high",
    "lvef_qualifier",  # "" | ">" | "≤" | "<" ...
    "is_bound",  # True when lvef_pct is a reported bound ("> 55%"), not a measured value
    "n",
    "statistic",
    "label",
    "anchor",  # how the point was placed on the time axis
    "quote",
)
COHORT_COLUMNS = ("patient_id", "group", "day_since_anakinra", "lvef_pct")

QUALIFIERS = ("<", "≤", ">", "≥")
NORMAL_LVEF = 55.0

# Okabe–Ito colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#999999",
}
STUDY_STYLE = {
    "case_003": {"color": OKABE_ITO["vermillion"], "symbol": "circle"},
    "series_004": {"color": OKABE_ITO["blue"], "symbol": "diamond"},
    "series_002": {"color": OKABE_ITO["green"], "symbol": "square"},
}
COHORT_GREYS = ("#8c8c8c", "#5f5f5f", "#b5b5b5", "#404040", "#a0a0a0", "#707070")
COHORT_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
_SOURCE_RE = re.compile(r"^\d{3}_[0-9a-f]{16}\.txt$")


class LiteratureError(ValueError):
    """``data/literature.json`` does not have the expected structure; ``problems`` lists every issue."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("invalid literature file:\n- " + "\n- ".join(self.problems))


@dataclass(frozen=True)
class Study:
    id: str
    label: str
    source: str
    citation: str
    design: str
    population: str
    is_misc: bool
    numeric_data_published: bool
    summary: Mapping[str, str]
    values: tuple[Mapping[str, Any], ...]
    statements: tuple[Mapping[str, Any], ...] = ()
    notes: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def value(self, name: str) -> Mapping[str, Any]:
        """The value record called ``name`` (KeyError if absent)."""
        for v in self.values:
            if v["name"] == name:
                return v
        raise KeyError(f"{self.id}: no value record {name!r}")


@dataclass(frozen=True)
class CaseTable:
    """Case 003's day-by-day table, with the column assignment recorded in the JSON."""

    source: str
    citation: str
    caption: str
    header_raw: str
    columns: tuple[Mapping[str, Any], ...]
    rows: tuple[Mapping[str, Any], ...]
    alignment_rule: str
    day_mapping: Mapping[str, Any]
    anakinra_start: Mapping[str, Any]

    def row(self, name: str) -> Mapping[str, Any]:
        for r in self.rows:
            if r["name"] == name:
                return r
        raise KeyError(f"case table: no row {name!r}")

    @property
    def ambiguous_rows(self) -> tuple[str, ...]:
        return tuple(r["name"] for r in self.rows if not r["complete"])


@dataclass(frozen=True)
class Literature:
    path: str
    studies: tuple[Study, ...]
    case003: CaseTable
    schema_version: int = 1
    conventions: Mapping[str, str] = field(default_factory=dict, compare=False)

    def study(self, study_id: str) -> Study:
        for s in self.studies:
            if s.id == study_id:
                return s
        raise KeyError(f"no study {study_id!r}")


# ----------------------------------------------------------------------------------------------- loading


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _check_value(v: Any, where: str, problems: list[str]) -> None:
    if isinstance(v, Mapping):
        if not _is_number(v.get("value")):
            problems.append(f"{where}: censored value needs a numeric 'value'")
        if v.get("qualifier") not in QUALIFIERS:
            problems.append(f"{where}: qualifier must be one of {QUALIFIERS}, got {v.get('qualifier')!r}")
    elif not _is_number(v):
        problems.append(f"{where}: value must be a number or {{value, qualifier}}, got {v!r}")


def _walk_records(obj: Any, where: str, problems: list[str]) -> None:
    """Every record that carries a quote must also carry its source file and citation."""
    if isinstance(obj, Mapping):
        if "quote" in obj:
            for key in ("source", "citation"):
                if not isinstance(obj.get(key), str) or not obj.get(key):
                    problems.append(f"{where}: record with a quote lacks {key!r}")
            if not isinstance(obj["quote"], str) or not obj["quote"].strip():
                problems.append(f"{where}: empty quote")
        for k, v in obj.items():
            _walk_records(v, f"{where}.{k}", problems)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _walk_records(v, f"{where}[{i}]", problems)


def _validate(doc: Any) -> list[str]:
    problems: list[str] = []
    if not isinstance(doc, Mapping):
        return ["top level must be an object"]
    if doc.get("schema_version") != 1:
        problems.append(f"schema_version must be 1, got {doc.get('schema_version')!r}")
    studies = doc.get("studies")
    if not isinstance(studies, list) or not studies:
        return problems + ["'studies' must be a non-empty list"]
    ids: set[str] = set()
    n_tables = 0
    for i, s in enumerate(studies):
        where = f"studies[{i}]"
        if not isinstance(s, Mapping):
            problems.append(f"{where}: must be an object")
            continue
        where = f"studies[{i}] ({s.get('id', '?')})"
        for key in ("id", "label", "source", "citation", "design", "population"):
            if not isinstance(s.get(key), str) or not s.get(key):
                problems.append(f"{where}: missing or empty {key!r}")
        for key in ("is_misc", "numeric_data_published"):
            if not isinstance(s.get(key), bool):
                problems.append(f"{where}: {key!r} must be true/false")
        if s.get("id") in ids:
            problems.append(f"{where}: duplicate id")
        ids.add(s.get("id"))
        if isinstance(s.get("source"), str) and not _SOURCE_RE.match(s["source"]):
            problems.append(f"{where}: source {s['source']!r} is not a seeds file name")
        summary = s.get("summary")
        if not isinstance(summary, Mapping):
            problems.append(f"{where}: missing 'summary'")
        else:
            for col in EVIDENCE_COLUMNS:
                if col != "source" and not isinstance(summary.get(col), str):
                    problems.append(f"{where}: summary lacks {col!r}")
        values = s.get("values")
        if not isinstance(values, list):
            problems.append(f"{where}: 'values' must be a list")
            values = []
        names: set[str] = set()
        for j, v in enumerate(values):
            vw = f"{where}.values[{j}]"
            if not isinstance(v, Mapping):
                problems.append(f"{vw}: must be an object")
                continue
            for key in ("name", "unit", "quote", "source", "citation"):
                if not isinstance(v.get(key), str):
                    problems.append(f"{vw}: missing {key!r}")
            if v.get("source") != s.get("source"):
                problems.append(f"{vw}: source differs from the study's")
            if v.get("name") in names:
                problems.append(f"{vw}: duplicate name {v.get('name')!r}")
            names.add(v.get("name"))
            _check_value(v.get("value"), vw, problems)
        if s.get("numeric_data_published") is False and not s.get("numeric_data_note"):
            problems.append(f"{where}: numeric_data_published is false but there is no numeric_data_note")
        if "table" in s:
            n_tables += 1
            problems.extend(_validate_table(s["table"], where + ".table"))
        _walk_records(s, where, problems)
    if n_tables != 1:
        problems.append(f"expected exactly one study with a day-by-day 'table' (case 003), found {n_tables}")
    return problems


def _validate_table(t: Any, where: str) -> list[str]:
    problems: list[str] = []
    if not isinstance(t, Mapping):
        return [f"{where}: must be an object"]
    ncol = t.get("n_columns")
    cols = t.get("columns")
    if not isinstance(cols, list) or len(cols) != ncol:
        return [f"{where}: 'columns' must list n_columns={ncol!r} columns"]
    for key in ("caption", "header_raw", "alignment_rule", "source", "citation"):
        if not isinstance(t.get(key), str):
            problems.append(f"{where}: missing {key!r}")
    start = t.get("anakinra_start")
    if not isinstance(start, Mapping) or not isinstance(start.get("table_day"), int):
        problems.append(f"{where}: anakinra_start.table_day must be an integer")
    for i, r in enumerate(t.get("rows") or []):
        rw = f"{where}.rows[{i}] ({r.get('name', '?') if isinstance(r, Mapping) else '?'})"
        if not isinstance(r, Mapping):
            problems.append(f"{rw}: must be an object")
            continue
        for key in ("name", "label_raw", "kind", "quote", "alignment", "raw_values"):
            if key not in r:
                problems.append(f"{rw}: missing {key!r}")
        cells = r.get("cells") or []
        if r.get("n_values") != len(cells):
            problems.append(f"{rw}: n_values != number of cells")
        if r.get("n_columns") != ncol:
            problems.append(f"{rw}: n_columns != table n_columns")
        if r.get("complete") != (len(cells) == ncol):
            problems.append(f"{rw}: 'complete' flag inconsistent with the cell count")
        if len(cells) != ncol and not str(r.get("alignment", "")).startswith("ambiguous"):
            problems.append(f"{rw}: fewer values than columns but alignment is not marked ambiguous")
        seen: set[int] = set()
        for c in cells:
            ci = c.get("column")
            if not isinstance(ci, int) or not 0 <= ci < ncol or ci in seen:
                problems.append(f"{rw}: bad or repeated column {ci!r}")
            seen.add(ci)
            if r.get("kind") == "numeric" and c.get("status") != "stopped":
                if not _is_number(c.get("value")):
                    problems.append(f"{rw}: cell {c.get('raw')!r} has no numeric value")
                if c.get("qualifier") not in (None, *QUALIFIERS):
                    problems.append(f"{rw}: cell {c.get('raw')!r} has a bad qualifier")
                if str(c.get("raw", "")).strip().startswith("<") and c.get("qualifier") != "<":
                    problems.append(f"{rw}: censored cell {c.get('raw')!r} stored without qualifier '<'")
    return problems


def load_literature(path: str | Path | None = None) -> Literature:
    """Read and validate ``data/literature.json`` (default: the one in this package's repository).

    Raises ``LiteratureError`` listing every structural problem.
    """
    p = Path(path) if path is not None else DEFAULT_PATH
    with open(p, encoding="utf-8") as fh:
        doc = json.load(fh)
    problems = _validate(doc)
    if problems:
        raise LiteratureError(problems)
    studies = []
    table = None
    for s in doc["studies"]:
        studies.append(
            Study(
                id=s["id"],
                label=s["label"],
                source=s["source"],
                citation=s["citation"],
                design=s["design"],
                population=s["population"],
                is_misc=s["is_misc"],
                numeric_data_published=s["numeric_data_published"],
                summary=dict(s["summary"]),
                values=tuple(s["values"]),
                statements=tuple(s.get("statements", ())),
                notes=tuple(s.get("notes", ())),
                raw=s,
            )
        )
        if "table" in s:
            t = s["table"]
            table = CaseTable(
                source=t["source"],
                citation=t["citation"],
                caption=t["caption"],
                header_raw=t["header_raw"],
                columns=tuple(t["columns"]),
                rows=tuple(t["rows"]),
                alignment_rule=t["alignment_rule"],
                day_mapping=t.get("day_mapping", {}),
                anakinra_start=t["anakinra_start"],
            )
    assert table is not None  # guaranteed by _validate
    return Literature(
        path=str(p),
        studies=tuple(studies),
        case003=table,
        schema_version=doc["schema_version"],
        conventions=doc.get("conventions", {}),
    )


# ----------------------------------------------------------------------------------------------- tables


def evidence_table(lit: Literature) -> pd.DataFrame:
    """One row per study, columns exactly ``EVIDENCE_COLUMNS``; ``source`` = citation + (seeds file name)."""
    rows = []
    for s in lit.studies:
        row = {c: s.summary[c] for c in EVIDENCE_COLUMNS if c != "source"}
        row["source"] = f"{s.citation} ({s.source})"
        rows.append(row)
    return pd.DataFrame(rows, columns=list(EVIDENCE_COLUMNS))


def _num(v: Any) -> float:
    return float(v["value"]) if isinstance(v, Mapping) else float(v)


def _qual(v: Any) -> str:
    return (v.get("qualifier") or "") if isinstance(v, Mapping) else ""


def _fmt(x: float) -> str:
    return f"{x:g}"


def case003_ef_anchor(lit: Literature) -> str:
    """How case 003's EF days were put on the 'days since anakinra start' axis (for captions / hover)."""
    st = lit.case003.anakinra_start
    return (
        f"day = table 'N. day' − {st['table_day']}: anakinra start inferred on the table's '3. day' "
        f"(≈ hospitalization day {st.get('hospital_day_inferred', '?')}) from the narrative order; "
        f"{st.get('uncertainty', '')}"
    )


def lvef_recovery_points(lit: Literature) -> pd.DataFrame:
    """Reported LVEF recoveries on one axis, days since anakinra start (columns ``POINT_COLUMNS``).

    - ``individual``: case 003's table EF values, day = table day − anakinra start table day.
    - ``aggregate``: series 004 (LVEF ≤ 40% → > 55% at median 24 h, range 12–36 h) and series 002
      (median 39.5% [30–45] → > 55% within 48 h). ``is_bound`` marks "> 55%" / "≤ 40%" (bounds, not values).
    """
    pts: list[dict[str, Any]] = []
    nan = float("nan")

    # --- case 003 (individual)
    case = lit.study("case_003")
    table = lit.case003
    start_day = int(table.anakinra_start["table_day"])
    start_col = table.anakinra_start.get("column")
    ef = table.row("ef_pct")
    anchor = case003_ef_anchor(lit)
    for c in ef["cells"]:
        col = table.columns[c["column"]]
        before = start_col is not None and c["column"] < start_col
        dup = f" ({col['duplicate']})" if col.get("duplicate") else ""
        pts.append(
            dict(
                study_id=case.id,
                study=case.label,
                source=case.source,
                kind="individual",
                phase="before anakinra" if before else "on/after anakinra",
                day=float(c["table_day"] - start_day),
                day_low=nan,
                day_high=nan,
                day_qualifier="",
                lvef_pct=float(c["value"]),
                lvef_low=nan,
                lvef_high=nan,
                lvef_qualifier=c.get("qualifier") or "",
                is_bound=bool(c.get("qualifier")),
                n=1,
                statistic="single measurement (table EF %)",
                label=f"EF {_fmt(c['value'])}% under table '{col['label']}'{dup}; column assignment ambiguous "
                f"({ef['n_values']} values for {ef['n_columns']} columns)",
                anchor=anchor,
                quote=ef["quote"],
            )
        )

    # --- series 004 (aggregate)
    s4 = lit.study("series_004")
    base = s4.value("lvef_baseline_bound")
    n4 = int(s4.value("n_lvef_le_40")["value"])
    t4 = s4.value("time_to_lvef_gt55_median_h")
    rec4 = s4.value("lvef_recovered_bound")
    pts.append(
        dict(
            study_id=s4.id,
            study=s4.label,
            source=s4.source,
            kind="aggregate",
            phase="baseline",
            day=0.0,
            day_low=nan,
            day_high=nan,
            day_qualifier="",
            lvef_pct=_num(base["value"]),
            lvef_low=nan,
            lvef_high=nan,
            lvef_qualifier=_qual(base["value"]),
            is_bound=True,
            n=n4,
            statistic="threshold for all 5 (bound, not a value)",
            label=f"LVEF {_qual(base['value'])} {_fmt(_num(base['value']))}% before anakinra (first-line)",
            anchor="baseline echo timing relative to anakinra not stated; plotted at day 0 (anakinra first line)",
            quote=base["quote"],
        )
    )
    pts.append(
        dict(
            study_id=s4.id,
            study=s4.label,
            source=s4.source,
            kind="aggregate",
            phase="follow-up",
            day=t4["value"] / 24.0,
            day_low=t4["low"] / 24.0,
            day_high=t4["high"] / 24.0,
            day_qualifier="",
            lvef_pct=_num(rec4["value"]),
            lvef_low=nan,
            lvef_high=nan,
            lvef_qualifier=_qual(rec4["value"]),
            is_bound=True,
            n=n4,
            statistic="median (range) time to LVEF > 55%",
            label=f"LVEF {_qual(rec4['value'])} {_fmt(_num(rec4['value']))}% in all {n4} at median "
            f"{_fmt(t4['value'])} h (range {_fmt(t4['low'])}–{_fmt(t4['high'])} h) from anakinra start",
            anchor="time reported from anakinra start (hours / 24)",
            quote=t4["quote"],
        )
    )

    # --- series 002 (aggregate)
    s2 = lit.study("series_002")
    b2 = s2.value("lvef_heart_failure_median")
    n_hf = int(s2.value("n_heart_failure")["value"])
    n_all = int(s2.value("n_anakinra")["value"])
    t2 = s2.value("lvef_recovery_time_h")
    r2 = s2.value("lvef_recovered_bound")
    pts.append(
        dict(
            study_id=s2.id,
            study=s2.label,
            source=s2.source,
            kind="aggregate",
            phase="baseline",
            day=0.0,
            day_low=nan,
            day_high=nan,
            day_qualifier="",
            lvef_pct=_num(b2["value"]),
            lvef_low=float(b2["low"]),
            lvef_high=float(b2["high"]),
            lvef_qualifier="",
            is_bound=False,
            n=n_hf,
            statistic=b2.get("statistic", "median"),
            label=f"median LVEF {_fmt(_num(b2['value']))}% [{_fmt(b2['low'])}–{_fmt(b2['high'])}] in the "
            f"{n_hf} with heart failure",
            anchor="baseline timing relative to anakinra not stated; plotted at day 0",
            quote=b2["quote"],
        )
    )
    pts.append(
        dict(
            study_id=s2.id,
            study=s2.label,
            source=s2.source,
            kind="aggregate",
            phase="follow-up",
            day=t2["value"] / 24.0,
            day_low=nan,
            day_high=t2["value"] / 24.0,
            day_qualifier="≤",
            lvef_pct=_num(r2["value"]),
            lvef_low=nan,
            lvef_high=nan,
            lvef_qualifier=_qual(r2["value"]),
            is_bound=True,
            n=n_all,
            statistic="all patients, within the stated time",
            label=f"LVEF {_qual(r2['value'])} {_fmt(_num(r2['value']))}% within {_fmt(t2['value'])} h "
            f"('In all patients', n = {n_all})",
            anchor="'rapid (48 hours)' read as within 48 h of anakinra; plotted at 2 days",
            quote=t2["quote"],
        )
    )
    return pd.DataFrame(pts, columns=list(POINT_COLUMNS))


# ----------------------------------------------------------------------------------------------- figures


def _hover_point(r: pd.Series) -> str:
    day_txt = f"day {r['day']:g}"
    if r["day_qualifier"]:
        day_txt = f"day {r['day_qualifier']} {r['day']:g}"
    if not math.isnan(r["day_low"]) and not math.isnan(r["day_high"]):
        day_txt += f" (range {r['day_low']:g}–{r['day_high']:g})"
    lvef_txt = f"{r['lvef_qualifier']} {r['lvef_pct']:g}%".strip()
    if r["is_bound"]:
        lvef_txt += " (reported bound, not a measured value)"
    if not math.isnan(r["lvef_low"]):
        lvef_txt += f" [{r['lvef_low']:g}–{r['lvef_high']:g}]"
    return (
        f"<b>{r['study']}</b> — {r['kind']}<br>{r['label']}<br>LVEF {lvef_txt}; {day_txt} since anakinra start"
        f"<br>n = {r['n']}; {r['statistic']}<br>source: {r['source']}"
    )


def _bound_symbol(qualifier: str, base: str) -> str:
    if qualifier in (">", "≥"):
        return "triangle-up-open"
    if qualifier in ("<", "≤"):
        return "triangle-down-open"
    return base


def _cohort_traces(cohort_traj: pd.DataFrame | None) -> list[dict]:
    if cohort_traj is None or len(cohort_traj) == 0:
        return []
    missing = [c for c in COHORT_COLUMNS if c not in cohort_traj.columns]
    if missing:
        raise ValueError(f"cohort_traj lacks columns {missing}")
    df = cohort_traj.dropna(subset=["day_since_anakinra", "lvef_pct"])
    traces = []
    for k, (group, g) in enumerate(df.groupby("group", sort=False)):
        xs: list[float | None] = []
        ys: list[float | None] = []
        hover: list[str | None] = []
        for pid, p in g.groupby("patient_id", sort=False):
            p = p.sort_values("day_since_anakinra")
            for x, y in zip(p["day_since_anakinra"], p["lvef_pct"]):
                xs.append(float(x))
                ys.append(float(y))
                hover.append(
                    f"patient {_esc(pid)} — {_esc(group)}<br>day {float(x):g} since anakinra start; LVEF {float(y):g}%"
                    "<br>source: dashboard cohort data (individual patient)"
                )
            xs.append(None)
            ys.append(None)
            hover.append(None)
        npat = g["patient_id"].nunique()
        traces.append(
            scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=f"Individual patients: cohort — {_esc(group)} (n = {npat})",
                legendgroup="cohort",
                legendgrouptitle={"text": "Individual patients (cohort)"},
                line=dict(
                    color=COHORT_GREYS[k % len(COHORT_GREYS)], width=1, dash=COHORT_DASHES[k % len(COHORT_DASHES)]
                ),
                marker=dict(size=4, color=COHORT_GREYS[k % len(COHORT_GREYS)]),
                opacity=0.7,
                connectgaps=False,
                hovertext=hover,
                hoverinfo="text",
            )
        )
    return traces


def build_lvef_literature_figure(
    points: pd.DataFrame,
    cohort_traj: pd.DataFrame | None = None,
    *,
    title: str = "LVEF after the start of anakinra: cohort patients and published reports",
    height: int = 640,
) -> go.Figure:
    """Cohort trajectories (thin grey lines), case 003 (individual, markers + line) and aggregate reports
    (distinct symbols with time ranges / LVEF brackets; open triangles for bounds such as "> 55%").

    ``points`` comes from :func:`lvef_recovery_points`; ``cohort_traj`` has columns patient_id, group,
    day_since_anakinra, lvef_pct (may be None or empty). Only ``go.Scatter`` (SVG) traces are used.
    """
    fig = FigureSpec()
    for tr in _cohort_traces(cohort_traj):
        fig.add_trace(tr)

    for study_id, g in points.groupby("study_id", sort=False):
        g = g.sort_values(["day"], kind="stable")
        style = STUDY_STYLE.get(study_id, {"color": OKABE_ITO["purple"], "symbol": "circle"})
        kind = g["kind"].iloc[0]
        study = g["study"].iloc[0]
        hover = [_hover_point(r) for _, r in g.iterrows()]
        if kind == "individual":
            fig.add_trace(
                scatter(
                    x=g["day"],
                    y=g["lvef_pct"],
                    mode="lines+markers",
                    name=f"Individual patient: {study} — table EF (alignment ambiguous)",
                    legendgroup="individual_lit",
                    legendgrouptitle={"text": "Individual patient (published case)"},
                    line=dict(color=style["color"], width=2),
                    marker=dict(color=style["color"], symbol=style["symbol"], size=8),
                    hovertext=hover,
                    hoverinfo="text",
                )
            )
            continue
        symbols = [
            _bound_symbol(q, style["symbol"]) if b else style["symbol"]
            for q, b in zip(g["lvef_qualifier"], g["is_bound"])
        ]
        x_plus = []
        x_minus = []
        for _, r in g.iterrows():
            hi = r["day_high"] - r["day"] if not math.isnan(r["day_high"]) else 0.0
            if r["day_qualifier"] in ("≤", "<"):
                lo = r["day"]  # "within 48 h": anywhere from 0 to the stated time
            else:
                lo = r["day"] - r["day_low"] if not math.isnan(r["day_low"]) else 0.0
            x_plus.append(hi)
            x_minus.append(lo)
        y_plus = [(r["lvef_high"] - r["lvef_pct"]) if not math.isnan(r["lvef_high"]) else 0.0 for _, r in g.iterrows()]
        y_minus = [(r["lvef_pct"] - r["lvef_low"]) if not math.isnan(r["lvef_low"]) else 0.0 for _, r in g.iterrows()]
        n_max = int(g["n"].max())
        fig.add_trace(
            scatter(
                x=g["day"],
                y=g["lvef_pct"],
                mode="lines+markers",
                name=f"Aggregate report: {study} (n ≤ {n_max}; median / bound, not individual values)",
                legendgroup="aggregate",
                legendgrouptitle={"text": "Aggregate reports (summary of a group)"},
                line=dict(color=style["color"], width=1.5, dash="dash"),
                marker=dict(color=style["color"], symbol=symbols, size=13, line=dict(width=2, color=style["color"])),
                error_x=dict(
                    type="data",
                    symmetric=False,
                    array=x_plus,
                    arrayminus=x_minus,
                    color=style["color"],
                    thickness=1.5,
                    width=6,
                ),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=y_plus,
                    arrayminus=y_minus,
                    color=style["color"],
                    thickness=1.5,
                    width=6,
                ),
                hovertext=hover,
                hoverinfo="text",
            )
        )
        # an arrow pointing the way of each bound ("> 55%" points up)
        for _, r in g[g["is_bound"]].iterrows():
            up = r["lvef_qualifier"] in (">", "≥")
            fig.add_annotation(
                x=r["day"],
                y=r["lvef_pct"] + (5 if up else -5),
                ax=0,
                ay=28 if up else -28,
                showarrow=True,
                arrowhead=2,
                arrowsize=1.2,
                arrowwidth=1.5,
                arrowcolor=style["color"],
                text="",
                hovertext=f"{r['study']}: LVEF {r['lvef_qualifier']} {r['lvef_pct']:g}% is a bound",
            )

    # key for the open symbols
    fig.add_trace(
        scatter(
            x=[None],
            y=[None],
            mode="markers",
            name="Open triangle + arrow = reported bound (e.g. > 55%), not a measured value",
            legendgroup="key",
            legendgrouptitle={"text": "Key"},
            marker=dict(symbol="triangle-up-open", size=11, color="#444444"),
            hoverinfo="skip",
        )
    )
    fig.add_hline(
        y=NORMAL_LVEF,
        line={"dash": "dot", "color": "#333333", "width": 1.5},
        annotation={"text": "LVEF 55% (lower limit of normal)"},
        annotation_position="bottom right",
    )
    fig.set_template("plotly_white")
    fig.update_layout(
        title=dict(text=title),
        height=height,
        xaxis={"title": {"text": "Days since anakinra start (day 0 = first anakinra day)"}},
        yaxis={"title": {"text": "LVEF (%)"}},
        legend=dict(groupclick="toggleitem", orientation="h", x=0, xanchor="left", y=-0.16, yanchor="top"),
        margin=dict(b=285),  # the legend below the plot: sized so plotly need not push (a second draw)
        hovermode="closest",
    )
    fig.update_xaxes(zeroline=True, zerolinecolor="#bbbbbb")
    return fig.figure()


# case 003 timeline ------------------------------------------------------------------------------------

TREATMENT_ROWS = (
    ("anakinra", "Anakinra (mg/kg/day, SC)", OKABE_ITO["vermillion"]),
    ("ivig", "IVIG (g/kg)", OKABE_ITO["blue"]),
    ("methylprednisolone", "Methylprednisolone (mg/kg)", OKABE_ITO["purple"]),
    ("dobutamine", "Dobutamine (mcg/kg/min)", OKABE_ITO["orange"]),
    ("adrenaline", "Adrenaline (mcg/kg/min)", OKABE_ITO["sky_blue"]),
    ("milrinone", "Milrinone (mcg/kg/min)", OKABE_ITO["green"]),
    ("lmwh", "LMWH (enoxaparin)", OKABE_ITO["grey"]),
)
ECHO_ROWS = (
    ("ef_pct", "EF (%)", OKABE_ITO["black"], "circle", "solid"),
    ("fs_pct", "FS (%)", OKABE_ITO["grey"], "square", "dash"),
)
BIOMARKER_ROWS = (
    ("probnp", "ProBNP (ng/L)", OKABE_ITO["blue"], "circle"),
    ("troponin_i", "Troponin I (mcg/L)", OKABE_ITO["vermillion"], "square"),
    ("crp", "CRP (mg/L)", OKABE_ITO["green"], "diamond"),
    ("procalcitonin", "Procalcitonin (mcg/L)", OKABE_ITO["purple"], "triangle-up"),
)


def _column_geometry(table: CaseTable) -> list[tuple[float, float]]:
    """(centre, width) of each table column on the day axis; a day printed twice is split in two halves."""
    days = [int(c["table_day"]) for c in table.columns]
    geo = []
    for i, d in enumerate(days):
        same = [j for j, dd in enumerate(days) if dd == d]
        k, m = same.index(i), len(same)
        width = 1.0 / m
        geo.append((d - 0.5 + width * (k + 0.5), width))
    return geo


def _cell_note(row: Mapping[str, Any], cell: Mapping[str, Any], col: Mapping[str, Any]) -> str:
    parts = [f"table column '{col['label']}'" + (f" — {col['duplicate']}" if col.get("duplicate") else "")]
    if not row["complete"]:
        parts.append(f"⚠ column assignment ambiguous ({row['n_values']} values for {row['n_columns']} columns)")
    if cell.get("split_token"):
        parts.append(f"⚠ printed '{cell['raw']}': {cell.get('interpretation', '')}")
    return "<br>".join(parts)


def case003_caption(lit: Literature) -> str:
    """Plain-text caption listing how case 003's table was aligned and what is ambiguous."""
    t = lit.case003
    amb = [r for r in t.rows if not r["complete"]]
    names = "; ".join(f"{r['label_raw']}: {r['n_values']}/{r['n_columns']}" for r in amb)
    return (
        f"Source: {t.citation} ({t.source}), Table 1. The text layout lost the column alignment: rows with fewer "
        f"values than the {len(t.columns)} day columns ({names}) are "
        "placed left-aligned from '1. day' (anchored by the narrative for EF/FS, dobutamine, CRP and procalcitonin); "
        "anakinra is placed from the second '3. day' column to fit the narrative order; procalcitonin '4. 3' is read "
        "as 4.3. Open markers = censored values (< detection limit, drawn at the limit). Day axis = table day "
        f"(hospitalization day = table day + 1, inferred). {case003_ef_anchor(lit)}."
    )


def build_case003_timeline(lit: Literature, *, height: int = 820) -> go.Figure:
    """Case 003 day by day: treatments as horizontal bars, EF/FS and biomarkers (log) as lines, shared day axis."""
    t = lit.case003
    geo = _column_geometry(t)
    fig = FigureSpec.subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        row_heights=[0.38, 0.24, 0.38],
        subplot_titles=("Treatments (value printed per table column)", "Echocardiography", "Biomarkers (log scale)"),
    )
    # treatments
    order = [label for _, label, _ in TREATMENT_ROWS]
    for name, label, color in TREATMENT_ROWS:
        row = t.row(name)
        bx, bbase, btext, bhover, sx, shover = [], [], [], [], [], []
        for c in row["cells"]:
            col = t.columns[c["column"]]
            centre, width = geo[c["column"]]
            note = _cell_note(row, c, col)
            if c.get("status") == "stopped":
                sx.append(centre)
                shover.append(f"{label}: stopped<br>{note}<br>source: {row['source']}")
                continue
            shown = c["raw"] if row["kind"] != "presence" else "given (+)"
            bx.append(width * 0.96)
            bbase.append(centre - width * 0.48)
            btext.append(c["raw"] if row["kind"] == "numeric" else "+")
            bhover.append(f"{label}: {shown}<br>{note}<br>source: {row['source']}")
        fig.add_trace(
            bar(
                x=bx,
                base=bbase,
                y=[label] * len(bx),
                orientation="h",
                name=label,
                marker={"color": color},
                text=btext,
                textposition="inside",
                insidetextanchor="middle",
                hovertext=bhover,
                hoverinfo="text",
                legendgroup="treatments",
                legendgrouptitle={"text": "Treatments"},
                showlegend=False,
            ),
            row=1,
            col=1,
        )
        if sx:
            fig.add_trace(
                scatter(
                    x=sx,
                    y=[label] * len(sx),
                    mode="markers+text",
                    text=["stop"] * len(sx),
                    textposition="middle right",
                    marker=dict(symbol="x-thin-open", size=10, color=color, line=dict(width=2, color=color)),
                    name=f"{label}: stop",
                    hovertext=shover,
                    hoverinfo="text",
                    showlegend=False,
                ),
                row=1,
                col=1,
            )
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(order)), row=1, col=1)

    def line_trace(name: str, label: str, color: str, symbol: str, dash: str, row_i: int) -> None:
        row = t.row(name)
        xs, ys, symbols, hover = [], [], [], []
        for c in sorted(row["cells"], key=lambda c: c["column"]):
            if c.get("value") is None:
                continue
            col = t.columns[c["column"]]
            xs.append(geo[c["column"]][0])
            ys.append(c["value"])
            censored = c.get("qualifier") in QUALIFIERS
            symbols.append(f"{symbol}-open" if censored else symbol)
            shown = f"{c['qualifier']} {c['value']:g}" if censored else f"{c['value']:g}"
            extra = " (censored: below the detection limit, drawn at the limit)" if censored else ""
            hover.append(f"{label}: {shown}{extra}<br>{_cell_note(row, c, col)}<br>source: {row['source']}")
        flag = "" if row["complete"] else " ⚠ alignment ambiguous"
        fig.add_trace(
            scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=f"{label}{flag}",
                line=dict(color=color, width=2, dash=dash),
                marker=dict(symbol=symbols, size=9, color=color, line=dict(width=1.5, color=color)),
                hovertext=hover,
                hoverinfo="text",
            ),
            row=row_i,
            col=1,
        )

    for name, label, color, symbol, dash in ECHO_ROWS:
        line_trace(name, label, color, symbol, dash, 2)
    for name, label, color, symbol in BIOMARKER_ROWS:
        line_trace(name, label, color, symbol, "solid", 3)

    fig.add_hline(
        y=NORMAL_LVEF,
        line={"dash": "dot", "color": "#333333"},
        row=2,
        col=1,
        annotation={"text": "55%"},
        annotation_position="bottom right",
    )
    fig.update_yaxes(title={"text": "%"}, row=2, col=1)
    fig.update_yaxes(type="log", title={"text": "value (unit in legend)"}, row=3, col=1)

    start_col = t.anakinra_start.get("column")
    if start_col is not None:
        centre, width = geo[start_col]
        fig.add_vline(x=centre - width / 2, line={"dash": "dash", "color": OKABE_ITO["vermillion"]}, row="all", col=1)
        fig.add_annotation(
            x=centre - width / 2,
            y=1.0,
            xref="x2",
            yref="y2 domain",
            xanchor="left",
            yanchor="top",
            text="anakinra start (inferred)",
            showarrow=False,
            font=dict(color=OKABE_ITO["vermillion"], size=11),
        )
    ticks = sorted({int(c["table_day"]) for c in t.columns})
    fig.update_xaxes(
        tickmode="array",
        tickvals=ticks,
        ticktext=[f"{d}" for d in ticks],
        row=3,
        col=1,
        title={"text": "Table day ('N. day' of the PICU follow-up; ≈ hospitalization day N + 1, inferred)"},
    )
    fig.add_annotation(
        x=0,
        y=-0.13,
        xref="paper",
        yref="paper",
        xanchor="left",
        yanchor="top",
        showarrow=False,
        align="left",
        text="⚠ Column alignment of rows with fewer than 10 values is ambiguous (see hover / data/literature.json).<br>"
        "Open markers: censored values ('< x'). Day 3 is printed twice in the table and is split in two halves.",
        font=dict(size=11),
    )
    fig.set_template("plotly_white")
    fig.update_layout(
        title=dict(text="Case 003 (8-year-old girl): treatments, echocardiography and biomarkers by day"),
        height=height,
        barmode="overlay",
        margin=dict(l=170, r=320, b=130),  # labels left, legend right: no push
        legend=dict(groupclick="toggleitem"),
        hovermode="closest",
    )
    return fig.figure()
