"""Scale (issue 15).

Hodges–Lehmann: beyond 10⁶ pairs the estimates and CIs are found without materialising the n × m pairwise
differences (or the n(n + 1)/2 Walsh averages), by order statistics of the pairs. Forced onto small random
samples (with and without ties), that path gives the same floats as the materialising version (kept here as the
reference) wherever g's sign changes once along the candidates; where float rounding makes it change back
(a midpoint between candidates one ulp apart lands on a data value), the old bisection's result depends on its
path: both are then sign changes of g within one rounding cluster, and the shipped code keeps the materialised
search up to 10⁶ pairs, so small data gives the old floats exactly. And it runs on 50,000 × 50,000.

Contingency tables: the r × c switch (exact / Pearson's χ² / Monte Carlo) and the odds ratio at large n.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from misc_dash import stats as S
from misc_dash.stats import rank as R


# ---------------------------------------------------------------------------------------------
# reference: the materialising implementation (before issue 15), verbatim but for ``searches``, which records
# each root search (component → (g, candidates)) for the check of non-monotone cases below
# ---------------------------------------------------------------------------------------------
def _ref_step_root(g, candidates, lo, hi, searches=None, name=None):
    if searches is not None:
        searches[name] = (g, candidates)
    c = np.unique(candidates[(candidates >= lo) & (candidates <= hi)])
    c = np.unique(np.concatenate([[lo], c, [hi]]))
    if c.size == 1:
        return float(c[0])
    mids = (c[:-1] + c[1:]) / 2
    cache = {}

    def gm(i):
        if i not in cache:
            cache[i] = g(float(mids[i]))
        return cache[i]

    def first(pred):
        lo_i, hi_i = 0, mids.size
        while lo_i < hi_i:
            mid = (lo_i + hi_i) // 2
            if pred(gm(mid)):
                hi_i = mid
            else:
                lo_i = mid + 1
        return lo_i

    k = first(lambda v: v <= 0)
    if k == mids.size:
        return float(c[-1])
    if gm(k) < 0:
        return float(c[k])
    last = first(lambda v: v < 0) - 1
    return float((c[k] + c[last + 1]) / 2)


def _ref_hl_two_sample(x, y, conf_level, searches=None):
    """The asymptotic branch of the old ``_hl_two_sample`` (R wilcox.test(x, y, conf.int = TRUE))."""
    nx, ny = x.size, y.size
    alpha = 1 - conf_level

    def W(d, correct):
        dr, tt = R._ranks_and_ties(np.concatenate([x - d, y]))
        dz = dr[:nx].sum() - nx * (nx + 1) / 2 - nx * ny / 2
        corr = np.sign(dz) * 0.5 if correct else 0.0
        sigma = math.sqrt((nx * ny / 12) * ((nx + ny + 1) - tt / ((nx + ny) * (nx + ny - 1))))
        return (dz - corr) / sigma

    mumin, mumax = float(x.min() - y.max()), float(x.max() - y.min())
    cand = np.subtract.outer(x, y).ravel()
    zhi = R._norm_ppf(1 - alpha / 2)
    w_min, w_max = W(mumin, True), W(mumax, True)

    def root(zq):
        if w_min - zq <= 0:
            return mumin
        if w_max - zq >= 0:
            return mumax
        return _ref_step_root(lambda d: W(d, True) - zq, cand, mumin, mumax, searches, "low" if zq > 0 else "high")

    lo, hi = root(zhi), root(-zhi)
    est = _ref_step_root(lambda d: W(d, False), cand, mumin, mumax, searches, "estimate")
    return est, lo, hi


def _ref_hl_one_sample(d, conf_level, searches=None):
    """The asymptotic branch of the old ``_hl_one_sample`` (R wilcox.test(d, conf.int = TRUE)), with its notes."""
    n = d.size
    notes = []
    alpha = 1 - conf_level

    def W(mu, correct):
        xd = d - mu
        xd = xd[xd != 0]
        nx = xd.size
        dr, tt = R._ranks_and_ties(np.abs(xd))
        zd = dr[xd > 0].sum() - nx * (nx + 1) / 4
        sigma = math.sqrt(nx * (nx + 1) * (2 * nx + 1) / 24 - tt / 48) if nx else 0.0
        corr = np.sign(zd) * 0.5 if correct else 0.0
        if sigma == 0:
            return math.nan if zd - corr == 0 else math.copysign(math.inf, zd - corr)
        return (zd - corr) / sigma

    mumin, mumax = float(d.min()), float(d.max())
    if mumin == mumax:
        notes.append("All non-zero differences are equal: no confidence interval.")
        return mumin, None, None, notes
    i, j = np.triu_indices(n)
    cand = (d[i] + d[j]) / 2
    w_min, w_max = W(mumin, True), W(mumax, True)
    a = alpha
    while True:
        if (w_min - R._norm_ppf(1 - a / 2) < 0) or (w_max - R._norm_ppf(a / 2) > 0):
            a *= 2
        else:
            break
    if a >= 1 or 1 - conf_level < a * 0.75:
        notes.append(
            f"Requested {100 * conf_level:g}% CI not achievable; the interval shown is a "
            f"{100 * (1 - min(1.0, a)):.0f}% CI."
        )
    if a < 1:
        z_hi, z_lo = R._norm_ppf(1 - a / 2), R._norm_ppf(a / 2)
        lo = _ref_step_root(lambda mu: W(mu, True) - z_hi, cand, mumin, mumax, searches, "low")
        hi = _ref_step_root(lambda mu: W(mu, True) - z_lo, cand, mumin, mumax, searches, "high")
    else:
        lo = hi = float(np.median(d))
    est = _ref_step_root(lambda mu: W(mu, False), cand, mumin, mumax, searches, "estimate")
    return est, lo, hi, notes


# ---------------------------------------------------------------------------------------------
# random samples
# ---------------------------------------------------------------------------------------------
def _draw(rng, kind, n, shift=0.0):
    if kind == "continuous":
        return rng.normal(shift, 1.0, n)
    if kind == "one decimal":  # clinical-style values: decimal fractions, many ties, rounding in x − y
        return np.round(rng.normal(10 + shift, 3.0, n), 1)
    if kind == "integers":
        return np.round(rng.gamma(2.0, 4.0, n) + shift)
    if kind == "few levels":  # heavy ties
        return rng.integers(0, 4, n).astype(float) + shift
    if kind == "offset":  # large values, small spread: differences rounded at a coarse ulp
        return 1e6 + np.round(rng.normal(shift, 0.01, n), 4)
    if kind == "lengths of stay":
        return np.round(rng.lognormal(1.5 + shift / 4, 0.6, n) * 4) / 4
    raise ValueError(kind)


KINDS = ["continuous", "one decimal", "integers", "few levels", "offset", "lengths of stay"]
SIZES = [(1, 2), (2, 3), (5, 4), (12, 30), (49, 60), (80, 75), (150, 40), (300, 250)]


def _same(a, b):
    return all((u is None and v is None) or u == v or (u != u and v != v) for u, v in zip(a, b, strict=True))


def _is_jump(value, g, candidates) -> bool:
    """Whether ``value`` is a root :func:`_ref_step_root` could return for *some* bisection path: a candidate
    c_k with g ≤ 0 at its midpoint (or the largest) and g > 0 at the one before (or the smallest); or the
    midpoint of such a c_k with g = 0 there and the first c_j above with g < 0 after g ≥ 0."""
    c = np.unique(candidates)
    gs = [g(float(m)) for m in (c[:-1] + c[1:]) / 2] + [-math.inf]

    def jump(k, strict):
        ok = gs[k] < 0 if strict else gs[k] <= 0
        before = k == 0 or (gs[k - 1] >= 0 if strict else gs[k - 1] > 0)
        return ok and before

    ks = np.nonzero(c == value)[0]
    if ks.size:
        return jump(int(ks[0]), False)
    return any(
        jump(k, False) and gs[k] == 0 and jump(j, True) and (c[k] + c[j]) / 2 == value
        for k in range(c.size)
        for j in range(k + 1, c.size)
        if gs[k] == 0
    )


def _equal_or_ambiguous(got, ref, searches, what) -> None:
    """Equal floats; or, for a component that differs, the old search was ambiguous: g's sign changes more than
    once along the candidates (a midpoint rounds onto a data value or a shifted value, so a zero is dropped or a
    tie appears) and the new value is one of its sign changes too, within a rounding cluster (1e-12)."""
    for name, u, v in zip(("estimate", "low", "high"), got, ref):
        if _same((u,), (v,)):
            continue
        g, cand = searches[name]
        c = np.unique(cand)
        gs = np.array([g(float(m)) for m in (c[:-1] + c[1:]) / 2])
        non_monotone = bool(np.any(np.diff((gs <= 0).astype(int)) < 0)) or bool(
            np.any(np.diff((gs < 0).astype(int)) < 0)
        )
        assert non_monotone, (what, name, u, v)
        assert _is_jump(u, g, cand), (what, name, u, v)
        assert abs(u - v) <= 1e-12 * max(1.0, abs(v)), (what, name, u, v)


@pytest.fixture(params=["order statistics", "order statistics, sampled"])
def selection(request, monkeypatch):
    """Force the path of more than ``_MATERIALISE_MAX`` pairs (order statistics, pairs never materialised) on
    these small samples; the second run also shrinks the selection thresholds so that the sampling narrowing
    and the galloping that 50,000 × 50,000 goes through are exercised."""
    monkeypatch.setattr(R, "_MATERIALISE_MAX", 0)
    if request.param.endswith("sampled"):
        monkeypatch.setattr(R, "_SELECT_DIRECT", 40)
        monkeypatch.setattr(R, "_SELECT_SAMPLE", 24)
    return request.param


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # σ = 0, in both versions
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind", KINDS)
def test_hl_two_sample_equals_materialising_version(kind, seed, selection):
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    for nx, ny in SIZES:
        for shift in (0.0, 0.7, 3.0):
            for conf in (0.95, 0.9, 0.99):
                x, y = _draw(rng, kind, nx, shift), _draw(rng, kind, ny)
                est, lo, hi, _ = R._hl_two_sample(x, y, False, conf)
                searches = {}
                ref = _ref_hl_two_sample(x, y, conf, searches)
                _equal_or_ambiguous((est, lo, hi), ref, searches, (kind, nx, ny, shift, conf))


@pytest.mark.parametrize("seed", [0, 13])
@pytest.mark.parametrize("kind", KINDS)
def test_hl_one_sample_equals_materialising_version(kind, seed, selection):
    rng = np.random.default_rng([seed, 100 + KINDS.index(kind)])
    for n in (1, 2, 3, 7, 20, 49, 60, 150, 300):
        for shift in (0.0, 0.4, 2.0):
            for conf in (0.95, 0.99):
                d = _draw(rng, kind, n, shift) - _draw(rng, kind, n)
                d = d[d != 0]
                if not d.size:
                    continue
                got = R._hl_one_sample(d, False, conf)
                searches = {}
                ref = _ref_hl_one_sample(d, conf, searches)
                assert got[3] == ref[3]
                _equal_or_ambiguous(got[:3], ref[:3], searches, (kind, n, shift, conf))


def test_public_tests_unchanged_on_small_data():
    """mann_whitney / wilcoxon_paired as shipped (≤ 10⁶ pairs: materialised, as before): equal to the reference.
    Also on adversarial values (candidates one ulp apart whose midpoint rounds onto a data value, so that g's
    sign flips back and forth along the candidates), where the bisection's result depends on its path and only
    the materialised path is guaranteed to give the old float."""
    rng = np.random.default_rng(7)
    for _ in range(40):
        x, y = np.round(rng.normal(5, 2, 55), 1), np.round(rng.normal(4, 2, 70), 1)
        r = S.mann_whitney(x, y)
        assert (r.estimate, r.ci_low, r.ci_high) == _ref_hl_two_sample(x, y, 0.95)
        b, f = np.round(rng.normal(50, 8, 64)), np.round(rng.normal(53, 8, 64))
        p = S.wilcoxon_paired(b, f)
        d = (f - b)[f != b]
        assert (p.estimate, p.ci_low, p.ci_high) == _ref_hl_one_sample(d, 0.95)[:3]
    odd = np.array([0.0, 1e-17, 1e-300, 3.3, 1e8, -2.2, 0.1, 0.2, 0.30000000000000004])
    for _ in range(40):
        x, y = rng.choice(odd, 60) + 2 * rng.integers(0, 2, 60), rng.choice(odd, 55)
        r = S.mann_whitney(x, y)
        assert (r.estimate, r.ci_low, r.ci_high) == _ref_hl_two_sample(x, y, 0.95)
        d = x[:55] - y
        p = S.wilcoxon_paired(y, x[:55], conf_level=0.99)
        assert _same((p.estimate, p.ci_low, p.ci_high), _ref_hl_one_sample(d[d != 0], 0.99)[:3])


# ---------------------------------------------------------------------------------------------
# order statistics of the pairs
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("walsh", [False, True])
def test_pair_values_order_statistics(walsh, monkeypatch):
    monkeypatch.setattr(R, "_SELECT_DIRECT", 30)
    monkeypatch.setattr(R, "_SELECT_SAMPLE", 20)
    rng = np.random.default_rng(3)
    for kind in KINDS:
        x, y = _draw(rng, kind, 37), _draw(rng, kind, 23, 0.5)
        if walsh:
            s = np.sort(x)
            pv = R._PairValues(s, s, walsh=True)
            i, j = np.triu_indices(s.size)
            allv = np.sort((s[i] + s[j]) / 2)
        else:
            pv = R._PairValues(x, np.sort(-y), walsh=False)
            allv = np.sort(np.subtract.outer(x, y).ravel())
        assert pv.n_pairs == allv.size and pv.min() == allv[0] and pv.max() == allv[-1]
        for r in sorted({1, 2, allv.size // 3, allv.size // 2, allv.size - 1, allv.size}):
            assert pv.select(r) == allv[r - 1]
        for t in [*allv[:: max(1, allv.size // 25)], allv[0] - 1, allv[-1] + 1, float(np.median(allv)) + 1e-9]:
            t = float(t)
            assert pv.count_le(t) == int((allv <= t).sum()) and pv.count_lt(t) == int((allv < t).sum())
            above, below = allv[allv > t], allv[allv < t]
            assert pv.succ(t) == (float(above[0]) if above.size else None)
            assert pv.pred(t) == (float(below[-1]) if below.size else None)


# ---------------------------------------------------------------------------------------------
# large
# ---------------------------------------------------------------------------------------------
def test_hl_50000_by_50000():
    """2.5·10⁹ pairwise differences, never materialised (seconds, little memory). Continuous values: the estimate
    lies inside the CI, near the true shift, and the CI is about ±1.96·√(π/3)·σ·√(2/n) wide. Values with one
    decimal: the differences sit on the 0.1 grid, so estimate and CI are the grid point 0.3 (up to rounding)."""
    rng = np.random.default_rng(11)
    x, y = rng.normal(10.3, 3, 50_000), rng.normal(10, 3, 50_000)
    r = S.mann_whitney(x, y)
    assert r.method.startswith("asymptotic")
    assert r.ci_low < r.estimate < r.ci_high
    assert abs(r.estimate - 0.3) < 0.1
    half = 1.96 * math.sqrt(math.pi / 3) * 3 * math.sqrt(2 / 50_000)
    assert (r.ci_high - r.ci_low) / 2 == pytest.approx(half, rel=0.1)
    r = S.mann_whitney(np.round(x, 1), np.round(y, 1))
    assert [r.estimate, r.ci_low, r.ci_high] == pytest.approx([0.3, 0.3, 0.3], abs=1e-12)


def test_hl_paired_50000():
    rng = np.random.default_rng(12)
    b = np.round(rng.normal(50, 8, 50_000), 1)
    f = b + np.round(rng.normal(0.5, 4, 50_000), 1)
    r = S.wilcoxon_paired(b, f)
    assert r.ci_low < r.estimate < r.ci_high and abs(r.estimate - 0.5) < 0.1


# 60 pairs of one-decimal values where the midpoint of two candidates one ulp apart, -2.0999999999999996, is
# one of the differences: there a zero is dropped and the continuity-corrected statistic's sign flips back, so
# the 99% CI's lower end is ambiguous at the float level (-2.099999999999999 or -2.1000000000000005)
_AMBIGUOUS_FOLLOWUP = [
    10.1,
    9.0,
    13.4,
    9.2,
    9.4,
    10.5,
    11.5,
    4.6,
    10.7,
    13.6,
    6.6,
    11.1,
    8.4,
    7.0,
    10.7,
    9.6,
    3.7,
    8.2,
    12.3,
    8.2,
    7.7,
    8.8,
    8.6,
    12.1,
    7.4,
    6.4,
    11.2,
    12.9,
    12.0,
    12.4,
    8.0,
    5.5,
    7.8,
    9.9,
    4.9,
    9.0,
    11.7,
    7.9,
    15.8,
    12.2,
    6.3,
    6.6,
    7.8,
    12.0,
    11.3,
    8.3,
    10.4,
    12.3,
    11.5,
    5.2,
    6.7,
    7.2,
    4.8,
    12.5,
    8.0,
    8.0,
    7.5,
    10.8,
    11.6,
    11.9,
]
_AMBIGUOUS_BASELINE = [
    13.6,
    7.2,
    14.8,
    17.3,
    8.4,
    8.9,
    11.7,
    13.6,
    9.2,
    7.6,
    16.1,
    8.5,
    1.8,
    11.6,
    12.9,
    15.1,
    15.2,
    19.2,
    8.3,
    7.0,
    5.6,
    15.1,
    8.7,
    5.0,
    3.8,
    10.4,
    8.7,
    10.9,
    7.4,
    7.8,
    11.4,
    9.4,
    11.7,
    9.6,
    9.1,
    11.1,
    9.0,
    10.5,
    11.3,
    8.4,
    9.6,
    10.3,
    12.0,
    10.7,
    10.7,
    11.4,
    9.0,
    11.0,
    7.8,
    4.5,
    11.2,
    4.1,
    9.5,
    14.5,
    12.1,
    6.9,
    12.2,
    10.7,
    7.5,
    9.7,
]


def test_ambiguous_search_as_shipped_and_by_order_statistics(monkeypatch):
    b, f = np.array(_AMBIGUOUS_BASELINE), np.array(_AMBIGUOUS_FOLLOWUP)
    d = (f - b)[f != b]
    searches = {}
    ref = _ref_hl_one_sample(d, 0.99, searches)
    r = S.wilcoxon_paired(b, f, conf_level=0.99)
    assert (r.estimate, r.ci_low, r.ci_high) == ref[:3]  # ≤ 10⁶ Walsh averages: materialised, as before
    monkeypatch.setattr(R, "_MATERIALISE_MAX", 0)
    r = S.wilcoxon_paired(b, f, conf_level=0.99)
    _equal_or_ambiguous((r.estimate, r.ci_low, r.ci_high), ref[:3], searches, "ambiguous example")


# ---------------------------------------------------------------------------------------------
# contingency tables
# ---------------------------------------------------------------------------------------------
def test_conditional_odds_ratio_numpy_equals_scipy():
    """The numpy conditional MLE and exact CI (used beyond EXACT_MAX_N patients) = scipy's odds_ratio
    (used up to it), on random 2 × 2 tables of 4–1,500 patients, zero cells included: rel 1e-9."""
    from scipy.stats.contingency import odds_ratio

    from misc_dash.stats import categorical as C

    rng = np.random.default_rng(5)
    checked = 0
    while checked < 120:
        t = rng.multinomial(int(rng.integers(4, 1500)), rng.dirichlet([0.6] * 4)).reshape(2, 2)
        if 0 in t.sum(0) or 0 in t.sum(1):
            continue
        res = odds_ratio(t, kind="conditional")
        ci = res.confidence_interval(confidence_level=0.9 if checked % 2 else 0.95)
        got = C._conditional_odds_ratio_numpy(t, 0.9 if checked % 2 else 0.95)
        assert got == pytest.approx((res.statistic, ci.low, ci.high), rel=1e-9), t.tolist()
        checked += 1


def test_fisher_2x2_at_100000_vs_r():
    """R: f <- fisher.test(matrix(c(20000, 25000, 13333, 41667), 2)); p 0 (underflow), estimate
    2.5000599189238861, CI 2.4334062337927165 2.5687072035654692 (uniroot, tol ≈ 1e-4: rel 1e-4). scipy's
    odds_ratio gives 2.500058690967502, 2.4333899939503643, 2.568608109782931 in 23 s (rel 1e-9)."""
    r = S.fisher_2x2([[20000, 13333], [25000, 41667]])
    assert r.p_value == pytest.approx(0.0, abs=1e-300)
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx(
        (2.5000599189238861, 2.4334062337927165, 2.5687072035654692), rel=1e-4
    )
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx(
        (2.500058690967502, 2.4333899939503643, 2.568608109782931), rel=1e-9
    )
    r = S.fisher_2x2([[3, 49997], [0, 50000]])  # a zero cell: CI open above
    assert r.estimate == math.inf and r.ci_high == math.inf and 0 < r.ci_low < 1


def test_fisher_rxc_pearson_chi2_when_large_vs_r():
    """n > EXACT_MAX_N, every expected count ≥ 5: Pearson's χ² = R chisq.test(x, correct = FALSE) with
    x <- matrix(c(3000, 1500, 900, 2000, 1600, 1000), 3): X-squared 145.41965010703478, p 2.6456001047832871e-32
    (rel 1e-9). R's fisher.test(x) itself stops here ("FEXACT error 501").)"""
    r = S.fisher_rxc([[3000, 2000], [1500, 1600], [900, 1000]], groups=("a", "b", "c"))
    assert r.test == "Pearson's χ² test (3×2)" and r.statistic_name == "chi-square" and r.df == 2
    assert r.method.startswith("asymptotic (Pearson's χ²")
    assert r.statistic == pytest.approx(145.41965010703478, rel=1e-9)
    assert r.p_value == pytest.approx(2.6456001047832871e-32, rel=1e-9)
    assert any("more than 1,000 patients: too many tables for the exact test" in n for n in r.notes)
    assert r.statistic_text() == "χ² = 145.42, df = 2"


