"""Cohort-level analyses: what every page shows and what ``python -m misc_dash analyze`` prints.

Each function takes a :class:`Context` (the filtered cohort split into compare-by groups) and returns plain
data: DataFrames for display and :class:`misc_dash.stats.TestResult` objects for every p-value, so the
screen always says which test produced a number, on how many patients, and its caveats. No statistics live
in the pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import derive, stats
from .contract import ADVERSE_EVENTS, CYTOKINES
from .filters import CohortFilter, Grouping, assign_groups
from .loading import Cohort

CONFOUNDING_NOTE = (
    "Confounding by indication: anakinra was given by clinical judgement to sicker patients (CV shock, ICU, "
    "refractory to IVIG). Differences between treatment groups describe who was selected for which treatment; "
    "they are not treatment effects. An observational comparison like this cannot show that anakinra caused "
    "(or delayed) any outcome."
)
SMALL_N_WARNING = "Small groups: with fewer than {k} patients a p-value is fragile and a missing difference is not evidence of no difference."

LAB_LABELS = {
    "crp": "CRP",
    "ferritin": "Ferritin",
    "troponin": "Troponin",
    "bnp": "BNP",
    "nt_probnp": "NT-proBNP",
    "procalcitonin": "Procalcitonin",
    "lymphocytes": "Lymphocytes",
    "platelets": "Platelets",
    "d_dimer": "D-dimer",
    "alt": "ALT",
    "ast": "AST",
}
AE_LABELS = {
    "elevated_lft": "Elevated LFTs",
    "neutropenia": "Neutropenia",
    "hemolytic_anemia": "Hemolytic anemia",
    "anaphylaxis": "Anaphylaxis",
    "rash": "Rash",
    "rehospitalization": "Re-hospitalization",
    "thrombosis": "Thrombosis",
    "death": "Death",
}


class AnalysisError(Exception):
    """The analysis cannot run (e.g. the filter leaves no patient); the message says what to relax."""


@dataclass(frozen=True)
class AnalysisOptions:
    fever_origin: str = "admission"
    fever_threshold: float = 38.0
    fever_sustained_hours: float | None = None
    echo_followup: str | int = "last"
    lvef_normal: float = 55.0
    strain_normal: float = -21.4
    cox: bool = False
    at_risk_days: tuple[float, ...] = (0, 2, 4, 6, 8, 10, 12, 14)


@dataclass(frozen=True, eq=False)
class Context:
    cohort: Cohort  # restricted to the filtered patients
    pf: pd.DataFrame  # patient frame of the filtered patients, with a "group" column (None = no group)
    groups: tuple[str, ...]  # display order, groups with 0 patients included
    grouping: Grouping
    flt: CohortFilter
    notes: tuple[str, ...]
    n_total: int  # patients in the unfiltered cohort

    @property
    def description(self) -> str:
        return self.flt.describe(len(self.pf))

    @property
    def grouped(self) -> pd.DataFrame:
        return self.pf[self.pf["group"].notna()]

    def group_sizes(self) -> dict[str, int]:
        vc = self.pf["group"].value_counts()
        return {g: int(vc.get(g, 0)) for g in self.groups}

    @property
    def present_groups(self) -> tuple[str, ...]:
        s = self.group_sizes()
        return tuple(g for g in self.groups if s[g] > 0)

    def ids(self, group: str | None = None) -> list[str]:
        df = self.pf if group is None else self.pf[self.pf["group"] == group]
        return df["patient_id"].tolist()


def prepare(
    cohort: Cohort,
    flt: CohortFilter = CohortFilter(),
    grouping: Grouping | str = "treatment",
    pf_all: pd.DataFrame | None = None,
) -> Context:
    """Filter the cohort and assign compare-by groups. Raises :class:`AnalysisError` if no patient is left."""
    if isinstance(grouping, str):
        grouping = Grouping(by=grouping)
    pf_all = derive.patient_frame(cohort) if pf_all is None else pf_all
    pf = flt.apply(pf_all).copy()
    if pf.empty:
        raise AnalysisError(
            f"No patient matches the filter ({flt.describe()}). Relax a criterion: " + ", ".join(flt.parts() or ["—"])
        )
    g = assign_groups(pf, grouping)
    pf["group"] = g.labels
    notes = list(g.notes)
    sizes = pf["group"].value_counts()
    empty = [x for x in g.order if int(sizes.get(x, 0)) == 0]
    if empty:
        notes.append(f"No patients in: {', '.join(empty)} (with the current filter).")
    sub = cohort.subset(pf["patient_id"], name=cohort.name)
    return Context(sub, pf.reset_index(drop=True), tuple(g.order), grouping, flt, tuple(notes), cohort.n_patients)


def _two_or_more(ctx: Context) -> tuple[str, ...]:
    return ctx.present_groups


def _compare_continuous(samples: dict[str, np.ndarray], order: tuple[str, ...]) -> stats.TestResult | None:
    present = [g for g in order if len(samples.get(g, ())) > 0]
    if len(present) < 2:
        return None
    if len(present) == 2:
        a, b = present
        return stats.mann_whitney(samples[a], samples[b], groups=(a, b))
    return stats.kruskal_wallis({g: samples[g] for g in present})


def _compare_binary(events: dict[str, int], totals: dict[str, int], order: tuple[str, ...]) -> stats.TestResult | None:
    present = [g for g in order if totals.get(g, 0) > 0]
    if len(present) < 2:
        return None
    return stats.fisher_counts([events[g] for g in present], [totals[g] for g in present], groups=present)


# ============================================================================================ overview
def cohort_flow(ctx: Context) -> list[tuple[str, int, int]]:
    """(label, n, depth) rows: all → by anakinra → by CS, for whatever cohort is loaded."""
    pf = ctx.pf
    rows = [("Patients in the current selection", len(pf), 0)]
    anak = pf["anakinra"]
    rows.append(("No anakinra", int((~anak).sum()), 1))
    for tg in ("IVIG monotherapy", "IVIG + inflammatory steroids (no anakinra)", "No IVIG or anakinra"):
        k = int((pf["treatment_group"] == tg).sum())
        if k or tg == "IVIG monotherapy":
            rows.append((tg, k, 2))
    rows.append(("Anakinra", int(anak.sum()), 1))
    for tg in ("IVIG + anakinra without CS", "IVIG + anakinra with CS", "Anakinra without IVIG"):
        k = int((pf["treatment_group"] == tg).sum())
        if k or tg != "Anakinra without IVIG":
            rows.append((tg, k, 2))
    return rows


def crosstab(ctx: Context) -> pd.DataFrame:
    """Phenotype × treatment group counts (all phenotypes and the three main treatment groups shown)."""
    pf = ctx.pf
    cols = [
        g for g in derive.TREATMENT_GROUPS if g in derive.TREATMENT_GROUPS[:3] or (pf["treatment_group"] == g).any()
    ]
    ct = pd.crosstab(pf["phenotype"].astype(str), pf["treatment_group"].astype(str))
    ct = ct.reindex(index=list(derive.PHENOTYPES), columns=cols, fill_value=0)
    ct["Total"] = ct.sum(axis=1)
    ct.loc["Total"] = ct.sum(axis=0)
    ct.index.name = "Phenotype"
    return ct.astype(int)


def key_figures(ctx: Context) -> dict[str, Any]:
    pf = ctx.pf
    age = stats.describe_continuous(pf["age_years"])
    los = stats.describe_continuous(pf["length_of_stay_days"])
    return {
        "n_patients": len(pf),
        "n_total": ctx.n_total,
        "anakinra": int(pf["anakinra"].sum()),
        "cv_shock": int(pf["cv_shock"].astype("boolean").fillna(False).sum()),
        "icu": int(pf["icu"].astype("boolean").fillna(False).sum()),
        "icu_missing": int(pf["icu"].isna().sum()),
        "age": age,
        "length_of_stay": los,
    }


# ============================================================================================ Table 1
def _binary(pf: pd.DataFrame, col: str) -> pd.Series:
    return pf[col].astype("boolean")


def table1_variables(pf: pd.DataFrame) -> list[tuple[str, str, Any]]:
    """(label, kind, getter) — kind "continuous" or "binary"; getter(pf) → Series (NA = missing)."""
    rows: list[tuple[str, str, Any]] = [
        ("Age, years", "continuous", lambda d: d["age_years"].astype(float)),
        ("Weight, kg", "continuous", lambda d: d["weight_kg"].astype(float)),
        ("Male", "binary", lambda d: d["sex"].map({"M": True, "F": False}).astype("boolean")),
    ]
    for col, title in (("race", "Race"), ("ethnicity", "Ethnicity")):
        levels = [x for x in pf[col].dropna().value_counts().index.tolist()]
        for lv in sorted(levels, key=lambda x: (x in ("Other", "Unknown"), x)):
            rows.append(
                (f"{title}: {lv}", "binary", lambda d, c=col, v=lv: (d[c] == v).astype("boolean").mask(d[c].isna()))
            )
    rows += [
        ("SARS-CoV-2 PCR +", "binary", lambda d: _binary(d, "sars_cov2_pcr")),
        ("Non-specific", "binary", lambda d: (d["phenotype"] == "Non-specific").astype("boolean")),
        ("KD-like", "binary", lambda d: _binary(d, "kd_like")),
        ("CV shock", "binary", lambda d: _binary(d, "cv_shock")),
        ("KDSS-like", "binary", lambda d: (d["phenotype"] == "KDSS-like").astype("boolean")),
        ("ICU", "binary", lambda d: _binary(d, "icu")),
        ("IVIG", "binary", lambda d: _binary(d, "ivig")),
        ("Inflammatory steroids", "binary", lambda d: _binary(d, "inflammatory_steroids")),
        ("Stress hydrocortisone", "binary", lambda d: _binary(d, "stress_hydrocortisone")),
        ("Anakinra", "binary", lambda d: d["anakinra"].astype("boolean")),
        ("Length of stay, days", "continuous", lambda d: d["length_of_stay_days"].astype(float)),
    ]
    return rows


@dataclass(frozen=True)
class Table1:
    rows: pd.DataFrame  # display: Variable, All, <group>..., Missing, Test, p, q
    records: tuple[dict, ...]  # machine-readable rows
    tests: tuple[stats.TestResult | None, ...]
    groups: tuple[str, ...]
    group_n: dict


def table1(ctx: Context, decimals: int = 1) -> Table1:
    pf = ctx.pf
    order = ctx.groups
    sizes = ctx.group_sizes()
    records, tests, display = [], [], []
    gcol = pf["group"].to_numpy(dtype=object)
    gmask = {g: gcol == g for g in order}
    for label, kind, get in table1_variables(pf):
        # one float array per variable (binary: 1/0, missing: NaN), split by group with boolean masks
        vals = stats._to_float(get(pf))
        miss = np.isnan(vals)
        by = {g: vals[gmask[g]] for g in order}
        rec: dict[str, Any] = {"variable": label, "kind": kind}
        missing = int(miss.sum())
        if kind == "continuous":
            summ_all = stats.describe_continuous(vals)
            summ = {g: stats.describe_continuous(by[g]) for g in order}
            if summ_all.n == 0:
                continue
            res = _compare_continuous({g: by[g][~np.isnan(by[g])] for g in order}, order)
            rec["overall"] = {"text": summ_all.text(decimals), **summ_all.to_dict()}
            rec["groups"] = {g: {"text": summ[g].text(decimals), **summ[g].to_dict()} for g in order}
        else:
            valid = vals[~miss]
            if valid.size == 0:
                continue
            ev = {g: int((by[g] == 1).sum()) for g in order}
            tot = {g: int((~np.isnan(by[g])).sum()) for g in order}
            res = _compare_binary(ev, tot, order)
            k_all, n_all = int((valid == 1).sum()), int(valid.size)

            def txt(k, n):
                return f"{k} ({100 * k / n:.0f}%)" if n else "0 (n/a)"

            rec["overall"] = {"text": txt(k_all, n_all), "count": k_all, "n": n_all, "missing": missing}
            rec["groups"] = {
                g: {"text": txt(ev[g], tot[g]), "count": ev[g], "n": tot[g], "missing": int(np.isnan(by[g]).sum())}
                for g in order
            }
        rec["missing"] = missing
        rec["test"] = res.test if res else None
        rec["p_value"] = res.p_value if res else None
        rec["notes"] = list(res.notes) if res else []
        records.append(rec)
        tests.append(res)
    q = stats.benjamini_hochberg([r["p_value"] for r in records]) if records else ()
    for rec, qv in zip(records, q):
        rec["q_value"] = None if qv is None or not np.isfinite(qv) else float(qv)
    for rec, res in zip(records, tests):
        row = {"Variable": rec["variable"], "All": rec["overall"]["text"]}
        for g in order:
            row[f"{g} (n = {sizes[g]})"] = rec["groups"][g]["text"]
        row["p"] = stats.format_p(rec["p_value"]) if rec["p_value"] is not None else "n/a"
        row["q (BH)"] = stats.format_p(rec["q_value"]) if rec.get("q_value") is not None else "n/a"
        row["Missing"] = rec["missing"]
        row["Test"] = rec["test"] or "not computed (fewer than 2 groups with data)"
        display.append(row)
    return Table1(pd.DataFrame(display), tuple(records), tuple(tests), order, sizes)


# ============================================================================================ fever
@dataclass(frozen=True)
class FeverResult:
    origin: str
    threshold_c: float
    sustained_hours: float | None
    curves: dict  # group -> KMCurve (groups with patients only)
    logrank: stats.TestResult | None
    pairwise: tuple[stats.TestResult, ...]
    cox: stats.TestResult | None
    per_patient: pd.DataFrame  # patient_id, group, time_days, event
    excluded: pd.DataFrame
    at_risk_days: tuple[float, ...]
    notes: tuple[str, ...]


def fever(ctx: Context, opts: AnalysisOptions = AnalysisOptions()) -> FeverResult:
    d = derive.defervescence(
        ctx.cohort,
        origin=opts.fever_origin,
        threshold_c=opts.fever_threshold,
        sustained_hours=opts.fever_sustained_hours,
        pf=ctx.pf,
    )
    t = d.table.merge(ctx.pf[["patient_id", "group"]], on="patient_id")
    t = t[t["group"].notna()]
    curves = {}
    for g in ctx.groups:
        sub = t[t["group"] == g]
        if len(sub):
            curves[g] = stats.kaplan_meier(sub["time_days"].to_numpy(float), sub["event"].to_numpy(bool), label=g)
    notes: list[str] = []
    if len(d.excluded):
        notes.append(f"{len(d.excluded)} patient(s) without usable temperature readings are not in the curves.")
    present = tuple(g for g in ctx.groups if g in curves)
    lr = stats.logrank(t["time_days"], t["event"], t["group"], group_order=present) if len(present) >= 2 else None
    pw = stats.pairwise_logrank(t["time_days"], t["event"], t["group"], group_order=present) if len(present) > 2 else ()
    cox = None
    if opts.cox and len(present) == 2:
        ind = (t["group"] == present[1]).astype(int)
        cox = stats.cox_hr(t["time_days"], t["event"], ind, groups=present)
    elif opts.cox:
        notes.append("Cox hazard ratio needs exactly two groups.")
    return FeverResult(
        d.origin,
        d.threshold_c,
        d.sustained_hours,
        curves,
        lr,
        tuple(pw),
        cox,
        t.reset_index(drop=True),
        d.excluded,
        opts.at_risk_days,
        tuple(notes),
    )


# ============================================================================================ echo
@dataclass(frozen=True)
class EchoGroup:
    group: str
    n_patients: int
    n_pairs: int
    baseline: stats.ContinuousSummary
    followup: stats.ContinuousSummary
    change: stats.ContinuousSummary
    test: stats.TestResult | None
    normal_baseline: stats.ProportionSummary
    normal_followup: stats.ProportionSummary
    interval: stats.ContinuousSummary


@dataclass(frozen=True)
class EchoResult:
    measure: str  # lvef_pct / strain_ap4_pct
    followup: str
    normal_threshold: float
    normal_direction: str
    groups: tuple[EchoGroup, ...]
    change_test: stats.TestResult | None  # between-group comparison of the change
    pairs: pd.DataFrame  # per patient with group
    unpaired: pd.DataFrame
    trajectories: pd.DataFrame  # patient_id, group, day, value, day_since_treatment


def echo(ctx: Context, measure: str = "lvef", opts: AnalysisOptions = AnalysisOptions()) -> EchoResult:
    col = derive.ECHO_MEASURES.get(measure, measure)
    thr, direction = (opts.lvef_normal, ">=") if col == "lvef_pct" else (opts.strain_normal, "<=")
    pf_ids, pf_groups = ctx.pf["patient_id"].to_numpy(), ctx.pf["group"].to_numpy()
    ep = derive.echo_pairs(ctx.cohort, col, followup=opts.echo_followup, patient_ids=pf_ids.tolist())
    group_of = pd.Series(pf_groups, index=pf_ids)
    pairs = ep.pairs.assign(group=ep.pairs["patient_id"].map(group_of))
    # per-group statistics on plain arrays (this runs on every filter change)
    p_group = pairs["group"].to_numpy()
    p_cols = {
        c: pairs[c].to_numpy(dtype=float, na_value=np.nan) for c in ("baseline", "followup", "change", "interval_days")
    }
    out, changes = [], {}
    for g in ctx.groups:
        m = p_group == g
        sub = {c: v[m] for c, v in p_cols.items()}
        n_pairs = int(m.sum())
        changes[g] = sub["change"]
        test = stats.wilcoxon_paired(sub["baseline"], sub["followup"], label=g) if n_pairs else None
        out.append(
            EchoGroup(
                g,
                int((pf_groups == g).sum()),
                n_pairs,
                stats.describe_continuous(sub["baseline"]),
                stats.describe_continuous(sub["followup"]),
                stats.describe_continuous(sub["change"]),
                test,
                stats.share_normal(sub["baseline"], thr, direction),
                stats.share_normal(sub["followup"], thr, direction),
                stats.describe_continuous(sub["interval_days"]),
            )
        )
    change_test = _compare_continuous(changes, ctx.groups)
    unpaired = ep.unpaired.assign(group=ep.unpaired["patient_id"].map(group_of))
    e = ctx.cohort["echo"]
    e_ids = e["patient_id"].to_numpy()
    day = e["day"].to_numpy(dtype=float, na_value=np.nan)
    value = e[col].to_numpy(dtype=float, na_value=np.nan)
    grp = pd.Series(e_ids).map(group_of).to_numpy()  # NaN for patients outside ctx.pf; None = no group
    start_hour = (
        pd.Series(e_ids)
        .map(pd.Series(ctx.pf["treatment_start_hour"].to_numpy(dtype=float, na_value=np.nan), index=pf_ids))
        .to_numpy(dtype=float)
    )
    keep = ~(pd.isna(e_ids) | np.isnan(day) | np.isnan(value) | pd.isna(grp))
    traj = pd.DataFrame(
        {
            "patient_id": e_ids[keep],
            "group": grp[keep],
            "day": day[keep],
            "value": value[keep],
            "day_since_treatment": day[keep] - np.floor(start_hour[keep] / 24.0),
        }
    )
    return EchoResult(col, ep.followup, thr, direction, tuple(out), change_test, pairs, unpaired, traj)


# ============================================================================================ cytokines
@dataclass(frozen=True)
class CytokineResult:
    table: pd.DataFrame  # display
    records: tuple[dict, ...]
    values: pd.DataFrame  # patient_id, group, cytokine, fold_difference
    tests: dict


def cytokines(ctx: Context) -> CytokineResult:
    cy = ctx.cohort["cytokines"].merge(ctx.pf[["patient_id", "group"]], on="patient_id")
    cy = cy[cy["group"].notna()]
    present = [c for c in CYTOKINES if (cy["cytokine"] == c).any()]
    records, tests = [], {}
    for c in present:
        sub = cy[cy["cytokine"] == c]
        samples = {g: sub.loc[sub["group"] == g, "fold_difference"].dropna().to_numpy(float) for g in ctx.groups}
        res = _compare_continuous(samples, ctx.groups)
        tests[c] = res
        rec = {
            "cytokine": c,
            "overall": stats.describe_continuous(sub["fold_difference"]).to_dict(),
            "groups": {g: stats.describe_continuous(samples[g]).to_dict() for g in ctx.groups},
            "p_value": res.p_value if res else None,
            "test": res.test if res else None,
            "notes": list(res.notes) if res else [],
        }
        records.append(rec)
    q = stats.benjamini_hochberg([r["p_value"] for r in records]) if records else ()
    rows = []
    for rec, qv in zip(records, q):
        rec["q_value"] = None if qv is None or not np.isfinite(qv) else float(qv)
        row = {"Cytokine": rec["cytokine"], "All": _mqq(rec["overall"])}
        for g in ctx.groups:
            row[f"{g} (n = {rec['groups'][g]['n']})"] = _mqq(rec["groups"][g])
        row["Test"] = rec["test"] or "not computed"
        row["p"] = stats.format_p(rec["p_value"]) if rec["p_value"] is not None else "n/a"
        row["q (BH)"] = stats.format_p(rec["q_value"]) if rec["q_value"] is not None else "n/a"
        rows.append(row)
    return CytokineResult(pd.DataFrame(rows), tuple(records), cy.reset_index(drop=True), tests)


def _mqq(d: dict, decimals: int = 1) -> str:
    if not d.get("n"):
        return "n/a"
    return f"{d['median']:.{decimals}f} [{d['q1']:.{decimals}f}–{d['q3']:.{decimals}f}]"


# ============================================================================================ adverse events
@dataclass(frozen=True)
class AEResult:
    table: pd.DataFrame
    records: tuple[dict, ...]
    detail: pd.DataFrame  # per patient-event with group and grade
    grades: pd.DataFrame  # event × group × grade counts


def adverse_events(ctx: Context) -> AEResult:
    """Counts per event and group; a patient without a row for an event did not have it (the table lists
    events that occurred). Fisher's exact test (2 groups) or Freeman–Halton (k groups)."""
    ae = ctx.cohort["adverse_events"].merge(ctx.pf[["patient_id", "group"]], on="patient_id")
    ae = ae[ae["group"].notna()]
    sizes = ctx.group_sizes()
    records, rows = [], []
    for ev in ADVERSE_EVENTS:
        sub = ae[ae["event"] == ev]
        counts = {g: int(sub.loc[sub["group"] == g, "patient_id"].nunique()) for g in ctx.groups}
        res = _compare_binary(counts, sizes, ctx.groups) if sum(counts.values()) > 0 else None
        rec = {
            "event": ev,
            "label": AE_LABELS[ev],
            "groups": {g: {"count": counts[g], "n": sizes[g]} for g in ctx.groups},
            "p_value": res.p_value if res else None,
            "test": res.test if res else ("not computed: no events" if sum(counts.values()) == 0 else None),
            "notes": list(res.notes) if res else [],
            "max_grade": None if sub["ctcae_grade"].dropna().empty else int(sub["ctcae_grade"].max()),
        }
        records.append(rec)
        row = {"Adverse event": AE_LABELS[ev]}
        for g in ctx.groups:
            n = sizes[g]
            row[f"{g} (n = {n})"] = f"{counts[g]} ({100 * counts[g] / n:.0f}%)" if n else "n/a"
        row["Test"] = rec["test"] or "not computed"
        row["p"] = stats.format_p(rec["p_value"]) if rec["p_value"] is not None else "N/A"
        rows.append(row)
    grades = ae.assign(grade=ae["ctcae_grade"].astype("Int64").astype(str).replace("<NA>", "not graded"))
    grades = grades.groupby(["event", "group", "grade"]).size().rename("patients").reset_index()
    detail = (
        ae[["patient_id", "group", "event", "ctcae_grade"]]
        .sort_values(["event", "group", "patient_id"])
        .reset_index(drop=True)
    )
    return AEResult(pd.DataFrame(rows), tuple(records), detail, grades)


