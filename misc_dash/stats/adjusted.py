"""Adjusted effect estimates of a two-group comparison, the positivity check that comes before them, and the
E-value that comes after.

* :func:`cox_adjusted` — the hazard ratio of the second group vs the first from R ``coxph(Surv(t, e) ~ group +
  covariates, ties = "efron")`` (:func:`.cox.cox_fit`, converged to R's rule), Wald CI and p; or, with
  ``firth=True``, from Firth's penalised likelihood (R ``coxphf``, :func:`.firth.firth_cox_fit`) with the profile
  penalised likelihood CI and the penalised likelihood ratio p. When the ordinary estimate diverges (R: "Loglik
  converged before variable …; coefficient may be infinite", or "Ran out of iterations") the notes say so and, if
  it is the group's coefficient, no hazard ratio is given.
* :func:`iptw_cox` — the weighted hazard ratio R ``coxph(Surv(t, e) ~ group, weights = w, robust = TRUE)``: the
  robust (sandwich) variance, which treats the weights as fixed and handles tied times as R does.
* :func:`adjusted_difference` — the follow-up difference (second − first) adjusted for baseline and covariates,
  R ``lm(followup ~ group + baseline + …)``, t-based CI and p.
* :func:`positivity_check` — every level of each categorical adjustment covariate, and every combination of them
  seen among the patients, must have patients in both groups; each failure is a plain sentence.
* :func:`e_value` — VanderWeele & Ding (2017, Ann Intern Med 167:268): for a risk ratio RR ≥ 1, RR + √(RR(RR − 1))
  (RR < 1: of 1/RR); the CI's E-value is that of the limit closest to 1 (1 when the CI includes 1). A hazard ratio
  of a common outcome (> 15%) is first converted, RR ≈ (1 − 0.5^√HR) / (1 − 0.5^√(1/HR)) (VanderWeele 2020,
  Biometrics 76:746; R ``EValue::evalues.HR(rare = FALSE)``); a common odds ratio by √OR; a rare outcome's HR/OR
  is taken as the RR.

Covariates are a data frame of the adjustment columns (booleans, numbers, text/categorical → R's dummy columns,
:func:`.regression.model_matrix`); patients missing any of them are left out (complete cases) and counted in the
notes. A design column that is constant or a linear combination of the columns before it (the group first) is
left out of the model, as R's ``NA`` coefficient, and named.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _sps

from ..formatting import number, p_phrase
from ._common import FEW_EVENTS, _dc_to_dict, _small_group_notes, _to_float
from .cox import cox_fit, cox_zph
from .firth import firth_cox_fit
from .regression import _rank_columns, linear_model, model_matrix
from .results import TestResult
from .weighting import _treatment

ALIAS_TOL = 1e-7


def _frame(covariates: Any, n: int) -> pd.DataFrame:
    if covariates is None:
        return pd.DataFrame(index=range(n))
    df = pd.DataFrame(covariates).reset_index(drop=True)
    if len(df) != n:
        raise ValueError("covariates must have one row per patient")
    return df


def _design(a: np.ndarray, cov: pd.DataFrame) -> pd.DataFrame:
    """The group indicator then the covariates' design columns (no intercept)."""
    X = model_matrix(cov, intercept=False) if cov.shape[1] else pd.DataFrame(index=cov.index)
    X.insert(0, "group", a)
    return X


def _drop_aliased(X: pd.DataFrame) -> tuple[pd.DataFrame, list[str], str]:
    """R's aliasing among the rows used (the intercept implicit, as a Cox model's baseline hazard): columns
    constant or determined by those before them are dropped; the note names them and says which is which."""
    M = X.to_numpy(float)
    Mc = np.column_stack([np.ones(len(M)), M - M.mean(axis=0)])
    _kept, aliased = _rank_columns(Mc, ALIAS_TOL)
    cols = list(X.columns)
    drop = [cols[j - 1] for j in aliased if j > 0]
    if not drop:
        return X, [], ""
    const = [c for c in drop if np.ptp(X[c].to_numpy(float)) == 0]
    dep = [c for c in drop if c not in const]
    parts = []
    if const:
        parts.append(f"constant among the patients used ({', '.join(const)})")
    if dep:
        parts.append(f"determined by the group and the columns before it ({', '.join(dep)})")
    note = "Left out of the model, as R gives them no coefficient: " + "; ".join(parts) + "."
    return X.drop(columns=drop), drop, note


