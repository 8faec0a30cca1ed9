"""Per-patient derivations on arrays (issue 15: no per-patient Python at 100,000 patients) equal the plain pandas
versions they replaced, on the default cohort, a resampled one, and a resampled one with its rows shuffled."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from misc_dash import derive
from misc_dash.loading import _make_cohort, load_default_cohort
from misc_dash.synth import synthesize


@pytest.fixture(scope="module")
def cohorts():
    base = load_default_cohort()
    tables = synthesize(600, seed=5, base=base)
    rng = np.random.default_rng(2)
    shuffled = dict(tables)
    for name in ("temperatures", "anakinra_doses"):
        df = tables[name]
        shuffled[name] = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    return {
        "default": base,
        "synth": _make_cohort(tables, "synth 600", True, "", "", ()),
        "shuffled": _make_cohort(shuffled, "synth 600 shuffled", True, "", "", ()),
    }


def _defervescence_pandas(
    cohort,
    origin: str = "admission",
    threshold_c: float = 38.0,
    sustained_hours: float | None = None,
    patient_ids=None,
    sites: tuple[str, ...] | None = None,
    pf: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pandas version before the numpy rewrite (the oracle)."""
    pf = derive.patient_frame(cohort) if pf is None else pf
    if patient_ids is not None:
        pf = pf[pf["patient_id"].isin(list(patient_ids))]
    org = derive.origin_hours(pf, origin)
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
    return table, excluded


def _routes_pandas(doses: pd.DataFrame) -> pd.Series:
    d = doses.sort_values(["patient_id", "day"], kind="stable")
    return d.groupby("patient_id", sort=False)["route"].agg(lambda r: ", ".join(sorted(set(r.dropna()))))


@pytest.mark.parametrize("name", ["default", "synth", "shuffled"])
def test_defervescence_equals_pandas_version(cohorts, name):
    """Every origin × threshold × sustained window × site restriction; exact equality (tolerance 0)."""
    c = cohorts[name]
    pf = derive.patient_frame(c)
    for origin, thr, sus, sites in itertools.product(
        ("admission", "treatment", "anakinra"), (38.0, 37.5), (None, 12, 24.0), (None, ("oral", "rectal"))
    ):
        got = derive.defervescence(c, origin, thr, sus, pf=pf, sites=sites)
        table, excluded = _defervescence_pandas(c, origin, thr, sus, pf=pf, sites=sites)
        pd.testing.assert_frame_equal(got.table, table, check_exact=True)
        pd.testing.assert_frame_equal(got.excluded, excluded)


@pytest.mark.parametrize("name", ["default", "synth", "shuffled"])
def test_routes_equal_pandas_version(cohorts, name):
    c = cohorts[name]
    got = derive.anakinra_courses(c["anakinra_doses"], c["patients"])["routes"]
    want = _routes_pandas(c["anakinra_doses"]).reindex(got.index)
    assert got.tolist() == want.tolist()


def test_routes_mixed_and_missing():
    d = pd.DataFrame(
        {"patient_id": ["b", "a", "a", "c", "c", "d", "b"], "route": ["SC", "IV", None, "SC", "IV", None, "SC"]}
    )
    assert derive._routes(d).to_dict() == {"b": "SC", "a": "IV", "c": "IV, SC", "d": ""}


def test_daily_max_temperature_ignores_row_order(cohorts):
    """Daily maxima per patient and day, their group summary and the excluded list do not depend on the order of
    the temperature rows (the sorted fast path and the sorting path agree)."""
    from misc_dash import analyses as A

    out = []
    for name in ("synth", "shuffled"):
        c = cohorts[name]
        ctx = A.prepare(c, grouping="treatment")
        out.append(A.run("temperature", ctx, A.AnalysisOptions(fever_origin="treatment")))
    a, b = out
    for f in ("daily", "summary", "excluded"):
        pd.testing.assert_frame_equal(getattr(a, f), getattr(b, f), check_exact=True)
    assert a.n_patients == b.n_patients


def test_labs_first_values_ignore_row_order(cohorts):
    """Each patient's first (earliest-day) lab value, hence the per-analyte summaries and tests, do not depend on
    the order of the lab rows (equal-day ties aside, which the resampled cohort does not have)."""
    from misc_dash import analyses as A

    recs = []
    for name in ("synth", "shuffled"):
        c = cohorts[name]
        shuffled = dict(c.tables)
        if name == "shuffled":
            df = c["labs"]
            shuffled["labs"] = df.iloc[np.random.default_rng(4).permutation(len(df))].reset_index(drop=True)
            c = _make_cohort(shuffled, "labs shuffled", True, "", "", ())
        recs.append(A.run("labs", A.prepare(c, grouping="treatment"), A.AnalysisOptions()).records)
    assert repr(recs[0]) == repr(recs[1])
