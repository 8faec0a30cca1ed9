"""Fidelity report: every published number of the index study (``data/published.json``) next to the same
number computed from the reconstructed patient-level cohort *through the project's own engine*
(derive → analyses → stats), with a pass/fail per row.

Tolerance per kind of number (stated in every row):
- counts: exact;
- percentages, medians, quartiles, p-values: within half a unit of the last published digit
  (|ours − published| ≤ 0.5·10^-d + 1e-9), i.e. ours rounds to the published text;
- "> 0.99": ours > 0.99; "< x": ours < x; "≈ x" (the text's approximate statements): within the stated
  tolerance of the record.
Rows the paper's own methods cannot reproduce are ``required: false`` with a ``why`` and are reported as
"not reproducible" (never as a pass).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import analyses as A
from . import derive, stats
from .filters import CohortFilter
from .loading import DEFAULT_COHORT_DIR, REPO_ROOT, Cohort, load_cohort

PUBLISHED = REPO_ROOT / "data" / "published.json"
MONO, ANA = "Without anakinra", "With anakinra"
NOCS, CS = "IVIG + anakinra without CS", "IVIG + anakinra with CS"


@dataclass(frozen=True)
class FidelityReport:
    rows: pd.DataFrame  # id, source, quantity, kind, published, reconstructed, tolerance, status, required, note
    passed: bool
    summary: dict

    def to_dict(self) -> dict:
        recs = self.rows.replace({np.nan: None}).to_dict(orient="records")
        return {"passed": self.passed, "summary": self.summary, "rows": recs}


def load_published(path: Path = PUBLISHED) -> list[dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["records"] if isinstance(data, dict) else data


# ------------------------------------------------------------------------------------------ comparison
def tolerance_text(rec: dict) -> str:
    pub = str(rec["published"]).strip()
    if rec.get("kind") == "count":
        return "exact"
    if pub.startswith(">") or pub.startswith("<"):
        return f"ours {pub}"
    if rec.get("tolerance") is not None:
        return f"± {rec['tolerance']:g}"
    d = int(rec.get("decimals", 0))
    return f"± {0.5 * 10**-d:g} (rounds to the published text)"


def matches(value: float | None, rec: dict) -> bool:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return False
    pub = str(rec["published"]).strip().replace("−", "-")
    if rec.get("kind") == "count":
        return abs(value - float(rec["value"])) < 1e-9
    if pub.startswith(">"):
        return value > float(pub.lstrip("> ").strip())
    if pub.startswith("<"):
        return value < float(pub.lstrip("< ").strip())
    if rec.get("tolerance") is not None:
        return abs(value - float(rec["value"])) <= float(rec["tolerance"]) + 1e-9
    d = int(rec.get("decimals", 0))
    return abs(value - float(rec["value"])) <= 0.5 * 10**-d + 1e-9


# ------------------------------------------------------------------------------------------ computing
class _Engine:
    """Lazily computed analyses of the cohort, shared by every record."""

    def __init__(self, cohort: Cohort):
        self.cohort = cohort
        self.pf = derive.patient_frame(cohort)
        self._cache: dict[Any, Any] = {}

    def ctx(self, group_by: str, flt: CohortFilter = CohortFilter()) -> A.Context:
        key = ("ctx", group_by, flt)
        if key not in self._cache:
            self._cache[key] = A.prepare(self.cohort, flt, group_by, pf_all=self.pf)
        return self._cache[key]

    def get(self, name: str, group_by: str, flt: CohortFilter = CohortFilter(), **kw):
        """A registered analysis (misc_dash.analyses.ANALYSES) of the cohort grouped by ``group_by``; keyword
        arguments are AnalysisOptions fields or the analysis' own parameters (``measure="lvef"``)."""
        key = (name, group_by, flt, tuple(sorted(kw.items())))
        if key not in self._cache:
            opts = A.AnalysisOptions(**{k: v for k, v in kw.items() if k in _OPTION_FIELDS})
            params = {k: v for k, v in kw.items() if k not in _OPTION_FIELDS}
            self._cache[key] = A.run(name, self.ctx(group_by, flt), opts, **params)
        return self._cache[key]


