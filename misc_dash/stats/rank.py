"""Rank tests: Mann–Whitney U, Kruskal–Wallis, Wilcoxon signed-rank (paired), with the Hodges–Lehmann
estimates and confidence intervals R reports, and the rank helpers they share.

Where scipy and R differ, R is the reference:

* **Mann–Whitney** = R ``wilcox.test(x, y)``: exact when both samples < 50 and no ties, otherwise normal
  approximation with tie-corrected variance and continuity correction (p-value from
  ``scipy.stats.mannwhitneyu``). The statistic is R's ``W`` (= scipy's ``U`` for the first sample). The effect
  is the Hodges–Lehmann shift (x − y) with the CI R gives with ``conf.int = TRUE``: exact order statistics of the
  pairwise differences in the exact case, inversion of the (continuity-corrected) normal statistic in the
  asymptotic case. R finds the asymptotic roots with ``uniroot(tol = 1e-4)`` on a step function; we locate the
  jump point exactly (agreement ≈ 1e-4).
* **Wilcoxon signed-rank (paired)** = R ``wilcox.test(followup, baseline, paired = TRUE)``: differences are
  follow-up − baseline, zero differences dropped, exact when n < 50 with no ties and no zeros, otherwise normal
  approximation with continuity correction (p-value computed here with R's formulas, checked against
  ``scipy.stats.wilcoxon``). The statistic is R's **V = W+** (sum of ranks of positive differences); scipy's
  ``wilcoxon`` reports min(W+, W−) (same p-value). The effect is the Hodges–Lehmann pseudo-median of the
  differences with R's CI (exact Walsh-average order statistics, or normal inversion on the non-zero
  differences, as R does).
* **Kruskal–Wallis** = ``scipy.stats.kruskal`` = R ``kruskal.test`` (tie-corrected χ², k − 1 df).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import special as _special
from scipy import stats as _sps

from ._common import SMALL_GROUP, _clean, _empty_notes, _small_group_notes, _to_float
from .results import TestResult

_TOL_ROOT = 1e-4  # R wilcox.test tol.root


# ---------------------------------------------------------------------------------------------
# exact null distributions (for R's exact confidence intervals)
# ---------------------------------------------------------------------------------------------
def _wilcox_null_pmf(m: int, n: int) -> np.ndarray:
    """P(U = u), u = 0..m*n, for the Mann–Whitney statistic (R dwilcox)."""
    # N(u; i, j) = N(u - j; i - 1, j) + N(u; i, j - 1)
    prev = [np.ones(1) for _ in range(n + 1)]  # i = 0: U = 0 only
    for i in range(1, m + 1):
        cur = [np.ones(1)]  # j = 0: U = 0 only
        for j in range(1, n + 1):
            a = np.zeros(i * j + 1)
            a[j : j + prev[j].size] += prev[j]
            a[: cur[j - 1].size] += cur[j - 1]
            cur.append(a)
        prev = cur
    counts = prev[n]
    return counts / counts.sum()


@functools.lru_cache(maxsize=64)
def _signrank_null_pmf(n: int) -> np.ndarray:
    """P(V = v), v = 0..n(n+1)/2, for the signed-rank statistic (R dsignrank). Cached, read-only."""
    counts = np.ones(1)
    for i in range(1, n + 1):
        new = np.zeros(counts.size + i)
        new[: counts.size] += counts
        new[i:] += counts
        counts = new
    pmf = counts / counts.sum()
    pmf.flags.writeable = False
    return pmf


def _signrank_p(v: float, n: int, exact: bool, tie_term: float = 0.0) -> float:
    """Two-sided p-value of the signed-rank statistic V = W+ of n non-zero differences, as R's
    ``wilcox.test(paired = TRUE)`` computes it: exact from the null distribution
    (``psignrank(V - 1, n, lower = FALSE)`` above the mean, ``psignrank(V, n)`` otherwise, doubled), or the
    normal approximation with continuity and tie correction (``tie_term`` = Σ(t³ − t)). Checked against
    ``scipy.stats.wilcoxon`` in the tests."""
    mean = n * (n + 1) / 4
    if exact:
        pmf = _signrank_null_pmf(n)
        k = round(float(v))
        p = float(pmf[k:].sum()) if v > mean else float(pmf[: k + 1].sum())
        return min(2 * p, 1.0)
    z = v - mean
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - tie_term / 48)
    z = (z - math.copysign(0.5, z) if z != 0 else z) / sigma
    return min(2 * float(min(_special.ndtr(z), _special.ndtr(-z))), 1.0)


def _r_lower_quantile(pmf: np.ndarray, prob: float) -> int:
    """R's qwilcox/qsignrank for prob <= 0.5: smallest q with P(X <= q) >= prob - 10 eps."""
    cdf = np.cumsum(pmf)
    return int(np.argmax(cdf >= prob - 10 * np.finfo(float).eps))


