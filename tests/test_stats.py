"""Tests for misc_dash.stats against reference values from R 4.2.2 (survival 3.5-3), and for a few in-house
implementations against scipy or lifelines (a test's name ends in its reference: ``_vs_r``, ``_vs_scipy``…).

Every reference value was produced with the R call quoted in the test's docstring (options(digits = 15))
and is hard-coded here: R is not needed to run these tests. Tolerances are explicit per test:
p-values and statistics rel 1e-6 (exact or closed form); R quantities found with ``uniroot`` (Fisher's
conditional MLE/CI: tol ≈ 1.2e-4; wilcox.test asymptotic CI/estimate: tol.root = 1e-4) are compared within
that tolerance.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import sys

import numpy as np
import pytest
from scipy import stats as sps

from misc_dash import stats as S

P_REL = 1e-6

# R's survival::aml (time, status, x)
AML_TIME = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
AML_STATUS = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
AML_X = ["Maintained"] * 11 + ["Nonmaintained"] * 12


def _aml_group(g):
    idx = [i for i, v in enumerate(AML_X) if v == g]
    return [AML_TIME[i] for i in idx], [AML_STATUS[i] for i in idx]


# ---------------------------------------------------------------------------------------------
# formatting, dataclasses
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "p, text",
    [
        (0.0230428954195262, "0.02"),
        (0.00507103322257896, "0.005"),
        (0.0730310696220688, "0.07"),
        (0.00063, "0.0006"),
        (0.00096, "0.001"),
        (0.0096, "0.01"),
        (0.57, "0.57"),
        (0.995, "> 0.99"),
        (1.0, "> 0.99"),
        (0.994, "0.99"),
        (0.00005, "< 0.0001"),
        (0.0653393220405051, "0.07"),
        (None, "n/a"),
        (float("nan"), "n/a"),
    ],
)
def test_format_p(p, text):
    """Paper style: two decimals from 0.01, one significant digit below, "< 0.0001", "> 0.99"."""
    assert S.format_p(p) == text


def test_result_is_frozen_and_json_safe():
    """to_dict() must be strict JSON (NaN/inf → None); the dataclass is frozen; label() reads like the paper."""
    r = S.fisher_counts((3, 20), (14, 32), ("IVIG monotherapy", "IVIG + anakinra"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.p_value = 0.5  # type: ignore[misc]
    assert r.label() == "Fisher's exact test, n = 14 vs 32: p = 0.02"
    inf_or = S.fisher_2x2([[5, 0], [0, 5]])
    d = json.loads(json.dumps(inf_or.to_dict(), allow_nan=False))
    assert d["estimate"] is None and d["ci_high"] is None and d["p_text"] == "0.008"
    assert any("∞" in n for n in inf_or.notes)
    big = S.TestResult("t", None, "x", 0.5, ("a",), (3,))
    assert big.label() == "t, n = 3: p = 0.50"
    assert S.TestResult("t", None, "x", 1.0, ("a", "b"), (3, 4)).label().endswith("p > 0.99")


def test_no_streamlit_import():
    assert "streamlit" not in sys.modules or not hasattr(S, "st")
    for path in pathlib.Path(S.__file__).parent.glob("*.py"):  # every module of the package
        src = path.read_text(encoding="utf-8")
        assert "import streamlit" not in src


# ---------------------------------------------------------------------------------------------
# descriptives
# ---------------------------------------------------------------------------------------------
def test_describe_continuous_type6_vs_r():
    """R: quantile(c(3, 8, 4, 13, 21, 1, 9, 5), c(.25, .5, .75), type = 6) -> 3.25 6.50 12.00;
    quantile(c(2.5, 7, 1, 10, 4), c(.25, .5, .75), type = 6) -> 1.75 4.00 8.50. Tolerance abs 1e-12."""
    s = S.describe_continuous([3, 8, 4, 13, 21, 1, 9, 5, None, float("nan")])
    assert (s.n, s.missing) == (8, 2)
    assert (s.q1, s.median, s.q3) == pytest.approx((3.25, 6.5, 12.0), abs=1e-12)
    assert (s.min, s.max) == (1.0, 21.0)
    assert s.text() == "6.5 [3.3, 12.0]"  # half-up rounding of 3.25
    assert s.text(decimals=2) == "6.50 [3.25, 12.00]"
    s2 = S.describe_continuous([2.5, 7, 1, 10, 4])
    assert (s2.q1, s2.median, s2.q3) == pytest.approx((1.75, 4.0, 8.5), abs=1e-12)
    empty = S.describe_continuous([None])
    assert empty.n == 0 and empty.missing == 1 and empty.text() == "n/a"


def test_describe_categorical():
    s = S.describe_categorical(
        ["KD-like", "CV shock", None, "CV shock", "odd"], ["Non-specific", "KD-like", "CV shock", "KDSS-like"]
    )
    assert s.counts == (0, 1, 2, 0)
    assert (s.n, s.missing, s.other) == (4, 1, 1)
    assert s.text("CV shock") == "2 (50%)"
    b = S.describe_categorical([True, False, True, None], (True, False))
    assert b.text(True) == "2 (67%)" and b.levels == ("True", "False")


def test_share_normal_clopper_pearson_vs_r():
    """R: binom.test(9, 12)$conf.int -> 0.428141538121811 0.945139355472007 (rel 1e-6)."""
    vals = [50, 55, 60, 61, 45, 70, 58, 56, 57, 54, 59, 62, None]
    s = S.share_normal(vals, 55, ">=")
    assert (s.k, s.n, s.missing) == (9, 12, 1)
    assert s.text() == "9/12 (75%)"
    assert (s.ci_low, s.ci_high) == pytest.approx((0.428141538121811, 0.945139355472007), rel=1e-6)
    assert S.share_normal(vals, 55, "<").k == 3
    with pytest.raises(ValueError):
        S.share_normal(vals, 55, "above")


@pytest.mark.parametrize(
    "k, n, low, high",
    [  # R 4.x: options(digits = 15); binom.test(k, n)$conf.int
        (9, 12, 0.428141538121811, 0.945139355472007),
        (0, 7, 0.0, 0.409616397225003),
        (7, 7, 0.590383602774997, 1.0),
        (1, 46, 5.50235694880711e-04, 1.15271825597990e-01),
        (23, 46, 0.349038152423704, 0.650961847576296),
    ],
)
def test_clopper_pearson_vs_r_binom_test(k, n, low, high):
    """Beta-quantile form, as R computes it: R's printed 15 digits agree to 1e-14 (absolute). On the full grid
    n = 1..60, k = 0..n (1,890 intervals, checked when this was written) the largest difference from R was 3.4e-15."""
    assert S.clopper_pearson(k, n) == pytest.approx((low, high), abs=1e-14)


def test_clopper_pearson_vs_scipy_root_search():
    """scipy.stats.binomtest(k, n).proportion_ci(method="exact") finds the same interval by root search (to its
    xtol; within 5e-13 of R on the grid above): agreement to 1e-11 for n = 1..40."""
    for n in range(1, 41):
        for k in range(n + 1):
            ci = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
            assert S.clopper_pearson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-11), (k, n)
    with pytest.raises(ValueError):
        S.clopper_pearson(3, 2)


def test_average_ranks_vs_scipy_rankdata():
    """The internal tie-averaged ranks (used inside the Hodges–Lehmann root searches) equal scipy's rankdata
    exactly, on random data with many ties."""
    rng = np.random.default_rng(7)
    for size in (1, 2, 5, 17, 60):
        a = rng.integers(0, 6, size).astype(float) / 2
        assert np.array_equal(S._average_ranks(a), sps.rankdata(a))


# ---------------------------------------------------------------------------------------------
# Fisher
# ---------------------------------------------------------------------------------------------
# (table [[a, b], [c, d]], R p, R estimate, R conf.int, tight-uniroot estimate and CI)
FISHER_2X2 = [
    # CV shock 3/14 vs 20/32 (paper: 0.02)
    (
        [[3, 11], [20, 12]],
        0.0230428954195262,
        (0.170567790757548, 0.0253932472331807, 0.8203809909306632),
        (0.1705681404909742, 0.0253975137850643, 0.8203797180757900),
    ),
    # Non-specific 9/14 vs 6/32 (paper: 0.005)
    (
        [[9, 5], [6, 26]],
        0.00507103322257896,
        (7.37219702162842, 1.57126753465627, 40.44293869364401),
        (7.37275337777917, 1.57121913968289, 40.43535648542449),
    ),
    # KDSS-like 1/14 vs 11/32 (paper: 0.07)
    (
        [[1, 13], [11, 21]],
        0.0730310696220688,
        (0.151797482992879, 0.00317725712301055, 1.27921688988534754),
        (0.15179165195140276, 0.00317224204266853, 1.27921004976721342),
    ),
]


@pytest.mark.parametrize("table, p, r_est, tight", FISHER_2X2)
def test_fisher_2x2_vs_r(table, p, r_est, tight):
    """R: f <- fisher.test(matrix(c(a, c, b, d), 2)); f$p.value; f$estimate; f$conf.int.
    p: rel 1e-6. Estimate/CI vs fisher.test: rel 1e-3 or abs 2e-4 (R solves them with uniroot, tol ≈ 1.2e-4
    on the odds-ratio scale). "tight": the mle()/ncp.L()/ncp.U() functions copied from stats:::fisher.test
    (noncentral hypergeometric dnhyper/pnhyper) with every uniroot(..., tol = 1e-13): rel 1e-6."""
    r = S.fisher_2x2(table)
    assert r.p_value == pytest.approx(p, rel=P_REL)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx(r_est, rel=1e-3, abs=2e-4)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx(tight, rel=1e-6)
    assert r.effect.startswith("odds ratio (conditional MLE)")


def test_fisher_counts_vs_paper_text():
    assert S.fisher_counts((3, 20), (14, 32)).p_text() == "0.02"
    assert S.fisher_counts((9, 6), (14, 32)).p_text() == "0.005"
    assert S.fisher_counts((1, 11), (14, 32)).p_text() == "0.07"


def test_fisher_zero_cell_vs_r():
    """R: fisher.test(matrix(c(0, 4, 5, 3), 2)) -> p 0.0808080808080808, estimate 0, CI 0 1.74611727230996
    (CI rel 1e-3, uniroot)."""
    r = S.fisher_2x2([[0, 5], [4, 3]])
    assert r.p_value == pytest.approx(0.0808080808080808, rel=P_REL)
    assert r.estimate == 0 and r.ci_low == 0
    assert r.ci_high == pytest.approx(1.74611727230996, rel=1e-3)


@pytest.mark.parametrize(
    "table, p",
    [
        # R: fisher.test(matrix(c(8, 2, 4, 6, 9, 17), 3))$p.value  (3×2)
        ([[8, 6], [2, 9], [4, 17]], 0.0462512831037171),
        # R: fisher.test(matrix(c(9, 6, 2, 6, 0, 9, 3, 11), 2))$p.value  (2×4)
        ([[9, 2, 0, 3], [6, 6, 9, 11]], 0.0124726955472643),
        # R: fisher.test(matrix(c(5,3,4,2, 4,2,3,6, 6,4,5,2), 4))$p.value  (4×3, n = 46)
        ([[5, 4, 6], [3, 2, 4], [4, 3, 5], [2, 6, 2]], 0.704360909584439),
        # R: fisher.test(matrix(c(9,2,0,3, 5,3,4,5, 0,6,5,4), 4))$p.value
        ([[9, 5, 0], [2, 3, 6], [0, 4, 5], [3, 5, 4]], 0.00414842950275201),
    ],
)
def test_fisher_rxc_vs_r(table, p):
    """Freeman–Halton exact p = R fisher.test on r×c tables; rel 1e-6."""
    r = S.fisher_rxc(table)
    assert r.method.startswith("exact")
    assert r.p_value == pytest.approx(p, rel=P_REL)


def test_fisher_rxc_job_satisfaction_exact_vs_r():
    """R: Job <- matrix(c(1,2,1,0, 3,3,6,1, 10,10,14,9, 6,7,12,11), 4, 4); fisher.test(Job)$p.value
    -> 0.782684938965639 (rel 1e-6); 9e7 tables, exact by meet-in-the-middle enumeration."""
    job = np.array([1, 2, 1, 0, 3, 3, 6, 1, 10, 10, 14, 9, 6, 7, 12, 11]).reshape(4, 4, order="F")
    r = S.fisher_rxc(job)
    assert r.method.startswith("exact")
    assert r.p_value == pytest.approx(0.782684938965639, rel=P_REL)


def test_fisher_rxc_monte_carlo_fallback():
    """When enumeration is too large: seeded Monte-Carlo p with a note (reproducible)."""
    table = [[8, 6], [2, 9], [4, 17]]
    r1 = S.fisher_rxc(table, max_tables=10, n_resamples=20_000, seed=1)
    r2 = S.fisher_rxc(table, max_tables=10, n_resamples=20_000, seed=1)
    assert r1.method.startswith("Monte Carlo") and r1.p_value == r2.p_value
    assert r1.p_value == pytest.approx(0.0462512831037171, abs=0.01)
    assert any("Monte-Carlo" in n for n in r1.notes)


def test_fisher_empty_groups_no_exception():
    r = S.fisher_2x2([[0, 0], [3, 4]])
    assert r.p_value is None and any("No patients" in n for n in r.notes)
    assert S.fisher_2x2([[3, 0], [4, 0]]).p_value == 1.0
    r = S.fisher_rxc([[0, 0, 0], [1, 2, 3]])
    assert r.p_value is None
    r = S.fisher_rxc([[0, 0], [1, 2], [3, 4]])
    assert r.p_value is not None and any("left out" in n for n in r.notes)


def test_odds_ratio_sample_woolf_vs_closed_form():
    """Sample OR ad/bc = (3·12)/(11·20) with Woolf CI exp(log OR ± 1.96·sqrt(Σ1/cell)) (closed form)."""
    r = S.odds_ratio_2x2([[3, 11], [20, 12]], kind="sample")
    or_ = 3 * 12 / (11 * 20)
    se = math.sqrt(1 / 3 + 1 / 11 + 1 / 20 + 1 / 12)
    z = 1.959963984540054
    assert r.estimate == pytest.approx(or_, rel=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx((or_ * math.exp(-z * se), or_ * math.exp(z * se)), rel=1e-9)
    assert S.odds_ratio_2x2([[3, 11], [20, 12]]).estimate == pytest.approx(0.1705681404909742, rel=1e-6)


# ---------------------------------------------------------------------------------------------
# Mann–Whitney, Kruskal–Wallis
# ---------------------------------------------------------------------------------------------
def test_mann_whitney_exact_vs_r():
    """R: x <- c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46);
    y <- c(1.15, 0.88, 0.90, 0.74, 1.21); wilcox.test(x, y, conf.int = TRUE)
    -> W = 35, p = 0.254412254412254, estimate 0.305, CI -0.15 0.76 (exact; rel 1e-6 / abs 1e-12)."""
    x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    y = [1.15, 0.88, 0.90, 0.74, 1.21]
    r = S.mann_whitney(x, y, ("x", "y"))
    assert r.test == "Mann–Whitney U (exact)" and r.method == "exact"
    assert r.statistic == 35
    assert r.p_value == pytest.approx(0.254412254412254, rel=P_REL)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx((0.305, -0.15, 0.76), abs=1e-12)
    assert r.n == (10, 5)


def test_mann_whitney_exact_larger_vs_r():
    """R (x, y as below): wilcox.test(x, y, conf.int = TRUE) -> W = 245, p = 0.918966854067114,
    estimate -0.2545, CI -2.518 1.947 ("Wilcoxon rank sum exact test"; rel 1e-6 / abs 1e-9)."""
    x = [
        1.71,
        3.42,
        5.13,
        6.84,
        8.55,
        10.26,
        11.97,
        0.68,
        2.39,
        4.1,
        5.81,
        7.52,
        9.23,
        10.94,
        12.65,
        1.36,
        3.07,
        4.78,
        6.49,
        8.2,
    ]
    y = [
        3.313,
        5.626,
        7.939,
        10.252,
        1.565,
        3.878,
        6.191,
        8.504,
        10.817,
        2.13,
        4.443,
        6.756,
        9.069,
        11.382,
        2.695,
        5.008,
        7.321,
        9.634,
        11.947,
        3.26,
        5.573,
        7.886,
        10.199,
        1.512,
        3.825,
    ]
    r = S.mann_whitney(x, y)
    assert r.method == "exact" and r.statistic == 245
    assert r.p_value == pytest.approx(0.918966854067114, rel=P_REL)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx((-0.2545, -2.518, 1.947), abs=1e-9)


def test_mann_whitney_ties_asymptotic_vs_r():
    """R: wilcox.test(c(5,7,7,8,10,12,12,15), c(8,9,11,12,14,14,16,18,20), conf.int = TRUE)
    (correct = TRUE default) -> W = 15.5, p = 0.0532597327272385, estimate -4,
    CI -8.00003714899635 1.83397471935976e-05. p rel 1e-6; CI abs 2e-4 (R uniroot tol.root = 1e-4)."""
    r = S.mann_whitney([5, 7, 7, 8, 10, 12, 12, 15], [8, 9, 11, 12, 14, 14, 16, 18, 20])
    assert r.test == "Mann–Whitney U (normal approximation)"
    assert r.method.startswith("asymptotic")
    assert r.statistic == 15.5
    assert r.p_value == pytest.approx(0.0532597327272385, rel=P_REL)
    assert r.estimate == pytest.approx(-4.0, abs=2e-4)
    assert (r.ci_low, r.ci_high) == pytest.approx((-8.00003714899635, 1.83397471935976e-05), abs=2e-4)
    assert any("Tied values" in n for n in r.notes)


def test_mann_whitney_ties_non_integer_vs_r():
    """R: a <- c(1.2, 3.4, 3.4, 5.1, 6.3, 7.7, 2.2); b <- c(4.4, 5.1, 6.0, 8.2, 9.9, 7.1, 6.5, 10.3);
    wilcox.test(a, b, conf.int = TRUE) -> W = 9.5, p = 0.0369039536137182, estimate -3.0999672358464321,
    CI -5.8999724932072937 -0.2000000680397575 (p rel 1e-6, estimate/CI abs 2e-4)."""
    r = S.mann_whitney([1.2, 3.4, 3.4, 5.1, 6.3, 7.7, 2.2], [4.4, 5.1, 6.0, 8.2, 9.9, 7.1, 6.5, 10.3])
    assert r.statistic == 9.5
    assert r.p_value == pytest.approx(0.0369039536137182, rel=P_REL)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx(
        (-3.0999672358464321, -5.8999724932072937, -0.2000000680397575), abs=2e-4
    )


def test_mann_whitney_large_sample_asymptotic_vs_r():
    """n ≥ 50 → normal approximation even without ties. R: xx <- seq(0.013, by = 0.37, length.out = 60);
    yy <- seq(0.5, by = 0.41, length.out = 55); wilcox.test(xx, yy, conf.int = TRUE) -> W = 1558,
    p = 0.608439912383669, estimate -0.641999999999999, CI -3.157054445870684 1.873054445870688
    (p rel 1e-6, estimate/CI abs 2e-4)."""
    xx = 0.013 + 0.37 * np.arange(60)
    yy = 0.5 + 0.41 * np.arange(55)
    r = S.mann_whitney(xx, yy)
    assert r.method.startswith("asymptotic") and r.statistic == 1558
    assert r.p_value == pytest.approx(0.608439912383669, rel=P_REL)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx(
        (-0.641999999999999, -3.157054445870684, 1.873054445870688), abs=2e-4
    )


def test_mann_whitney_empty_and_degenerate():
    r = S.mann_whitney([], [1, 2, 3])
    assert r.p_value is None and r.label().endswith("p = n/a")
    assert any("No patients" in n for n in r.notes) and any("Small group" in n for n in r.notes)
    r = S.mann_whitney([1, 1], [1, 1, 1])
    assert r.p_value is None and any("identical" in n for n in r.notes)
    r = S.mann_whitney([1, 2, None], [3, 4, 5, float("nan")])
    assert r.n == (2, 3) and any("Missing" in n for n in r.notes)


def test_kruskal_wallis_vs_r():
    """R (Hollander & Wolfe, ?kruskal.test): kruskal.test(list(c(2.9, 3.0, 2.5, 2.6, 3.2), c(3.8, 2.7, 4.0, 2.4),
    c(2.8, 3.4, 3.7, 2.2, 2.0))) -> chi-squared 0.771428571428572, df 2, p 0.679964773578894;
    with ties: kruskal.test(list(c(1,2,2,3,5), c(2,3,3,4,6,6), c(5,6,7,7,8))) -> 8.9129129129129172, df 2,
    p 0.0116034077036333. rel 1e-6."""
    r = S.kruskal_wallis([[2.9, 3.0, 2.5, 2.6, 3.2], [3.8, 2.7, 4.0, 2.4], [2.8, 3.4, 3.7, 2.2, 2.0]])
    assert r.statistic == pytest.approx(0.771428571428572, rel=P_REL) and r.df == 2
    assert r.p_value == pytest.approx(0.679964773578894, rel=P_REL)
    r = S.kruskal_wallis({"a": [1, 2, 2, 3, 5], "b": [2, 3, 3, 4, 6, 6], "c": [5, 6, 7, 7, 8], "d": []})
    assert r.statistic == pytest.approx(8.9129129129129172, rel=P_REL) and r.df == 2
    assert r.p_value == pytest.approx(0.0116034077036333, rel=P_REL)
    assert r.groups == ("a", "b", "c", "d") and r.n == (5, 6, 5, 0)
    assert any("left out" in n for n in r.notes)
    assert S.kruskal_wallis([[1], [], []]).p_value is None


# ---------------------------------------------------------------------------------------------
# paired Wilcoxon
# ---------------------------------------------------------------------------------------------
def test_wilcoxon_paired_exact_vs_r():
    """R (?wilcox.test depression data): x <- c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30);
    y <- c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29);
    wilcox.test(x, y, paired = TRUE, conf.int = TRUE) -> V = 40, p = 0.0390625, (pseudo)median 0.46,
    CI 0.01 0.786 (exact). Here baseline = y, follow-up = x. p rel 1e-6, estimate/CI abs 1e-12.
    scipy.stats.wilcoxon would report min(W+, W−) = 5 instead of V = 40."""
    x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    r = S.wilcoxon_paired(baseline=y, followup=x)
    assert r.method == "exact" and r.statistic_name == "V (W+)"
    assert r.statistic == 40
    assert r.p_value == pytest.approx(0.0390625, rel=P_REL)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx((0.46, 0.01, 0.786), abs=1e-12)
    assert r.extra("median change") == pytest.approx(0.49, abs=1e-12)
    # direction: swapping baseline and follow-up flips V to n(n+1)/2 − V and the sign of the change
    r2 = S.wilcoxon_paired(baseline=x, followup=y)
    assert r2.statistic == 45 - 40 and r2.p_value == pytest.approx(r.p_value, rel=1e-12)
    assert r2.estimate == pytest.approx(-0.46, abs=1e-12)


def test_wilcoxon_paired_exact_n20_vs_r():
    """R (b, f as below): wilcox.test(f, b, paired = TRUE, conf.int = TRUE) -> V = 186,
    p = 1.43241882324219e-03, (pseudo)median 1.758, CI 0.9145 2.864 (exact). rel 1e-6 / abs 1e-9."""
    b = [
        57.3,
        55.6,
        53.9,
        52.2,
        50.5,
        57.8,
        56.1,
        54.4,
        52.7,
        51.0,
        58.3,
        56.6,
        54.9,
        53.2,
        51.5,
        58.8,
        57.1,
        55.4,
        53.7,
        52.0,
    ]
    f = [
        58.351,
        59.752,
        54.153,
        55.554,
        49.955,
        60.356,
        54.757,
        56.158,
        57.559,
        51.96,
        62.361,
        56.762,
        58.163,
        52.564,
        53.965,
        57.366,
        58.767,
        60.168,
        54.569,
        55.97,
    ]
    r = S.wilcoxon_paired(b, f)
    assert r.method == "exact" and r.statistic == 186
    assert r.p_value == pytest.approx(1.43241882324219e-03, rel=P_REL)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx((1.758, 0.9145, 2.864), abs=1e-9)


def test_wilcoxon_paired_zeros_and_ties_vs_r():
    """R: b <- c(45,50,55,40,60,52,48,58,50,44,62); f <- c(55,50,60,52,60,57,58,63,49,54,65);
    wilcox.test(f, b, paired = TRUE, conf.int = TRUE) (correct = TRUE) -> V = 44, p = 0.0122274960556857,
    (pseudo)median 7.4999297098528199, CI 3.0000593815002601 10.0000568454759886, with warnings
    "cannot compute exact p-value with ties / zeroes". p rel 1e-6; estimate/CI abs 2e-4 (uniroot)."""
    b = [45, 50, 55, 40, 60, 52, 48, 58, 50, 44, 62]
    f = [55, 50, 60, 52, 60, 57, 58, 63, 49, 54, 65]
    r = S.wilcoxon_paired(b, f)
    assert r.method.startswith("asymptotic")
    assert r.statistic == 44
    assert r.p_value == pytest.approx(0.0122274960556857, rel=P_REL)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx(
        (7.4999297098528199, 3.0000593815002601, 10.0000568454759886), abs=2e-4
    )
    assert r.n == (11,) and r.extra("zero differences") == 2
    assert any("zero difference" in n for n in r.notes)
    assert any("Exact p-value not available" in n for n in r.notes)


def test_wilcoxon_paired_p_vs_scipy():
    """The signed-rank p-value is computed in-house (R's formulas: exact null distribution, or the normal
    approximation with continuity and tie correction). Reference: ``scipy.stats.wilcoxon(d,
    zero_method="wilcox", correction=True, method=<same>)`` on 600 random samples (n 1–59, continuous and
    rounded with ties): rel 1e-12."""
    rng = np.random.default_rng(3)
    seen = set()
    for i in range(600):
        n = int(rng.integers(1, 60))
        d = rng.normal(0.3, 1, n).round(int(rng.choice([0, 1, 3]))) if i % 2 else rng.normal(0.5, 1, n)
        d = d[d != 0]
        if d.size == 0:
            continue
        r = S.wilcoxon_paired(np.zeros(d.size), d)
        exact = r.method == "exact"
        seen.add(exact)
        ref = sps.wilcoxon(d, zero_method="wilcox", correction=True, method="exact" if exact else "asymptotic").pvalue
        assert r.p_value == pytest.approx(ref, rel=1e-12), (d, r.method)
    assert seen == {True, False}


def test_wilcoxon_paired_degenerate():
    assert S.wilcoxon_paired([], []).p_value is None
    r = S.wilcoxon_paired([1, 2, 3], [1, 2, 3])
    assert r.p_value is None and any("zero" in n for n in r.notes)
    r = S.wilcoxon_paired([1, None, 3], [2, 3, None])
    assert r.n == (1,) and any("incomplete" in n for n in r.notes)
    with pytest.raises(ValueError):
        S.wilcoxon_paired([1, 2], [1])


# ---------------------------------------------------------------------------------------------
# survival
# ---------------------------------------------------------------------------------------------
def test_logrank_aml_vs_r():
    """R: survdiff(Surv(time, status) ~ x, data = aml) -> chisq 3.3963886989776 on 1 df,
    p = pchisq(., 1, lower.tail = FALSE) = 0.0653393220405051; observed 7 11,
    expected 10.68933599230072 7.31066400769928. rel 1e-6."""
    r = S.logrank(AML_TIME, AML_STATUS, AML_X)
    assert r.test == "Log-rank (2 groups)" and r.df == 1
    assert r.statistic == pytest.approx(3.3963886989776, rel=P_REL)
    assert r.p_value == pytest.approx(0.0653393220405051, rel=P_REL)
    assert r.p_text() == "0.07"
    assert r.extra("observed Maintained") == 7 and r.extra("observed Nonmaintained") == 11
    assert r.extra("expected Maintained") == pytest.approx(10.68933599230072, rel=P_REL)
    assert r.extra("expected Nonmaintained") == pytest.approx(7.31066400769928, rel=P_REL)


D3_TIME = [1.5, 2, 2, 3.5, 4, 5, 6, 8, 1, 1, 1.5, 2, 2.5, 3, 3, 4, 3, 4, 5, 6, 7, 9, 10, 12, 12]
D3_STATUS = [1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 1]
D3_GROUP = ["A"] * 8 + ["B"] * 8 + ["C"] * 9


def test_logrank_three_groups_and_pairwise_holm_vs_r():
    """R: d <- data.frame(time = D3_TIME, status = D3_STATUS, g = D3_GROUP);
    survdiff(Surv(time, status) ~ g, data = d) -> chisq 15.6933582543574 (2 df), p 0.000391048436482746,
    expected 4.90719925428365 2.39261609660587 10.70018464911048.
    Pairwise: survdiff on each pair -> p 0.040833587333534635 (A-B), 0.031572779472837063 (A-C),
    0.000282431699430204 (B-C); p.adjust(., "holm") -> 0.063145558945674127 0.063145558945674127
    0.000847295098290613. rel 1e-6."""
    r = S.logrank(D3_TIME, D3_STATUS, D3_GROUP)
    assert r.test == "Log-rank (3 groups)" and r.df == 2
    assert r.statistic == pytest.approx(15.6933582543574, rel=P_REL)
    assert r.p_value == pytest.approx(0.000391048436482746, rel=P_REL)
    assert r.extra("expected C") == pytest.approx(10.70018464911048, rel=P_REL)
    pw = S.pairwise_logrank(D3_TIME, D3_STATUS, D3_GROUP, adjust="holm")
    assert [x.groups for x in pw] == [("A", "B"), ("A", "C"), ("B", "C")]
    raw = [0.040833587333534635, 0.031572779472837063, 0.000282431699430204]
    adj = [0.063145558945674127, 0.063145558945674127, 0.000847295098290613]
    assert [x.extra("raw p") for x in pw] == pytest.approx(raw, rel=P_REL)
    assert [x.p_value for x in pw] == pytest.approx(adj, rel=P_REL)
    assert all("holm" in x.method for x in pw)


def test_logrank_empty_or_one_group():
    r = S.logrank([1, 2, 3], [1, 0, 1], ["a", "a", "a"])
    assert r.p_value is None and any("Fewer than two groups" in n for n in r.notes)
    r = S.logrank([1, 2, 3, 4], [1, 0, 0, 0], ["a", "a", "b", "b"], group_order=["a", "b", "c"])
    assert r.p_value is not None and r.n == (2, 2, 0)
    assert any("No patients in: c" in n for n in r.notes) and any("No events in b" in n for n in r.notes)
    assert S.logrank([1, 2], [0, 0], ["a", "b"]).p_value is None


@pytest.mark.parametrize(
    "conf_type, medians",
    [
        # R: quantile(survfit(Surv(time, status) ~ x, data = aml), 0.5)  (conf.type = "log", R default)
        ("log", {"Maintained": (31, 18, None), "Nonmaintained": (23, 8, None)}),
        # R: quantile(survfit(Surv(time, status) ~ x, data = aml, conf.type = "log-log"), 0.5)
        ("log-log", {"Maintained": (31, 13, None), "Nonmaintained": (23, 5, 33)}),
    ],
)
def test_km_aml_median_vs_r(conf_type, medians):
    """R survfit median and 95% CI for aml (exact times; NA = not reached → None)."""
    for g, (med, lo, hi) in medians.items():
        t, e = _aml_group(g)
        k = S.kaplan_meier(t, e, g, conf_type=conf_type)
        assert (k.median, k.median_ci_low, k.median_ci_high) == (med, lo, hi)


def test_km_aml_curve_and_ci_vs_r():
    """R: s <- summary(survfit(Surv(time, status) ~ x, data = aml, conf.type = "log-log"), censored = TRUE)
    -> Nonmaintained surv/lower/upper at times 5 8 12 16 23 27 30 33 43 45 (below); with conf.type = "log"
    (R default) Maintained lower at 9, 13, 18: 0.7541338450815255 0.6192489873993635 0.4884262874221285 and
    upper 1 1 1 0.999157600228473 (capped at 1). rel 1e-6; NA (S = 0) → NaN."""
    t, e = _aml_group("Nonmaintained")
    k = S.kaplan_meier(t, e, "Nonmaintained")  # log-log default (= lifelines)
    assert k.timeline == (0, 5, 8, 12, 16, 23, 27, 30, 33, 43, 45)
    surv = [
        1,
        0.8333333333333334,
        0.6666666666666667,
        0.5833333333333334,
        0.5833333333333334,
        0.4861111111111112,
        0.3888888888888890,
        0.2916666666666667,
        0.1944444444444445,
        0.0972222222222222,
        0.0,
    ]
    lower = [
        1,
        0.48171494219537886,
        0.33701893254140197,
        0.27013892408549733,
        0.27013892408549733,
        0.19187661961872829,
        0.12627201219539366,
        0.07240160890777184,
        0.03119864293121194,
        0.00574630569586383,
    ]
    upper = [
        1,
        0.955509365728065,
        0.859711799084440,
        0.800940192333387,
        0.800940192333387,
        0.729671569779485,
        0.649817408289315,
        0.560886052671409,
        0.461429476238114,
        0.348903861110750,
    ]
    assert k.survival == pytest.approx(surv, rel=1e-12)
    assert k.ci_lower[:-1] == pytest.approx(lower, rel=1e-6)
    assert k.ci_upper[:-1] == pytest.approx(upper, rel=1e-6)
    assert math.isnan(k.ci_lower[-1]) and math.isnan(k.ci_upper[-1])
    assert (k.n, k.events) == (12, 11) and k.censor_times == (16.0,)
    # R n.risk at 5, 8, 12 → 12, 10, 8; nobody left after 45
    assert k.at_risk([5, 8, 12, 46]) == (12, 10, 8, 0)
    assert k.median_text(0) == "23 (95% CI 5–33)"
    json.dumps(k.to_dict(), allow_nan=False)

    t, e = _aml_group("Maintained")
    k = S.kaplan_meier(t, e, "Maintained", conf_type="log")
    assert k.ci_lower[1:4] == pytest.approx([0.7541338450815255, 0.6192489873993635, 0.4884262874221285], rel=1e-6)
    assert k.ci_upper[1:5] == pytest.approx([1, 1, 1, 0.999157600228473], rel=1e-6)
    assert k.median_text(0) == "31 (95% CI 18–not reached)"


def test_km_loglog_bands_vs_lifelines():
    """Our log-log Greenwood band = lifelines' exponential Greenwood band (where S > 0)."""
    from lifelines import KaplanMeierFitter

    t, e = _aml_group("Maintained")
    k = S.kaplan_meier(t, e, "m")
    kmf = KaplanMeierFitter().fit(t, e)
    ci = kmf.confidence_interval_.to_numpy()
    assert list(k.ci_lower) == pytest.approx(list(ci[:, 0]), rel=1e-9)
    assert list(k.ci_upper) == pytest.approx(list(ci[:, 1]), rel=1e-9)


