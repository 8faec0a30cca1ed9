"""Fever over time: each patient's daily maximum temperature, and per group and day the median and IQR.

The time origin is the fever analysis' (:func:`misc_dash.derive.origin_hours`: admission, or the treatment start =
first IVIG, else the start of the first anakinra day); readings before the origin are ignored, as for the time to
defervescence. Day ``k`` = readings from ``24 k`` to ``24 (k + 1)`` hours after the origin (a reading on a day
boundary up to floating point counts for the later day). The group summary is drawn only on days with at least
:data:`MIN_N` patients measured: a median of one or two patients is a patient, not a group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import derive, stats
from .context import AnalysisOptions, Context

MIN_N = 3  # = misc_dash.figures.MIN_MEDIAN_N (the core does not import the figures)

DAILY_COLUMNS = ("patient_id", "group", "day", "temp_max", "n_readings")
SUMMARY_COLUMNS = ("group", "day", "n", "median", "q1", "q3")
NO_TREATMENT_START = "no treatment start (ivig_start_hour and anakinra both missing)"  # as derive.defervescence


@dataclass(frozen=True)
class TemperatureResult:
    origin: str  # admission | treatment (as the fever analysis)
    daily: pd.DataFrame  # DAILY_COLUMNS: one row per patient and day with a reading (day = whole days since origin)
    summary: pd.DataFrame  # SUMMARY_COLUMNS: per group and day with >= min_n patients; quantiles R type 6
    excluded: pd.DataFrame  # patient_id, group, reason (grouped patients without a reading at/after the origin)
    n_patients: dict  # group -> patients with at least one daily maximum (display order, 0 included)
    min_n: int = MIN_N

    def summary_of(self, group: str) -> pd.DataFrame:
        return self.summary[self.summary["group"] == group].reset_index(drop=True)


def daily_max_temperature(ctx: Context, opts: AnalysisOptions = AnalysisOptions(), min_n: int = MIN_N):
    """Per patient and day since the fever origin, the maximum temperature; per group and day, the number of
    patients measured and (days with >= ``min_n`` of them) the median, Q1 and Q3 of their daily maxima
    (:func:`misc_dash.stats.describe_continuous`, R type 6). Patients outside every group are left out."""
    pf = ctx.pf[ctx.pf["group"].notna()]
    org = derive.origin_hours(pf, opts.fever_origin)
    ids = pf["patient_id"].to_numpy(object)
    rank = np.empty(len(ids), np.int64)
    rank[np.argsort(ids.astype(str), kind="stable")] = np.arange(len(ids))  # patients in id order, as before
    t = ctx.cohort["temperatures"]
    code = derive.patient_codes(ctx.cohort, "temperatures", ids)  # -1: not grouped
    hour = t["hour"].to_numpy(dtype=float, na_value=np.nan)
    temp = t["temp_c"].to_numpy(dtype=float, na_value=np.nan)
    org_v = org.to_numpy(dtype=float, na_value=np.nan)
    origin = np.where(code >= 0, org_v[np.maximum(code, 0)], np.nan)  # NaN: not grouped, or no origin
    keep = ~np.isnan(hour) & ~np.isnan(temp) & ~np.isnan(origin) & (hour >= origin)
    rel_days = (hour[keep] - origin[keep]) / 24.0
    day = np.floor(np.round(rel_days, 9)).astype(np.int64)  # 0.9999999999999999 (24.3 h → 48.3 h) is day 1
    who, temp = code[keep], temp[keep]
    dr, dd = np.diff(rank[who]), np.diff(day)
    if not ((dr > 0) | ((dr == 0) & (dd >= 0))).all():  # files usually come sorted by patient and time
        srt = np.lexsort((day, rank[who]))
        who, day, temp = who[srt], day[srt], temp[srt]
    new_key = np.r_[True, (who[1:] != who[:-1]) | (day[1:] != day[:-1])] if who.size else np.zeros(0, bool)
    starts = np.flatnonzero(new_key)
    first = who[starts]
    daily = pd.DataFrame(
        {
            "patient_id": ids[first],
            "group": pf["group"].to_numpy(object)[first],
            "day": day[starts],
            "temp_max": np.maximum.reduceat(temp, starts) if starts.size else np.zeros(0),
            "n_readings": np.diff(np.r_[starts, who.size]).astype(np.int64),
        }
    )
    # per group and day: the daily maxima of the patients measured that day (one value per patient)
    values = daily["temp_max"].to_numpy(float)
    group_rank = {g: i for i, g in enumerate(ctx.groups)}
    rows = []
    for (g, d), idx in daily.groupby(["group", "day"], sort=False).indices.items():
        if len(idx) >= min_n:  # one call per group and day with enough patients (not per patient)
            s = stats.describe_continuous(values[idx])
            rows.append((group_rank.get(g, len(group_rank)), g, int(d), s.n, s.median, s.q1, s.q3))
    summary = pd.DataFrame(rows, columns=["rank", *SUMMARY_COLUMNS]).sort_values(["rank", "group", "day"])
    summary = summary.drop(columns="rank").astype({"day": np.int64, "n": np.int64}).reset_index(drop=True)
    seen = np.zeros(len(ids), bool)
    seen[first] = True
    measured = pd.Series(pf["group"].to_numpy(object)[seen]).value_counts()
    n_patients = {g: int(measured.get(g, 0)) for g in ctx.groups}
    no_origin = np.isnan(org_v)
    why_no_origin = "no anakinra" if opts.fever_origin == "anakinra" else NO_TREATMENT_START
    reason = np.where(no_origin, why_no_origin, "no temperature reading at or after the origin")
    excluded = pd.DataFrame(
        {"patient_id": pf["patient_id"].to_numpy(object)[~seen], "group": pf["group"].to_numpy(object)[~seen]}
    ).assign(reason=reason[~seen])
    return TemperatureResult(opts.fever_origin, daily.reset_index(drop=True), summary, excluded, n_patients, min_n)


def to_json(tr: TemperatureResult) -> dict:
    """The result as plain JSON (not part of ``analyze``'s JSON)."""
    return {
        "origin": tr.origin,
        "min_n": tr.min_n,
        "n_patients": dict(tr.n_patients),
        "summary": {
            g: [
                {"day": int(r.day), "n": int(r.n), "median": r.median, "q1": r.q1, "q3": r.q3}
                for r in tr.summary_of(g).itertuples(index=False)
            ]
            for g in tr.n_patients
        },
        "excluded": len(tr.excluded),
    }