def _step_root(g, candidates: np.ndarray, lo: float, hi: float) -> float:
    """Root of a non-increasing step function ``g`` whose jumps lie in ``candidates`` (within [lo, hi]).

    Emulates R's ``uniroot`` on such a function: the root is the jump point where g changes sign; if g is
    exactly 0 on a plateau, the plateau's midpoint.
    """
    c = np.unique(candidates[(candidates >= lo) & (candidates <= hi)])
    c = np.unique(np.concatenate([[lo], c, [hi]]))
    if c.size == 1:
        return float(c[0])
    mids = (c[:-1] + c[1:]) / 2
    cache: dict[int, float] = {}

    def gm(i: int) -> float:
        if i not in cache:
            cache[i] = g(float(mids[i]))
        return cache[i]

    def first(pred) -> int:  # first index i with pred(gm(i)) (monotone), or mids.size
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
    last = first(lambda v: v < 0) - 1  # g == 0 on mids[k..last]
    return float((c[k] + c[last + 1]) / 2)


def _norm_ppf(q: float) -> float:
    """Standard normal quantile: scipy's ``norm.ppf`` is ``special.ndtri`` (×1 + 0) behind its argument
    handling; called in loops here."""
    return float(_special.ndtri(q))


def _average_ranks(a: np.ndarray) -> np.ndarray:
    """Ranks with ties averaged, 1-based, for a 1-d array without NaN: scipy ``rankdata(a)`` ("average"),
    by the same arithmetic (so bit-identical) without its per-call overhead (hot inside root searches)."""
    return _ranks_and_ties(a)[0]


def _ranks_and_ties(a: np.ndarray) -> tuple[np.ndarray, float]:
    """:func:`_average_ranks` and the tie term Σ(t³ − t) over tie groups of size t, from one sort (the
    Hodges–Lehmann root searches need both)."""
    order = np.argsort(a, kind="mergesort")
    s = a[order]
    first = np.r_[True, s[1:] != s[:-1]]
    dense = np.cumsum(first)
    bounds = np.r_[np.nonzero(first)[0], a.size]
    ranks = np.empty(a.size)
    ranks[order] = 0.5 * (bounds[dense] + bounds[dense - 1] + 1)
    cnt = np.diff(bounds)
    return ranks, float((cnt.astype(float) ** 3 - cnt).sum())