@pytest.mark.parametrize(
    "t, e, conf_type, expected",
    [
        # R: quantile(survfit(Surv(c(1,2,3,4,5,6), c(1,1,1,0,1,0)) ~ 1), 0.5) -> 4, lower 2, upper NA
        ([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 1, 0], "log", (4, 2, None)),
        # R: quantile(survfit(Surv(c(1,2,3,4), c(1,1,0,0)) ~ 1), 0.5) -> 3 (S = 0.5 to the end: midpoint 2..4), 1, NA
        ([1, 2, 3, 4], [1, 1, 0, 0], "log", (3, 1, None)),
        # R: quantile(survfit(Surv(c(2,3,3,5,7,8,9,11,14,15), c(1,1,1,1,0,1,1,0,1,0)) ~ 1, conf.type = "log-log"),
        #    0.5) -> 8, 2, NA; default conf.type -> 8, 3, NA
        ([2, 3, 3, 5, 7, 8, 9, 11, 14, 15], [1, 1, 1, 1, 0, 1, 1, 0, 1, 0], "log-log", (8, 2, None)),
        ([2, 3, 3, 5, 7, 8, 9, 11, 14, 15], [1, 1, 1, 1, 0, 1, 1, 0, 1, 0], "log", (8, 3, None)),
    ],
)
def test_km_median_rule_vs_r(t, e, conf_type, expected):
    """R survival:::quantile.survfit rule (midpoint when S sits exactly at 0.5); exact."""
    k = S.kaplan_meier(t, e, conf_type=conf_type)
    assert (k.median, k.median_ci_low, k.median_ci_high) == expected


