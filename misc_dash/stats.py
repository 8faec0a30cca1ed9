"""Statistical tests and descriptives for the MIS-C cohort explorer.

Pure functions (no streamlit, no file I/O). Every test returns a frozen :class:`TestResult`;
descriptives return frozen summary dataclasses; Kaplan–Meier returns a frozen :class:`KMCurve`.
Nothing here raises for an empty or one-sided group: the result carries ``p_value=None`` and a note
meant to be shown on screen.

Conventions (see ``docs/CONVENTIONS.md``) — where scipy/lifelines and R differ, R is the reference:

* **Quantiles**: ``numpy.quantile(..., method="weibull")`` = R ``quantile(type = 6)`` (GraphPad Prism).
* **Fisher 2×2**: p-value from ``scipy.stats.fisher_exact`` (two-sided, = R ``fisher.test``).
  The odds ratio reported is the **conditional MLE** with its exact (Cornfield) confidence interval, as
  R ``fisher.test`` does, via ``scipy.stats.contingency.odds_ratio(kind="conditional")`` (noncentral
  hypergeometric). scipy's ``fisher_exact`` statistic is the *sample* odds ratio ad/bc, which is **not**
  what we report. R solves for the MLE/CI with ``uniroot(tol ≈ 1.2e-4)``, scipy more tightly, so the
  two agree to ~1e-4 relative. The sample odds ratio with a Woolf (logit) CI is available separately
  through :func:`odds_ratio_2x2` (``kind="sample"``).
* **Fisher r×c** (Freeman–Halton): scipy 1.17's ``fisher_exact`` handles r×c tables only with a
  Monte-Carlo/permutation ``method`` (its default for r×c is Monte Carlo, not exact). We sum exactly over
  every table with the observed margins, like R ``fisher.test`` (tables with probability ≤ p_obs·(1 + 1e-7)
  count as "as extreme"), by a vectorised meet-in-the-middle enumeration (R's 4×4 ``Job`` table, 9·10⁷
  tables, in ~1 s; a 4×3 table of 46 patients in ~10 ms). When a half-enumeration would exceed
  ``max_tables`` partial tables we fall back to a seeded Monte-Carlo estimate, with a note.
* **Mann–Whitney** = R ``wilcox.test(x, y)``: exact when both samples < 50 and no ties, otherwise normal
  approximation with tie-corrected variance and continuity correction. The statistic is R's ``W`` (= scipy's
  ``U`` for the first sample). The effect is the Hodges–Lehmann shift (x − y) with the CI R gives with
  ``conf.int = TRUE``: exact order statistics of the pairwise differences in the exact case, inversion of the
  (continuity-corrected) normal statistic in the asymptotic case. R finds the asymptotic roots with
  ``uniroot(tol = 1e-4)`` on a step function; we locate the jump point exactly (agreement ≈ 1e-4).
* **Wilcoxon signed-rank (paired)** = R ``wilcox.test(followup, baseline, paired = TRUE)``: differences are
  follow-up − baseline, zero differences dropped, exact when n < 50 with no ties and no zeros, otherwise normal
  approximation with continuity correction. The statistic is R's **V = W+** (sum of ranks of positive
  differences); scipy's ``wilcoxon`` reports min(W+, W−) (same p-value). The effect is the Hodges–Lehmann
  pseudo-median of the differences with R's CI (exact Walsh-average order statistics, or normal inversion on
  the non-zero differences, as R does).
* **Kruskal–Wallis** = ``scipy.stats.kruskal`` = R ``kruskal.test`` (tie-corrected χ², k − 1 df).
* **Kaplan–Meier**: ``lifelines.KaplanMeierFitter`` for the estimate. lifelines' own bands use the
  "exponential Greenwood" (log(−log)) transform, which is R ``survfit(conf.type = "log-log")``; R's default is
  ``conf.type = "log"``. We compute the Greenwood bands ourselves so either can be chosen
  (``conf_type="log-log"`` default, ``"log"`` = R default, ``"plain"``); the median and its CI follow R's
  ``quantile.survfit`` rule (midpoint when the curve sits exactly at 0.5).
* **Log-rank** = ``lifelines.statistics.logrank_test`` / ``multivariate_logrank_test`` = R ``survdiff``.
* **Cox** = ``lifelines.CoxPHFitter`` (Efron ties, Wald CI and p) = R ``coxph`` defaults.
* **Multiplicity**: :func:`benjamini_hochberg` = R ``p.adjust(method = "BH")``, :func:`holm` = ``"holm"``;
  NaN / None stay NaN and do not count in the number of tests (as R's ``p.adjust`` with NA).
* **p-value text** (:func:`format_p`): two decimals from 0.01 up ("0.02", "0.57"), one significant digit
  below ("0.005", "0.0006"), "< 0.0001" and "> 0.99".
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
from scipy import special as _special
from scipy import stats as _sps
from scipy.special import gammaln

__all__ = [
    "SMALL_GROUP",
    "CategoricalSummary",
    "ContinuousSummary",
    "KMCurve",
    "ProportionSummary",
    "TestResult",
    "benjamini_hochberg",
    "cox_hr",
    "describe_categorical",
    "describe_continuous",
    "fisher_2x2",
    "fisher_counts",
    "fisher_rxc",
    "format_p",
    "holm",
    "kaplan_meier",
    "kruskal_wallis",
    "logrank",
    "mann_whitney",
    "odds_ratio_2x2",
    "pairwise_logrank",
    "share_normal",
    "wilcoxon_paired",
]

#: a group smaller than this gets an on-screen caveat
SMALL_GROUP = 5
#: Cox models with fewer events than this get an on-screen caveat
FEW_EVENTS = 10
_R_REL_ERR = 1 + 1e-7  # R fisher.test: d <= d_obs * (1 + 1e-7) counts as "as extreme"
_TOL_ROOT = 1e-4  # R wilcox.test tol.root


# ---------------------------------------------------------------------------------------------
# formatting / json helpers
# ---------------------------------------------------------------------------------------------
def format_p(p: float | None) -> str:
    """Format a p-value like the index paper: "0.02", "0.0006", "> 0.99", "< 0.0001"; "n/a" if missing."""
    if p is None or not np.isfinite(p):
        return "n/a"
    p = float(p)
    if p < 0.0001:
        return "< 0.0001"
    if p >= 0.01:
        txt = _round_half_up(p, 2)
        return "> 0.99" if float(txt) > 0.99 else txt
    # one significant digit between 0.0001 and 0.01
    decimals = -math.floor(math.log10(p))
    txt = _round_half_up(p, decimals)
    if float(txt) >= 10.0 ** (1 - decimals):  # rounding carried to the next power (0.00096 → 0.001)
        txt = _round_half_up(float(txt), decimals - 1)
    return txt


def _json_safe(v: Any) -> Any:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else None
    if isinstance(v, Mapping):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_json_safe(x) for x in v]
    return v


def _dc_to_dict(obj: Any) -> dict:
    return {f.name: _json_safe(getattr(obj, f.name)) for f in fields(obj)}


def _round_half_up(x: float, decimals: int) -> str:
    """Fixed-point text rounded half up on the shortest repr (3.25 → "3.3", as Prism/Excel; printf gives 3.2)."""
    q = Decimal(1).scaleb(-decimals)
    return str(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))


def _fmt(x: float | None, decimals: int) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    txt = _round_half_up(x, decimals)
    return txt[1:] if txt.startswith("-") and float(txt) == 0 else txt  # no "-0.0"


def _to_float(values: Any) -> np.ndarray:
    """1-D float array; None / NaN / pandas.NA / NaT → NaN (lists, numpy arrays, pandas Series alike)."""
    if values is None:
        return np.array([], dtype=float)
    # fast paths (same result): numeric/boolean numpy arrays and pandas Series/Index (nullable dtypes included)
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        return values.astype(float).ravel()
    if isinstance(values, (pd.Series, pd.Index)) and (
        pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype)
    ):
        return np.asarray(values.to_numpy(dtype=float, na_value=np.nan), dtype=float).ravel()
    objs = np.asarray(values, dtype=object).ravel()
    return np.array([np.nan if _is_missing(v) else float(v) for v in objs], dtype=float)


def _clean(values: Any) -> tuple[np.ndarray, int]:
    """Float array without missing values (None/NaN) and the number of missing values."""
    if values is None:
        return np.array([], dtype=float), 0
    arr = _to_float(values)
    keep = ~np.isnan(arr)
    return arr[keep], int((~keep).sum())


def _small_group_notes(groups: Sequence[str], ns: Sequence[int]) -> list[str]:
    small = [f"{g} (n = {n})" for g, n in zip(groups, ns) if 0 < n < SMALL_GROUP]
    if len(small) == 1:
        return [f"Small group: {small[0]} has fewer than {SMALL_GROUP} patients; interpret with caution."]
    if small:
        return [
            f"Small groups: {', '.join(small)} have fewer than {SMALL_GROUP} patients each; interpret with caution."
        ]
    return []


def _empty_notes(groups: Sequence[str], ns: Sequence[int]) -> list[str]:
    empty = [g for g, n in zip(groups, ns) if n == 0]
    if empty:
        return [f"No patients with data in: {', '.join(empty)} — test not computed."]
    return []


# ---------------------------------------------------------------------------------------------
# result dataclasses
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TestResult:
    """Outcome of one statistical test (frozen, JSON-serialisable with :meth:`to_dict`).

    ``statistic``/``statistic_name``: e.g. U, V (W+), chi-square, z (Wald), conditional-MLE odds ratio.
    ``p_value`` is None when the test could not be computed (empty group, no events, all values tied…);
    ``notes`` then says why. ``n``: group sizes actually used (pairs for the paired test).
    ``effect``/``estimate``/``ci_low``/``ci_high``/``conf_level``: effect size with its CI, if any.
    ``method``: "exact", "asymptotic (…)", "Monte Carlo (…)"; ``notes``: caveats meant for the screen;
    ``extras``: further named numbers (observed/expected events, raw p before adjustment, median change…).
    """

    __test__ = False  # not a pytest test class

    test: str
    statistic: float | None
    statistic_name: str
    p_value: float | None
    groups: tuple[str, ...]
    n: tuple[int, ...]
    df: int | None = None
    effect: str | None = None
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    conf_level: float | None = None
    method: str = ""
    notes: tuple[str, ...] = ()
    extras: tuple[tuple[str, float | None], ...] = ()  # further numbers, e.g. observed/expected events

    def p_text(self) -> str:
        return format_p(self.p_value)

    def label(self) -> str:
        """e.g. "Mann–Whitney U (exact), n = 14 vs 32: p = 0.57"."""
        p = self.p_text()
        p_part = f"p {p}" if p[0] in "<>" else f"p = {p}"
        n_part = " vs ".join(str(n) for n in self.n)
        return f"{self.test}, n = {n_part}: {p_part}"

    def estimate_text(self, decimals: int = 2) -> str:
        """e.g. "0.17 (95% CI 0.03–0.82)"; "" when there is no estimate."""
        if self.estimate is None:
            return ""
        txt = _fmt(self.estimate, decimals)
        if self.ci_low is not None and self.ci_high is not None:
            lvl = f"{round(100 * self.conf_level)}% " if self.conf_level else ""
            txt += f" ({lvl}CI {_fmt(self.ci_low, decimals)}–{_fmt(self.ci_high, decimals)})"
        return txt

    def extra(self, name: str) -> float | None:
        return dict(self.extras).get(name)

    def to_dict(self) -> dict:
        """JSON-safe dict (tuples → lists, NaN/±inf → None)."""
        d = _dc_to_dict(self)
        d["p_text"] = self.p_text()
        return d


@dataclass(frozen=True)
class ContinuousSummary:
    n: int
    missing: int
    median: float | None
    q1: float | None
    q3: float | None
    min: float | None
    max: float | None

    def text(self, decimals: int = 1) -> str:
        """ "8.0 [4.0, 13.0]" (median [Q1, Q3]); "n/a" without data."""
        if self.n == 0:
            return "n/a"
        return f"{_fmt(self.median, decimals)} [{_fmt(self.q1, decimals)}, {_fmt(self.q3, decimals)}]"

    def range_text(self, decimals: int = 1) -> str:
        if self.n == 0:
            return "n/a"
        return f"{_fmt(self.min, decimals)}–{_fmt(self.max, decimals)}"

    def to_dict(self) -> dict:
        return _dc_to_dict(self)


@dataclass(frozen=True)
class CategoricalSummary:
    """Counts per level; percentages use the non-missing total ``n`` (which includes ``other``)."""

    levels: tuple[str, ...]
    counts: tuple[int, ...]
    n: int
    missing: int
    other: int = 0  # non-missing values that are not one of ``levels``

    def count(self, level: Any) -> int:
        return self.counts[self.levels.index(str(level))]

    def percent(self, level: Any) -> float | None:
        return 100.0 * self.count(level) / self.n if self.n else None

    def text(self, level: Any, decimals: int = 0) -> str:
        """ "3 (21%)"."""
        pct = self.percent(level)
        return f"{self.count(level)} ({_fmt(pct, decimals)}%)" if pct is not None else f"{self.count(level)} (n/a)"

    def to_dict(self) -> dict:
        return _dc_to_dict(self)


@dataclass(frozen=True)
class ProportionSummary:
    """k of n meeting a criterion with an exact Clopper–Pearson CI (= R ``binom.test``)."""

    k: int
    n: int
    missing: int
    proportion: float | None
    ci_low: float | None
    ci_high: float | None
    criterion: str = ""

    def text(self, decimals: int = 0) -> str:
        """ "9/12 (75%)"."""
        if not self.n:
            return "0/0 (n/a)"
        return f"{self.k}/{self.n} ({_fmt(100 * self.proportion, decimals)}%)"

    def to_dict(self) -> dict:
        return _dc_to_dict(self)


# ---------------------------------------------------------------------------------------------
# descriptives
# ---------------------------------------------------------------------------------------------
def describe_continuous(values: Any) -> ContinuousSummary:
    """Median [Q1, Q3] and range, quantiles = ``numpy.quantile(method="weibull")`` = R type 6."""
    x, missing = _clean(values)
    if x.size == 0:
        return ContinuousSummary(0, missing, None, None, None, None, None)
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75], method="weibull")
    return ContinuousSummary(int(x.size), missing, float(med), float(q1), float(q3), float(x.min()), float(x.max()))


def _is_missing(v: Any) -> bool:
    """None, NaN, pandas.NA / NaT."""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # array-likes are not missing scalars
        return False


def describe_categorical(values: Any, levels: Sequence[Any] | None = None) -> CategoricalSummary:
    """n (%) per level. ``levels`` fixes order (and shows zero counts); default = sorted observed levels.

    Levels are compared and labelled as ``str`` (so booleans give "True"/"False").
    """
    vals = list(values) if values is not None else []
    present = [str(v) for v in vals if not _is_missing(v)]
    missing = len(vals) - len(present)
    if levels is None:
        labels = tuple(sorted(set(present)))
    else:
        labels = tuple(str(lv) for lv in levels)
    counts = tuple(sum(1 for v in present if v == lv) for lv in labels)
    other = len(present) - sum(counts)
    return CategoricalSummary(labels, counts, len(present), missing, other)


def share_normal(values: Any, threshold: float, direction: str = ">=") -> ProportionSummary:
    """Share of non-missing values meeting ``value <direction> threshold`` (direction one of >=, >, <=, <),
    with an exact Clopper–Pearson 95% CI (= R ``binom.test``)."""
    ops = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}
    if direction not in ops:
        raise ValueError(f"direction must be one of {sorted(ops)}, got {direction!r}")
    x, missing = _clean(values)
    crit = f"{direction} {threshold:g}"
    if x.size == 0:
        return ProportionSummary(0, 0, missing, None, None, None, crit)
    k = int(ops[direction](x, threshold).sum())
    n = int(x.size)
    low, high = clopper_pearson(k, n)
    return ProportionSummary(k, n, missing, k / n, low, high, crit)


def clopper_pearson(k: int, n: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) CI for k successes of n, from beta quantiles as R ``binom.test`` computes it
    (``qbeta(a/2, k, n-k+1)``, ``qbeta(1-a/2, k+1, n-k)``); 0 and 1 at the edges. Same interval as scipy's
    ``binomtest(k, n).proportion_ci(method="exact")`` (which finds it by root search, ~100x slower)."""
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    a = 1 - conf_level
    low = 0.0 if k == 0 else float(_special.betaincinv(k, n - k + 1, a / 2))
    high = 1.0 if k == n else float(_special.betaincinv(k + 1, n - k, 1 - a / 2))
    return low, high