_OPTION_FIELDS = frozenset(f.name for f in fields(A.AnalysisOptions))
ANAKINRA_ONLY = CohortFilter(treatment=(NOCS, CS))
T1_ROWS = {
    "male": "Male",
    "african_american": "Race: African American",
    "latin_american": "Ethnicity: Latin-American",
    "caucasian": "Race: Caucasian",
    "sars_cov2_pcr": "SARS-CoV-2 PCR +",
    "non_specific": "Non-specific",
    "kd_like": "KD-like",
    "cv_shock": "CV shock",
    "kdss_like": "KDSS-like",
    "ivig": "IVIG",
    "inflammatory_steroids": "Inflammatory steroids",
    "stress_hydrocortisone": "Stress hydrocortisone",
    "age": "Age, years",
}
T1_GROUPS = {"all": None, "mono": MONO, "ana": ANA}
T2_ROWS = {
    "inflammatory_steroids": "Inflammatory steroids",
    "stress_hydrocortisone": "Stress hydrocortisone",
    "adjunct": "Adjunct therapy",
    "rescue": "First-line rescue therapy",
    "start_dose": "Starting dose, mg/kg/day",
    "initiation_day": "Initiation, hospitalization day",
    "max_dose": "Max dose, mg/kg/day",
    "max_mg_per_dose": "Max dose, mg/dose",
    "duration": "Treatment duration, days",
}
T2_GROUPS = {"no_shock": "− CV shock", "shock": "+ CV shock"}
T3_EVENTS = {
    "elevated_lft": "elevated_lft",
    "neutropenia": "neutropenia",
    "hemolytic_anemia": "hemolytic_anemia",
    "anaphylaxis": "anaphylaxis",
    "rash": "rash",
    "rehospitalization": "rehospitalization",
    "thrombosis": "thrombosis",
    "death": "death",
}
T3_GROUPS = {"mono": "IVIG monotherapy", "ana_no_cs": NOCS, "ana_cs": CS}


def compute(rec_id: str, eng: _Engine) -> float | None:
    """The reconstructed value for one published-record id (see data/published.json for the ids)."""
    head, *rest = rec_id.split(".")
    if head == "los":
        return getattr(stats.describe_continuous(eng.pf["length_of_stay_days"]), rest[0])
    handlers = {
        "table1": _table1,
        "table2": _table2,
        "table3": _table3,
        "table4": _table4,
        "anakinra": _anakinra,
        "echo": _echo,
        "fever": _fever,
        "labs": _labs,
        "text": _text,
    }
    if head not in handlers:
        raise KeyError(rec_id)
    return handlers[head](rest, eng)


def _text(p: list[str], eng: _Engine):
    """Numbers stated in the Results text (not in a table)."""
    ana = eng.pf[eng.pf["anakinra"]]
    n = len(ana)
    if p[0] == "cs":
        k = int(ana["cs"].sum())
        return float(k) if p[1] == "count" else 100.0 * k / n
    if p[0] == "stress_hc":
        return 100.0 * int(ana["stress_hydrocortisone"].astype("boolean").fillna(False).sum()) / n
    if p[0] == "inflammatory_steroids":
        return 100.0 * int(ana["inflammatory_steroids"].astype("boolean").fillna(False).sum()) / n
    if p[0] == "without_cs":
        return 100.0 * int((~ana["cs"]).sum()) / n
    if p[0] == "cv_shock":
        return 100.0 * int(ana["cv_shock"].astype("boolean").fillna(False).sum()) / n
    if p[0] == "ae":
        event = p[1]
        if p[2] == "all":
            return _table3([event, "all", "count"], eng)
        if p[2] == "p":  # two groups as the text compares them: IVIG + anakinra (all) vs IVIG monotherapy
            ae = eng.get("adverse_events", "anakinra")
            return next(r for r in ae.records if r["event"] == event)["p_value"]
    raise KeyError(".".join(["text", *p]))


def _table1(p: list[str], eng: _Engine):
    t1 = eng.get("table1", "anakinra")
    if p[0] == "n_percent":
        n = float(len(eng.pf)) if p[1] == "all" else float(t1.group_n[T1_GROUPS[p[1]]])
        return 100.0 * n / len(eng.pf)
    if p[0] == "n":
        sizes = t1.group_n
        return float(len(eng.pf)) if p[1] == "all" else float(sizes[T1_GROUPS[p[1]]])
    rec = next(r for r in t1.records if r["variable"] == T1_ROWS[p[0]])
    if p[1] == "p":
        return rec["p_value"]
    g = rec["overall"] if p[1] == "all" else rec["groups"][T1_GROUPS[p[1]]]
    field = p[2]
    if field == "count":
        return float(g["count"])
    if field == "percent":
        return 100.0 * g["count"] / g["n"]
    return g[field]