def test_km_edge_cases():
    k = S.kaplan_meier([], [])
    assert k.n == 0 and k.median is None and k.notes
    k = S.kaplan_meier([1, 2, 3], [0, 0, 0])
    assert k.median_text() == "not reached" and set(k.survival) == {1.0}
    k = S.kaplan_meier([1, 2, None], [1, 1, 1])
    assert k.n == 2 and any("left out" in n for n in k.notes)


def test_cox_aml_vs_r():
    """R: summary(coxph(Surv(time, status) ~ x, data = aml)) -> exp(coef) 2.49810532617214,
    lower .95 0.915907257436408, upper .95 6.8134957660633, z 1.78837913266719, p 0.0737148606390457.
    rel 1e-5 (lifelines' Newton–Raphson stops slightly earlier than R's)."""
    r = S.cox_hr(AML_TIME, AML_STATUS, [0] * 11 + [1] * 12, ("Maintained", "Nonmaintained"))
    assert r.estimate == pytest.approx(2.49810532617214, rel=1e-5)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.915907257436408, 6.8134957660633), rel=1e-5)
    assert r.statistic == pytest.approx(1.78837913266719, rel=1e-5)
    assert r.p_value == pytest.approx(0.0737148606390457, rel=1e-5)
    assert r.effect == "hazard ratio (Nonmaintained vs Maintained)"
    assert not any("events" in n for n in r.notes)  # 18 events