# ---------------------------------------------------------------------------------------------
# Fisher / contingency tables
# ---------------------------------------------------------------------------------------------
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
    from scipy.stats.contingency import odds_ratio as _odds_ratio

    res = _odds_ratio(t, kind="conditional")
    ci = res.confidence_interval(confidence_level=conf_level)
    est = float(res.statistic)
    if est == 0 or math.isinf(est):
        notes.append(
            f"A cell is zero: the conditional MLE odds ratio is {'0' if est == 0 else '∞'} "
            "and its CI is open on one side."
        )
    return TestResult(
        statistic=est, p_value=p, estimate=est, ci_low=float(ci.low), ci_high=float(ci.high), notes=tuple(notes), **base
    )


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
    n_resamples: int = 100_000,
    seed: int = 20240101,
) -> TestResult:
    """Fisher–Freeman–Halton exact test for an r×c table (rows = groups) = R ``fisher.test``.

    2×2 tables are delegated to :func:`fisher_2x2`. Exact by enumeration; when more than ``max_tables``
    tables share the margins, a Monte-Carlo p-value (``n_resamples`` tables, fixed ``seed``, scipy
    ``MonteCarloMethod``) is reported with a note.
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
    name = f"Fisher–Freeman–Halton exact test ({t.shape[0]}×{t.shape[1]})"
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
    stat = float(
        np.exp(
            gammaln(tt.sum(1) + 1).sum() + gammaln(tt.sum(0) + 1).sum() - gammaln(tt.sum() + 1) - gammaln(tt + 1).sum()
        )
    )
    exact = _freeman_halton_exact(tt, max_tables)
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
    mc = _sps.MonteCarloMethod(n_resamples=n_resamples, rng=np.random.default_rng(seed))
    p = float(_sps.fisher_exact(tt, method=mc).pvalue)
    notes.append(
        f"Too many tables for exact enumeration: Monte-Carlo p-value from {n_resamples:,} simulated "
        f"tables (seed {seed}); it can differ slightly from the exact value."
    )
    return TestResult(
        statistic=stat,
        p_value=p,
        method=f"Monte Carlo ({n_resamples} resamples, seed {seed})",
        notes=tuple(notes),
        **base,
    )


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
    ``scipy.stats.wilcoxon`` in the tests (it is ~3 ms per call behind its array-API wrapper; this is µs)."""
    mean = n * (n + 1) / 4
    if exact:
        pmf = _signrank_null_pmf(n)
        k = int(round(v))
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
    """Standard normal quantile: scipy's ``norm.ppf`` is ``special.ndtri`` (×1 + 0) behind ~50 µs of
    argument handling; called in loops here."""
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