def _table2(p: list[str], eng: _Engine):
    ds = eng.get("dosing", "treatment", ANAKINRA_ONLY)
    if p[0] == "n":
        return float((ds.courses["shock"] == T2_GROUPS[p[1]]).sum())
    if p[0] == "n_percent":
        return 100.0 * float((ds.courses["shock"] == T2_GROUPS[p[1]]).sum()) / len(ds.courses)
    rec = next(r for r in ds.records if r["variable"] == T2_ROWS[p[0]])
    if p[1] == "p":
        return rec["p_value"]
    g = rec["groups"][T2_GROUPS[p[1]]]
    field = p[2]
    if field == "count":
        return float(g["count"])
    if field == "percent":
        return 100.0 * g["count"] / g["n"]
    return g[field]


def _table3(p: list[str], eng: _Engine):
    ae = eng.get("adverse_events", "treatment")
    if p[0] == "n":
        return float(eng.ctx("treatment").group_sizes()[T3_GROUPS[p[1]]])
    rec = next(r for r in ae.records if r["event"] == T3_EVENTS[p[0]])
    if p[1] == "p":
        return rec["p_value"]
    if p[1] == "all":
        return float(sum(v["count"] for v in rec["groups"].values()))
    g = rec["groups"][T3_GROUPS[p[1]]]
    return float(g["count"]) if p[2] == "count" else 100.0 * g["count"] / g["n"]


def _table4(p: list[str], eng: _Engine):
    cy = eng.get("cytokines", "anakinra")
    rec = next(r for r in cy.records if r["cytokine"] == p[0])
    if p[1] == "p":
        return rec["p_value"]
    g = rec["overall"] if p[1] == "all" else rec["groups"][T1_GROUPS[p[1]]]
    return g[p[2]]


def _anakinra(p: list[str], eng: _Engine):
    ds = eng.get("dosing", "treatment", ANAKINRA_ONLY)
    col = {"start_dose": "start_dose_mg_kg_day", "max_dose": "max_dose_mg_kg_day", "duration": "duration_days"}[p[0]]
    return getattr(ds.overall[col], p[1])


ECHO_SETS = {
    # name → (group_by, filter, group label)
    "mono": ("anakinra", CohortFilter(), MONO),
    "ana": ("anakinra", CohortFilter(), ANA),
    "ana_cs": ("treatment", CohortFilter(), CS),
    "ana_cv_shock": ("cv_shock", ANAKINRA_ONLY, "CV shock"),
    "ana_kdss": ("phenotype", ANAKINRA_ONLY, "KDSS-like"),
    "ana_kd_like": ("kd_like", ANAKINRA_ONLY, "KD-like features"),
}


def _echo(p: list[str], eng: _Engine):
    # echo.<measure>.<set>.<field> ; field: baseline|followup|p|n_pairs|n_below_normal ; echo.interval.<median|q1|q3>
    if p[0] == "interval":
        er = eng.get("echo", "anakinra", measure="lvef")
        return getattr(stats.describe_continuous(er.pairs["interval_days"]), p[1])
    measure, setname, field = p
    group_by, flt, label = ECHO_SETS[setname]
    er = eng.get("echo", group_by, flt, measure=measure)
    eg = next(g for g in er.groups if g.group == label)
    if field == "baseline":
        return eg.baseline.median
    if field == "followup":
        return eg.followup.median
    if field == "p":
        return eg.test.p_value if eg.test else None
    if field == "n_pairs":
        return float(eg.n_pairs)
    if field == "n_below_normal":
        return float(eg.n_pairs - eg.normal_baseline.k)
    if field == "percent_below_normal":
        return 100.0 * (eg.n_pairs - eg.normal_baseline.k) / eg.n_pairs
    raise KeyError(field)