def test_cox_notes():
    r = S.cox_hr([1, 2, 3, 4], [1, 0, 0, 0], [0, 0, 1, 1])
    assert r.estimate is None and r.p_value is None
    assert any("No events in comparison" in n for n in r.notes)
    assert any("fewer than 10 events" in n for n in r.notes)
    r = S.cox_hr([1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 1, 1], [0, 1, 1, 0, 1, 0])
    assert r.estimate is not None and any("fewer than 10 events" in n for n in r.notes)
    r = S.cox_hr([1, 2, 3, 4], [1, 1, 0, 1], [0, 0, 1, 1])  # monotone likelihood
    assert r.estimate is None and any("did not converge" in n for n in r.notes)
    assert S.cox_hr([1, 2], [1, 1], [0, 0]).p_value is None


# ---------------------------------------------------------------------------------------------
# multiplicity
# ---------------------------------------------------------------------------------------------
def test_p_adjust_vs_r():
    """R: pp <- c(0.01, 0.04, 0.03, NA, 0.005, 0.2, 0.04); p.adjust(pp, "BH") ->
    0.030 0.048 0.048 NA 0.030 0.200 0.048; p.adjust(pp, "holm") -> 0.05 0.12 0.12 NA 0.03 0.20 0.12. abs 1e-12."""
    pp = [0.01, 0.04, 0.03, None, 0.005, 0.2, 0.04]
    bh = S.benjamini_hochberg(pp)
    ho = S.holm(pp)
    assert math.isnan(bh[3]) and math.isnan(ho[3])
    assert [bh[i] for i in (0, 1, 2, 4, 5, 6)] == pytest.approx([0.03, 0.048, 0.048, 0.03, 0.2, 0.048], abs=1e-12)
    assert [ho[i] for i in (0, 1, 2, 4, 5, 6)] == pytest.approx([0.05, 0.12, 0.12, 0.03, 0.2, 0.12], abs=1e-12)
    assert S.benjamini_hochberg([]) == () and math.isnan(S.holm([float("nan")])[0])