# ---------------------------------------------------------------------------------------------
# survival
# ---------------------------------------------------------------------------------------------
def _r_findq(
    x: np.ndarray, y: np.ndarray, p: float, xmax: float, tol: float = math.sqrt(np.finfo(float).eps)
) -> float | None:
    """survival:::findq — time where the cumulative distribution ``y`` (= 1 − S) reaches ``p``."""
    ok = ~np.isnan(y)
    if not ok.any() or np.nanmax(y) < p:
        return None
    _, first = np.unique(y, return_index=True)  # drop duplicated y (keep first occurrence, NaN kept once)
    keep = np.zeros(y.size, bool)
    keep[np.sort(first)] = True
    x, y = x[keep], y[keep]
    # approx(..., method = "constant", f = 1): first index with y_i + tol >= p (resp. y_i - tol >= p)
    with np.errstate(invalid="ignore"):
        i1 = np.nonzero(y + tol >= p)[0]
        i2 = np.nonzero(y - tol >= p)[0]
    if i1.size == 0:
        return None
    q1 = x[i1[0]]
    if not np.isnan(y[-1]) and abs(p - y[-1]) < tol:
        return float((q1 + xmax) / 2)
    if i2.size == 0:
        return None
    return float((q1 + x[i2[0]]) / 2)