# ============================================================================================ dosing (Table 2)
@dataclass(frozen=True)
class DosingResult:
    courses: pd.DataFrame  # per anakinra patient: course columns + group + cv_shock
    daily: pd.DataFrame  # dose rows with group, cv_shock, day_since_start
    table2: pd.DataFrame
    records: tuple[dict, ...]
    overall: dict
    routes: pd.DataFrame


TABLE2_CONTINUOUS = (
    ("Starting dose, mg/kg/day", "start_dose_mg_kg_day", 1),
    ("Initiation, hospitalization day", "start_hospital_day", 1),
    ("Max dose, mg/kg/day", "max_dose_mg_kg_day", 1),
    ("Max dose, mg/dose", "max_mg_per_dose", 0),
    ("Treatment duration, days", "duration_days", 1),
)


def dosing(ctx: Context) -> DosingResult:
    """Anakinra courses and the paper's Table 2 (anakinra patients without vs with CV shock)."""
    pf = ctx.pf[ctx.pf["anakinra"]].copy()
    pf["shock"] = np.where(pf["cv_shock"].astype("boolean").fillna(False), "+ CV shock", "− CV shock")
    order = ("− CV shock", "+ CV shock")
    courses = pf[
        ["patient_id", "group", "shock", "treatment_group", "weight_kg", "anakinra_indication", *derive.COURSE_COLUMNS]
    ].reset_index(drop=True)
    records, rows = [], []
    sizes = {g: int((pf["shock"] == g).sum()) for g in order}
    for label, col in (
        ("Inflammatory steroids", "inflammatory_steroids"),
        ("Stress hydrocortisone", "stress_hydrocortisone"),
    ):
        ev = {g: int(pf.loc[pf["shock"] == g, col].astype("boolean").fillna(False).sum()) for g in order}
        res = _compare_binary(ev, sizes, order)
        records.append(
            {
                "variable": label,
                "groups": {g: {"count": ev[g], "n": sizes[g]} for g in order},
                "p_value": res.p_value if res else None,
                "test": res.test if res else None,
            }
        )
    for label, ind in (("Adjunct therapy", "adjunct"), ("First-line rescue therapy", "rescue")):
        ev = {g: int((pf.loc[pf["shock"] == g, "anakinra_indication"] == ind).sum()) for g in order}
        records.append(
            {
                "variable": label,
                "groups": {g: {"count": ev[g], "n": sizes[g]} for g in order},
                "p_value": None,
                "test": "N/A (defines the groups by design)",
            }
        )
    for label, col, dec in TABLE2_CONTINUOUS:
        samples = {g: pf.loc[pf["shock"] == g, col].dropna().to_numpy(float) for g in order}
        res = _compare_continuous(samples, order)
        records.append(
            {
                "variable": label,
                "column": col,
                "decimals": dec,
                "groups": {g: stats.describe_continuous(samples[g]).to_dict() for g in order},
                "p_value": res.p_value if res else None,
                "test": res.test if res else None,
                "notes": list(res.notes) if res else [],
            }
        )
    for rec in records:
        row = {"Parameter": rec["variable"]}
        for g in order:
            v = rec["groups"][g]
            if "count" in v:
                row[f"{g} (n = {sizes[g]})"] = f"{v['count']} ({100 * v['count'] / v['n']:.0f}%)" if v["n"] else "n/a"
            else:
                row[f"{g} (n = {sizes[g]})"] = _mqq_comma(v, rec.get("decimals", 1))
        row["Test"] = rec["test"] or "not computed"
        row["p"] = stats.format_p(rec["p_value"]) if rec["p_value"] is not None else "N/A"
        rows.append(row)
    overall = {col: stats.describe_continuous(pf[col]) for _, col, _ in TABLE2_CONTINUOUS}
    d = ctx.cohort["anakinra_doses"].merge(
        pf[["patient_id", "group", "shock", "start_day", "weight_kg"]], on="patient_id"
    )
    d = d.assign(
        day_since_start=d["day"] - d["start_day"], mg_per_dose=d["dose_mg_kg_day"] * d["weight_kg"] / d["doses_per_day"]
    )
    routes = d.groupby(["route"])["patient_id"].nunique().rename("patients").reset_index()
    return DosingResult(courses, d.reset_index(drop=True), pd.DataFrame(rows), tuple(records), overall, routes)