def cox_adjusted(
    durations: Any,
    events: Any,
    groups: Any,
    covariates: Any = None,
    group_order: Sequence[Any] | None = None,
    firth: bool = False,
    ties: str | None = None,
    conf_level: float = 0.95,
    labels: Mapping[str, str] | None = None,
) -> TestResult:
    """Adjusted hazard ratio of the second group vs the first (see the module docstring). ``labels``: the
    covariates' names in the test's name (default: the column names). ``ties`` defaults to
    "efron" (R coxph) for the ordinary fit and "breslow" (coxphf's only choice) for Firth's. ``extras``: each
    covariate column's HR, CI and p (``HR <column>``, ``CI low <column>``, ``CI high <column>``, ``p <column>``),
    events per group, iterations, and for the ordinary fit the proportional-hazards test of the group (R
    ``cox.zph``)."""
    t, e = _to_float(durations), _to_float(events)
    a, levels = _treatment(groups, group_order)
    cov = _frame(covariates, len(t))
    X = _design(a, cov)
    ok = ~(np.isnan(t) | np.isnan(e)) & ~np.isnan(X.to_numpy(float)).any(axis=1)
    notes: list[str] = []
    if (~ok & ~np.isnan(a)).sum():
        notes.append(
            f"{int((~ok & ~np.isnan(a)).sum())} patient(s) without time, event or a covariate left out (complete "
            "cases)."
        )
    t, e, X = t[ok], e[ok].astype(bool), X[ok].reset_index(drop=True)
    ns = (int((X["group"] == 0).sum()), int((X["group"] == 1).sum()))
    ev = (int(e[X["group"].to_numpy() == 0].sum()), int(e[X["group"].to_numpy() == 1].sum()))
    names = list(cov.columns)
    method = (
        "Firth's penalised likelihood (R coxphf): profile penalised likelihood CI, penalised likelihood ratio p"
        if firth
        else "Wald, Efron ties (R coxph)"
        if (ties or "efron") == "efron"
        else "Wald, Breslow ties (R coxph)"
    )
    what = "Firth's penalised Cox" if firth else "Cox proportional hazards"
    base = dict(
        test=f"{what} (adjusted for {', '.join((labels or {}).get(c, c) for c in names)})" if names else what,
        statistic_name="chi-square (penalised LR)" if firth else "z (Wald)",
        groups=levels,
        n=ns,
        effect=f"hazard ratio ({levels[1]} vs {levels[0]})" + (", adjusted" if names else ""),
        method=method,
        conf_level=conf_level,
    )
    notes += _small_group_notes(levels, ns)
    extras: list[tuple[str, float | None]] = [
        (f"events {levels[0]}", float(ev[0])),
        (f"events {levels[1]}", float(ev[1])),
    ]
    if 0 in ns:
        notes.append("One group has no patients with complete data: no hazard ratio.")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), extras=tuple(extras), **base)
    X, drop, alias_note = _drop_aliased(X)
    if drop:
        notes.append(alias_note)
    if "group" in drop:
        notes.append("The group is constant among the patients used: no hazard ratio.")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), extras=tuple(extras), **base)
    if sum(ev) < FEW_EVENTS:
        notes.append(f"Only {sum(ev)} events: the hazard ratio is imprecise (fewer than {FEW_EVENTS} events).")
    cols = list(X.columns)
    M = X.to_numpy(float)
    if firth:
        fit = firth_cox_fit(t, e, M, terms=cols, ties=ties or "breslow", conf_level=conf_level)
        notes += list(fit.notes)
        hr, lo, hi = fit.hazard_ratio(0)
        for j, c in enumerate(cols[1:], start=1):
            h, cl, ch = fit.hazard_ratio(j)
            extras += [(f"HR {c}", h), (f"CI low {c}", cl), (f"CI high {c}", ch), (f"p {c}", fit.p_value[j])]
        extras += [("coef", fit.coef[0]), ("se", fit.se[0]), ("iterations", float(fit.iterations))]
        p, stat = fit.p_value[0], fit.chisq[0]
        return TestResult(
            statistic=stat,
            p_value=p,
            df=1,
            estimate=hr,
            ci_low=lo,
            ci_high=hi,
            notes=tuple(notes),
            extras=tuple(extras),
            **base,
        )
    fit = cox_fit(t, e, M, ties=ties or "efron")
    extras += [("iterations", float(fit.iterations))]
    if not fit.converged:
        notes.append(
            'The Cox model did not converge in 20 iterations (R: "Ran out of iterations and did not converge"): '
            "a coefficient runs to ±∞ (monotone likelihood, e.g. a group or covariate level without events); "
            "no hazard ratio. Firth's penalised likelihood gives a finite estimate."
        )
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), extras=tuple(extras), **base)
    inf = [c for c, f in zip(cols, fit.infinite) if f]
    if inf:
        notes.append(
            f'The ordinary estimate diverges (R: "Loglik converged before variable {", ".join(inf)}; coefficient '
            'may be infinite"): monotone likelihood — at every event time the patients with the event have the '
            "highest (or lowest) value of that variable. Firth's penalised likelihood gives a finite estimate."
        )
    q = _sps.norm.ppf(0.5 + conf_level / 2)
    for j, c in enumerate(cols[1:], start=1):
        b, s = fit.coef[j], fit.se[j]
        if fit.infinite[j]:
            extras += [(f"HR {c}", None), (f"CI low {c}", None), (f"CI high {c}", None), (f"p {c}", None)]
        else:
            extras += [
                (f"HR {c}", math.exp(b)),
                (f"CI low {c}", math.exp(b - q * s)),
                (f"CI high {c}", math.exp(b + q * s)),
                (f"p {c}", float(2 * _sps.norm.sf(abs(b / s)))),
            ]
    if fit.infinite[0]:
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), extras=tuple(extras), **base)
    z, p, lo, hi = fit.wald(0, conf_level)
    extras += [("coef", fit.coef[0]), ("se", fit.se[0])]
    zph = cox_zph(t, e, M, fit)
    extras += [("PH test chi-square", zph[0][0]), ("PH test p", zph[0][2]), ("PH global p", zph[-1][2])]
    if zph[0][2] < 0.05:
        notes.append(
            f"Proportional hazards doubtful for the group (R cox.zph: {p_phrase(zph[0][2])}): the hazard ratio "
            "averages an effect that changes over time."
        )
    return TestResult(
        statistic=z,
        p_value=p,
        estimate=math.exp(fit.coef[0]),
        ci_low=lo,
        ci_high=hi,
        notes=tuple(notes),
        extras=tuple(extras),
        **base,
    )


