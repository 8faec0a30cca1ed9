"""Contingency tables: Fisher's exact test (2×2 and Freeman–Halton r×c), "k of n" per group, odds ratios.

Where scipy and R differ, R is the reference:

* **Fisher 2×2**: p-value from ``scipy.stats.fisher_exact`` (two-sided, = R ``fisher.test``), at any n.
  The odds ratio reported is the **conditional MLE** with its exact (Cornfield) confidence interval, as
  R ``fisher.test`` does, via ``scipy.stats.contingency.odds_ratio(kind="conditional")`` (noncentral
  hypergeometric) up to ``EXACT_MAX_N`` patients, and beyond by the same equations solved the same way on the
  distribution evaluated in numpy (scipy's sums take seconds at 10,000 patients; the two agree to ~1e-11).
  scipy's ``fisher_exact`` statistic is the *sample* odds ratio ad/bc, which is **not** what we report. R
  solves for the MLE/CI with ``uniroot(tol ≈ 1.2e-4)``, scipy more tightly, so the two agree to ~1e-4
  relative. The sample odds ratio with a Woolf (logit) CI is available separately through
  :func:`odds_ratio_2x2` (``kind="sample"``).
* **Fisher r×c** (Freeman–Halton): scipy 1.17's ``fisher_exact`` handles r×c tables only with a
  Monte-Carlo/permutation ``method`` (its default for r×c is Monte Carlo, not exact). Up to ``EXACT_MAX_N``
  patients we sum exactly over every table with the observed margins, like R ``fisher.test`` (tables with
  probability ≤ p_obs·(1 + 1e-7) count as "as extreme"), by a vectorised meet-in-the-middle enumeration (while
  a half-enumeration needs at most ``max_tables`` partial tables). Otherwise: Pearson's χ² (R
  ``chisq.test(correct = FALSE)``) when every expected count is ≥ 5, else R's ``fisher.test(simulate.p.value =
  TRUE)`` Monte-Carlo p (``SIM_TABLES`` tables, seed ``SIM_SEED``); the test's name, method and a note say so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as _sps
from scipy.optimize import brentq as _brentq
from scipy.special import gammaln

from ._common import _empty_notes, _small_group_notes
from .descriptive import wilson_interval
from .results import Effect, TestResult

_R_REL_ERR = 1 + 1e-7  # R fisher.test: d <= d_obs * (1 + 1e-7) counts as "as extreme"
_R_ALMOST_1 = 1 + 64 * np.finfo(float).eps  # R fisher.test(simulate.p.value = TRUE): STATISTIC / almost.1

#: at most this many patients: r × c tables exact (enumeration), odds ratio CIs by scipy; beyond, see fisher_rxc
EXACT_MAX_N = 1_000
#: Monte-Carlo p-values of r × c tables: random tables and seed
SIM_TABLES = 10_000
SIM_SEED = 20240101


def _as_table(table: Any) -> np.ndarray:
    t = np.asarray(table)
    if t.ndim != 2:
        raise ValueError("table must be two-dimensional")
    if np.any(t < 0) or np.any(np.asarray(t, dtype=float) != np.round(np.asarray(t, dtype=float))):
        raise ValueError("table must hold non-negative integer counts")
    return t.astype(np.int64)


def fisher_2x2(
    table: Any,
    groups: Sequence[str] = ("group 1", "group 2"),
    conf_level: float = 0.95,
) -> TestResult:
    """Two-sided Fisher exact test on a 2×2 table ``[[a, b], [c, d]]`` (rows = groups, columns =
    outcome yes / no) = R ``fisher.test``. Estimate = conditional MLE odds ratio with its exact CI (as R).
    """
    t = _as_table(table)
    if t.shape != (2, 2):
        raise ValueError("fisher_2x2 needs a 2×2 table; use fisher_rxc")
    groups = tuple(str(g) for g in groups)
    ns = tuple(int(s) for s in t.sum(axis=1))
    notes = _empty_notes(groups, ns) + _small_group_notes(groups, ns)
    base = dict(
        test="Fisher's exact test",
        statistic_name="odds ratio (conditional MLE)",
        groups=groups,
        n=ns,
        effect="odds ratio (conditional MLE)",
        method="exact (two-sided)",
        conf_level=conf_level,
    )
    if 0 in ns:
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), **base)
    if 0 in t.sum(axis=0):
        notes.append(
            "Outcome is the same in every patient (a column of the table is empty): p = 1, odds ratio undefined."
        )
        return TestResult(statistic=None, p_value=1.0, notes=tuple(notes), **base)
    p = float(_sps.fisher_exact(t, alternative="two-sided").pvalue)
    est, ci_low, ci_high = _conditional_odds_ratio(t, conf_level)
    if est == 0 or math.isinf(est):
        notes.append(
            f"A cell is zero: the conditional MLE odds ratio is {'0' if est == 0 else '∞'} "
            "and its CI is open on one side."
        )
    return TestResult(
        statistic=est, p_value=p, estimate=est, ci_low=ci_low, ci_high=ci_high, notes=tuple(notes), **base
    )


def _conditional_odds_ratio(t: np.ndarray, conf_level: float) -> tuple[float, float, float]:
    """Conditional MLE of the odds ratio of a 2×2 table (no empty row or column) and its exact CI, as R
    ``fisher.test``: scipy's ``odds_ratio(kind="conditional")`` up to ``EXACT_MAX_N`` patients, beyond that
    :func:`_conditional_odds_ratio_numpy` (the same equations; scipy sums the noncentral hypergeometric
    probabilities one Python call each, which takes seconds at 10,000 patients)."""
    if int(t.sum()) > EXACT_MAX_N:
        return _conditional_odds_ratio_numpy(t, conf_level)
    from scipy.stats.contingency import odds_ratio as _odds_ratio

    res = _odds_ratio(t, kind="conditional")
    ci = res.confidence_interval(confidence_level=conf_level)
    return float(res.statistic), float(ci.low), float(ci.high)


def _solve_increasing(func) -> float:
    """Root of an increasing function of the noncentrality parameter, as scipy's ``_odds_ratio._solve``: from
    1, halve or double until bracketed, then ``brentq(xtol = 1e-13)``."""
    nc = 1.0
    value = func(nc)
    if value == 0:
        return nc
    if value > 0:
        nc /= 2
        while func(nc) > 0:
            nc /= 2
        lo, hi = nc, 2 * nc
    else:
        nc *= 2
        while func(nc) < 0:
            nc *= 2
        lo, hi = nc / 2, nc
    return float(_brentq(func, lo, hi, xtol=1e-13))


def _conditional_odds_ratio_numpy(t: np.ndarray, conf_level: float) -> tuple[float, float, float]:
    """scipy's conditional odds ratio and CI (Fisher's noncentral hypergeometric: the MLE has mean = the
    observed a; the CI ends solve P(X ≥ a) = α/2 and P(X ≤ a) = α/2), with the distribution evaluated in
    numpy on log scale, normalised by its maximum; equal to scipy to ~1e-10.

    The log-probabilities are concave in the cell count, so each evaluation keeps only the window within 800 of
    the mode (found by bisection): the terms outside underflow to 0 in any case."""
    x, total = int(t[0, 0]), int(t.sum())
    row, col = int(t[0].sum()), int(t[:, 0].sum())
    lo, hi = max(0, col - (total - row)), min(row, col)
    s = np.arange(lo, hi + 1, dtype=float)
    logc = -(gammaln(s + 1) + gammaln(row - s + 1) + gammaln(col - s + 1) + gammaln(total - row - col + s + 1))
    steps = np.diff(logc).tolist()  # decreasing (log-concave)
    logc_list = logc.tolist()
    k = x - lo

    def window(lognc: float) -> tuple[int, int]:
        a, b = 0, len(steps)  # the mode: the first increment below 0
        while a < b:
            m = (a + b) // 2
            if steps[m] + lognc < 0:
                b = m
            else:
                a = m + 1
        mode = a
        floor = logc_list[mode] + mode * lognc - 800.0

        def above(i: int) -> bool:
            return logc_list[i] + i * lognc >= floor

        a, b = 0, mode  # first index at or above the floor (increasing up to the mode)
        while a < b:
            m = (a + b) // 2
            if above(m):
                b = m
            else:
                a = m + 1
        first = a
        a, b = mode, len(logc_list) - 1  # last index at or above the floor
        while a < b:
            m = (a + b + 1) // 2
            if above(m):
                a = m
            else:
                b = m - 1
        return first, a + 1

    def pmf(nc: float) -> tuple[np.ndarray, int]:
        """The probabilities on the window [first, last) and first."""
        lognc = math.log(nc)
        first, last = window(lognc)
        w = logc[first:last] + s[first:last] * lognc
        w = np.exp(w - w.max())
        return w / w.sum(), first

    def mean(nc: float) -> float:
        p, first = pmf(nc)
        return float((p * s[first : first + p.size]).sum())

    def upper_tail(nc: float) -> float:  # P(X ≥ x)
        p, first = pmf(nc)
        return float(p[max(k - first, 0) :].sum()) if k < first + p.size else 0.0

    def lower_tail(nc: float) -> float:  # P(X ≤ x)
        p, first = pmf(nc)
        return float(p[: k - first + 1].sum()) if k >= first else 0.0

    if x == lo:
        est = 0.0
    elif x == hi:
        est = math.inf
    else:
        est = _solve_increasing(lambda nc: mean(nc) - x)
    alpha = (1 - conf_level) / 2
    (a, b), (c, d) = t
    # the CI is open on the side of a zero cell (scipy: the sample odds ratio ad/bc is 0 or ∞)
    low = 0.0 if b > 0 and c > 0 and a * d == 0 else _solve_increasing(lambda nc: upper_tail(nc) - alpha)
    high = math.inf if (b == 0 or c == 0) and a > 0 and d > 0 else _solve_increasing(lambda nc: alpha - lower_tail(nc))
    return est, low, high


def _expand_columns(R: np.ndarray, L: np.ndarray, origin: np.ndarray, col_totals: Sequence[int], max_tables: int):
    """Extend partial tables column by column (vectorised). ``R``: remaining row sums per partial table,
    ``L``: accumulated −Σ log(cell!), ``origin``: id carried along. None if more than ``max_tables``."""
    r = R.shape[1]
    for col_total in col_totals:
        rem = np.full(R.shape[0], col_total, dtype=np.int64)
        cells = np.zeros_like(R)
        for i in range(r):
            if i == r - 1:
                x = rem
            else:
                tail = R[:, i + 1 :].sum(axis=1)
                lo = np.maximum(0, rem - tail)
                hi = np.minimum(R[:, i], rem)
                counts = hi - lo + 1
                total = int(counts.sum())
                if total > max_tables:
                    return None
                idx = np.repeat(np.arange(R.shape[0]), counts)
                offsets = np.cumsum(counts) - counts
                x = lo[idx] + (np.arange(total) - offsets[idx])
                R, L, origin, rem, cells = R[idx], L[idx], origin[idx], rem[idx], cells[idx]
            cells[:, i] = x
            rem = rem - x
        R = R - cells
        L = L - gammaln(cells + 1).sum(axis=1)
    return R, L, origin


def _freeman_halton_exact(t: np.ndarray, max_tables: int) -> tuple[float, int] | None:
    """Exact Freeman–Halton p: sum of the probabilities of every table with the margins of ``t`` that is at
    most as probable as ``t`` (× (1 + 1e-7), as R). Meet in the middle: the first half of the columns is
    enumerated once, the completions are enumerated once per distinct vector of remaining row sums and
    combined by sorting, so the cost is |first halves| + |completions| rather than |tables|.

    Returns (p, number of tables) or None when a half needs more than ``max_tables`` partial tables.
    """
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return 1.0, 1
    # p is invariant under transposition; the halves meet on remaining-row-sum vectors, so try first the
    # orientation with the fewest possible such vectors, then the other one
    orients = sorted((t, t.T), key=lambda m: float(np.prod(m.sum(axis=1).astype(float) + 1)))
    for m in orients:
        res = _freeman_halton_oriented(m, max_tables)
        if res is not None:
            return res
    return None


def _freeman_halton_oriented(t: np.ndarray, max_tables: int) -> tuple[float, int] | None:
    rows = t.sum(axis=1).astype(np.int64)
    cols = t.sum(axis=0).astype(np.int64)
    const = gammaln(rows + 1).sum() + gammaln(cols + 1).sum() - gammaln(t.sum() + 1)
    thr = const - gammaln(t + 1).sum() + math.log(_R_REL_ERR)  # log p_obs, with R's relative tolerance
    h = len(cols) // 2
    first = _expand_columns(rows[None, :].copy(), np.zeros(1), np.zeros(1, dtype=np.int64), cols[:h], max_tables)
    if first is None:
        return None
    Rp, Lp, _ = first
    radix = np.cumprod(np.concatenate([[1], rows[:-1] + 1])).astype(np.int64)
    if float(np.prod((rows + 1).astype(float))) < 2.0**62:  # encode remaining row sums as one integer
        _, first_idx, inv = np.unique(Rp @ radix, return_index=True, return_inverse=True)
        states = Rp[first_idx]
    else:
        states, inv = np.unique(Rp, axis=0, return_inverse=True)
    inv = inv.ravel()
    k = states.shape[0]
    second = _expand_columns(states.copy(), np.zeros(k), np.arange(k, dtype=np.int64), cols[h:-1], max_tables)
    if second is None:
        return None
    Rs, Ls, org = second
    Ls = Ls - gammaln(Rs + 1).sum(axis=1)  # the last column is determined
    order = np.lexsort((Ls, org))
    Ls, org = Ls[order], org[order]
    starts = np.searchsorted(org, np.arange(k), side="left")
    gmax = np.maximum.reduceat(Ls, starts)  # every state has at least one completion
    cw = np.concatenate([[0.0], np.cumsum(np.exp(Ls - gmax[org]))])
    # integer keys (state, rank of value) so the per-state search is one exact searchsorted
    allv = np.sort(Ls)
    m = allv.size + 1
    keys = org * m + np.searchsorted(allv, Ls, side="right")
    q = thr - const - Lp
    qkeys = inv * m + np.searchsorted(allv, q, side="right")
    pos = np.searchsorted(keys, qkeys, side="right")
    pos = np.clip(pos, starts[inv], None)
    partial = cw[pos] - cw[starts[inv]]
    p = float((np.exp(const + Lp + gmax[inv]) * partial).sum())
    n_tables = int(np.bincount(org, minlength=k)[inv].sum())
    return min(p, 1.0), n_tables


def fisher_rxc(
    table: Any,
    groups: Sequence[str] | None = None,
    *,
    max_tables: int = 2_000_000,
    n_resamples: int = SIM_TABLES,
    seed: int = SIM_SEED,
    exact_max_n: int = EXACT_MAX_N,
) -> TestResult:
    """Fisher–Freeman–Halton exact test for an r×c table (rows = groups) = R ``fisher.test``.

    2×2 tables are delegated to :func:`fisher_2x2`. The test used, said in ``test``, ``method`` and a note:

    * at most ``exact_max_n`` patients: exact, by enumeration of the tables with the observed margins, when a
      half-enumeration needs at most ``max_tables`` partial tables;
    * otherwise, when every expected count is ≥ 5: Pearson's χ² without continuity correction
      (R ``chisq.test(correct = FALSE)``);
    * otherwise: the Monte-Carlo p-value of R ``fisher.test(simulate.p.value = TRUE, B = n_resamples)``:
      ``n_resamples`` random tables with the observed margins (Patefield's algorithm, fixed ``seed``),
      p = (1 + #{tables at most as probable as the observed one}) / (B + 1), R's tolerance 64 ε.
    """
    t = _as_table(table)
    groups = tuple(str(g) for g in (groups if groups is not None else [f"row {i + 1}" for i in range(t.shape[0])]))
    if len(groups) != t.shape[0]:
        raise ValueError("one group label per table row is needed")
    if t.shape == (2, 2):
        return fisher_2x2(t, groups)
    ns = tuple(int(s) for s in t.sum(axis=1))
    notes = _small_group_notes(groups, ns)
    empty = [g for g, n in zip(groups, ns) if n == 0]
    shape = f"{t.shape[0]}×{t.shape[1]}"
    name = f"Fisher–Freeman–Halton exact test ({shape})"
    base = dict(test=name, statistic_name="table probability", groups=groups, n=ns)
    if empty:
        notes.append(f"No patients in: {', '.join(empty)} — left out of the test.")
    nonempty_rows = int((t.sum(axis=1) > 0).sum())
    nonempty_cols = int((t.sum(axis=0) > 0).sum())
    if nonempty_rows < 2:
        notes.append("Fewer than two groups with patients — test not computed.")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), **base)
    if nonempty_cols < 2:
        notes.append("Every patient falls in the same category: p = 1.")
        return TestResult(statistic=None, p_value=1.0, method="exact", notes=tuple(notes), **base)
    tt = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    n_total = int(tt.sum())
    log_prob = (
        gammaln(tt.sum(1) + 1).sum() + gammaln(tt.sum(0) + 1).sum() - gammaln(n_total + 1) - gammaln(tt + 1).sum()
    )
    stat = float(np.exp(log_prob))
    exact = _freeman_halton_exact(tt, max_tables) if n_total <= exact_max_n else None
    if exact is not None:
        p, ntab = exact
        return TestResult(
            statistic=stat,
            p_value=p,
            method="exact (enumeration)",
            notes=tuple(notes),
            extras=(("tables enumerated", float(ntab)),),
            **base,
        )
    # the same words for every table of a cohort (the screen lists each distinct note once)
    why = (
        f"more than {exact_max_n:,} patients: too many tables for the exact test"
        if n_total > exact_max_n
        else f"more than {max_tables:,} tables to enumerate for the exact test"
    )
    expected = np.outer(tt.sum(1), tt.sum(0)) / n_total
    if expected.min() >= 5:
        chi2 = float(((tt - expected) ** 2 / expected).sum())
        df = (tt.shape[0] - 1) * (tt.shape[1] - 1)
        notes.append(f"Pearson's χ² test instead of Fisher's exact test ({why}; every expected count is at least 5).")
        return TestResult(
            test=f"Pearson's χ² test ({shape})",
            statistic=chi2,
            statistic_name="chi-square",
            p_value=float(_sps.chi2.sf(chi2, df)),
            df=df,
            method="asymptotic (Pearson's χ², no continuity correction)",
            notes=tuple(notes),
            groups=groups,
            n=ns,
        )
    p = _fisher_simulated_p(tt, n_resamples, seed)
    notes.append(
        f"Monte-Carlo p-value from {n_resamples:,} random tables with the observed margins (seed {seed}; R "
        f"fisher.test(simulate.p.value = TRUE)) instead of the exact test ({why}; an expected count below 5 "
        "rules out χ²); it can differ slightly from the exact value."
    )
    return TestResult(
        statistic=stat,
        p_value=p,
        method=f"Monte Carlo ({n_resamples} resamples, seed {seed})",
        notes=tuple(notes),
        **{**base, "test": f"Fisher–Freeman–Halton test ({shape}, Monte-Carlo p)"},
    )


def _fisher_simulated_p(t: np.ndarray, n_resamples: int, seed: int) -> float:
    """R ``fisher.test(simulate.p.value = TRUE, B = n_resamples)``: random tables with the margins of ``t``
    (Patefield, as R's ``r2dtable``; numpy's generator with ``seed``, so not R's stream), statistic
    −Σ log(cell!), p = (1 + #{simulated ≤ observed / (1 + 64 ε)}) / (B + 1)."""
    tables = _sps.random_table(t.sum(axis=1), t.sum(axis=0)).rvs(
        size=n_resamples, method="patefield", random_state=np.random.default_rng(seed)
    )
    sim = -gammaln(tables + 1.0).sum(axis=(1, 2))
    observed = -float(gammaln(t + 1.0).sum())
    return float((1 + int((sim <= observed / _R_ALMOST_1).sum())) / (n_resamples + 1))


def fisher_counts(
    events: Sequence[int],
    totals: Sequence[int],
    groups: Sequence[str] | None = None,
) -> TestResult:
    """Fisher test from "k of n" per group (e.g. CV shock 3/14 vs 20/32): builds the k×2 table
    ``[[events, totals − events], …]`` and runs :func:`fisher_2x2` (k = 2) or :func:`fisher_rxc`."""
    ev = np.asarray(events, dtype=np.int64)
    tot = np.asarray(totals, dtype=np.int64)
    if ev.shape != tot.shape or np.any(ev > tot):
        raise ValueError("events and totals must have the same length and events <= totals")
    table = np.column_stack([ev, tot - ev])
    groups = tuple(groups) if groups is not None else tuple(f"group {i + 1}" for i in range(len(ev)))
    if len(ev) == 2:
        return fisher_2x2(table, groups)
    return fisher_rxc(table, groups)


def odds_ratio_2x2(
    table: Any,
    groups: Sequence[str] = ("group 1", "group 2"),
    conf_level: float = 0.95,
    kind: str = "conditional",
) -> TestResult:
    """Odds ratio for ``[[a, b], [c, d]]`` (odds of the outcome in row 1 vs row 2).

    ``kind="conditional"``: R ``fisher.test`` estimate and exact CI (same as :func:`fisher_2x2`).
    ``kind="sample"``: ad/bc with Woolf's logit CI and Wald p; with a zero cell 0.5 is added to every cell
    (Haldane–Anscombe), with a note.
    """
    if kind == "conditional":
        return fisher_2x2(table, groups, conf_level)
    if kind != "sample":
        raise ValueError("kind must be 'conditional' or 'sample'")
    t = _as_table(table)
    if t.shape != (2, 2):
        raise ValueError("odds_ratio_2x2 needs a 2×2 table")
    groups = tuple(str(g) for g in groups)
    ns = tuple(int(s) for s in t.sum(axis=1))
    notes = _empty_notes(groups, ns) + _small_group_notes(groups, ns)
    base = dict(
        test="Odds ratio (Woolf logit CI)",
        statistic_name="z",
        groups=groups,
        n=ns,
        effect="odds ratio (sample)",
        method="asymptotic (Wald, log scale)",
        conf_level=conf_level,
    )
    if 0 in ns or 0 in t.sum(axis=0):
        notes.append("A row or column of the table is empty: odds ratio undefined.")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), **base)
    tf = t.astype(float)
    if np.any(t == 0):
        tf = tf + 0.5
        notes.append("A cell is zero: 0.5 added to every cell (Haldane–Anscombe correction).")
    (a, b), (c, d) = tf
    log_or = math.log(a * d / (b * c))
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    z = _sps.norm.ppf(0.5 + conf_level / 2)
    stat = log_or / se
    p = float(2 * _sps.norm.sf(abs(stat)))
    return TestResult(
        statistic=stat,
        p_value=p,
        estimate=math.exp(log_or),
        ci_low=math.exp(log_or - z * se),
        ci_high=math.exp(log_or + z * se),
        notes=tuple(notes),
        **base,
    )


def risk_difference(
    k1: int, n1: int, k2: int, n2: int, conf_level: float = 0.95, what: str = "risk difference"
) -> Effect:
    """p₁ − p₂ with Newcombe's hybrid score interval (Newcombe 1998, method 10: Wilson score limits of each
    proportion combined), which keeps its coverage with small groups and zero cells, unlike the Wald interval."""
    if not n1 or not n2:
        return Effect(what, None, None, None, conf_level, "Newcombe hybrid score")
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, conf_level)
    l2, u2 = wilson_interval(k2, n2, conf_level)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Effect(what, d, lo, hi, conf_level, "Newcombe hybrid score (method 10)")