def _fever(p: list[str], eng: _Engine):
    # fever.mono_vs_ana.p ; fever.cs_vs_no_cs.p ; fever.<mono|ana>.afebrile_day5 (percent)
    if p[0] == "mono_vs_ana":
        return eng.get("fever", "anakinra").logrank.p_value
    if p[0] == "cs_vs_no_cs":
        return eng.get("fever", "treatment", ANAKINRA_ONLY).logrank.p_value
    if p[0] == "ana_kd_like":  # KD-like or KDSS-like (kd_like flag) on anakinra, from the first anakinra day
        fr = eng.get("fever", "kd_like", ANAKINRA_ONLY, fever_origin="anakinra")
        return 100.0 * (1.0 - fr.curves["KD-like features"].survival_at(float(re.search(r"day(\d+)", p[1]).group(1))))
    fr = eng.get("fever", "anakinra")
    c = fr.curves[T1_GROUPS[p[0]]]
    if p[1] == "afebrile_day5":
        return 100.0 * (1.0 - c.survival_at(5.0))
    raise KeyError(p)


def _labs(p: list[str], eng: _Engine):
    # labs.<troponin|bnp>.<no_shock|shock|p>  (first value, IVIG + anakinra patients, by CV shock)
    lb = eng.get("labs", "cv_shock", ANAKINRA_ONLY)
    rec = next(r for r in lb.records if r["analyte"] == p[0])
    if p[1] == "p":
        return rec["p_value"]
    return rec["groups"]["CV shock" if p[1] == "shock" else "No CV shock"]["median"]


# ------------------------------------------------------------------------------------------ report
def fidelity_report(cohort: Cohort | None = None, published: list[dict] | None = None) -> FidelityReport:
    cohort = cohort or load_cohort(DEFAULT_COHORT_DIR)
    published = published if published is not None else load_published()
    eng = _Engine(cohort)
    rows = []
    for rec in published:
        required = bool(rec.get("required", True))
        try:
            val = compute(rec["id"], eng)
            err = None
        except Exception as exc:  # a record the engine cannot compute is a failure, reported, not a crash
            val, err = None, f"{type(exc).__name__}: {exc}"
        ok = matches(val, rec)
        if not required:
            status = "not reproducible" if rec.get("why") else "informative"
        else:
            status = "pass" if ok else "FAIL"
        rows.append(
            {
                "id": rec["id"],
                "source": rec.get("source", ""),
                "quantity": rec.get("quantity", ""),
                "kind": rec.get("kind", ""),
                "published": str(rec["published"]),
                "reconstructed": _fmt(val, rec),
                "tolerance": tolerance_text(rec),
                "status": status,
                "required": required,
                "note": err or rec.get("why") or rec.get("note", ""),
            }
        )
    df = pd.DataFrame(rows)
    req = df[df["required"]]
    summary = {
        "rows": len(df),
        "required": len(req),
        "required_pass": int((req["status"] == "pass").sum()),
        "required_fail": int((req["status"] == "FAIL").sum()),
        "not_reproducible": int((df["status"] == "not reproducible").sum()),
        "informative": int((df["status"] == "informative").sum()),
    }
    return FidelityReport(df, summary["required_fail"] == 0, summary)


def _fmt(val, rec) -> str:
    if val is None:
        return "n/a"
    if rec.get("kind") == "p_value":
        return f"{val:.4g}"
    d = int(rec.get("decimals", 0))
    return f"{val:.{d + 2}f}"


def format_report(rep: FidelityReport) -> str:
    s = rep.summary
    lines = [
        "Fidelity of the reconstructed cohort to the index study (published vs reconstructed, through the engine)",
        f"{s['required_pass']}/{s['required']} required rows pass; {s['required_fail']} fail; "
        f"{s['not_reproducible']} not reproducible from the methods as written; {s['informative']} informative.",
        "",
        f"{'status':<17} {'id':<44} {'published':>10} {'ours':>12}  tolerance",
    ]
    for r in rep.rows.itertuples():
        lines.append(
            f"{r.status:<17} {r.id:<44} {r.published:>10} {r.reconstructed:>12}  {r.tolerance}"
            + (f"  — {r.note}" if r.status != "pass" and r.note else "")
        )
    lines.append("")
    lines.append("PASSED" if rep.passed else "FAILED: at least one required row does not reproduce")
    return "\n".join(lines)