def test_fisher_rxc_monte_carlo_when_large_and_sparse():
    """n > EXACT_MAX_N with an expected count < 5: R fisher.test(simulate.p.value = TRUE)'s p from SIM_TABLES
    random tables with the margins (fixed seed: reproducible), (1 + k) / (B + 1); near the exact p."""
    from misc_dash.stats import categorical as C

    table = [[250, 200, 3], [150, 160, 1], [90, 100, 0]]
    r = S.fisher_rxc(table, exact_max_n=0)
    assert r.method == f"Monte Carlo ({C.SIM_TABLES} resamples, seed {C.SIM_SEED})"
    assert r.test == "Fisher–Freeman–Halton test (3×3, Monte-Carlo p)"
    assert any("Monte-Carlo p-value from 10,000 random tables" in n for n in r.notes)
    assert r.p_value == S.fisher_rxc(table, exact_max_n=0).p_value
    k = r.p_value * (C.SIM_TABLES + 1) - 1
    assert k == pytest.approx(round(k), abs=1e-6)
    exact = S.fisher_rxc(table)
    assert exact.method == "exact (enumeration)"
    assert r.p_value == pytest.approx(exact.p_value, abs=4 * math.sqrt(exact.p_value / C.SIM_TABLES))


def test_fisher_rxc_rule_keeps_small_tables_exact():
    """Up to EXACT_MAX_N patients the exact test, as before (the default cohort's tables)."""
    from misc_dash.stats import categorical as C

    r = S.fisher_rxc([[8, 6], [2, 9], [4, 17]])
    assert r.method == "exact (enumeration)" and r.test == "Fisher–Freeman–Halton exact test (3×2)"
    assert r.p_value == pytest.approx(0.0462512831037171, rel=1e-6)
    big = [[C.EXACT_MAX_N // 2 - 10, 10], [C.EXACT_MAX_N // 2 - 20, 10], [5, 5]]  # n = EXACT_MAX_N: still exact
    assert sum(map(sum, big)) == C.EXACT_MAX_N and S.fisher_rxc(big).method == "exact (enumeration)"
    big[2][1] += 1
    assert S.fisher_rxc(big).method != "exact (enumeration)"


def test_table_tests_at_100000_are_fast():
    """2 × 2 Fisher with the odds ratio and the r × c switch on 100,000 patients (run, not timed)."""
    rng = np.random.default_rng(2)
    for _ in range(5):
        t = rng.multinomial(100_000, rng.dirichlet([1, 1, 1, 1])).reshape(2, 2)
        r = S.fisher_2x2(t)
        assert r.ci_low <= r.estimate <= r.ci_high
    r = S.fisher_rxc(rng.multinomial(100_000, rng.dirichlet([1] * 6)).reshape(3, 2))
    assert r.test.startswith("Pearson's χ²")


def test_describe_categorical_equals_the_per_level_count():
    """describe_categorical counts each distinct value once (factorised) instead of one pass per level: same
    summary as the per-level count it replaces, with missing values, booleans, numbers and given levels."""
    from misc_dash.stats._common import _is_missing

    def naive(values, levels=None):
        vals = list(values) if values is not None else []
        present = [str(v) for v in vals if not _is_missing(v)]
        labels = tuple(sorted(set(present))) if levels is None else tuple(str(lv) for lv in levels)
        counts = tuple(sum(1 for v in present if v == lv) for lv in labels)
        return (labels, counts, len(present), len(vals) - len(present), len(present) - sum(counts))

    rng = np.random.default_rng(4)
    pool = np.array(["White", "Black", "Asian", "Other", None, math.nan, True, False, 1, 1.0, "1"], dtype=object)
    for size in (0, 1, 5, 200, 5000):
        vals = list(rng.choice(pool, size))
        for levels in (None, ["White", "Other", "Unknown"], [True, "1", "1"]):
            r = S.describe_categorical(vals, levels)
            assert (r.levels, r.counts, r.n, r.missing, r.other) == naive(vals, levels)
    assert S.describe_categorical(None).n == 0