def test_pandas_nullable_inputs():
    """pandas nullable dtypes (pd.NA) count as missing everywhere."""
    import pandas as pd

    s = S.describe_continuous(pd.Series([1, 2, None, 4], dtype="Int64"))
    assert (s.n, s.missing, s.median) == (3, 1, 2.0)
    r = S.wilcoxon_paired(
        pd.Series([1, 2, 3, 4, 5, 6], dtype="Float64"), pd.Series([2, 4, pd.NA, 7, 9, 12], dtype="Float64")
    )
    assert r.n == (5,)
    k = S.kaplan_meier(pd.Series([1.0, 2.0, 3.0]), pd.Series([True, False, pd.NA], dtype="boolean"))
    assert k.n == 2
    c = S.describe_categorical(pd.Series(["a", pd.NA, "b"], dtype="string"), ["a", "b"])
    assert (c.n, c.missing) == (2, 1)


def test_logrank_random_tied_data_vs_lifelines():
    """The vectorised log-rank (stats._logrank_chisq) against lifelines 0.30.3's logrank_test (2 groups) and
    multivariate_logrank_test (3–4 groups) — both equal to R survdiff, rho = 0 — on 200 random cohorts with tied
    times, censoring and a group that can run out early. Tolerance 1e-10 on the statistic (relative) and p. Where a
    group has no expected events, R's df rule applies instead (lifelines differs there; see test_logrank_*_vs_r)."""
    from lifelines.statistics import logrank_test, multivariate_logrank_test
    from scipy.stats import chi2

    rng = np.random.default_rng(20261121)
    checked = r_rule = 0
    for _ in range(200):
        k, n = int(rng.integers(2, 5)), int(rng.integers(4, 60))
        t = np.maximum(np.round(rng.exponential(5, n) * rng.choice([1, 2], n)), 0.5)
        e = rng.random(n) < 0.7
        g = np.array([f"g{i}" for i in rng.integers(0, k, n)])
        if len(set(g)) < 2 or not e.any():
            continue
        res = S.logrank(t, e, g)
        levels = sorted(set(g))
        if len(levels) == 2:
            a, b = g == levels[0], g == levels[1]
            ref = logrank_test(t[a], t[b], event_observed_A=e[a], event_observed_B=e[b])
        else:
            ref = multivariate_logrank_test(t, g, e)
        with_expected = sum(1 for name, v in res.extras if name.startswith("expected") and v > 0)
        if with_expected < len(levels):
            # a group whose follow-up ends before the first event: R survdiff drops it (df = groups with
            # expected > 0, minus 1); lifelines keeps k - 1 df. The statistic is the same; p follows R.
            assert res.df == with_expected - 1
            if res.df == 0:
                assert res.p_value is None
            else:
                assert res.statistic == pytest.approx(ref.test_statistic, rel=1e-10, abs=1e-10)
                assert res.p_value == pytest.approx(float(chi2.sf(res.statistic, res.df)), abs=1e-12)
            r_rule += 1
            continue
        assert res.statistic == pytest.approx(ref.test_statistic, rel=1e-10, abs=1e-10)
        assert res.p_value == pytest.approx(ref.p_value, abs=1e-10)
        checked += 1
    assert checked > 150