@dataclass(frozen=True)
class KMCurve:
    """Kaplan–Meier estimate (step function) with pointwise Greenwood CI.

    ``timeline`` starts at 0 and holds every distinct observed time (events and censorings);
    ``survival[i]`` is S(t) on [timeline[i], timeline[i+1]). ``median`` is None when not reached.
    """

    label: str
    n: int
    events: int
    timeline: tuple[float, ...]
    survival: tuple[float, ...]
    ci_lower: tuple[float, ...]
    ci_upper: tuple[float, ...]
    censor_times: tuple[float, ...]
    median: float | None
    median_ci_low: float | None
    median_ci_high: float | None
    conf_level: float = 0.95
    conf_type: str = "log-log"
    durations: tuple[float, ...] = field(default=(), repr=False)
    notes: tuple[str, ...] = ()

    def at_risk(self, times: Sequence[float]) -> tuple[int, ...]:
        """Number at risk at each time: patients with a follow-up time ≥ t (R ``summary.survfit`` n.risk)."""
        d = np.asarray(self.durations, dtype=float)
        return tuple(int((d >= t).sum()) for t in times)

    def survival_at(self, t: float) -> float:
        idx = int(np.searchsorted(np.asarray(self.timeline), t, side="right")) - 1
        return float(self.survival[max(idx, 0)])

    def median_text(self, decimals: int = 1, unit: str = "") -> str:
        """ "2.0 (95% CI 1.5–3.0)"; "not reached" when S(t) stays above 0.5."""
        u = f" {unit}" if unit else ""
        if self.median is None:
            return "not reached"
        lo = _fmt(self.median_ci_low, decimals) if self.median_ci_low is not None else "n/a"
        hi = _fmt(self.median_ci_high, decimals) if self.median_ci_high is not None else "not reached"
        return f"{_fmt(self.median, decimals)}{u} ({round(100 * self.conf_level)}% CI {lo}–{hi})"

    def to_dict(self) -> dict:
        return _dc_to_dict(self)


