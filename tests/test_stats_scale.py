"""Scale (issue 15): the Hodges–Lehmann estimates and CIs without the n × m pairwise differences (or the
n(n + 1)/2 Walsh averages) give the same floats as the materialising version they replace (kept here as the
reference), on random small samples with and without ties; and they run on 50,000 × 50,000."""

from __future__ import annotations

import math

import numpy as np
import pytest

from misc_dash import stats as S
from misc_dash.stats import rank as R


# ---------------------------------------------------------------------------------------------
# reference: the materialising implementation (before issue 15), verbatim
# ---------------------------------------------------------------------------------------------
def _ref_step_root(g, candidates, lo, hi):
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


def _ref_hl_two_sample(x, y, conf_level):
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
        return _ref_step_root(lambda d: W(d, True) - zq, cand, mumin, mumax)

    lo, hi = root(zhi), root(-zhi)
    est = _ref_step_root(lambda d: W(d, False), cand, mumin, mumax)
    return est, lo, hi


def _ref_hl_one_sample(d, conf_level):
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
        lo = _ref_step_root(lambda mu: W(mu, True) - z_hi, cand, mumin, mumax)
        hi = _ref_step_root(lambda mu: W(mu, True) - z_lo, cand, mumin, mumax)
    else:
        lo = hi = float(np.median(d))
    est = _ref_step_root(lambda mu: W(mu, False), cand, mumin, mumax)
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
@pytest.mark.parametrize("kind", KINDS)
def test_hl_two_sample_equals_materialising_version(kind, selection):
    rng = np.random.default_rng(abs(hash(kind)) % 2**32)
    for nx, ny in SIZES:
        for shift in (0.0, 0.7, 3.0):
            for conf in (0.95, 0.9, 0.99):
                x, y = _draw(rng, kind, nx, shift), _draw(rng, kind, ny)
                est, lo, hi, _ = R._hl_two_sample(x, y, False, conf)
                ref = _ref_hl_two_sample(x, y, conf)
                assert _same((est, lo, hi), ref), (kind, nx, ny, shift, conf, (est, lo, hi), ref)


@pytest.mark.parametrize("kind", KINDS)
def test_hl_one_sample_equals_materialising_version(kind, selection):
    rng = np.random.default_rng(1 + abs(hash(kind)) % 2**32)
    for n in (1, 2, 3, 7, 20, 49, 60, 150, 300):
        for shift in (0.0, 0.4, 2.0):
            for conf in (0.95, 0.99):
                d = _draw(rng, kind, n, shift) - _draw(rng, kind, n)
                d = d[d != 0]
                if not d.size:
                    continue
                got = R._hl_one_sample(d, False, conf)
                ref = _ref_hl_one_sample(d, conf)
                assert _same(got[:3], ref[:3]) and got[3] == ref[3], (kind, n, shift, conf, got, ref)


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