# ---------------------------------------------------------------------------------------------
# Mann–Whitney / Kruskal–Wallis
# ---------------------------------------------------------------------------------------------
def _hl_two_sample(
    x: np.ndarray, y: np.ndarray, exact: bool, conf_level: float
) -> tuple[float, float, float, list[str]]:
    """Hodges–Lehmann shift and CI exactly as R ``wilcox.test(x, y, conf.int = TRUE)``."""
    nx, ny = x.size, y.size
    notes: list[str] = []
    alpha = 1 - conf_level
    if exact:
        diffs = np.sort(np.subtract.outer(x, y).ravel())
        pmf = _wilcox_null_pmf(nx, ny)
        qu = _r_lower_quantile(pmf, alpha / 2)
        if qu == 0:
            qu = 1
        ql = nx * ny - qu
        achieved = 2 * float(np.cumsum(pmf)[qu - 1]) if qu >= 1 else 0.0
        if achieved - alpha > alpha / 2:
            notes.append(
                f"Requested {100 * conf_level:g}% CI not achievable with these sample sizes; "
                f"the interval shown has {100 * (1 - achieved):.1f}% coverage."
            )
        return float(np.median(diffs)), float(diffs[qu - 1]), float(diffs[ql]), notes

    def W(d: float, correct: bool) -> float:
        dr, tt = _ranks_and_ties(np.concatenate([x - d, y]))
        dz = dr[:nx].sum() - nx * (nx + 1) / 2 - nx * ny / 2
        corr = np.sign(dz) * 0.5 if correct else 0.0
        sigma = math.sqrt((nx * ny / 12) * ((nx + ny + 1) - tt / ((nx + ny) * (nx + ny - 1))))
        return (dz - corr) / sigma

    mumin, mumax = float(x.min() - y.max()), float(x.max() - y.min())
    cand = np.subtract.outer(x, y).ravel()
    zhi = _norm_ppf(1 - alpha / 2)
    w_min, w_max = W(mumin, True), W(mumax, True)

    def root(zq: float) -> float:
        if w_min - zq <= 0:
            return mumin
        if w_max - zq >= 0:
            return mumax
        return _step_root(lambda d: W(d, True) - zq, cand, mumin, mumax)

    lo, hi = root(zhi), root(-zhi)
    est = _step_root(lambda d: W(d, False), cand, mumin, mumax)
    return est, lo, hi, notes


def mann_whitney(
    x: Any,
    y: Any,
    groups: Sequence[str] = ("group 1", "group 2"),
    conf_level: float = 0.95,
) -> TestResult:
    """Two-sided Mann–Whitney U (Wilcoxon rank-sum) test = R ``wilcox.test(x, y, conf.int = TRUE)``.

    Statistic U = R's W (rank sum of ``x`` minus nx(nx+1)/2). Effect: Hodges–Lehmann shift x − y with CI.
    """
    xa, mx = _clean(x)
    ya, my = _clean(y)
    groups = tuple(str(g) for g in groups)
    ns = (int(xa.size), int(ya.size))
    notes = _empty_notes(groups, ns) + _small_group_notes(groups, ns)
    if mx or my:
        notes.append(f"Missing values left out: {mx} in {groups[0]}, {my} in {groups[1]}.")
    base = dict(
        statistic_name="U",
        groups=groups,
        n=ns,
        effect=f"Hodges–Lehmann shift ({groups[0]} − {groups[1]})",
        conf_level=conf_level,
    )
    if 0 in ns:
        return TestResult(test="Mann–Whitney U", statistic=None, p_value=None, notes=tuple(notes), **base)
    both = np.concatenate([xa, ya])
    ties = np.unique(both).size != both.size
    small = xa.size < 50 and ya.size < 50
    exact = small and not ties
    u = float(_average_ranks(both)[: xa.size].sum() - xa.size * (xa.size + 1) / 2)
    if np.unique(both).size == 1:
        notes.append("All values are identical: no test possible.")
        return TestResult(test="Mann–Whitney U", statistic=u, p_value=None, method="", notes=tuple(notes), **base)
    if exact:
        p = float(_sps.mannwhitneyu(xa, ya, alternative="two-sided", method="exact").pvalue)
        method = "exact"
    else:
        p = float(_sps.mannwhitneyu(xa, ya, alternative="two-sided", method="asymptotic", use_continuity=True).pvalue)
        method = "asymptotic (normal, continuity-corrected, tie-corrected)"
        if small:
            notes.append("Tied values: exact p-value not available, normal approximation used (as R).")
        else:
            notes.append("A group has 50 or more values: normal approximation used (as R's default).")
    est, lo, hi, ci_notes = _hl_two_sample(xa, ya, exact, conf_level)
    notes.extend(ci_notes)
    test = f"Mann–Whitney U ({'exact' if exact else 'normal approximation'})"
    return TestResult(
        test=test,
        statistic=u,
        p_value=min(p, 1.0),
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        method=method,
        notes=tuple(notes),
        **base,
    )