def kaplan_meier(
    durations: Any,
    events: Any,
    label: str = "all",
    conf_level: float = 0.95,
    conf_type: str = "log-log",
) -> KMCurve:
    """Kaplan–Meier curve (product-limit, as lifelines computes it) with Greenwood CIs and R's median rule.

    ``conf_type``: "log-log" (lifelines' exponential Greenwood = R ``conf.type = "log-log"``; default),
    "log" (R ``survfit`` default) or "plain". Rows with a missing duration/event are dropped (note).
    """
    if conf_type not in ("log-log", "log", "plain"):
        raise ValueError("conf_type must be 'log-log', 'log' or 'plain'")
    t = _to_float(durations)
    e = _to_float(events)
    if t.shape != e.shape:
        raise ValueError("durations and events must have the same length")
    ok = ~(np.isnan(t) | np.isnan(e))
    notes: list[str] = []
    if (~ok).sum():
        notes.append(f"{int((~ok).sum())} patient(s) without time/event left out.")
    t, e = t[ok], e[ok].astype(bool)
    n = int(t.size)
    if 0 < n < SMALL_GROUP:
        notes.append(f"Only {n} patients: the curve is very imprecise.")
    if n == 0:
        notes.append("No patients — no curve.")
        return KMCurve(
            label, 0, 0, (0.0,), (1.0,), (1.0,), (1.0,), (), None, None, None, conf_level, conf_type, (), tuple(notes)
        )
    # event table at the distinct observed times, and the product-limit estimate in lifelines' form
    # (exp of the cumulative sum of log((n - d) / n)); tested against lifelines and R survfit
    times, inv = np.unique(t, return_inverse=True)
    died = np.bincount(inv, weights=e.astype(float), minlength=times.size)
    removed = np.bincount(inv, minlength=times.size).astype(float)
    at_risk = n - np.concatenate([[0.0], np.cumsum(removed)[:-1]])
    with np.errstate(divide="ignore"):
        surv = np.exp(np.cumsum(np.log(at_risk - died) - np.log(at_risk)))
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(died > 0, died / (at_risk * (at_risk - died)), 0.0)
    gw = np.cumsum(term)  # Greenwood: var(log S)
    se = np.sqrt(gw)
    z = _sps.norm.ppf(0.5 + conf_level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "log":
            lower = np.exp(np.log(surv) - z * se)
            upper = np.minimum(np.exp(np.log(surv) + z * se), 1.0)
        elif conf_type == "log-log":
            ll = np.log(-np.log(surv))
            se_ll = se / np.abs(np.log(surv))
            lower = np.exp(-np.exp(ll + z * se_ll))
            upper = np.exp(-np.exp(ll - z * se_ll))
        else:
            lower = np.maximum(surv - z * se * surv, 0.0)
            upper = np.minimum(surv + z * se * surv, 1.0)
    # R: no uncertainty before the first event (S = 1, se = 0); undefined once S = 0
    flat = (gw == 0) & (surv == 1)
    lower = np.where(flat, 1.0, lower)
    upper = np.where(flat, 1.0, upper)
    zero = surv == 0
    lower = np.where(zero, np.nan, lower)
    upper = np.where(zero, np.nan, upper)
    # median + CI, survival:::quantile.survfit: curves at the observed (event and censoring) times,
    # preceded by (0, S = 1); y = 1 - S
    seen = removed > 0
    x = np.concatenate([[0.0], times[seen]])
    xmax = float(t.max())
    med = _r_findq(x, np.concatenate([[0.0], 1 - surv[seen]]), 0.5, xmax)
    med_lo = _r_findq(x, np.concatenate([[0.0], 1 - lower[seen]]), 0.5, xmax)
    med_hi = _r_findq(x, np.concatenate([[0.0], 1 - upper[seen]]), 0.5, xmax)
    if times[0] != 0:
        times = np.concatenate([[0.0], times])
        surv, lower, upper = (np.concatenate([[1.0], a]) for a in (surv, lower, upper))
    n_events = int(e.sum())
    if n_events == 0:
        notes.append("No events: the curve stays at 1.")
    return KMCurve(
        label=label,
        n=n,
        events=n_events,
        timeline=tuple(float(v) for v in times),
        survival=tuple(float(v) for v in surv),
        ci_lower=tuple(float(v) for v in lower),
        ci_upper=tuple(float(v) for v in upper),
        censor_times=tuple(float(v) for v in np.sort(t[~e])),
        median=med,
        median_ci_low=med_lo,
        median_ci_high=med_hi,
        conf_level=conf_level,
        conf_type=conf_type,
        durations=tuple(float(v) for v in t),
        notes=tuple(notes),
    )


def _survival_frame(durations: Any, events: Any, groups: Any, group_order: Sequence[Any] | None):
    t = _to_float(durations)
    e = _to_float(events)
    g = np.asarray(groups, dtype=object).ravel()
    if not (t.shape == e.shape == g.shape):
        raise ValueError("durations, events and groups must have the same length")
    ok = ~(np.isnan(t) | np.isnan(e)) & np.array([not _is_missing(v) for v in g], dtype=bool)
    dropped = int((~ok).sum())
    t, e, g = t[ok], e[ok].astype(bool), np.array([str(v) for v in g[ok]], dtype=object)
    order = tuple(str(v) for v in group_order) if group_order is not None else tuple(sorted(set(g)))
    keep = np.isin(g, order)
    other = int((~keep).sum())
    return t[keep], e[keep], g[keep], order, dropped + other


def logrank(
    durations: Any,
    events: Any,
    groups: Any,
    group_order: Sequence[Any] | None = None,
) -> TestResult:
    """Log-rank test for 2 or k groups (R ``survdiff(Surv(t, e) ~ g)``; lifelines gives the same numbers).

    ``groups`` is one label per patient; ``group_order`` fixes which groups (and their order) are compared.
    Observed/expected events per group are in ``extras``. Empty groups are left out with a note.
    """
    t, e, g, order, dropped = _survival_frame(durations, events, groups, group_order)
    ns = tuple(int((g == lv).sum()) for lv in order)
    notes = _small_group_notes(order, ns)
    if dropped:
        notes.append(f"{dropped} patient(s) without time/event/group left out.")
    present = [lv for lv, k in zip(order, ns) if k > 0]
    empty = [lv for lv, k in zip(order, ns) if k == 0]
    if empty:
        notes.append(f"No patients in: {', '.join(empty)} — left out of the test.")
    name = f"Log-rank ({len(present)} groups)"
    base = dict(test=name, statistic_name="chi-square", groups=order, n=ns, method="asymptotic (χ²)")
    if len(present) < 2:
        notes.append("Fewer than two groups with patients — test not computed.")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), **base)
    if not e.any():
        notes.append("No events in any group — test not computed.")
        return TestResult(statistic=None, p_value=None, df=len(present) - 1, notes=tuple(notes), **base)
    obs, exp_, stat = _logrank_chisq(t, e, g, order, present)
    extras: list[tuple[str, float | None]] = []
    for k, lv in enumerate(order):  # observed / expected (as survdiff)
        extras += [(f"observed {lv}", float(obs[k])), (f"expected {lv}", float(exp_[k]))]
    for lv, k in zip(order, ns):
        if k > 0 and not e[g == lv].any():
            notes.append(f"No events in {lv}.")
    from scipy.stats import chi2

    df = len(present) - 1
    return TestResult(
        statistic=stat, p_value=float(chi2.sf(stat, df)), df=df, notes=tuple(notes), extras=tuple(extras), **base
    )


