"""Inverse probability of treatment weighting: propensity scores, stabilised ATE weights, the balance table
and the weighted Kaplan–Meier curve.

* :func:`iptw` — the propensity score P(second group | X) from R ``glm(binomial)`` (:func:`.regression.logistic_
  regression`) and the stabilised ATE weights P(A = a) / P(A = a | X) (P(A = a) = the share of the group among the
  patients used). Optional truncation: weights above the ``trim`` quantile of all weights (R ``quantile(w, trim)``,
  type 7) are set to that quantile — the rule and the number of patients it changed are in the notes.
* :func:`balance_table` — standardised mean differences before and after weighting, the cobalt default for the
  ATE: (mean₂ − mean₁) / √((s₁² + s₂²) / 2), means weighted after weighting, the variances always the unweighted
  ones (binary 0/1 columns: p(1 − p); others: the sample variance, n − 1); |SMD| < 0.1 counts as balanced.
* :func:`weighted_kaplan_meier` = R ``survfit(Surv(t, e) ~ 1, weights = w)``: the product-limit estimate with
  weighted numbers at risk and of events. Its variance is what R uses: with non-integer weights R's default is the
  robust (infinitesimal jackknife) variance, Σᵢ (wᵢ ∂S(t)/∂wᵢ)², with integer weights Greenwood's formula on the
  weighted counts (``robust=None`` chooses as R does; True / False force one). CI ``conf_type="log"`` (R's
  default), "log-log" or "plain".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _sps

from ._common import _dc_to_dict, _to_float
from .cox import timefix
from .regression import ModelFit, logistic_regression, model_matrix
from .survival import KMCurve, _r_findq

BALANCED = 0.1  # |SMD| below this: balanced (cobalt / gtsummary convention)


@dataclass(frozen=True)
class IPTWeights:
    """Propensity scores and stabilised ATE weights, one per input row (NaN for rows left out). ``groups`` =
    (first, second); the propensity is P(second | X); ``marginal`` = P(second) among the rows used; ``ess`` = Kish's
    effective sample size (Σw)² / Σw² per group; ``fit`` = the propensity model."""

    groups: tuple[str, str]
    propensity: tuple[float, ...]
    weights: tuple[float, ...]
    treated: tuple[float, ...]  # 1.0 = second group, 0.0 = first, NaN = left out
    stabilized: bool
    marginal: float | None
    trim: float | None
    trim_rule: str
    n_trimmed: int
    ess: tuple[float | None, float | None]
    fit: ModelFit | None
    n: tuple[int, int]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return _dc_to_dict(self)


def _treatment(groups: Any, group_order: Sequence[Any] | None) -> tuple[np.ndarray, tuple[str, str]]:
    g = np.asarray(groups, dtype=object).ravel()
    miss = pd.isna(g)
    if group_order is None:
        levels = sorted({str(v) for v, m in zip(g, miss) if not m})
    else:
        levels = [str(v) for v in group_order]
    if len(levels) != 2:
        raise ValueError("weighting compares exactly two groups")
    a = np.array(
        [
            math.nan if m else (1.0 if str(v) == levels[1] else 0.0 if str(v) == levels[0] else math.nan)
            for v, m in zip(g, miss)
        ]
    )
    return a, (levels[0], levels[1])


def iptw(
    groups: Any,
    covariates: Any,
    group_order: Sequence[Any] | None = None,
    stabilized: bool = True,
    trim: float | None = None,
) -> IPTWeights:
    """Propensity scores and (stabilised) ATE weights; see the module docstring. ``covariates``: a data frame of
    the adjustment columns (text / categorical columns become R's dummy columns, :func:`.regression.model_matrix`).
    Rows with a missing group or covariate get no weight (NaN; counted in the notes)."""
    if trim is not None and not 0.5 < trim < 1:
        raise ValueError("trim is the upper quantile at which weights are truncated, e.g. 0.99")
    a, levels = _treatment(groups, group_order)
    X = model_matrix(pd.DataFrame(covariates).reset_index(drop=True))
    ok = ~np.isnan(a) & ~np.isnan(X.to_numpy(float)).any(axis=1)
    notes: list[str] = []
    if (~ok).sum():
        notes.append(f"{int((~ok).sum())} patient(s) without group or a covariate get no weight (left out).")
    n = (int(np.sum(a[ok] == 0)), int(np.sum(a[ok] == 1)))
    nanv = tuple([math.nan] * len(a))
    empty = dict(groups=levels, stabilized=stabilized, trim=trim, n=n)
    if min(n) == 0:
        notes.append("One group has no patients with complete covariates: no propensity score.")
        return IPTWeights(
            propensity=nanv,
            weights=nanv,
            treated=tuple(a),
            marginal=None,
            trim_rule="",
            n_trimmed=0,
            ess=(None, None),
            fit=None,
            notes=tuple(notes),
            **empty,
        )
    fit = logistic_regression(a[ok], X[ok].reset_index(drop=True))
    notes += [f"Propensity model: {t}" for t in fit.notes]
    ps = np.full(len(a), np.nan)
    ps[ok] = fit.fitted
    marg = float(np.mean(a[ok]))
    w = np.full(len(a), np.nan)
    num1, num0 = (marg, 1 - marg) if stabilized else (1.0, 1.0)
    w[ok] = np.where(a[ok] == 1, num1 / ps[ok], num0 / (1 - ps[ok]))
    extreme = ok & ((ps < 0.01) | (ps > 0.99))
    if extreme.any():
        notes.append(
            f"{int(extreme.sum())} patient(s) with a propensity score below 0.01 or above 0.99: near-violations of "
            "positivity, their weights dominate."
        )
    rule, n_trim = "no trimming", 0
    if trim is not None:
        cap = float(np.quantile(w[ok], trim))  # numpy "linear" = R quantile type 7
        n_trim = int(np.sum(w[ok] > cap))
        w[ok] = np.minimum(w[ok], cap)
        rule = (
            f"weights above the {100 * trim:g}th percentile ({cap:.3g}) set to it (truncation; "
            f"{n_trim} patient(s) changed)"
        )
        notes.append(f"Trimming: {rule}.")
    ess = tuple(float(np.sum(w[ok & (a == k)]) ** 2 / np.sum(w[ok & (a == k)] ** 2)) for k in (0.0, 1.0))
    return IPTWeights(
        propensity=tuple(float(v) for v in ps),
        weights=tuple(float(v) for v in w),
        treated=tuple(float(v) for v in a),
        marginal=marg,
        trim_rule=rule,
        n_trimmed=n_trim,
        ess=(ess[0], ess[1]),
        fit=fit,
        notes=tuple(notes),
        **empty,
    )


# ---------------------------------------------------------------------------------------------- balance
@dataclass(frozen=True)
class BalanceRow:
    covariate: str
    binary: bool
    mean_first: float
    mean_second: float
    mean_first_weighted: float | None
    mean_second_weighted: float | None
    smd_before: float | None
    smd_after: float | None

    @property
    def balanced_after(self) -> bool | None:
        return None if self.smd_after is None else abs(self.smd_after) < BALANCED

    def to_dict(self) -> dict:
        return {**_dc_to_dict(self), "balanced_after": self.balanced_after}


@dataclass(frozen=True)
class Balance:
    """Standardised mean differences (second − first) per design column before / after weighting."""

    groups: tuple[str, str]
    rows: tuple[BalanceRow, ...]
    threshold: float = BALANCED
    method: str = (
        "SMD = (mean second − mean first) / √((s₁² + s₂²)/2), weighted means after weighting, unweighted variances "
        "(cobalt's ATE default); binary: p(1 − p)"
    )
    notes: tuple[str, ...] = ()

    def row(self, covariate: str) -> BalanceRow:
        return next(r for r in self.rows if r.covariate == covariate)

    def to_dict(self) -> dict:
        return {
            "groups": list(self.groups),
            "threshold": self.threshold,
            "method": self.method,
            "rows": [r.to_dict() for r in self.rows],
            "notes": list(self.notes),
        }


def _smd(x1, x0, m1, m0, binary):
    if binary:
        p1, p0 = float(np.mean(x1)), float(np.mean(x0))
        v = (p1 * (1 - p1) + p0 * (1 - p0)) / 2
    else:
        if x1.size < 2 or x0.size < 2:
            return None
        v = (float(np.var(x1, ddof=1)) + float(np.var(x0, ddof=1))) / 2
    if v <= 0:
        return 0.0 if m1 == m0 else None
    return (m1 - m0) / math.sqrt(v)


def balance_table(
    covariates: Any, groups: Any, weights: Any = None, group_order: Sequence[Any] | None = None
) -> Balance:
    """The balance table (see the module docstring): one row per column of R's design for ``covariates`` (text /
    categorical columns → one row per level but the first). ``weights`` None: only the unweighted SMD. Rows
    missing a group, covariate or weight are left out."""
    a, levels = _treatment(groups, group_order)
    X = model_matrix(pd.DataFrame(covariates).reset_index(drop=True), intercept=False)
    w = np.ones(len(a)) if weights is None else _to_float(weights)
    ok = ~np.isnan(a) & ~np.isnan(X.to_numpy(float)).any(axis=1) & ~np.isnan(w)
    notes: list[str] = []
    if (~ok).sum():
        notes.append(f"{int((~ok).sum())} patient(s) without group, covariate or weight left out.")
    rows = []
    for c in X.columns:
        x = X[c].to_numpy(float)[ok]
        aa, ww = a[ok], w[ok]
        x1, x0 = x[aa == 1], x[aa == 0]
        if x1.size == 0 or x0.size == 0:
            continue
        binary = bool(np.all(np.isin(x, (0.0, 1.0))))
        m1, m0 = float(x1.mean()), float(x0.mean())
        before = _smd(x1, x0, m1, m0, binary)
        mw1 = mw0 = after = None
        if weights is not None:
            mw1 = float(np.sum(ww[aa == 1] * x1) / np.sum(ww[aa == 1]))
            mw0 = float(np.sum(ww[aa == 0] * x0) / np.sum(ww[aa == 0]))
            after = _smd(x1, x0, mw1, mw0, binary)
        if before is None:
            notes.append(f"{c}: no spread in either group — SMD undefined.")
        rows.append(BalanceRow(str(c), binary, m0, m1, mw0, mw1, before, after))
    return Balance(levels, tuple(rows), notes=tuple(notes))


# ---------------------------------------------------------------------------------------------- weighted KM
@dataclass(frozen=True)
class WeightedKMCurve(KMCurve):
    """A :class:`KMCurve` from weighted data; ``weighted_n_risk`` / ``weighted_events`` at each ``timeline`` time
    (R's ``n.risk`` / ``n.event``), ``variance`` = "robust (infinitesimal jackknife)" or "Greenwood".
    :meth:`at_risk` still counts patients (for an at-risk table)."""

    weights: tuple[float, ...] = field(default=(), repr=False)
    weighted_n_risk: tuple[float, ...] = ()
    weighted_events: tuple[float, ...] = ()
    variance: str = ""


def weighted_kaplan_meier(
    durations: Any,
    events: Any,
    weights: Any,
    label: str = "all",
    conf_level: float = 0.95,
    conf_type: str = "log",
    robust: bool | None = None,
) -> WeightedKMCurve:
    """R ``survfit(Surv(t, e) ~ 1, weights = w, conf.type = conf_type)``; see the module docstring. Rows with a
    missing time, event or weight are left out (noted); zero weights are allowed."""
    if conf_type not in ("log-log", "log", "plain"):
        raise ValueError("conf_type must be 'log-log', 'log' or 'plain'")
    t, e, w = _to_float(durations), _to_float(events), _to_float(weights)
    if not (t.shape == e.shape == w.shape):
        raise ValueError("durations, events and weights must have the same length")
    if np.any(w[~np.isnan(w)] < 0):
        raise ValueError("weights must be non-negative")
    ok = ~(np.isnan(t) | np.isnan(e) | np.isnan(w))
    notes: list[str] = []
    if (~ok).sum():
        notes.append(f"{int((~ok).sum())} patient(s) without time/event/weight left out.")
    t, e, w = timefix(t[ok]), e[ok].astype(bool), w[ok]
    if robust is None:
        robust = bool(np.any(w != np.floor(w)))  # R survfitKM: robust by default for non-integer weights
    variance = "robust (infinitesimal jackknife)" if robust else "Greenwood (weighted counts)"
    n = int(t.size)
    if n == 0:
        notes.append("No patients — no curve.")
        return WeightedKMCurve(
            label,
            0,
            0,
            (0.0,),
            (1.0,),
            (1.0,),
            (1.0,),
            (),
            None,
            None,
            None,
            conf_level,
            conf_type,
            (),
            tuple(notes),
            (),
            (),
            (),
            variance,
        )
    times, inv = np.unique(t, return_inverse=True)
    T = times.size
    d = np.bincount(inv, weights=w * e, minlength=T)
    removed = np.bincount(inv, weights=w, minlength=T)
    nrisk = np.cumsum(removed[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(nrisk > 0, 1 - d / nrisk, 1.0))
        if robust:
            # ∂ log S(t_j)/∂w_i = Σ_{l ≤ j} [d_l Y_i(l) − n_l dN_i(l)] / (n_l (n_l − d_l)); summed over rows in
            # O(n + T): rows whose time is ≤ t_j have a fixed value, the others the running sum C(j)
            a = np.where(d > 0, d / (nrisk * (nrisk - d)), 0.0)
            b = np.where(d > 0, 1 / (nrisk - d), 0.0)
            C = np.cumsum(a)
            A_i = C[inv] - np.where(e, b[inv], 0.0)
            fixed = np.cumsum(np.bincount(inv, weights=(w * A_i) ** 2, minlength=T))
            later = np.concatenate([np.cumsum(np.bincount(inv, weights=w**2, minlength=T)[::-1])[::-1][1:], [0.0]])
            var_log = fixed + later * C**2
        else:
            var_log = np.cumsum(np.where(d > 0, d / (nrisk * (nrisk - d)), 0.0))
    se = np.sqrt(var_log)  # R's std.err: the standard error of log S
    z = _sps.norm.ppf(0.5 + conf_level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "log":
            lower = np.exp(np.log(surv) - z * se)
            upper = np.minimum(np.exp(np.log(surv) + z * se), 1.0)
        elif conf_type == "log-log":
            se_ll = se / np.abs(np.log(surv))
            ll = np.log(-np.log(surv))
            lower = np.exp(-np.exp(ll + z * se_ll))
            upper = np.exp(-np.exp(ll - z * se_ll))
        else:
            lower = np.maximum(surv - z * se * surv, 0.0)
            upper = np.minimum(surv + z * se * surv, 1.0)
    flat = (var_log == 0) & (surv == 1)
    lower, upper = np.where(flat, 1.0, lower), np.where(flat, 1.0, upper)
    zero = surv == 0
    lower, upper = np.where(zero, np.nan, lower), np.where(zero, np.nan, upper)
    x = np.concatenate([[0.0], times])
    xmax = float(t.max())
    med = _r_findq(x, np.concatenate([[0.0], 1 - surv]), 0.5, xmax)
    med_lo = _r_findq(x, np.concatenate([[0.0], 1 - lower]), 0.5, xmax)
    med_hi = _r_findq(x, np.concatenate([[0.0], 1 - upper]), 0.5, xmax)
    n_risk_w, d_w = nrisk, d
    if times[0] != 0:
        times = np.concatenate([[0.0], times])
        surv, lower, upper = (np.concatenate([[1.0], v]) for v in (surv, lower, upper))
        n_risk_w, d_w = np.concatenate([[float(np.sum(w))], nrisk]), np.concatenate([[0.0], d])
    notes.append(f"Weighted Kaplan–Meier; CI from the {variance} variance, {conf_type} scale (as R survfit).")
    return WeightedKMCurve(
        label=label,
        n=n,
        events=int(e.sum()),
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
        weights=tuple(float(v) for v in w),
        weighted_n_risk=tuple(float(v) for v in n_risk_w),
        weighted_events=tuple(float(v) for v in d_w),
        variance=variance,
    )