def kruskal_wallis(samples: Mapping[str, Any] | Sequence[Any], groups: Sequence[str] | None = None) -> TestResult:
    """Kruskal–Wallis rank-sum test (tie-corrected χ², k − 1 df) = R ``kruskal.test``.

    ``samples``: mapping label → values, or a sequence of value arrays (labels from ``groups``).
    Empty groups are left out with a note.
    """
    if isinstance(samples, Mapping):
        labels = tuple(str(k) for k in samples)
        arrays = [_clean(v) for v in samples.values()]
    else:
        arrays = [_clean(v) for v in samples]
        labels = (
            tuple(str(g) for g in groups) if groups is not None else tuple(f"group {i + 1}" for i in range(len(arrays)))
        )
    data = [a for a, _ in arrays]
    missing = sum(m for _, m in arrays)
    ns = tuple(int(a.size) for a in data)
    notes = _small_group_notes(labels, ns)
    used = [a for a in data if a.size]
    empty = [g for g, n in zip(labels, ns) if n == 0]
    if empty:
        notes.append(f"No patients with data in: {', '.join(empty)} — left out of the test.")
    if missing:
        notes.append(f"{missing} missing value(s) left out.")
    base = dict(
        test="Kruskal–Wallis", statistic_name="chi-square", groups=labels, n=ns, method="asymptotic (χ², tie-corrected)"
    )
    if len(used) < 2:
        notes.append("Fewer than two groups with data — test not computed.")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), **base)
    allv = np.concatenate(used)
    if np.unique(allv).size == 1:
        notes.append("All values are identical: no test possible.")
        return TestResult(statistic=None, p_value=None, df=len(used) - 1, notes=tuple(notes), **base)
    res = _sps.kruskal(*used)
    return TestResult(
        statistic=float(res.statistic), p_value=float(res.pvalue), df=len(used) - 1, notes=tuple(notes), **base
    )


# ---------------------------------------------------------------------------------------------
# paired
# ---------------------------------------------------------------------------------------------
def _hl_one_sample(
    d: np.ndarray, exact: bool, conf_level: float
) -> tuple[float | None, float | None, float | None, list[str]]:
    """Pseudo-median and CI exactly as R ``wilcox.test(d, conf.int = TRUE)`` (d = non-zero differences)."""
    n = d.size
    notes: list[str] = []
    alpha = 1 - conf_level
    if n == 0:
        return None, None, None, notes
    if exact:
        i, j = np.triu_indices(n)
        walsh = np.sort((d[i] + d[j]) / 2)
        pmf = _signrank_null_pmf(n)
        qu = _r_lower_quantile(pmf, alpha / 2)
        if qu == 0:
            qu = 1
        ql = n * (n + 1) // 2 - qu
        achieved = 2 * float(np.cumsum(pmf)[qu - 1])
        if achieved - alpha > alpha / 2:
            notes.append(
                f"Requested {100 * conf_level:g}% CI not achievable with n = {n}; the interval shown has "
                f"{100 * (1 - achieved):.1f}% coverage."
            )
        return float(np.median(walsh)), float(walsh[qu - 1]), float(walsh[ql]), notes

    def W(mu: float, correct: bool) -> float:
        xd = d - mu
        xd = xd[xd != 0]
        nx = xd.size
        dr, tt = _ranks_and_ties(np.abs(xd))
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
        if (w_min - _norm_ppf(1 - a / 2) < 0) or (w_max - _norm_ppf(a / 2) > 0):
            a *= 2
        else:
            break
    if a >= 1 or 1 - conf_level < a * 0.75:
        notes.append(
            f"Requested {100 * conf_level:g}% CI not achievable; the interval shown is a "
            f"{100 * (1 - min(1.0, a)):.0f}% CI."
        )
    if a < 1:
        z_hi, z_lo = _norm_ppf(1 - a / 2), _norm_ppf(a / 2)
        lo = _step_root(lambda mu: W(mu, True) - z_hi, cand, mumin, mumax)
        hi = _step_root(lambda mu: W(mu, True) - z_lo, cand, mumin, mumax)
    else:
        lo = hi = float(np.median(d))
    est = _step_root(lambda mu: W(mu, False), cand, mumin, mumax)
    return est, lo, hi, notes


