"""derive.echo_pairs (numpy, on row positions) against the plain pandas version it replaced.

The reference below is the previous implementation, kept verbatim as an oracle: sort by (patient, day),
first study = baseline, last (or nearest day N after baseline, ties → earlier) = follow-up, inner join,
patients in the requested order. Equality is exact (``check_exact``, dtypes included: days stay Int64).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from misc_dash import derive
from misc_dash.loading import load_default_cohort


def _reference(cohort, measure="lvef_pct", followup="last", patient_ids=None):
    measure = derive.ECHO_MEASURES.get(measure, measure)
    e = cohort["echo"]
    ids = list(cohort["patients"]["patient_id"]) if patient_ids is None else list(patient_ids)
    e = e[e["patient_id"].isin(ids)][["patient_id", "day", measure]].dropna()
    e = e.sort_values(["patient_id", "day"], kind="stable")
    g = e.groupby("patient_id", sort=False)
    n = g.size()
    base = g.head(1).set_index("patient_id")
    rest = e[g.cumcount() > 0]
    if followup == "last":
        fu = rest.groupby("patient_id", sort=False).tail(1).set_index("patient_id")
    else:
        target = int(followup)
        r = rest.assign(dist=(rest["day"] - target).abs())
        r = r.sort_values(["patient_id", "dist", "day"], kind="stable")
        fu = r.groupby("patient_id", sort=False).head(1).set_index("patient_id")[["day", measure]]
    pairs = pd.DataFrame({"baseline_day": base["day"], "baseline": base[measure].astype(float)}).join(
        fu.rename(columns={"day": "followup_day", measure: "followup"}), how="inner"
    )
    pairs["followup"] = pairs["followup"].astype(float)
    pairs["change"] = pairs["followup"] - pairs["baseline"]
    pairs["interval_days"] = pairs["followup_day"] - pairs["baseline_day"]
    order = {pid: i for i, pid in enumerate(ids)}
    pairs = pairs.reset_index().sort_values("patient_id", key=lambda s: s.map(order)).reset_index(drop=True)
    unp = []
    paired = set(pairs["patient_id"])
    for pid in ids:
        if pid not in paired:
            k = int(n.get(pid, 0))
            unp.append((pid, k, "no echo with this measure" if k == 0 else "only one echo with this measure"))
    unpaired = pd.DataFrame(unp, columns=["patient_id", "n_studies", "reason"])
    return pairs, unpaired.astype({"n_studies": "int64"})  # int64 also when every patient is paired


@pytest.fixture(scope="module")
def cohort():
    return load_default_cohort()


def _variant(cohort, seed: int) -> dict:
    """The default echo table shuffled, with missing values, missing days and duplicated days."""
    rng = np.random.default_rng(seed)
    e = cohort["echo"].sample(frac=1, random_state=seed).reset_index(drop=True)
    e.loc[rng.random(len(e)) < 0.15, "lvef_pct"] = np.nan
    e.loc[rng.random(len(e)) < 0.05, "day"] = pd.NA
    dup = rng.random(len(e)) < 0.1
    e.loc[dup, "day"] = e["day"].shift(1)[dup]
    return {"echo": e, "patients": cohort["patients"]}


@pytest.mark.parametrize("seed", range(6))
def test_echo_pairs_equals_pandas_reference(cohort, seed):
    tables = {"echo": cohort["echo"], "patients": cohort["patients"]} if seed == 0 else _variant(cohort, seed)
    rng = np.random.default_rng(100 + seed)
    all_ids = list(cohort["patients"]["patient_id"])
    subsets = [None, list(rng.permutation(all_ids)[:20]), [], all_ids[:3] + ["NOT-IN-COHORT"]]
    for ids, measure, fu in itertools.product(subsets, ["lvef", "strain_ap4_pct"], ["last", 1, 7, 30]):
        got = derive.echo_pairs(tables, measure, fu, ids)
        want_pairs, want_unpaired = _reference(tables, measure, fu, ids)
        pd.testing.assert_frame_equal(got.pairs, want_pairs, check_exact=True)
        pd.testing.assert_frame_equal(got.unpaired, want_unpaired, check_exact=True)
        assert got.followup == ("last" if fu == "last" else f"nearest day {fu}")