def _logrank_chisq(
    t: np.ndarray, e: np.ndarray, g: np.ndarray, order: Sequence[str], present: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, float]:
    """Observed and expected events per group of ``order`` and the log-rank chi-square over the groups in
    ``present`` (the groups of ``order`` that have patients) — R's ``survdiff`` (rho = 0), vectorised. At each
    distinct event time j, with n_j at risk and d_j events (n_kj at risk in group k):
    E_k = Σ_j d_j n_kj / n_j and V_kl = Σ_j d_j (n_j − d_j) / (n_j − 1) · (n_kj / n_j) (δ_kl − n_lj / n_j);
    chi-square = (O − E)' V⁻¹ (O − E) over the first k − 1 present groups. Same numbers as lifelines'
    logrank_test / multivariate_logrank_test, without their per-call pandas overhead (~30 ms each here)."""
    times = np.unique(t[e])
    ts = np.sort(t)
    n_all = (len(ts) - np.searchsorted(ts, times, side="left")).astype(float)  # > 0: every event time is a t
    d_all = np.bincount(np.searchsorted(times, t[e]), minlength=len(times)).astype(float)
    obs, exp_, n_k = np.zeros(len(order)), np.zeros(len(order)), np.zeros((len(order), len(times)))
    for k, lv in enumerate(order):
        m = g == lv
        tk = np.sort(t[m])
        n_k[k] = len(tk) - np.searchsorted(tk, times, side="left")
        obs[k] = float(e[m].sum())
        exp_[k] = float(np.sum(d_all * n_k[k] / n_all))
    idx = [list(order).index(lv) for lv in present]
    frac = n_k[idx] / n_all
    w = np.where(n_all > 1, d_all * (n_all - d_all) / np.maximum(n_all - 1, 1.0), 0.0)
    v = np.diag(frac @ w) - np.einsum("j,kj,lj->kl", w, frac, frac)
    diff = (obs[idx] - exp_[idx])[:-1]
    stat = (
        float(diff @ np.linalg.pinv(v[:-1, :-1]) @ diff) if len(diff) else 0.0
    )  # pinv, as lifelines: V can be singular
    return obs, exp_, max(stat, 0.0)