def wilcoxon_paired(
    baseline: Any,
    followup: Any,
    conf_level: float = 0.95,
    label: str = "paired",
) -> TestResult:
    """Two-sided Wilcoxon signed-rank test on follow-up − baseline
    = R ``wilcox.test(followup, baseline, paired = TRUE, conf.int = TRUE)``.

    Pairs with a missing side are dropped (note). Zero differences are dropped (R). Statistic V = W+.
    Effect: Hodges–Lehmann pseudo-median of the change with R's CI; the plain median change is in ``extras``.
    """
    b = _to_float(baseline)
    f = _to_float(followup)
    if b.shape != f.shape:
        raise ValueError("baseline and followup must have the same length (one pair per patient)")
    ok = ~(np.isnan(b) | np.isnan(f))
    d_all = f[ok] - b[ok]
    n_pairs = int(d_all.size)
    notes: list[str] = []
    if (~ok).sum():
        notes.append(f"{int((~ok).sum())} incomplete pair(s) left out.")
    zeros = int((d_all == 0).sum())
    d = d_all[d_all != 0]
    n = int(d.size)
    extras: list[tuple[str, float | None]] = [
        ("median change", float(np.median(d_all)) if n_pairs else None),
        ("zero differences", float(zeros)),
        ("pairs", float(n_pairs)),
        ("non-zero pairs", float(n)),
    ]
    base = dict(
        statistic_name="V (W+)",
        groups=(label,),
        n=(n_pairs,),
        effect="median change (Hodges–Lehmann pseudo-median, follow-up − baseline)",
        conf_level=conf_level,
    )
    if 0 < n_pairs < SMALL_GROUP:
        notes.append(f"Only {n_pairs} pairs: interpret with caution.")
    if n_pairs == 0:
        notes.append("No complete pairs — test not computed.")
        return TestResult(
            test="Wilcoxon signed-rank", statistic=None, p_value=None, notes=tuple(notes), extras=tuple(extras), **base
        )
    if n == 0:
        notes.append("Every difference is zero — no change; test not computed.")
        return TestResult(
            test="Wilcoxon signed-rank",
            statistic=0.0,
            p_value=None,
            estimate=0.0,
            notes=tuple(notes),
            extras=tuple(extras),
            **base,
        )
    ranks, tie_term = _ranks_and_ties(np.abs(d))
    v = float(ranks[d > 0].sum())
    ties = tie_term > 0
    exact = n < 50 and not ties and zeros == 0
    p = _signrank_p(v, n, exact, tie_term)
    if exact:
        method = "exact"
    else:
        method = "asymptotic (normal, continuity-corrected, tie-corrected)"
        why = [
            w
            for w, flag in (("tied differences", ties), (f"{zeros} zero difference(s)", zeros > 0), ("n ≥ 50", n >= 50))
            if flag
        ]
        notes.append(f"Exact p-value not available ({', '.join(why)}): normal approximation used (as R).")
    if zeros:
        notes.append(f"{zeros} pair(s) with no change (zero difference) dropped from the ranking, as R does.")
    est, lo, hi, ci_notes = _hl_one_sample(d, exact, conf_level)
    notes.extend(ci_notes)
    test = f"Wilcoxon signed-rank ({'exact' if exact else 'normal approximation'})"
    return TestResult(
        test=test,
        statistic=v,
        p_value=min(p, 1.0),
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        method=method,
        notes=tuple(notes),
        extras=tuple(extras),
        **base,
    )