def _mqq_comma(d: dict, decimals: int = 1) -> str:
    if not d.get("n"):
        return "n/a"
    return f"{d['median']:.{decimals}f} [{d['q1']:.{decimals}f}, {d['q3']:.{decimals}f}]"


# ============================================================================================ labs
@dataclass(frozen=True)
class LabsResult:
    trajectories: pd.DataFrame  # patient_id, group, analyte, day, day_since_treatment, value, unit
    first_values: pd.DataFrame  # display: analyte × group medians of the first value, test
    records: tuple[dict, ...]


def labs(ctx: Context) -> LabsResult:
    lab = ctx.cohort["labs"].merge(ctx.pf[["patient_id", "group", "treatment_start_hour"]], on="patient_id")
    lab = lab[lab["group"].notna()].copy()
    lab["day_since_treatment"] = lab["day"].astype(float) - np.floor(lab["treatment_start_hour"].astype(float) / 24.0)
    records, rows = [], []
    # first (earliest-day) value per analyte and patient — derive.first_lab for all analytes in one sort
    fl = ctx.cohort["labs"]
    fl = fl[fl["patient_id"].isin(list(ctx.ids()))].dropna(subset=["value"])
    fl = (
        fl.sort_values(["analyte", "patient_id", "day"], kind="stable")
        .groupby(["analyte", "patient_id"], sort=False, as_index=False)["value"]
        .first()
    )
    fl["group"] = fl["patient_id"].map(ctx.pf.set_index("patient_id")["group"])
    firsts = {
        a: (d["value"].to_numpy(float), d["group"].to_numpy(object)) for a, d in fl.groupby("analyte", sort=False)
    }
    units = lab.dropna(subset=["unit"]).groupby("analyte", sort=False)["unit"].first()
    empty = (np.array([], dtype=float), np.array([], dtype=object))
    present = set(lab["analyte"].unique())
    for a in [x for x in LAB_LABELS if x in present]:
        values, groups = firsts.get(a, empty)
        samples = {g: values[groups == g] for g in ctx.groups}
        res = _compare_continuous(samples, ctx.groups)
        rec = {
            "analyte": a,
            "unit": units.get(a, ""),
            "groups": {g: stats.describe_continuous(samples[g]).to_dict() for g in ctx.groups},
            "p_value": res.p_value if res else None,
            "test": res.test if res else None,
        }
        records.append(rec)
        row = {"Analyte (first value)": f"{LAB_LABELS[a]} ({rec['unit']})"}
        for g in ctx.groups:
            v = rec["groups"][g]
            row[f"{g}"] = (
                (f"{_sig(v['median'])} [{_sig(v['q1'])}, {_sig(v['q3'])}] (n = {v['n']})") if v["n"] else "n/a"
            )
        row["Test"] = rec["test"] or "not computed"
        row["p"] = stats.format_p(rec["p_value"]) if rec["p_value"] is not None else "n/a"
        rows.append(row)
    traj = lab[["patient_id", "group", "analyte", "day", "day_since_treatment", "value", "unit"]].reset_index(drop=True)
    return LabsResult(traj, pd.DataFrame(rows), tuple(records))


