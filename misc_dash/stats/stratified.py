"""Stratified comparisons: the stratified log-rank test, the Mantel–Haenszel common odds ratio and van Elteren's
stratified Wilcoxon test. Each compares groups *within* strata (e.g. CV shock yes / no) and adds up, so a group
that holds most of the sicker patients is compared with like patients only.

* :func:`stratified_logrank` = R ``survdiff(Surv(t, e) ~ group + strata(x))``: observed − expected events and
  their covariance summed over the strata, then the usual quadratic form (groups with expected events only, the
  first group dropped), df = their number − 1. Times pass through R's ``aeqSurv`` (:func:`.cox.timefix`) once, over
  all patients, as ``survdiff`` does.
* :func:`mantel_haenszel` = R ``mantelhaen.test(x, correct = TRUE)`` for a 2 × 2 × K table: the continuity-corrected
  Mantel–Haenszel χ² (the correction ½ only when |Σ(O − E)| ≥ ½, as R), the Mantel–Haenszel common odds ratio and
  the Robins–Breslow–Greenland CI. :func:`mantel_haenszel_by` builds the table from one row per patient.
* :func:`van_elteren` = van Elteren (1960): Σ_k W_k / (n_k + 1) with W_k the rank sum of the second group in stratum
  k (average ranks for ties), its permutation mean and variance within each stratum, z and the two-sided normal p
  (no continuity correction) — equal to R ``coin::independence_test(y ~ g | stratum, ytrafo = …)`` with the ranks
  divided by n_k + 1 in each block, and to the formula written out in R.

A stratum with patients of one group only, or without events (log-rank), contributes nothing to any of these
tests; the notes say which.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _sps

from ._common import _small_group_notes, _to_float
from .cox import timefix
from .rank import _average_ranks
from .results import TestResult


def _labels(values: Any) -> np.ndarray:
    """Object array of str labels; missing values → None."""
    arr = np.asarray(values, dtype=object).ravel()
    miss = pd.isna(arr)
    out = np.array([None if m else str(v) for v, m in zip(arr, miss)], dtype=object)
    return out


def _order(labels: np.ndarray, order: Sequence[Any] | None) -> tuple[str, ...]:
    if order is not None:
        return tuple(str(v) for v in order)
    return tuple(sorted({v for v in labels if v is not None}))


def _logrank_parts(t: np.ndarray, e: np.ndarray, g: np.ndarray, order: Sequence[str]):
    """Observed and expected events per group and the k × k covariance of O − E (R survdiff, rho = 0) on one
    stratum: at each distinct event time with n at risk and d events, E_k += d·n_k/n and
    V_kl += d(n − d)/(n − 1)·(n_k/n)(δ_kl − n_l/n)."""
    k = len(order)
    obs, exp_, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    if not e.any():
        return obs, exp_, var
    times = np.unique(t[e])
    ts = np.sort(t)
    n_all = (len(ts) - np.searchsorted(ts, times, side="left")).astype(float)
    d_all = np.bincount(np.searchsorted(times, t[e]), minlength=len(times)).astype(float)
    n_k = np.zeros((k, len(times)))
    for i, lv in enumerate(order):
        m = g == lv
        tk = np.sort(t[m])
        n_k[i] = len(tk) - np.searchsorted(tk, times, side="left")
        obs[i] = float(e[m].sum())
        exp_[i] = float(np.sum(d_all * n_k[i] / n_all))
    frac = n_k / n_all
    w = np.where(n_all > 1, d_all * (n_all - d_all) / np.maximum(n_all - 1, 1.0), 0.0)
    var = np.diag(frac @ w) - np.einsum("j,kj,lj->kl", w, frac, frac)
    return obs, exp_, var


def stratified_logrank(
    durations: Any,
    events: Any,
    groups: Any,
    strata: Any,
    group_order: Sequence[Any] | None = None,
    strata_name: str = "stratum",
) -> TestResult:
    """Stratified log-rank test = R ``survdiff(Surv(t, e) ~ group + strata(x))`` (see the module docstring).

    ``groups``/``strata``: one label per patient; patients missing a time, event, group or stratum are left out
    (counted in the notes). ``extras``: observed / expected events per group summed over strata, and the number of
    strata that contribute."""
    t = _to_float(durations)
    e = _to_float(events)
    g = _labels(groups)
    st = _labels(strata)
    if not (t.shape == e.shape == g.shape == st.shape):
        raise ValueError("durations, events, groups and strata must have the same length")
    order = _order(g, group_order)
    ok = ~(np.isnan(t) | np.isnan(e)) & np.array([x is not None for x in g]) & np.array([x is not None for x in st])
    ok &= np.isin(g, order)
    dropped = int((~ok).sum())
    t, e, g, st = timefix(t[ok]), e[ok].astype(bool), g[ok], st[ok]
    ns = tuple(int((g == lv).sum()) for lv in order)
    notes = _small_group_notes(order, ns)
    if dropped:
        notes.append(f"{dropped} patient(s) without time, event, group or {strata_name} left out.")
    base = dict(
        test=f"Stratified log-rank (by {strata_name})",
        statistic_name="chi-square",
        groups=order,
        n=ns,
        method="asymptotic (χ²), R survdiff with strata()",
    )
    present = [lv for lv, k in zip(order, ns) if k > 0]
    if len(present) < 2:
        notes.append("Fewer than two groups with patients — test not computed.")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), **base)
    k = len(order)
    obs, exp_, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    levels = sorted(set(st))
    one_group, no_events, used = [], [], 0
    for lv in levels:
        m = st == lv
        in_stratum = [o for o in order if (g[m] == o).any()]
        o, x, v = _logrank_parts(t[m], e[m], g[m], order)
        obs += o
        exp_ += x
        var += v
        if len(in_stratum) < 2:
            one_group.append(f"{lv} (only {in_stratum[0]})")
        elif not e[m].any():
            no_events.append(lv)
        else:
            used += 1
    if one_group:
        notes.append(
            f"Only one group in {strata_name} {', '.join(one_group)}: no comparison there, so it contributes "
            "nothing to the test."
        )
    if no_events:
        notes.append(f"No events in {strata_name} {', '.join(no_events)}: it contributes nothing to the test.")
    extras: list[tuple[str, float | None]] = []
    for i, lv in enumerate(order):
        extras += [(f"observed {lv}", float(obs[i])), (f"expected {lv}", float(exp_[i]))]
    extras += [("strata", float(len(levels))), ("strata contributing", float(used))]
    idx = [i for i, lv in enumerate(order) if ns[i] > 0 and exp_[i] > 0]
    if len(idx) < 2 or used == 0:
        notes.append(f"No {strata_name} compares two groups with events — test not computed.")
        return TestResult(statistic=None, p_value=None, df=0, notes=tuple(notes), extras=tuple(extras), **base)
    diff = (obs[idx] - exp_[idx])[1:]
    vv = var[np.ix_(idx, idx)][1:, 1:]
    try:
        stat = float(diff @ np.linalg.solve(vv, diff))
    except np.linalg.LinAlgError:
        stat = float(diff @ np.linalg.pinv(vv) @ diff)
    df = len(idx) - 1
    stat = max(stat, 0.0)
    return TestResult(
        statistic=stat,
        p_value=float(_sps.chi2.sf(stat, df)),
        df=df,
        notes=tuple(notes),
        extras=tuple(extras),
        **base,
    )


# ---------------------------------------------------------------------------------------------- Mantel–Haenszel
def mantel_haenszel(
    tables: Any,
    strata: Sequence[str] | None = None,
    correct: bool = True,
    conf_level: float = 0.95,
    groups: Sequence[str] = ("row 1", "row 2"),
) -> TestResult:
    """Mantel–Haenszel test and common odds ratio of a 2 × 2 × K table (R's layout ``x[i, j, k]``: rows = the two
    groups, columns = outcome yes / no, one 2 × 2 table per stratum) = R ``mantelhaen.test(x, correct = TRUE)``.
    The odds ratio is that of row 1 vs row 2 (x₁₁x₂₂ / x₁₂x₂₁ summed with weights 1/n_k); CI = Robins–Breslow–
    Greenland on the log scale, as R. R stops on a stratum with fewer than 2 patients; here it is left out and
    named. ``n`` = the patients of each row over the strata used."""
    x = np.asarray(tables, dtype=float)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.shape[:2] != (2, 2):
        raise ValueError("tables must be 2 × 2 × K")
    K = x.shape[2]
    names = [str(s) for s in strata] if strata is not None else [str(i + 1) for i in range(K)]
    notes: list[str] = []
    n = x.sum(axis=(0, 1))
    small = [names[k] for k in range(K) if n[k] < 2]
    if small:
        notes.append(f"Strata with fewer than 2 patients left out (R mantelhaen.test refuses them): {', '.join(small)}")
    keep = n >= 2
    x, n = x[:, :, keep], n[keep]
    kept = [nm for nm, k in zip(names, keep) if k]
    groups = tuple(str(gl) for gl in groups)
    ns = (int(x[0].sum()), int(x[1].sum()))
    base = dict(
        test="Mantel–Haenszel",
        statistic_name="chi-square",
        groups=groups,
        n=ns,
        effect=f"common odds ratio ({groups[0]} vs {groups[1]})",
        conf_level=conf_level,
        method="asymptotic (χ²" + (", continuity correction" if correct else "") + "), Robins–Breslow–Greenland CI",
    )
    one_group = [nm for k, nm in enumerate(kept) if min(x[0, :, k].sum(), x[1, :, k].sum()) == 0]
    if one_group:
        notes.append(f"Strata with patients of one group only contribute nothing: {', '.join(one_group)}.")
    one_outcome = [nm for k, nm in enumerate(kept) if min(x[:, 0, k].sum(), x[:, 1, k].sum()) == 0]
    one_outcome = [nm for nm in one_outcome if nm not in one_group]
    if one_outcome:
        notes.append(f"Strata where every patient has the same outcome contribute nothing: {', '.join(one_outcome)}.")
    if x.shape[2] == 0:
        notes.append("No stratum with 2 or more patients — test not computed.")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), **base)
    r1, c1 = x[0].sum(axis=0), x[:, 0].sum(axis=0)  # row-1 and column-1 totals per stratum
    r2, c2 = n - r1, n - c1
    delta = float(np.sum(x[0, 0] - r1 * c1 / n))
    var = float(np.sum(r1 * r2 * c1 * c2 / (n**2 * (n - 1))))
    extras: list[tuple[str, float | None]] = [("strata", float(len(kept))), ("sum O - E", delta), ("variance", var)]
    s_diag = float(np.sum(x[0, 0] * x[1, 1] / n))
    s_offd = float(np.sum(x[0, 1] * x[1, 0] / n))
    est = lo = hi = None
    if s_diag > 0 and s_offd > 0:
        est = s_diag / s_offd
        p_, q_ = (x[0, 0] + x[1, 1]) / n, (x[0, 1] + x[1, 0]) / n
        r_, s_ = x[0, 0] * x[1, 1] / n, x[0, 1] * x[1, 0] / n
        sd = math.sqrt(
            float(np.sum(p_ * r_)) / (2 * s_diag**2)
            + float(np.sum(p_ * s_ + q_ * r_)) / (2 * s_diag * s_offd)
            + float(np.sum(q_ * s_)) / (2 * s_offd**2)
        )
        z = _sps.norm.ppf(0.5 + conf_level / 2)
        lo, hi = est * math.exp(-z * sd), est * math.exp(z * sd)
    elif s_diag > 0 or s_offd > 0:
        est = math.inf if s_offd == 0 else 0.0
        notes.append("A zero in every stratum's discordant cells: the common odds ratio is 0 or ∞ (no CI).")
    if var <= 0:
        notes.append("No stratum has both groups and both outcomes — test not computed.")
        return TestResult(statistic=None, p_value=None, estimate=est, notes=tuple(notes), extras=tuple(extras), **base)
    yates = 0.5 if correct and abs(delta) >= 0.5 else 0.0
    stat = (abs(delta) - yates) ** 2 / var
    return TestResult(
        statistic=stat,
        p_value=float(_sps.chi2.sf(stat, 1)),
        df=1,
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        notes=tuple(notes),
        extras=tuple(extras),
        **base,
    )


def mantel_haenszel_by(
    outcome: Any,
    groups: Any,
    strata: Any,
    group_order: Sequence[Any] | None = None,
    correct: bool = True,
    conf_level: float = 0.95,
    strata_name: str = "stratum",
) -> TestResult:
    """:func:`mantel_haenszel` from one row per patient: ``outcome`` true/false (1/0), two groups; the odds ratio is
    that of the **second** group of ``group_order`` vs the first, i.e. R ``mantelhaen.test(table(factor(group,
    levels = c(second, first)), factor(outcome, levels = c(TRUE, FALSE)), stratum))``. Patients missing a value
    are left out (noted)."""
    y = _to_float(outcome)
    g = _labels(groups)
    st = _labels(strata)
    if not (y.shape == g.shape == st.shape):
        raise ValueError("outcome, groups and strata must have the same length")
    order = _order(g, group_order)
    if len(order) != 2:
        raise ValueError("the Mantel–Haenszel odds ratio compares exactly two groups")
    ok = ~np.isnan(y) & np.isin(g, order) & np.array([x is not None for x in st])
    dropped = int((~ok).sum())
    y, g, st = y[ok] != 0, g[ok], st[ok]
    levels = sorted(set(st))
    tab = np.zeros((2, 2, len(levels)))
    for k, lv in enumerate(levels):
        m = st == lv
        for i, grp in enumerate((order[1], order[0])):
            tab[i, 0, k] = np.sum(m & (g == grp) & y)
            tab[i, 1, k] = np.sum(m & (g == grp) & ~y)
    named = [f"{strata_name} {lv}" for lv in levels]  # notes read "… contribute nothing: CV shock yes"
    res = mantel_haenszel(tab, strata=named, correct=correct, conf_level=conf_level, groups=(order[1], order[0]))
    notes = list(res.notes)
    if dropped:
        notes.insert(0, f"{dropped} patient(s) without outcome, group or {strata_name} left out.")
    return replace(
        res, test=f"Mantel–Haenszel (by {strata_name})", notes=tuple(notes), groups=order, n=(res.n[1], res.n[0])
    )


# ---------------------------------------------------------------------------------------------- van Elteren
def van_elteren(
    values: Any,
    groups: Any,
    strata: Any,
    group_order: Sequence[Any] | None = None,
    strata_name: str = "stratum",
) -> TestResult:
    """Van Elteren's stratified Wilcoxon test of two groups (see the module docstring). The statistic is
    z = (T − E T) / √Var T with T = Σ_k W_k / (n_k + 1), W_k the rank sum of the second group in stratum k;
    z > 0: the second group tends higher. Var W_k = m_k l_k / (n_k(n_k − 1)) · Σ (r − r̄)² (the permutation
    variance with ties). Two-sided normal p, no continuity correction."""
    x = _to_float(values)
    g = _labels(groups)
    st = _labels(strata)
    if not (x.shape == g.shape == st.shape):
        raise ValueError("values, groups and strata must have the same length")
    order = _order(g, group_order)
    if len(order) != 2:
        raise ValueError("van Elteren's test compares exactly two groups")
    ok = ~np.isnan(x) & np.isin(g, order) & np.array([v is not None for v in st])
    dropped = int((~ok).sum())
    x, g, st = x[ok], g[ok], st[ok]
    ns = (int((g == order[0]).sum()), int((g == order[1]).sum()))
    notes = _small_group_notes(order, ns)
    if dropped:
        notes.append(f"{dropped} patient(s) without a value, group or {strata_name} left out.")
    base = dict(
        test=f"Van Elteren stratified Wilcoxon (by {strata_name})",
        statistic_name="z",
        groups=order,
        n=ns,
        method="asymptotic (normal, ties: average ranks)",
    )
    T = ET = VT = 0.0
    one_group, tied, used = [], [], 0
    for lv in sorted(set(st)):
        m = st == lv
        xs, gs = x[m], g[m]
        nk = int(m.sum())
        mk = int((gs == order[1]).sum())
        lk = nk - mk
        if mk == 0 or lk == 0:
            one_group.append(f"{lv} (only {order[1] if lk == 0 else order[0]})")
            continue
        r = _average_ranks(xs)
        ss = float(np.sum((r - r.mean()) ** 2))
        if ss == 0:
            tied.append(str(lv))
            continue
        used += 1
        T += float(r[gs == order[1]].sum()) / (nk + 1)
        ET += mk / 2
        VT += mk * lk / (nk * (nk - 1)) * ss / (nk + 1) ** 2
    if one_group:
        notes.append(
            f"Only one group in {strata_name} {', '.join(one_group)}: no comparison there, so it contributes "
            "nothing to the test."
        )
    if tied:
        notes.append(f"All values tied in {strata_name} {', '.join(tied)}: it contributes nothing to the test.")
    extras = (("T", T), ("E T", ET), ("Var T", VT), ("strata contributing", float(used)))
    if VT <= 0:
        notes.append(f"No {strata_name} compares the two groups — test not computed.")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), extras=extras, **base)
    z = (T - ET) / math.sqrt(VT)
    return TestResult(statistic=z, p_value=float(2 * _sps.norm.sf(abs(z))), notes=tuple(notes), extras=extras, **base)