def iptw_cox(
    durations: Any,
    events: Any,
    groups: Any,
    weights: Any,
    group_order: Sequence[Any] | None = None,
    ties: str = "efron",
    conf_level: float = 0.95,
) -> TestResult:
    """Weighted hazard ratio of the second group vs the first = R ``coxph(Surv(t, e) ~ group, weights = w,
    robust = TRUE, ties = "efron")``: robust Wald z, p and CI; the model-based (naive) se in ``extras``."""
    t, e, w = _to_float(durations), _to_float(events), _to_float(weights)
    a, levels = _treatment(groups, group_order)
    ok = ~(np.isnan(t) | np.isnan(e) | np.isnan(w) | np.isnan(a))
    notes: list[str] = []
    if (~ok & ~np.isnan(a)).sum():
        notes.append(f"{int((~ok & ~np.isnan(a)).sum())} patient(s) without time, event or weight left out.")
    t, e, w, a = t[ok], e[ok].astype(bool), w[ok], a[ok]
    ns = (int((a == 0).sum()), int((a == 1).sum()))
    ev = (int(e[a == 0].sum()), int(e[a == 1].sum()))
    base = dict(
        test="Cox proportional hazards, inverse probability weighted",
        statistic_name="z (Wald)",
        groups=levels,
        n=ns,
        effect=f"hazard ratio ({levels[1]} vs {levels[0]}), weighted",
        method="Wald with robust (sandwich) variance, Efron ties (R coxph(weights = w, robust = TRUE))",
        conf_level=conf_level,
    )
    notes += _small_group_notes(levels, ns)
    extras: list[tuple[str, float | None]] = [
        (f"events {levels[0]}", float(ev[0])),
        (f"events {levels[1]}", float(ev[1])),
    ]
    if 0 in ns or 0 in ev:
        notes.append("A group without patients or without events: no hazard ratio.")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), extras=tuple(extras), **base)
    fit = cox_fit(t, e, a, weights=w, ties=ties, robust=True)
    if not fit.converged or fit.infinite[0]:
        notes.append("The weighted Cox model did not converge (the hazard ratio runs to 0 or ∞): no hazard ratio.")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), extras=tuple(extras), **base)
    z, p, lo, hi = fit.wald(0, conf_level)
    extras += [("coef", fit.coef[0]), ("robust se", fit.se[0]), ("naive se", fit.naive_se[0])]
    notes.append("The CI and p use the robust variance, which treats the estimated weights as known (conservative).")
    return TestResult(
        statistic=z,
        p_value=p,
        estimate=math.exp(fit.coef[0]),
        ci_low=lo,
        ci_high=hi,
        notes=tuple(notes),
        extras=tuple(extras),
        **base,
    )


