"""Every derived quantity, defined once (see docs/CONVENTIONS.md for the prose version).

- corticosteroids (CS), treatment group and phenotype per patient (:func:`patient_frame`);
- the anakinra course per patient (:func:`anakinra_courses`);
- time to defervescence (:func:`defervescence`);
- baseline / follow-up echo pairs (:func:`echo_pairs`);
- first (admission) laboratory values (:func:`first_lab`).

All functions are pure functions of a :class:`misc_dash.loading.Cohort` (or its tables) and vectorised, so
they run on 100,000 synthetic patients as well as on 46 real ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .vocabulary import PHENOTYPE_HELP, PHENOTYPES, TREATMENT_GROUPS  # noqa: F401 - re-exported

FEVER_ORIGINS = ("admission", "treatment", "anakinra")

COURSE_COLUMNS = (
    "start_day",
    "start_hospital_day",
    "start_dose_mg_kg_day",
    "max_dose_mg_kg_day",
    "max_mg_per_dose",
    "duration_days",
    "days_on_drug",
    "routes",
)


def _flag(s: pd.Series) -> pd.Series:
    """A nullable boolean column as plain bool (missing → False). Only for treatment flags, where the
    contract requires a value; never used for outcomes."""
    return s.astype("boolean").fillna(False).astype(bool)


def anakinra_courses(doses: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """One row per patient with anakinra dose rows (index ``patient_id``).

    - ``start_day``: first dosing day (days since admission, day 0 = admission day);
    - ``start_hospital_day``: ``start_day + 1`` — the paper's 1-based "initiation, hospitalization day";
    - ``start_dose_mg_kg_day``: dose on the first day; ``max_dose_mg_kg_day``: highest daily dose;
    - ``max_mg_per_dose``: max over days of ``dose_mg_kg_day × weight_kg / doses_per_day`` (NaN without weight);
    - ``duration_days``: sum over days of ``doses_given / doses_per_day`` (a full day when ``doses_given`` is empty;
      validation refuses a day with more doses given than scheduled, so each day counts at most one);
    - ``days_on_drug``: number of dosing days; ``routes``: "IV", "SC" or "IV, SC".
    """
    if doses.empty:
        return pd.DataFrame(columns=list(COURSE_COLUMNS), index=pd.Index([], name="patient_id"))
    d = doses.sort_values(["patient_id", "day"], kind="stable").copy()
    w = patients.set_index("patient_id")["weight_kg"].astype(float)
    d["mg_per_dose"] = (
        d["dose_mg_kg_day"].astype(float) * d["patient_id"].map(w).astype(float) / d["doses_per_day"].astype(float)
    )
    given = d["doses_given"].astype(float).fillna(d["doses_per_day"].astype(float))
    d["fraction"] = given / d["doses_per_day"].astype(float)  # ≤ 1: validation refuses doses_given > doses_per_day
    g = d.groupby("patient_id", sort=False)
    out = pd.DataFrame(
        {
            "start_day": g["day"].min().astype(int),
            "start_dose_mg_kg_day": g["dose_mg_kg_day"].first().astype(float),
            "max_dose_mg_kg_day": g["dose_mg_kg_day"].max().astype(float),
            "max_mg_per_dose": g["mg_per_dose"].max(),
            "duration_days": g["fraction"].sum(),
            "days_on_drug": g["day"].size(),
        }
    )
    out["routes"] = _routes(d)
    out.insert(1, "start_hospital_day", out["start_day"] + 1)
    out.index.name = "patient_id"
    return out[list(COURSE_COLUMNS)]


def _routes(d: pd.DataFrame) -> pd.Series:
    """Per patient, the sorted distinct routes joined by ", " (empty when none recorded)."""
    r = d[["patient_id", "route"]].dropna().drop_duplicates().sort_values(["patient_id", "route"])
    joined = r.groupby("patient_id", sort=False)["route"].agg(", ".join)
    return joined.reindex(d["patient_id"].unique(), fill_value="")


def treatment_group(ivig: pd.Series, anakinra: pd.Series, inflammatory: pd.Series, cs: pd.Series) -> pd.Series:
    """Treatment group labels (see TREATMENT_GROUPS). Stress hydrocortisone alone does not move an IVIG-only
    patient out of "IVIG monotherapy" (as in the index study's Table 1)."""
    conds = [
        ivig & ~anakinra & ~inflammatory,
        ivig & anakinra & ~cs,
        ivig & anakinra & cs,
        ivig & ~anakinra & inflammatory,
        ~ivig & anakinra,
    ]
    return pd.Series(np.select(conds, TREATMENT_GROUPS[:5], default=TREATMENT_GROUPS[5]), index=ivig.index)


def phenotype(kd_like: pd.Series, cv_shock: pd.Series) -> pd.Series:
    kd, shock = _flag(kd_like), _flag(cv_shock)
    return pd.Series(
        np.select([~kd & ~shock, kd & ~shock, ~kd & shock], PHENOTYPES[:3], default=PHENOTYPES[3]), index=kd.index
    )


def patient_frame(cohort) -> pd.DataFrame:
    """The patients table plus every per-patient derived column, in the patients table's row order.

    Added columns: ``cs``, ``anakinra``, ``treatment_group`` (categorical, display order), ``phenotype``
    (categorical), the anakinra course columns (NaN without anakinra), ``treatment_start_hour``
    (``ivig_start_hour``, else the start of the first anakinra day), ``age_band``.
    """
    p = cohort["patients"].copy()
    courses = anakinra_courses(cohort["anakinra_doses"], p)
    ivig = _flag(p["ivig"])
    infl = _flag(p["inflammatory_steroids"])
    stress = _flag(p["stress_hydrocortisone"])
    p["cs"] = infl | stress
    p["anakinra"] = p["patient_id"].isin(courses.index)
    p["treatment_group"] = pd.Categorical(
        treatment_group(ivig, p["anakinra"], infl, p["cs"]), categories=TREATMENT_GROUPS, ordered=True
    )
    p["phenotype"] = pd.Categorical(phenotype(p["kd_like"], p["cv_shock"]), categories=PHENOTYPES, ordered=True)
    p = p.join(courses, on="patient_id")
    anak_start = p["start_day"].astype(float) * 24.0
    p["treatment_start_hour"] = p["ivig_start_hour"].astype(float).where(p["ivig_start_hour"].notna(), anak_start)
    return p


def origin_hours(pf: pd.DataFrame, origin: str) -> pd.Series:
    """Hour of the time origin per patient (index patient_id): 0 for admission, the treatment start
    (first IVIG, else first anakinra day), or the start of the first anakinra day (NaN without anakinra)."""
    if origin not in FEVER_ORIGINS:
        raise ValueError(f"origin must be one of {FEVER_ORIGINS}, got {origin!r}")
    if origin == "admission":
        return pd.Series(0.0, index=pf["patient_id"].values)
    if origin == "anakinra":
        return pd.Series(pf["start_day"].astype(float).values * 24.0, index=pf["patient_id"].values)
    return pd.Series(pf["treatment_start_hour"].astype(float).values, index=pf["patient_id"].values)


@dataclass(frozen=True)
class Defervescence:
    """Time to defervescence per patient plus who could not be analysed and why."""

    table: pd.DataFrame  # patient_id, time_days, event (bool), n_readings
    excluded: pd.DataFrame  # patient_id, reason
    origin: str
    threshold_c: float
    sustained_hours: float | None


def defervescence(
    cohort,
    origin: str = "admission",
    threshold_c: float = 38.0,
    sustained_hours: float | None = None,
    patient_ids=None,
    sites: tuple[str, ...] | None = None,
    pf: pd.DataFrame | None = None,
) -> Defervescence:
    """Time to defervescence in days from ``origin``.

    Event: the first reading with ``temp_c < threshold_c`` at or after the origin. With ``sustained_hours``,
    the first such reading after which no reading within ``sustained_hours`` is ≥ threshold (a record that
    ends sooner counts as sustained: there is no contrary reading). Never reached → censored at the last
    reading. Readings before the origin are ignored; patients without any reading at/after the origin, or
    without a treatment start when ``origin="treatment"``, are excluded and listed with the reason.
    ``sites`` restricts to measurement sites (the index study used oral and rectal; default all).
    """
    pf = patient_frame(cohort) if pf is None else pf
    if patient_ids is not None:
        pf = pf[pf["patient_id"].isin(list(patient_ids))]
    org = origin_hours(pf, origin)
    t = cohort["temperatures"]
    t = t[t["patient_id"].isin(pf["patient_id"])]
    if sites:
        t = t[t["site"].isin(list(sites))]
    t = t[["patient_id", "hour", "temp_c"]].dropna()
    t = t.assign(origin=t["patient_id"].map(org).astype(float))
    no_origin = set(org.index[org.isna()])
    t = t[t["origin"].notna() & (t["hour"].astype(float) >= t["origin"])]
    t = t.sort_values(["patient_id", "hour"], kind="stable")
    t["rel_days"] = (t["hour"].astype(float) - t["origin"]) / 24.0
    below = t["temp_c"].astype(float) < threshold_c
    if sustained_hours:
        fever_hour = t["hour"].astype(float).where(~below)
        # next fever reading strictly after each row: shift up within patient then backward-fill
        nxt = fever_hour.groupby(t["patient_id"]).shift(-1)
        nxt = nxt.groupby(t["patient_id"]).bfill()
        ok = below & (nxt.isna() | (nxt - t["hour"].astype(float) > float(sustained_hours)))
    else:
        ok = below
    g = t.groupby("patient_id", sort=False)
    last = g["rel_days"].max()
    nread = g.size()
    first_event = t[ok].groupby("patient_id", sort=False)["rel_days"].min()
    table = pd.DataFrame({"n_readings": nread, "last_reading_days": last})
    table["event"] = table.index.isin(first_event.index)
    table["time_days"] = first_event.reindex(table.index).fillna(table["last_reading_days"])
    table.index.name = "patient_id"
    table = table.reset_index()[["patient_id", "time_days", "event", "n_readings"]]
    # keep the patient frame's order
    order = {pid: i for i, pid in enumerate(pf["patient_id"])}
    table = table.sort_values("patient_id", key=lambda s: s.map(order)).reset_index(drop=True)
    reasons = []
    analysed = set(table["patient_id"])
    for pid in pf["patient_id"]:
        if pid in no_origin:
            reasons.append(
                (
                    pid,
                    "no anakinra"
                    if origin == "anakinra"
                    else "no treatment start (ivig_start_hour and anakinra both missing)",
                )
            )
        elif pid not in analysed:
            reasons.append((pid, "no temperature reading at or after the origin"))
    excluded = pd.DataFrame(reasons, columns=["patient_id", "reason"])
    return Defervescence(table, excluded, origin, float(threshold_c), sustained_hours)


ECHO_MEASURES = {"lvef": "lvef_pct", "strain": "strain_ap4_pct"}


@dataclass(frozen=True)
class EchoPairs:
    pairs: pd.DataFrame  # patient_id, baseline_day, baseline, followup_day, followup, change, interval_days
    unpaired: pd.DataFrame  # patient_id, n_studies, reason
    measure: str
    followup: str  # "last" or "nearest day N"


def echo_pairs(cohort, measure: str = "lvef_pct", followup: str | int = "last", patient_ids=None) -> EchoPairs:
    """Baseline (first echo with a value) and follow-up echo per patient for one measure.

    ``followup="last"``: the last echo; an integer N: the echo nearest day N among those after baseline
    (ties → the earlier). Patients of ``patient_ids`` (default all) without two studies with a value are
    listed in ``unpaired`` with the reason; nothing is imputed.

    Studies are ordered by (patient, day), ties in table order. Computed on row positions with numpy (this
    runs on every filter change); ``tests/test_derive_echo.py`` checks it against the plain pandas version.
    """
    measure = ECHO_MEASURES.get(measure, measure)
    e = cohort["echo"]
    ids = list(cohort["patients"]["patient_id"]) if patient_ids is None else list(patient_ids)
    pid = e["patient_id"].to_numpy(dtype=object)
    day = e["day"].to_numpy(dtype=float, na_value=np.nan)
    val = e[measure].to_numpy(dtype=float, na_value=np.nan)
    ok = e["patient_id"].isin(ids).to_numpy() & ~np.isnan(day) & ~np.isnan(val)
    rows = np.flatnonzero(ok)
    uniq, code = np.unique(pid[rows], return_inverse=True)  # sorted ids: codes order as the ids sort
    srt = np.lexsort((day[rows], code))  # stable: (patient, day), ties in table order
    rows, code = rows[srt], code[srt]
    first = np.r_[True, code[1:] != code[:-1]] if rows.size else np.zeros(0, bool)
    starts = np.flatnonzero(first)
    counts = np.diff(np.r_[starts, rows.size])
    base_pos = rows[starts]
    if followup == "last":
        has_fu = counts > 1
        fu_pos = rows[(starts + counts - 1)[has_fu]]
        label = "last"
    else:
        target = int(followup)
        rest = ~first
        r_rows, r_code = rows[rest], code[rest]
        r_day = day[r_rows]
        pick = np.lexsort((r_day, np.abs(r_day - target), r_code))  # nearest, then earlier day, then table order
        r_code_s = r_code[pick]
        head = np.r_[True, r_code_s[1:] != r_code_s[:-1]] if pick.size else np.zeros(0, bool)
        fu_pos = r_rows[pick[head]]
        has_fu = np.zeros(starts.size, bool)
        has_fu[r_code_s[head]] = True  # codes are 0..k-1, one per patient, in the order of ``starts``
        label = f"nearest day {target}"
    base_pos = base_pos[has_fu]
    order = {p: i for i, p in enumerate(ids)}
    by_ids = np.argsort(np.array([order[p] for p in pid[base_pos]], dtype=np.int64), kind="stable")
    base_pos, fu_pos = base_pos[by_ids], fu_pos[by_ids]
    b_day, f_day = e["day"].array.take(base_pos), e["day"].array.take(fu_pos)
    b_val, f_val = val[base_pos], val[fu_pos]
    pairs = pd.DataFrame(
        {
            "patient_id": pid[base_pos],
            "baseline_day": b_day,
            "baseline": b_val,
            "followup_day": f_day,
            "followup": f_val,
            "change": f_val - b_val,
            "interval_days": f_day - b_day,
        }
    )
    n = dict(zip(uniq, counts.tolist()))
    paired = set(pairs["patient_id"])
    unp = []
    for p in ids:
        if p in paired:
            continue
        k = int(n.get(p, 0))
        unp.append((p, k, "no echo with this measure" if k == 0 else "only one echo with this measure"))
    unpaired = pd.DataFrame(unp, columns=["patient_id", "n_studies", "reason"])
    return EchoPairs(pairs, unpaired, measure, label)


def first_lab(cohort, analyte: str, patient_ids=None) -> pd.Series:
    """First (earliest-day) value of an analyte per patient (index patient_id); patients without it absent."""
    lab = cohort["labs"]
    lab = lab[lab["analyte"] == analyte]
    if patient_ids is not None:
        lab = lab[lab["patient_id"].isin(list(patient_ids))]
    lab = lab.dropna(subset=["value"]).sort_values(["patient_id", "day"], kind="stable")
    return lab.groupby("patient_id", sort=False)["value"].first().astype(float)