def pairwise_logrank(
    durations: Any,
    events: Any,
    groups: Any,
    group_order: Sequence[Any] | None = None,
    adjust: str = "holm",
) -> tuple[TestResult, ...]:
    """Log-rank test for every pair of groups; ``p_value`` is adjusted over the pairs that could be tested
    (``adjust`` = "holm" (default), "BH" or "none"); the raw p is in ``extras["raw p"]``."""
    if adjust not in ("holm", "BH", "none"):
        raise ValueError("adjust must be 'holm', 'BH' or 'none'")
    t, e, g, order, _ = _survival_frame(durations, events, groups, group_order)
    pairs = [(order[i], order[j]) for i in range(len(order)) for j in range(i + 1, len(order))]
    raw = [logrank(t, e, g, group_order=p) for p in pairs]
    pv = [r.p_value if r.p_value is not None else math.nan for r in raw]
    adj = holm(pv) if adjust == "holm" else benjamini_hochberg(pv) if adjust == "BH" else tuple(pv)
    n_tested = sum(1 for p in pv if not math.isnan(p))
    out = []
    for r, pa in zip(raw, adj):
        method = (
            f"{r.method}; {adjust} adjustment over {n_tested} pairwise comparisons" if adjust != "none" else r.method
        )
        out.append(
            TestResult(
                test=f"Log-rank ({r.groups[0]} vs {r.groups[1]})",
                statistic=r.statistic,
                statistic_name=r.statistic_name,
                p_value=None if math.isnan(pa) else float(pa),
                groups=r.groups,
                n=r.n,
                df=r.df,
                method=method,
                notes=r.notes,
                extras=r.extras + (("raw p", r.p_value),),
            )
        )
    return tuple(out)


