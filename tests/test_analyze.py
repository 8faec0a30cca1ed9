"""`python -m misc_dash analyze --json`: the documented keys, group orders, filters, clear errors, and agreement
with the checked-in example for the default cohort."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from misc_dash.analyses import AnalysisError, analyze_to_dict, prepare
from misc_dash.filters import CohortFilter
from misc_dash.loading import load_default_cohort

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "misc_dash", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


@pytest.fixture(scope="module")
def cohort():
    return load_default_cohort()


def test_required_keys(cohort):
    d = analyze_to_dict(cohort, CohortFilter(), "treatment")
    for k in ("n_patients", "groups", "filters", "table1", "fever", "echo", "cytokines", "adverse_events"):
        assert k in d
    assert d["n_patients"] == 46
    assert d["groups"] == ["IVIG monotherapy", "IVIG + anakinra without CS", "IVIG + anakinra with CS"]
    r = d["table1"][0]
    assert {"variable", "groups", "test", "p_value"} <= set(r)
    f = d["fever"]
    assert {"origin", "threshold_c", "curves", "logrank"} <= set(f)
    assert {"n", "events", "median_days"} <= set(next(iter(f["curves"].values())))
    assert {"statistic", "p_value", "df", "test"} <= set(f["logrank"])
    for m in ("lvef", "strain"):
        g = next(iter(d["echo"][m]["groups"].values()))
        assert {"n_pairs", "baseline_median", "followup_median", "p_value", "test"} <= set(g)
    c = d["cytokines"]["IL-6"]
    assert {"median", "p_value", "q_value", "test"} <= set(c)
    a = d["adverse_events"]["elevated_lft"]
    assert {"counts", "p_value", "test"} <= set(a)


@pytest.mark.parametrize(
    "group_by, order",
    [
        ("cv_shock", ["No CV shock", "CV shock"]),
        ("kd_like", ["No KD-like features", "KD-like features"]),
        ("sars_cov2_pcr", ["PCR negative", "PCR positive"]),
        ("sex", ["Female", "Male"]),
        ("phenotype", ["Non-specific", "KD-like", "CV shock", "KDSS-like"]),
        ("anakinra", ["Without anakinra", "With anakinra"]),
    ],
)
def test_boolean_and_categorical_group_orders(cohort, group_by, order):
    d = analyze_to_dict(cohort, CohortFilter(), group_by)
    assert d["groups"] == order


def test_filter_that_empties_the_cohort_is_a_message(cohort):
    with pytest.raises(AnalysisError, match="No patient matches"):
        prepare(cohort, CohortFilter(age_min=30), "treatment")
    r = cli("analyze", "--age-min", "30", "--json")
    assert r.returncode == 1 and "No patient matches" in r.stderr and "Traceback" not in r.stderr


def test_empty_group_is_reported_not_a_crash(cohort):
    d = analyze_to_dict(
        cohort, CohortFilter(treatment=("IVIG + anakinra without CS", "IVIG + anakinra with CS")), "treatment"
    )
    assert d["group_sizes"]["IVIG monotherapy"] == 0
    assert any("No patients in: IVIG monotherapy" in n for n in d["notes"])


def test_cli_json_matches_checked_in_example():
    r = cli("analyze", "--group-by", "treatment", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    example = json.loads((ROOT / "docs" / "analyze_example.json").read_text(encoding="utf-8"))
    assert out == example, (
        "docs/analyze_example.json is stale: regenerate with "
        "`python -m misc_dash analyze --json > docs/analyze_example.json`"
    )


@pytest.mark.parametrize(
    "flt, by",
    [
        (CohortFilter(), "treatment"),
        (CohortFilter(age_min=6), "phenotype"),
        (CohortFilter(phenotype=("CV shock",)), "anakinra"),
    ],
)
def test_labs_first_values_are_derive_first_lab(cohort, flt, by):
    """analyses.labs finds every analyte's first value in one sort; per analyte and group it must give exactly what
    derive.first_lab (one analyte at a time) gives: same n, median, quartiles, and the same test."""
    from misc_dash import analyses as A
    from misc_dash import derive, stats

    ctx = prepare(cohort, flt, by)
    res = A.labs(ctx)
    assert res.records
    grp = ctx.pf.set_index("patient_id")["group"]
    for rec in res.records:
        first = derive.first_lab(ctx.cohort, rec["analyte"], patient_ids=ctx.ids())
        samples = {g: first[first.index.map(grp) == g].to_numpy(float) for g in ctx.groups}
        for g in ctx.groups:
            assert rec["groups"][g] == stats.describe_continuous(samples[g]).to_dict(), (rec["analyte"], g)
        ref = A._compare_continuous(samples, ctx.groups)
        assert rec["p_value"] == (ref.p_value if ref else None) and rec["test"] == (ref.test if ref else None)