def _sig(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


# ============================================================================================ JSON (analyze)
def _group_curve(c) -> dict:
    return {
        "n": c.n,
        "events": c.events,
        "median_days": c.median,
        "median_ci": [c.median_ci_low, c.median_ci_high],
        "notes": list(c.notes),
    }


def _summary_dict(s: stats.ContinuousSummary) -> dict:
    return {"n": s.n, "missing": s.missing, "median": s.median, "q1": s.q1, "q3": s.q3}


def analyze_to_dict(
    cohort: Cohort, flt: CohortFilter, group_by: str = "treatment", opts: AnalysisOptions = AnalysisOptions()
) -> dict:
    """Every analysis the dashboard shows, as a JSON-safe dict (keys documented in docs/ANALYZE.md)."""
    ctx = prepare(cohort, flt, group_by)
    sizes = ctx.group_sizes()
    t1 = table1(ctx)
    fv = fever(ctx, opts)
    out: dict[str, Any] = {
        "cohort": {"name": cohort.name, "synthetic": cohort.synthetic},
        "n_patients": len(ctx.pf),
        "description": ctx.description,
        "group_by": group_by,
        "groups": list(ctx.groups),
        "group_sizes": sizes,
        "filters": flt.to_query_params(),
        "notes": list(ctx.notes),
        "caution": CONFOUNDING_NOTE if group_by == "treatment" else None,
        "table1": [
            {
                "variable": r["variable"],
                "kind": r["kind"],
                "overall": r["overall"],
                "groups": r["groups"],
                "missing": r["missing"],
                "test": r["test"],
                "p_value": r["p_value"],
                "q_value": r.get("q_value"),
                "notes": r["notes"],
            }
            for r in t1.records
        ],
        "fever": {
            "origin": fv.origin,
            "threshold_c": fv.threshold_c,
            "sustained_hours": fv.sustained_hours,
            "curves": {g: _group_curve(c) for g, c in fv.curves.items()},
            "at_risk": {
                g: dict(zip([str(t) for t in fv.at_risk_days], c.at_risk(fv.at_risk_days)))
                for g, c in fv.curves.items()
            },
            "logrank": _test_dict(fv.logrank),
            "pairwise": [_test_dict(t) for t in fv.pairwise],
            "cox": _test_dict(fv.cox) if fv.cox else None,
            "excluded": fv.excluded.to_dict(orient="records") if False else len(fv.excluded),
            "notes": list(fv.notes),
        },
        "echo": {},
        "cytokines": {},
        "adverse_events": {},
    }
    for key, measure in (("lvef", "lvef"), ("strain", "strain")):
        er = echo(ctx, measure, opts)
        out["echo"][key] = {
            "followup": er.followup,
            "normal_threshold": er.normal_threshold,
            "groups": {
                eg.group: {
                    "n_patients": eg.n_patients,
                    "n_pairs": eg.n_pairs,
                    "baseline_median": eg.baseline.median,
                    "followup_median": eg.followup.median,
                    "baseline": _summary_dict(eg.baseline),
                    "followup": _summary_dict(eg.followup),
                    "change_median": eg.change.median,
                    "normal_baseline": eg.normal_baseline.to_dict(),
                    "normal_followup": eg.normal_followup.to_dict(),
                    "p_value": eg.test.p_value if eg.test else None,
                    "test": eg.test.test if eg.test else None,
                    "statistic": eg.test.statistic if eg.test else None,
                    "notes": list(eg.test.notes) if eg.test else ["no patient with two echoes"],
                }
                for eg in er.groups
            },
            "change_between_groups": _test_dict(er.change_test),
            "n_unpaired": len(er.unpaired),
        }
    cy = cytokines(ctx)
    out["cytokines"] = {
        r["cytokine"]: {
            "groups": {
                g: {"n": v["n"], "median": v["median"], "q1": v["q1"], "q3": v["q3"]} for g, v in r["groups"].items()
            },
            "median": {g: v["median"] for g, v in r["groups"].items()},
            "p_value": r["p_value"],
            "q_value": r["q_value"],
            "test": r["test"],
            "notes": r["notes"],
        }
        for r in cy.records
    }
    ae = adverse_events(ctx)
    out["adverse_events"] = {
        r["event"]: {
            "counts": {g: v["count"] for g, v in r["groups"].items()},
            "n": {g: v["n"] for g, v in r["groups"].items()},
            "p_value": r["p_value"],
            "test": r["test"],
            "notes": r["notes"],
        }
        for r in ae.records
    }
    ds = dosing(ctx)
    out["anakinra"] = {
        "n_patients": len(ds.courses),
        "overall": {col: _summary_dict(s) for col, s in ds.overall.items()},
        "by_cv_shock": [
            {"variable": r["variable"], "groups": r["groups"], "p_value": r["p_value"], "test": r["test"]}
            for r in ds.records
        ],
    }
    lb = labs(ctx)
    out["labs_first_value"] = {
        r["analyte"]: {"unit": r["unit"], "groups": r["groups"], "p_value": r["p_value"], "test": r["test"]}
        for r in lb.records
    }
    return _json_clean(out)


def _test_dict(t: stats.TestResult | None) -> dict | None:
    if t is None:
        return None
    d = t.to_dict()
    return {
        "test": d["test"],
        "statistic": d["statistic"],
        "statistic_name": d["statistic_name"],
        "p_value": d["p_value"],
        "df": d["df"],
        "groups": d["groups"],
        "n": d["n"],
        "effect": d["effect"],
        "estimate": d["estimate"],
        "ci": [d["ci_low"], d["ci_high"]],
        "method": d["method"],
        "notes": d["notes"],
    }


def _json_clean(o):
    if isinstance(o, dict):
        return {str(k): _json_clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_json_clean(v) for v in o]
    if isinstance(o, (np.bool_, bool)):
        return bool(o)
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (float, np.floating)):
        return None if not np.isfinite(o) else float(o)
    if o is pd.NA or o is pd.NaT:
        return None
    return o