def adjusted_difference(
    followup: Any,
    groups: Any,
    baseline: Any = None,
    covariates: Any = None,
    group_order: Sequence[Any] | None = None,
    conf_level: float = 0.95,
    labels: Mapping[str, str] | None = None,
) -> TestResult:
    """Follow-up difference, second group − first, adjusted for ``baseline`` and ``covariates`` = the group
    coefficient of R ``lm(followup ~ group + baseline + covariates)`` (group a factor with the first group as
    reference), t-based CI and p; df = residual df. Patients missing any value are left out (noted). ``labels``:
    how the test's name spells each covariate column (default: the column name)."""
    y = _to_float(followup)
    a, levels = _treatment(groups, group_order)
    cov = _frame(covariates, len(y))
    if baseline is not None:
        cov = pd.concat([pd.DataFrame({"baseline": _to_float(baseline)}), cov], axis=1)
    X = model_matrix(cov, intercept=False) if cov.shape[1] else pd.DataFrame(index=range(len(y)))
    X.insert(0, "group", a)
    X.insert(0, "(Intercept)", 1.0)
    ok = ~np.isnan(y) & ~np.isnan(X.to_numpy(float)).any(axis=1)
    ns = (int(np.sum(ok & (a == 0))), int(np.sum(ok & (a == 1))))
    names = [(labels or {}).get(c, c) for c in cov.columns]
    base = dict(
        test=f"Linear model (follow-up ~ group + {' + '.join(names)})" if names else "Linear model (follow-up ~ group)",
        statistic_name="t",
        groups=levels,
        n=ns,
        effect=f"adjusted difference ({levels[1]} − {levels[0]})",
        method="least squares (R lm), t-based CI",
        conf_level=conf_level,
    )
    notes = _small_group_notes(levels, ns)
    if (~ok & ~np.isnan(a)).sum():
        notes.append(f"{int((~ok & ~np.isnan(a)).sum())} patient(s) with a missing value left out (complete cases).")
    if 0 in ns:
        notes.append("One group has no patients with complete data: no estimate.")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), **base)
    fit = linear_model(y[ok], X[ok].reset_index(drop=True), conf_level=conf_level)
    notes += [n for n in fit.notes if "left out" not in n]
    g = fit.term("group")
    extras: list[tuple[str, float | None]] = [("residual df", float(fit.df_residual)), ("sigma", fit.sigma)]
    for c in fit.terms[2:]:
        tt = fit.term(c)
        extras += [(f"estimate {c}", tt["estimate"]), (f"p {c}", tt["p_value"])]
    if g["estimate"] is None or g["p_value"] is None:
        notes.append("The group's coefficient cannot be estimated (aliased or no residual df).")
        return TestResult(statistic=None, p_value=None, notes=tuple(notes), extras=tuple(extras), **base)
    return TestResult(
        statistic=g["statistic"],
        p_value=g["p_value"],
        df=fit.df_residual,
        estimate=g["estimate"],
        ci_low=g["ci"][0],
        ci_high=g["ci"][1],
        notes=tuple(notes),
        extras=tuple(extras),
        **base,
    )


