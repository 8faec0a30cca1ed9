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
* **Large samples**: the asymptotic Hodges–Lehmann root searches bisect on the distinct pairwise differences
  (Walsh averages). Up to ``_MATERIALISE_MAX`` (10⁶) pairs these are materialised; beyond, they are never
  stored: counts, neighbours and order statistics of the pairs come from per-row searches on the sorted samples
  (:class:`_PairValues`), and the root is located from a guess of its rank (the normal approximation) checked
  with g at the same midpoints, so the result is the same whenever g changes sign once along the candidates.
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
# order statistics of pairwise differences / Walsh averages, without materialising the pairs
# ---------------------------------------------------------------------------------------------
_MATERIALISE_MAX = 1_000_000  # up to this many pairs the Hodges–Lehmann candidates are materialised
_SELECT_DIRECT = 1 << 18  # at most this many candidate pairs left: materialise them and partition
_SELECT_SAMPLE = 1 << 14  # pairs sampled per narrowing step of the selection


class _PairValues:
    """The values ``v(i, j) = a[i] + c[j]`` (two-sample: ``a`` = x, ``c`` = sorted −y, so v = x_i − y_j as
    ``np.subtract.outer`` computes it) or ``(a[i] + c[j]) / 2`` for j ≥ i (one-sample: ``a`` = ``c`` = the sorted
    differences, the Walsh averages as ``(d[i] + d[j]) / 2``), each in floating point exactly as the
    materialised arrays hold them, without materialising them.

    Within a row the values do not decrease with j (rounding is monotone), so every count, successor,
    predecessor and order statistic is a per-row search: ``np.searchsorted`` on a float guess, then an exact
    correction on the computed values (stepping over runs of equal ``c``).
    """

    def __init__(self, a: np.ndarray, c: np.ndarray, walsh: bool):
        # rows: the sorted differences (Walsh) or x in decreasing order; columns: increasing
        self.a = np.ascontiguousarray(a if walsh else np.sort(a)[::-1], dtype=float)
        self.c = np.ascontiguousarray(c, dtype=float)
        self.walsh = walsh
        self.m = self.c.size
        self.rows = np.arange(self.a.size)
        self.start = self.rows.copy() if walsh else np.zeros(self.a.size, dtype=np.int64)
        self.n_pairs = int((self.m - self.start).sum())

    def value(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        s = self.a[i] + self.c[j]
        return s / 2 if self.walsh else s

    def _first(self, t: float, strict: bool) -> np.ndarray:
        """Per row: the first column j ≥ start with v(i, j) > t (``strict``) or ≥ t."""
        a, c, start, m = self.a, self.c, self.start, self.m
        guess, side = (2 * t if self.walsh else t) - a, "right" if strict else "left"
        # searchsorted is fastest with increasing keys: x is stored decreasing, the Walsh rows increasing
        j = np.searchsorted(c, guess[::-1], side=side)[::-1] if self.walsh else np.searchsorted(c, guess, side=side)
        j = np.maximum(j, start)

        def past(v):  # v lies at or beyond the boundary
            return v > t if strict else v >= t

        while True:  # step down while the previous column is past the boundary
            k = np.nonzero(j > start)[0]
            k = k[past(self.value(k, j[k] - 1))]
            if not k.size:
                break
            j[k] = np.maximum(np.searchsorted(c, c[j[k] - 1], side="left"), start[k])
        while True:  # step up while the column is not past it
            k = np.nonzero(j < m)[0]
            k = k[~past(self.value(k, j[k]))]
            if not k.size:
                break
            j[k] = np.searchsorted(c, c[j[k]], side="right")
        return j

    def first_gt(self, t: float) -> np.ndarray:
        return self._first(t, True)

    def first_ge(self, t: float) -> np.ndarray:
        return self._first(t, False)

    def count_le(self, t: float) -> int:
        return int((self.first_gt(t) - self.start).sum())

    def count_lt(self, t: float) -> int:
        return int((self.first_ge(t) - self.start).sum())

    def min(self) -> float:
        return float(self.value(self.rows, self.start).min())

    def max(self) -> float:
        return float(self.value(self.rows, np.full(self.rows.size, self.m - 1)).max())

    def succ(self, t: float) -> float | None:
        """The smallest value > t, or None."""
        j = self.first_gt(t)
        k = np.nonzero(j < self.m)[0]
        return float(self.value(k, j[k]).min()) if k.size else None

    def pred(self, t: float) -> float | None:
        """The largest value < t, or None."""
        j = self.first_ge(t)
        k = np.nonzero(j > self.start)[0]
        return float(self.value(k, j[k] - 1).max()) if k.size else None

    def _materialise(self, lo_j: np.ndarray, hi_j: np.ndarray) -> np.ndarray:
        lens = hi_j - lo_j
        rows = np.repeat(self.rows, lens)
        offsets = np.cumsum(lens) - lens
        cols = np.arange(int(lens.sum())) - np.repeat(offsets - lo_j, lens)
        return self.value(rows, cols)

    def select(self, r: int) -> float:
        """The r-th smallest value (1-based, with multiplicity). Open bracket (lo, hi) around it, narrowed by
        pivots drawn from a seeded sample of the pairs inside, until few enough pairs remain to partition."""
        if not 1 <= r <= self.n_pairs:
            raise ValueError(f"rank {r} outside 1..{self.n_pairs}")
        lo_j, hi_j = self.start.copy(), np.full(self.rows.size, self.m)
        below = 0  # pairs ≤ lo
        rng = np.random.default_rng(0)
        while True:
            lens = hi_j - lo_j
            total = int(lens.sum())
            k = r - below
            if total <= _SELECT_DIRECT:
                vals = self._materialise(lo_j, hi_j)
                return float(np.partition(vals, k - 1)[k - 1])
            cum = np.cumsum(lens)
            pos = rng.integers(0, total, _SELECT_SAMPLE)
            row = np.searchsorted(cum, pos, side="right")
            sample = np.sort(self.value(row, lo_j[row] + pos - (cum[row] - lens[row])))
            q, spread = k / total * _SELECT_SAMPLE, 3 * math.sqrt(_SELECT_SAMPLE)
            for idx in (max(0, int(q - spread)), min(_SELECT_SAMPLE - 1, int(q + spread) + 1)):
                t = float(sample[idx])
                gt = self.first_gt(t)
                n_le = int((gt - self.start).sum())
                if n_le < r:
                    lo_j, below = gt, n_le
                    continue
                ge = self.first_ge(t)
                if int((ge - self.start).sum()) >= r:
                    hi_j = ge
                    break
                return t

    def first_true(self, holds, rank: int) -> float:
        """The smallest value v with ``holds(v)``, for a predicate that does not decrease along the sorted
        values and holds at the largest one; ``rank`` is a guess of its rank (1-based), checked, not trusted."""
        v = self.select(min(max(rank, 1), self.n_pairs))
        if holds(v):
            hi, lo = v, None
            u = self.pred(v)
            if u is None or not holds(u):
                return v
            hi, step = u, 1
            while True:  # gallop down
                r = self.count_lt(hi) + 1 - step
                if r < 1:
                    break
                w = self.select(r)
                if not holds(w):
                    lo = w
                    break
                hi, step = w, 2 * step
        else:
            lo = v
            u = self.succ(v)
            if holds(u):
                return u
            lo, step = u, 1
            while True:  # gallop up
                r = self.count_le(lo) + step
                if r >= self.n_pairs:
                    hi = self.max()
                    break
                w = self.select(r)
                if holds(w):
                    hi = w
                    break
                lo, step = w, 2 * step
        while True:  # bisect between lo (does not hold, or none) and hi (holds)
            below = 0 if lo is None else self.count_le(lo)
            inside = self.count_lt(hi) - below
            if inside == 0:
                return hi
            w = self.select(below + (inside + 1) // 2)
            if holds(w):
                hi = w
            else:
                lo = w


def _pair_step_root(pv: _PairValues, g, g_guess) -> float:
    """:func:`_step_root` of ``g`` on the candidates ``pv`` (all of them, between their minimum and maximum),
    with the same result, without materialising them: the same jump point found with g evaluated at the same
    midpoints of consecutive distinct candidates, located by order statistics.

    ``g_guess(dz)`` approximates g from the centred statistic dz = N/2 − #{pairs ≤ candidate} (its value
    between a candidate and the next one when nothing is tied there) to guess the rank of the root."""
    if pv.min() == pv.max():
        return pv.min()
    n_pairs = pv.n_pairs
    cache: dict[float, float | None] = {}

    def g_mid(v: float) -> float | None:  # g between candidate v and the next one; None at the largest
        if v not in cache:
            s = pv.succ(v)
            cache[v] = None if s is None else g((v + s) / 2)
        return cache[v]

    def guess(strict: bool) -> int:  # smallest count C with g_guess(N/2 − C) ≤ 0 (< 0 if strict)
        lo, hi = 1, n_pairs
        while lo < hi:
            mid = (lo + hi) // 2
            val = g_guess(n_pairs / 2 - mid)
            if val < 0 or (val == 0 and not strict):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def le0(v: float) -> bool:
        gv = g_mid(v)
        return gv is None or gv <= 0

    def lt0(v: float) -> bool:
        gv = g_mid(v)
        return gv is None or gv < 0

    ck = pv.first_true(le0, guess(False))
    gk = g_mid(ck)
    if gk is None or gk < 0:
        return ck
    cj = pv.first_true(lt0, guess(True))  # g == 0 from ck up to (not including) cj
    return float((ck + cj) / 2)


def _candidate_roots(x: np.ndarray, y: np.ndarray | None, sigma0: float):
    """The root search of the Hodges–Lehmann estimates and CIs: ``root(g, zq)`` = :func:`_step_root` of g on
    the pairwise differences x_i − y_j (or, ``y`` None, the Walsh averages (x_i + x_j) / 2, i ≤ j), where g is
    the normal statistic minus ``zq`` (continuity-corrected) or, ``zq`` None, the uncorrected statistic.

    Up to ``_MATERIALISE_MAX`` pairs the candidates are materialised, as they always were; beyond, the same
    midpoints are found by order statistics (:func:`_pair_step_root`), with the rank of the root guessed from
    the normal approximation (σ without ties between the shifted samples, ``sigma0``)."""
    n_pairs = x.size * y.size if y is not None else x.size * (x.size + 1) // 2
    lo, hi = (float(x.min() - y.max()), float(x.max() - y.min())) if y is not None else (float(x.min()), float(x.max()))

    def guess(zq: float | None):
        if zq is None:
            return lambda dz: dz / sigma0
        return lambda dz: (dz - np.sign(dz) * 0.5) / sigma0 - zq

    if n_pairs <= _MATERIALISE_MAX:
        if y is not None:
            cand = np.subtract.outer(x, y).ravel()
        else:
            i, j = np.triu_indices(x.size)
            cand = (x[i] + x[j]) / 2
        return lambda g, zq: _step_root(g, cand, lo, hi)
    pv = _PairValues(x, np.sort(-y), walsh=False) if y is not None else _PairValues(np.sort(x), np.sort(x), walsh=True)
    return lambda g, zq: _pair_step_root(pv, g, guess(zq))


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
    tt0 = _ranks_and_ties(x)[1] + _ranks_and_ties(y)[1]
    step_root = _candidate_roots(x, y, math.sqrt((nx * ny / 12) * ((nx + ny + 1) - tt0 / ((nx + ny) * (nx + ny - 1)))))
    zhi = _norm_ppf(1 - alpha / 2)
    w_min, w_max = W(mumin, True), W(mumax, True)

    def root(zq: float) -> float:
        if w_min - zq <= 0:
            return mumin
        if w_max - zq >= 0:
            return mumax
        return step_root(lambda d: W(d, True) - zq, zq)

    lo, hi = root(zhi), root(-zhi)
    est = step_root(lambda d: W(d, False), None)
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
    step_root = _candidate_roots(d, None, math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - _ranks_and_ties(d)[1] / 48))
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
        lo = step_root(lambda mu: W(mu, True) - z_hi, z_hi)
        hi = step_root(lambda mu: W(mu, True) - z_lo, z_lo)
    else:
        lo = hi = float(np.median(d))
    est = step_root(lambda mu: W(mu, False), None)
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