def format_summary(d: dict) -> str:
    """Short human-readable text of :func:`analyze_to_dict` output (``analyze`` without ``--json``)."""
    lines = [
        f"{d['description']}  (grouped by {d['group_by']}: "
        + ", ".join(f"{g} n={d['group_sizes'][g]}" for g in d["groups"])
        + ")"
    ]
    if d.get("caution"):
        lines.append("CAUTION: " + d["caution"])
    lines.append("\nTable 1")
    for r in d["table1"]:
        p = stats.format_p(r["p_value"]) if r["p_value"] is not None else "n/a"
        lines.append(
            f"  {r['variable']:<28} "
            + " | ".join(r["groups"][g]["text"] for g in d["groups"])
            + f" | {r['test'] or '-'} p={p}"
        )
    f = d["fever"]
    lines.append(f"\nFever (origin {f['origin']}, < {f['threshold_c']} °C)")
    for g, c in f["curves"].items():
        lines.append(f"  {g}: n={c['n']} events={c['events']} median={c['median_days']}")
    if f["logrank"]:
        lines.append(f"  {f['logrank']['test']}: p={stats.format_p(f['logrank']['p_value'])}")
    for key in ("lvef", "strain"):
        lines.append(f"\nEcho {key}")
        for g, v in d["echo"][key]["groups"].items():
            p = stats.format_p(v["p_value"]) if v["p_value"] is not None else "n/a"
            lines.append(
                f"  {g}: pairs={v['n_pairs']} {v['baseline_median']} → {v['followup_median']} ({v['test']}) p={p}"
            )
    lines.append("\nCytokines")
    for c, v in d["cytokines"].items():
        p = stats.format_p(v["p_value"]) if v["p_value"] is not None else "n/a"
        lines.append(f"  {c}: " + " | ".join(f"{g} {m}" for g, m in v["median"].items()) + f" p={p}")
    return "\n".join(lines)


# ============================================================================================ literature link
def lvef_since_anakinra(ctx: Context) -> pd.DataFrame:
    """LVEF of the selection's anakinra patients on a 'days since anakinra start' axis (for the Literature
    page): patient_id, group, day_since_anakinra, lvef_pct."""
    pf = ctx.pf[ctx.pf["anakinra"]]
    e = ctx.cohort["echo"][["patient_id", "day", "lvef_pct"]].dropna()
    e = e.merge(pf[["patient_id", "group", "start_day"]], on="patient_id")
    e["day_since_anakinra"] = e["day"].astype(float) - e["start_day"].astype(float)
    return e[["patient_id", "group", "day_since_anakinra", "lvef_pct"]].reset_index(drop=True)