def cox_hr(
    durations: Any,
    events: Any,
    group_indicator: Any,
    groups: Sequence[str] = ("reference", "comparison"),
    conf_level: float = 0.95,
) -> TestResult:
    """Hazard ratio of ``group_indicator == 1`` vs ``0`` from a one-covariate Cox model
    (lifelines ``CoxPHFitter``, Efron ties, Wald CI and p = R ``coxph``).

    Notes when there are fewer than 10 events; with no events in a group the HR is not estimable
    (estimate None) and the log-rank test should be used instead.
    """
    t = _to_float(durations)
    e = _to_float(events)
    x = _to_float(group_indicator)
    if not (t.shape == e.shape == x.shape):
        raise ValueError("durations, events and group_indicator must have the same length")
    ok = ~(np.isnan(t) | np.isnan(e) | np.isnan(x))
    notes: list[str] = []
    if (~ok).sum():
        notes.append(f"{int((~ok).sum())} patient(s) without time/event/group left out.")
    t, e, x = t[ok], e[ok].astype(bool), x[ok]
    if not np.all(np.isin(x, (0, 1))):
        raise ValueError("group_indicator must be 0/1")
    groups = tuple(str(gl) for gl in groups)
    ns = (int((x == 0).sum()), int((x == 1).sum()))
    ev = (int(e[x == 0].sum()), int(e[x == 1].sum()))
    notes += _empty_notes(groups, ns) + _small_group_notes(groups, ns)
    extras = ((f"events {groups[0]}", float(ev[0])), (f"events {groups[1]}", float(ev[1])))
    base = dict(
        test="Cox proportional hazards",
        statistic_name="z (Wald)",
        groups=groups,
        n=ns,
        effect=f"hazard ratio ({groups[1]} vs {groups[0]})",
        method="Wald (Efron ties)",
        conf_level=conf_level,
        extras=extras,
    )
    if 0 in ns:
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), **base)
    if sum(ev) < FEW_EVENTS:
        notes.append(f"Only {sum(ev)} events: the hazard ratio is imprecise (fewer than {FEW_EVENTS} events).")
    if 0 in ev:
        which = groups[ev.index(0)]
        notes.append(f"No events in {which}: hazard ratio not estimable (0 or ∞); use the log-rank test.")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), **base)
    from lifelines import CoxPHFitter

    df = pd.DataFrame({"T": t, "E": e.astype(int), "x": x})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter(alpha=1 - conf_level).fit(df, "T", "E")
    s = cph.summary.loc["x"]
    coef, se = float(s["coef"]), float(s["se(coef)"])
    if not (math.isfinite(coef) and math.isfinite(se)) or abs(coef) > 15 or se > 100:
        notes.append(
            "The Cox model did not converge (the hazard ratio tends to 0 or ∞, e.g. complete "
            "separation of event times): hazard ratio not estimable; use the log-rank test."
        )
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), **base)
    zq = _sps.norm.ppf(0.5 + conf_level / 2)
    return TestResult(
        statistic=float(s["z"]),
        p_value=float(s["p"]),
        estimate=math.exp(coef),
        ci_low=math.exp(coef - zq * se),
        ci_high=math.exp(coef + zq * se),
        notes=tuple(notes),
        **base,
    )


# ---------------------------------------------------------------------------------------------
# multiplicity
# ---------------------------------------------------------------------------------------------
def _pvec(pvalues: Sequence[float | None]) -> np.ndarray:
    return np.asarray([np.nan if p is None else p for p in pvalues], dtype=float)


def benjamini_hochberg(pvalues: Sequence[float | None]) -> tuple[float, ...]:
    """R ``p.adjust(p, method = "BH")``; NaN/None stay NaN and are not counted."""
    p = _pvec(pvalues)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m:
        pv = p[ok]
        order = np.argsort(pv)[::-1]  # decreasing
        i = np.arange(m, 0, -1)
        adj = np.minimum.accumulate(m / i * pv[order])
        res = np.empty(m)
        res[order] = np.minimum(adj, 1.0)
        out[ok] = res
    return tuple(float(v) for v in out)


def holm(pvalues: Sequence[float | None]) -> tuple[float, ...]:
    """R ``p.adjust(p, method = "holm")``; NaN/None stay NaN and are not counted."""
    p = _pvec(pvalues)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m:
        pv = p[ok]
        order = np.argsort(pv, kind="stable")
        adj = np.maximum.accumulate((m - np.arange(m)) * pv[order])
        res = np.empty(m)
        res[order] = np.minimum(adj, 1.0)
        out[ok] = res
    return tuple(float(v) for v in out)