# ---------------------------------------------------------------------------------------------- positivity
@dataclass(frozen=True)
class Positivity:
    """``ok`` when every level of each covariate, and every combination of levels seen, has patients in both
    groups; ``problems``: one plain sentence per failure; ``cells``: the failing levels / patterns with the
    patients per group."""

    ok: bool
    problems: tuple[str, ...]
    covariates: tuple[str, ...]
    groups: tuple[str, str]
    cells: tuple[dict, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return _dc_to_dict(self)


def _level_phrase(col: str, value: Any, labels: Mapping[str, str]) -> str:
    label = labels.get(col, col)
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1)
    ):
        return f"with {label}" if bool(value) else f"without {label}"
    return f"with {label} {value}"


def positivity_check(
    groups: Any,
    covariates: Any,
    group_order: Sequence[Any] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Positivity:
    """Positivity of a two-group comparison over categorical adjustment covariates (see the module docstring).

    ``covariates``: a data frame of the categorical columns (booleans / 0-1 / text); numeric columns with more than
    two values are not checked (a note says so; give a banded version to check them). ``labels``: how to name a
    column in a sentence, e.g. ``{"icu": "ICU admission"}`` gives "no IVIG monotherapy patient with ICU admission:
    the comparison cannot be adjusted for ICU admission". A combination is reported only when none of its levels
    fails on its own. Patients missing a group or covariate are left out (noted)."""
    labels = dict(labels or {})
    a, levels = _treatment(groups, group_order)
    cov = _frame(covariates, len(a))
    notes: list[str] = []
    checked = []
    for c in cov.columns:
        s = cov[c]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype) and s.nunique() > 2:
            notes.append(f"{labels.get(c, c)} is continuous: not checked (band it to check it).")
        else:
            checked.append(c)
    cov = cov[checked]
    ok_rows = ~np.isnan(a) & ~cov.isna().any(axis=1).to_numpy()
    if (~ok_rows & ~np.isnan(a)).sum():
        notes.append(f"{int((~ok_rows & ~np.isnan(a)).sum())} patient(s) without a covariate not checked.")
    sub = cov[ok_rows].reset_index(drop=True)
    aa = a[ok_rows]
    problems: list[str] = []
    cells: list[dict] = []
    failed: set[tuple[str, Any]] = set()
    for c in checked:
        for v in sorted(sub[c].unique(), key=str):
            m = (sub[c] == v).to_numpy()
            n0, n1 = int(np.sum(m & (aa == 0))), int(np.sum(m & (aa == 1)))
            if n0 == 0 or n1 == 0:
                missing = levels[0] if n0 == 0 else levels[1]
                phrase = _level_phrase(c, v, labels)
                problems.append(
                    f"no {missing} patient {phrase}: the comparison cannot be adjusted for {labels.get(c, c)}"
                )
                cells.append({"covariates": {c: _py(v)}, levels[0]: n0, levels[1]: n1})
                failed.add((c, v))
    if len(checked) >= 2:
        for combo, idx in sub.groupby(checked, sort=True).groups.items():
            combo = combo if isinstance(combo, tuple) else (combo,)
            if any((c, v) in failed for c, v in zip(checked, combo)):
                continue
            rows = np.asarray(sub.index.get_indexer(idx))
            n0, n1 = int(np.sum(aa[rows] == 0)), int(np.sum(aa[rows] == 1))
            if n0 == 0 or n1 == 0:
                missing = levels[0] if n0 == 0 else levels[1]
                present = levels[1] if n0 == 0 else levels[0]
                phrase = " and ".join(_level_phrase(c, v, labels) for c, v in zip(checked, combo))
                problems.append(
                    f"no {missing} patient {phrase} (all {n0 + n1} such patients are {present}): the comparison "
                    f"cannot be adjusted for {' and '.join(labels.get(c, c) for c in checked)} together"
                )
                cells.append({"covariates": {c: _py(v) for c, v in zip(checked, combo)}, levels[0]: n0, levels[1]: n1})
    return Positivity(
        ok=not problems,
        problems=tuple(problems),
        covariates=tuple(str(c) for c in checked),
        groups=levels,
        cells=tuple(cells),
        notes=tuple(notes),
    )


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


