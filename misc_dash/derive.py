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
    """Per patient (in order of first appearance in ``d``), the sorted distinct routes joined by ", " ("" when
    none is recorded): each patient's set of routes as a bit mask, one string per distinct mask."""
    pid = pd.Index(d["patient_id"].unique())
    route = d["route"]
    names = sorted(route.dropna().unique())
    mask = np.zeros(len(pid), dtype=np.int64)
    for bit, name in enumerate(names):  # a handful of routes (IV, SC)
        has = pid.isin(d.loc[route.eq(name).fillna(False).to_numpy(bool), "patient_id"].unique())
        mask |= has.astype(np.int64) << bit
    text = {m: ", ".join(n for b, n in enumerate(names) if m >> b & 1) for m in np.unique(mask).tolist()}
    return pd.Series([text[m] for m in mask.tolist()], index=pid, dtype=object)


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


def patient_codes(cohort, table: str, ids: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """For each row of ``cohort[table]`` (or the rows ``rows`` of it), the position of its patient in ``ids``
    (-1 if absent): a per-patient derivation then runs on integers. Built from the cohort's cached row → patient
    positions, so no patient id string of the table is hashed again."""
    r = cohort.patient_rows(table)
    if rows is not None:
        r = r[rows]
    patients = cohort.patients["patient_id"].to_numpy(object)
    ids = np.asarray(ids, dtype=object)
    if len(ids) == len(patients) and (ids == patients).all():
        return r
    pos = pd.Index(patients).get_indexer(ids)
    remap = np.full(len(patients) + 1, -1, dtype=np.int64)  # the last entry serves rows of no patient (-1)
    remap[pos[pos >= 0]] = np.flatnonzero(pos >= 0)
    return remap[r]


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
    ids = pf["patient_id"].to_numpy(object)
    org = origin_hours(pf, origin).to_numpy(dtype=float, na_value=np.nan)
    t = cohort["temperatures"]
    at_site = np.flatnonzero(t["site"].isin(list(sites)).to_numpy()) if sites else None
    # readings as arrays, one integer code per patient (its row in ``pf``; -1 for patients not in ``pf``)
    code = patient_codes(cohort, "temperatures", ids, at_site)
    if sites:
        t = t.iloc[at_site]
    hour = t["hour"].to_numpy(dtype=float, na_value=np.nan)
    temp = t["temp_c"].to_numpy(dtype=float, na_value=np.nan)
    keep = code >= 0
    keep[keep] = ~np.isnan(org[code[keep]])
    keep &= ~np.isnan(hour) & ~np.isnan(temp)
    keep[keep] = hour[keep] >= org[code[keep]]
    code, hour, temp = code[keep], hour[keep], temp[keep]
    dc, dh = np.diff(code), np.diff(hour)
    if not ((dc > 0) | ((dc == 0) & (dh >= 0))).all():  # files usually come sorted: then there is nothing to do
        srt = np.lexsort((hour, code))  # per patient by hour; equal hours in table order (lexsort is stable)
        code, hour, temp = code[srt], hour[srt], temp[srt]
    rel_days = (hour - org[code]) / 24.0
    below = temp < threshold_c
    if sustained_hours:
        # the next fever reading strictly after each reading, within the same patient
        fever_pos = np.flatnonzero(~below)
        nxt_i = np.searchsorted(fever_pos, np.arange(code.size), side="right")
        has_next = nxt_i < fever_pos.size
        nxt = np.full(code.size, np.nan)
        cand = fever_pos[nxt_i[has_next]]
        same = code[cand] == code[has_next]
        nxt[np.flatnonzero(has_next)[same]] = hour[cand[same]]
        ok = below & (np.isnan(nxt) | (nxt - hour > float(sustained_hours)))
    else:
        ok = below
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]]) if code.size else np.zeros(0, np.int64)
    patients = code[starts]  # increasing: the patient frame's order
    n_readings = np.diff(np.r_[starts, code.size])
    last = rel_days[np.r_[starts[1:], code.size] - 1]  # sorted by hour: the last reading is the latest
    ok_code = code[ok]
    ok_first = np.flatnonzero(np.r_[True, ok_code[1:] != ok_code[:-1]]) if ok_code.size else np.zeros(0, np.int64)
    first_event = np.full(len(ids), np.nan)
    first_event[ok_code[ok_first]] = rel_days[ok][ok_first]  # sorted by hour: the first event is the earliest
    event = ~np.isnan(first_event[patients])
    table = pd.DataFrame(
        {
            "patient_id": ids[patients],
            "time_days": np.where(event, first_event[patients], last),
            "event": event,
            "n_readings": n_readings.astype(np.int64),
        }
    )
    analysed = np.zeros(len(ids), bool)
    analysed[patients] = True
    no_origin = np.isnan(org)
    why_no_origin = (
        "no anakinra" if origin == "anakinra" else "no treatment start (ivig_start_hour and anakinra both missing)"
    )
    out = no_origin | ~analysed
    excluded = pd.DataFrame(
        {
            "patient_id": ids[out],
            "reason": np.where(no_origin[out], why_no_origin, "no temperature reading at or after the origin"),
        }
    ).astype({"reason": object})
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
    id_index = pd.Index(ids)
    by_ids = np.argsort(id_index.get_indexer(pid[base_pos]), kind="stable")
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
    ids_arr = np.asarray(ids, dtype=object)
    n_studies = np.zeros(len(ids_arr), np.int64)
    at = id_index.get_indexer(uniq)
    n_studies[at[at >= 0]] = counts[at >= 0]
    paired = np.zeros(len(ids_arr), bool)
    paired[id_index.get_indexer(pairs["patient_id"].to_numpy(object))] = True
    unpaired = pd.DataFrame(
        {
            "patient_id": ids_arr[~paired],
            "n_studies": n_studies[~paired],
            "reason": np.where(
                n_studies[~paired] == 0, "no echo with this measure", "only one echo with this measure"
            ).astype(object),
        }
    )
    return EchoPairs(pairs, unpaired, measure, label)


def first_lab(cohort, analyte: str, patient_ids=None) -> pd.Series:
    """First (earliest-day) value of an analyte per patient (index patient_id); patients without it absent."""
    lab = cohort["labs"]
    lab = lab[lab["analyte"] == analyte]
    if patient_ids is not None:
        lab = lab[lab["patient_id"].isin(list(patient_ids))]
    lab = lab.dropna(subset=["value"]).sort_values(["patient_id", "day"], kind="stable")
    return lab.groupby("patient_id", sort=False)["value"].first().astype(float)
