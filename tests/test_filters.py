"""The cohort filter as a value: hashable, described in words, round-trips through the URL, and the sidebar's live
counts mean "patients kept if this option were selected, given the other filters" (checked by brute force)."""

from __future__ import annotations

import pytest

from misc_dash import derive
from misc_dash import filters as F
from misc_dash.loading import load_default_cohort


@pytest.fixture(scope="module")
def pf():
    return derive.patient_frame(load_default_cohort())


OPTIONS = {
    "treatment": derive.TREATMENT_GROUPS,
    "phenotype": derive.PHENOTYPES,
    "sex": F.SEXES,
    "pcr": F.TRI,
    "icu": F.TRI,
    "cs": F.CS_OPTIONS,
}
FILTERS = [
    F.CohortFilter(),
    F.CohortFilter(phenotype=("CV shock",)),
    F.CohortFilter(phenotype=("CV shock", "KDSS-like"), age_min=5.0, age_max=12.0),
    F.CohortFilter(treatment=("IVIG monotherapy",), sex=("F",), icu=("Yes",)),
    F.CohortFilter(race=("African American",), pcr=("No", "Not recorded"), cs=("With CS",)),
]


@pytest.mark.parametrize("flt", FILTERS)
def test_live_counts_match_brute_force(pf, flt):
    options = {
        **OPTIONS,
        "race": sorted(pf["race"].fillna("Not recorded").unique()),
        "ethnicity": sorted(pf["ethnicity"].fillna("Not recorded").unique()),
    }
    counts = F.all_option_counts(pf, flt, options)
    for field, opts in options.items():
        assert counts[field] == F.option_counts(pf, flt, field, opts)
        for o in opts:
            # selecting only this option in `field` (others unchanged) keeps exactly this many patients
            assert counts[field][o] == len(flt.with_(**{field: (o,)}).apply(pf)), (field, o)


def test_filter_is_a_hashable_value_with_a_description():
    a = F.CohortFilter(phenotype=("CV shock",), age_min=5.0, age_max=12.0)
    b = F.CohortFilter(phenotype=("CV shock",), age_min=5.0, age_max=12.0)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a.describe(17) == "CV shock, age 5–12 — n = 17"
    assert F.CohortFilter().describe(46) == "All patients — n = 46"


@pytest.mark.parametrize("flt", FILTERS)
def test_query_params_round_trip(flt):
    q = flt.to_query_params()
    assert F.CohortFilter.from_query_params(q) == flt
    assert not any("SYN" in v for v in q.values())  # categories and numbers only, never patient ids