def test_km_random_tied_data_vs_lifelines():
    """The product-limit estimate in numpy (stats.kaplan_meier) against lifelines 0.30.3's KaplanMeierFitter on
    200 random cohorts with ties and censoring (times on a 0.5-day grid, as the fever derivation produces):
    same distinct times, numbers at risk, survival (to 1e-13) and log-log bands (to 1e-9)."""
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(20261121)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        t = rng.integers(0, 24, n) / 2
        e = rng.random(n) < 0.7
        k = S.kaplan_meier(t, e)
        kmf = KaplanMeierFitter().fit(t, e)
        tab = kmf.event_table
        lt = tab.index.to_numpy(float)
        ls = kmf.survival_function_.iloc[:, 0].reindex(tab.index).to_numpy(float)
        if lt[0] != 0:
            lt, ls = np.r_[0.0, lt], np.r_[1.0, ls]
        assert k.timeline == pytest.approx(lt, abs=0)
        assert k.survival == pytest.approx(ls, rel=1e-13, abs=1e-15)
        ci = kmf.confidence_interval_.reindex(tab.index).to_numpy(float)
        if tab.index[0] != 0:
            ci = np.r_[[[1.0, 1.0]], ci]
        ok = np.asarray(k.survival) > 0
        assert np.asarray(k.ci_lower)[ok] == pytest.approx(ci[ok, 0], rel=1e-9)
        assert np.asarray(k.ci_upper)[ok] == pytest.approx(ci[ok, 1], rel=1e-9)
        for tt in lt:
            assert k.at_risk([tt]) == (int(tab["at_risk"].get(tt, (t >= tt).sum())),)
