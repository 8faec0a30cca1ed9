"""Survival: Kaplan–Meier curves, log-rank tests (k groups and pairwise), Cox hazard ratio.

Where lifelines and R differ, R is the reference:

* **Kaplan–Meier**: the product-limit estimate is computed here in numpy, in lifelines' form
  (exp of the cumulative sum of log((n − d) / n)); it is tested against ``lifelines.KaplanMeierFitter`` and
  R ``survfit``. lifelines' own bands use the "exponential Greenwood" (log(−log)) transform, which is R
  ``survfit(conf.type = "log-log")``; R's default is ``conf.type = "log"``. We compute the Greenwood bands
  ourselves so either can be chosen (``conf_type="log-log"`` default, ``"log"`` = R default, ``"plain"``); the
  median and its CI follow R's ``quantile.survfit`` rule (midpoint when the curve sits exactly at 0.5).
* **Log-rank** = R ``survdiff`` (rho = 0), computed here in numpy (observed − expected events and their
  covariance; p from the χ² distribution); tested against R and against lifelines' ``logrank_test`` /
  ``multivariate_logrank_test``, which give the same numbers.
* **Cox** = R ``coxph`` (Efron ties), fitted in :mod:`.cox` with R's Newton–Raphson and stopping rule (lifelines'
  default stopping rule can stop early); Wald z, p and CI exp(coef ± z·se); proportional hazards checked as R
  ``cox.zph``.
* **Time ties**: every function here first applies R's ``aeqSurv`` rule (:func:`.cox.timefix`): times equal up to
  floating point are one time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _sps

from ..formatting import number, p_phrase
from ._common import FEW_EVENTS, SMALL_GROUP, _dc_to_dict, _empty_notes, _small_group_notes, _to_float
from .cox import cox_fit, cox_zph, timefix
from .multiplicity import benjamini_hochberg, holm
from .results import TestResult


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

    def summary_at(self, times: Sequence[float]) -> tuple[dict, ...]:
        """Survival with its CI and the number at risk at each time = R ``summary(survfit(…), times, extend =
        TRUE)`` (the curve's value at the last time ≤ t; after the last follow-up it keeps its last value, and
        the CI is undefined once the curve is at 0)."""
        tl = np.asarray(self.timeline)
        out = []
        for t, n_risk in zip(times, self.at_risk(times)):
            i = max(int(np.searchsorted(tl, t, side="right")) - 1, 0)
            lo, hi = self.ci_lower[i], self.ci_upper[i]
            out.append(
                {
                    "time": float(t),
                    "survival": self.survival[i],
                    "ci": [None if math.isnan(lo) else lo, None if math.isnan(hi) else hi],
                    "conf_level": self.conf_level,
                    "n_risk": n_risk,
                }
            )
        return tuple(out)

    def median_text(self, decimals: int = 1, unit: str = "") -> str:
        """ "2.0 (95% CI 1.5–3.0)"; "not reached" when S(t) stays above 0.5."""
        u = f" {unit}" if unit else ""
        if self.median is None:
            return "not reached"
        lo = number(self.median_ci_low, decimals) if self.median_ci_low is not None else "n/a"
        hi = number(self.median_ci_high, decimals) if self.median_ci_high is not None else "not reached"
        return f"{number(self.median, decimals)}{u} ({round(100 * self.conf_level)}% CI {lo}–{hi})"

    def to_dict(self) -> dict:
        return _dc_to_dict(self)


def kaplan_meier(
    durations: Any,
    events: Any,
    label: str = "all",
    conf_level: float = 0.95,
    conf_type: str = "log-log",
) -> KMCurve:
    """Kaplan–Meier curve (product-limit, in numpy, in lifelines' form) with Greenwood CIs and R's median rule.

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
    t, e = timefix(t[ok]), e[ok].astype(bool)
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
    ok = ~(np.isnan(t) | np.isnan(e)) & ~pd.isna(g)
    dropped = int((~ok).sum())
    t, e, g = t[ok], e[ok].astype(bool), np.array(list(map(str, g[ok])), dtype=object)
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
    """Log-rank test for 2 or k groups = R ``survdiff(Surv(t, e) ~ g)`` (in numpy; lifelines gives the same numbers).

    ``groups`` is one label per patient; ``group_order`` fixes which groups (and their order) are compared.
    Observed/expected events per group are in ``extras``. Empty groups are left out with a note.
    """
    t, e, g, order, dropped = _survival_frame(durations, events, groups, group_order)
    t = timefix(t)
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
    obs, exp_, stat, df = _logrank_chisq(t, e, g, order, present)
    extras: list[tuple[str, float | None]] = []
    for k, lv in enumerate(order):  # observed / expected (as survdiff)
        extras += [(f"observed {lv}", float(obs[k])), (f"expected {lv}", float(exp_[k]))]
    for lv, k in zip(order, ns):
        if k > 0 and not e[g == lv].any():
            notes.append(f"No events in {lv}.")
    no_exp = [lv for k, lv in enumerate(order) if ns[k] > 0 and exp_[k] <= 0]
    if no_exp:
        notes.append(
            f"No expected events in {', '.join(no_exp)} (every follow-up ends before the first event): left out of "
            f"the test, as R survdiff does ({df} df)."
        )
    if df < 1:
        notes.append("Fewer than two groups with expected events — test not computed.")
        return TestResult(statistic=None, p_value=None, df=0, notes=tuple(notes), extras=tuple(extras), **base)
    from scipy.stats import chi2

    return TestResult(
        statistic=stat, p_value=float(chi2.sf(stat, df)), df=df, notes=tuple(notes), extras=tuple(extras), **base
    )


def _logrank_chisq(
    t: np.ndarray, e: np.ndarray, g: np.ndarray, order: Sequence[str], present: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Observed and expected events per group of ``order``, the log-rank chi-square and its df — R's
    ``survdiff`` (rho = 0), vectorised. At each distinct event time j, with n_j at risk and d_j events (n_kj at
    risk in group k): E_k = Σ_j d_j n_kj / n_j and V_kl = Σ_j d_j (n_j − d_j) / (n_j − 1) · (n_kj / n_j)
    (δ_kl − n_lj / n_j). As survdiff, only the groups with E_k > 0 enter: chi-square = (O − E)' V⁻¹ (O − E) over
    all of them but the first, df = their number − 1 (0: no test)."""
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
    idx = [list(order).index(lv) for lv in present if exp_[list(order).index(lv)] > 0]
    if len(idx) < 2:
        return obs, exp_, 0.0, 0
    frac = n_k[idx] / n_all
    w = np.where(n_all > 1, d_all * (n_all - d_all) / np.maximum(n_all - 1, 1.0), 0.0)
    v = np.diag(frac @ w) - np.einsum("j,kj,lj->kl", w, frac, frac)
    diff = (obs[idx] - exp_[idx])[1:]  # survdiff drops the first group
    vv = v[1:, 1:]
    try:
        stat = float(diff @ np.linalg.solve(vv, diff))
    except np.linalg.LinAlgError:  # R's solve() would stop; a singular V has a generalised inverse
        stat = float(diff @ np.linalg.pinv(vv) @ diff)
    return obs, exp_, max(stat, 0.0), len(idx) - 1


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
    raw = []
    for p in pairs:  # each pair on its own patients (the other groups are not "left out": they are not compared)
        m = np.isin(g, p)
        raw.append(logrank(t[m], e[m], g[m], group_order=p))
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
    """Hazard ratio of ``group_indicator == 1`` vs ``0`` from a one-covariate Cox model = R
    ``coxph(Surv(t, e) ~ x, ties = "efron")`` (fitted by :func:`misc_dash.stats.cox.cox_fit` to R's convergence
    rule), Wald z, p and CI; with the proportional-hazards check of R ``cox.zph`` (scaled Schoenfeld residuals,
    KM time transform) in ``extras`` and a plain note when it fails (p < 0.05).

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
    extras: list[tuple[str, float | None]] = [
        (f"events {groups[0]}", float(ev[0])),
        (f"events {groups[1]}", float(ev[1])),
    ]
    base = dict(
        test="Cox proportional hazards",
        statistic_name="z (Wald)",
        groups=groups,
        n=ns,
        effect=f"hazard ratio ({groups[1]} vs {groups[0]})",
        method="Wald (Efron ties)",
        conf_level=conf_level,
    )
    if 0 in ns:
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), extras=tuple(extras), **base)
    if sum(ev) < FEW_EVENTS:
        notes.append(f"Only {sum(ev)} events: the hazard ratio is imprecise (fewer than {FEW_EVENTS} events).")
    if 0 in ev:
        which = groups[ev.index(0)]
        notes.append(f"No events in {which}: hazard ratio not estimable (0 or ∞); use the log-rank test.")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), extras=tuple(extras), **base)
    fit = cox_fit(t, e, x)
    coef, se = fit.coef[0], fit.se[0]
    if not fit.converged or not (math.isfinite(coef) and math.isfinite(se)) or abs(coef) > 15 or se > 100:
        notes.append(
            "The Cox model did not converge (the hazard ratio tends to 0 or ∞, e.g. complete "
            "separation of event times): hazard ratio not estimable; use the log-rank test."
        )
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), extras=tuple(extras), **base)
    z, p, lo, hi = fit.wald(0, conf_level)
    (ph_stat, ph_df, ph_p), _ = cox_zph(t, e, x, fit)
    extras += [("PH test chi-square", ph_stat), ("PH test df", float(ph_df)), ("PH test p", ph_p)]
    if ph_p < 0.05:
        notes.append(
            f"Proportional hazards doubtful (scaled Schoenfeld residuals, R cox.zph: {p_phrase(ph_p)}): the "
            "hazard ratio averages an effect that changes over time; read the curves, not the single number."
        )
    return TestResult(
        statistic=z,
        p_value=p,
        estimate=math.exp(coef),
        ci_low=lo,
        ci_high=hi,
        notes=tuple(notes),
        extras=tuple(extras),
        **base,
    )