# ---------------------------------------------------------------------------------------------- E-value
@dataclass(frozen=True)
class EValue:
    """E-values of an estimate and of its CI limit closest to 1 (VanderWeele & Ding 2017). ``rr`` /
    ``rr_ci``: the estimate and CI on the risk-ratio scale after the conversion named in ``conversion``."""

    measure: str
    estimate: float
    ci_low: float | None
    ci_high: float | None
    rare: bool
    conversion: str
    rr: float
    rr_ci: tuple[float | None, float | None]
    point: float
    ci: float | None
    text: str

    def to_dict(self) -> dict:
        return _dc_to_dict(self)


def _evalue_rr(rr: float) -> float:
    rr = 1 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1))


def e_value(
    estimate: float,
    ci_low: float | None = None,
    ci_high: float | None = None,
    measure: str = "RR",
    rare: bool = False,
) -> EValue:
    """E-value of a risk ratio (``measure="RR"``), hazard ratio ("HR") or odds ratio ("OR") and of its CI (see the
    module docstring). ``rare``: the outcome is rare (< 15%), so an HR or OR is taken as the RR; defervescence is
    common, hence ``rare=False`` by default (R ``evalues.HR(est, lo, hi, rare = FALSE)``)."""
    measure = measure.upper()
    if measure not in ("RR", "HR", "OR"):
        raise ValueError("measure must be 'RR', 'HR' or 'OR'")
    if not (estimate > 0 and math.isfinite(estimate)):
        raise ValueError("the estimate must be a positive finite ratio")
    if measure == "RR" or rare:
        conv, how = (lambda x: x), "none (risk ratio, or rare outcome)"
    elif measure == "HR":
        conv = lambda x: (1 - 0.5 ** math.sqrt(x)) / (1 - 0.5 ** math.sqrt(1 / x))
        how = "HR → RR ≈ (1 − 0.5^√HR) / (1 − 0.5^√(1/HR)) (common outcome; VanderWeele 2020)"
    else:
        conv, how = math.sqrt, "OR → RR ≈ √OR (common outcome; VanderWeele 2020)"
    rr = conv(estimate)
    lo = conv(ci_low) if ci_low is not None else None
    hi = conv(ci_high) if ci_high is not None else None
    point = _evalue_rr(rr)
    ci = None
    if lo is not None and hi is not None:
        if lo <= 1 <= hi:
            ci = 1.0
        else:
            ci = _evalue_rr(lo if rr > 1 else hi)
    elif lo is not None and rr > 1:
        ci = 1.0 if lo <= 1 else _evalue_rr(lo)
    elif hi is not None and rr < 1:
        ci = 1.0 if hi >= 1 else _evalue_rr(hi)
    txt = (
        f"To explain away the {measure} of {number(estimate, 2)}, an unmeasured confounder would have to be "
        f"associated with both the treatment and the outcome by a risk ratio of at least {number(point, 2)} each, "
        "beyond the measured covariates"
    )
    if ci is not None:
        txt += (
            "; the CI already includes 1" if ci == 1.0 else f"; to move the CI to include 1, at least {number(ci, 2)}"
        )
    return EValue(
        measure, float(estimate), ci_low, ci_high, rare, how, float(rr), (lo, hi), float(point), ci, txt + "."
    )


__all__ = [
    "EValue",
    "Positivity",
    "adjusted_difference",
    "cox_adjusted",
    "e_value",
    "iptw_cox",
    "positivity_check",
]
