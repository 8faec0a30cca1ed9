"""Regression models fitted as R fits them: logistic regression = R ``glm(y ~ …, family = binomial)`` and the
linear model = R ``lm(y ~ …)``, with R's handling of aliased (linearly dependent) columns.

* :func:`model_matrix` = R ``model.matrix`` with default contrasts: an intercept, numeric and boolean columns as
  they are (booleans as 0/1), a text or categorical column as one 0/1 column per level but the first
  (``<column><level>``, levels sorted or in the categorical's order, as R's ``factor``).
* **Rank**: the columns are taken in order and one whose part not explained by the columns before it is below
  ``tol`` × its length is aliased (R's LINPACK ``dqrdc2`` limited pivoting: tol 1e-7 in ``lm``,
  min(1e-7, epsilon / 1000) = 1e-11 in ``glm``); an aliased column gets no coefficient (R's ``NA``) and a note.
* :func:`logistic_regression` = R ``glm.fit``: IRLS from R's start (μ = (y + ½) / 2), R's logit link functions
  (η beyond ±30 clamped as R's C code), convergence when |dev − dev_old| / (|dev| + 0.1) < 1e-8 (``glm.control``),
  at most 25 iterations; the standard errors from the QR of the last iteration's weighted design, as
  ``summary.glm``; Wald z, p and CI exp(β ± z·se) (R ``confint.default``). R's warnings become notes: "algorithm did
  not converge" and "fitted probabilities numerically 0 or 1 occurred" (10·machine epsilon) — the signs of
  complete or quasi-complete separation, where the coefficients run to ±∞.
* :func:`linear_model` = R ``lm``: least squares by QR, residual df n − rank, t-based CI and p (``summary.lm``,
  ``confint.lm``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _sps

from ._common import _dc_to_dict

DBL_EPS = float(np.finfo(float).eps)
GLM_EPSILON = 1e-8  # R glm.control(epsilon)
GLM_MAXIT = 25  # R glm.control(maxit)
LM_TOL = 1e-7  # R lm.fit(tol)


@dataclass(frozen=True)
class ModelFit:
    """A fitted regression model: one entry per design column (``terms``, "(Intercept)" first) in each tuple;
    an aliased column has None everywhere. ``statistic`` is z (logistic) or t (linear); CIs are on the
    coefficient scale (exponentiate a logistic one for the odds ratio). ``fitted``: fitted values (probabilities
    for the logistic model) for every input row, NaN for rows left out (missing values)."""

    model: str
    terms: tuple[str, ...]
    coef: tuple[float | None, ...]
    se: tuple[float | None, ...]
    statistic: tuple[float | None, ...]
    p_value: tuple[float | None, ...]
    ci_low: tuple[float | None, ...]
    ci_high: tuple[float | None, ...]
    statistic_name: str
    n: int
    rank: int
    df_residual: int
    converged: bool
    iterations: int | None
    aliased: tuple[str, ...]
    fitted: tuple[float, ...]
    deviance: float | None = None
    null_deviance: float | None = None
    sigma: float | None = None
    conf_level: float = 0.95
    notes: tuple[str, ...] = ()

    def term(self, name: str) -> dict:
        """Estimate, se, statistic, p and CI of one term (a dict; values None when aliased)."""
        i = self.terms.index(name)
        return {
            "term": name,
            "estimate": self.coef[i],
            "se": self.se[i],
            "statistic": self.statistic[i],
            "p_value": self.p_value[i],
            "ci": [self.ci_low[i], self.ci_high[i]],
        }

    def to_dict(self) -> dict:
        return _dc_to_dict(self)


def model_matrix(data: Any, columns: Sequence[str] | None = None, intercept: bool = True) -> pd.DataFrame:
    """R ``model.matrix(~ columns, data)`` with default (treatment) contrasts; see the module docstring. Rows
    with a missing value keep NaN in the columns built from it (complete cases are the fitting function's job)."""
    df = pd.DataFrame(data)
    cols = list(df.columns) if columns is None else list(columns)
    out: dict[str, np.ndarray] = {}
    n = len(df)
    if intercept:
        out["(Intercept)"] = np.ones(n)
    for c in cols:
        s = df[c]
        if pd.api.types.is_bool_dtype(s.dtype) or (
            s.dtype == object and s.dropna().map(lambda v: isinstance(v, (bool, np.bool_))).all() and s.notna().any()
        ):
            out[c] = s.astype("float64").to_numpy() if s.notna().all() else s.map(_bool_or_nan).to_numpy(float)
        elif pd.api.types.is_numeric_dtype(s.dtype):
            out[c] = s.to_numpy(dtype=float, na_value=np.nan)
        else:
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [str(v) for v in s.cat.categories if (s == v).any()]
            else:
                levels = sorted({str(v) for v in s.dropna()})
            txt = s.map(lambda v: None if pd.isna(v) else str(v))
            miss = txt.isna().to_numpy()
            for lv in levels[1:]:
                col = (txt == lv).to_numpy(float)
                col[miss] = np.nan
                out[f"{c}{lv}"] = col
    return pd.DataFrame(out, index=df.index)


def _bool_or_nan(v: Any) -> float:
    return math.nan if pd.isna(v) else float(bool(v))


def _rank_columns(X: np.ndarray, tol: float) -> tuple[list[int], list[int]]:
    """Columns kept and aliased, in order (R dqrdc2's limited pivoting; see the module docstring)."""
    basis: list[np.ndarray] = []
    kept, aliased = [], []
    for j in range(X.shape[1]):
        v = X[:, j].astype(float).copy()
        norm0 = float(np.linalg.norm(v))
        for _ in range(2):  # re-orthogonalise once: classical Gram–Schmidt twice is enough
            for q in basis:
                v -= (q @ v) * q
        nv = float(np.linalg.norm(v))
        if norm0 == 0 or nv < tol * norm0:
            aliased.append(j)
        else:
            kept.append(j)
            basis.append(v / nv)
    return kept, aliased


def _complete(y: Any, X: Any) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    Xd = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    yv = np.asarray(pd.to_numeric(pd.Series(np.asarray(y, dtype=object).ravel()), errors="coerce"), dtype=float)
    if len(yv) != len(Xd):
        raise ValueError("y and X must have the same number of rows")
    ok = ~np.isnan(yv) & ~np.isnan(Xd.to_numpy(dtype=float)).any(axis=1)
    return yv, Xd, ok


def _logit_linkinv(eta: np.ndarray) -> np.ndarray:
    """R binomial()$linkinv (C logit_linkinv): exp(η)/(1 + exp(η)) with η < −30 → ε and η > 30 → 1/ε."""
    tmp = np.where(eta < -30, DBL_EPS, np.where(eta > 30, 1 / DBL_EPS, np.exp(np.clip(eta, -30, 30))))
    return tmp / (1 + tmp)


def _logit_mu_eta(eta: np.ndarray) -> np.ndarray:
    """R binomial()$mu.eta (C logit_mu_eta): ε beyond ±30."""
    e = np.exp(np.clip(eta, -30, 30))
    return np.where(np.abs(eta) > 30, DBL_EPS, e / (1 + e) ** 2)


def _binomial_dev(y: np.ndarray, mu: np.ndarray, wt: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(y != 0, y * np.log(np.where(y != 0, y, 1) / mu), 0.0)
        b = np.where(1 - y != 0, (1 - y) * np.log(np.where(1 - y != 0, 1 - y, 1) / (1 - mu)), 0.0)
    return float(np.sum(2 * wt * (a + b)))


def _wald(coef, se, kept, p, q, dist, df=None):
    stat = [None] * p
    pv = [None] * p
    lo = [None] * p
    hi = [None] * p
    for j, b, s in zip(kept, coef, se):
        z = b / s if s > 0 else math.nan
        stat[j] = float(z)
        if dist == "t":
            pv[j] = float(2 * _sps.t.sf(abs(z), df)) if df > 0 else None
        else:
            pv[j] = float(2 * _sps.norm.sf(abs(z)))
        lo[j], hi[j] = float(b - q * s), float(b + q * s)
    return stat, pv, lo, hi


def logistic_regression(
    y: Any,
    X: Any,
    weights: Any = None,
    conf_level: float = 0.95,
    epsilon: float = GLM_EPSILON,
    maxit: int = GLM_MAXIT,
) -> ModelFit:
    """R ``glm(y ~ X, family = binomial, weights)`` (see the module docstring). ``X`` is the design, e.g. from
    :func:`model_matrix` (include the intercept column yourself, as it does); ``y`` 0/1. Rows with a missing
    value are left out (noted)."""
    yv, Xd, ok = _complete(y, X)
    terms = tuple(str(c) for c in Xd.columns)
    Xall = Xd.to_numpy(dtype=float)
    wall = np.ones(len(yv)) if weights is None else np.asarray(weights, dtype=float)
    ok &= ~np.isnan(wall)
    notes: list[str] = []
    if (~ok).sum():
        notes.append(f"{int((~ok).sum())} row(s) with a missing value left out (complete cases).")
    yy, Xm, wt = yv[ok], Xall[ok], wall[ok]
    if not np.all(np.isin(yy, (0, 1))):
        raise ValueError("y must be 0/1")
    n, p = Xm.shape
    tol = min(1e-7, epsilon / 1000)
    kept, aliased = _rank_columns(Xm * np.sqrt(wt)[:, None], tol)
    Xk = Xm[:, kept]
    mu = (wt * yy + 0.5) / (wt + 1)
    eta = np.log(mu / (1 - mu))
    devold = _binomial_dev(yy, mu, wt)
    start = np.zeros(len(kept))
    conv = False
    iters = 0
    Rfac = None
    for it in range(1, maxit + 1):
        iters = it
        mu_eta = _logit_mu_eta(eta)
        good = (wt > 0) & (mu_eta != 0)
        z = eta[good] + (yy[good] - mu[good]) / mu_eta[good]
        w = np.sqrt(wt[good] * mu_eta[good] ** 2 / (mu[good] * (1 - mu[good])))
        Q, Rfac = np.linalg.qr(Xk[good] * w[:, None])
        start = np.linalg.solve(Rfac, Q.T @ (z * w))
        eta = Xk @ start
        mu = _logit_linkinv(eta)
        dev = _binomial_dev(yy, mu, wt)
        if abs(dev - devold) / (abs(dev) + 0.1) < epsilon:
            conv = True
            break
        devold = dev
    if not conv:
        notes.append(f"The fit did not converge in {maxit} iterations (R: glm.fit: algorithm did not converge).")
    eps10 = 10 * DBL_EPS
    if np.any(mu > 1 - eps10) or np.any(mu < eps10):
        notes.append(
            "Fitted probabilities numerically 0 or 1 occurred (R's warning): complete or quasi-complete "
            "separation — some covariate pattern predicts the outcome perfectly, its coefficient runs to ±∞ and "
            "its standard error is meaningless."
        )
    if aliased:
        notes.append(f"Aliased (linearly dependent on the columns before): {', '.join(terms[j] for j in aliased)}.")
    rinv = np.linalg.inv(Rfac)
    se_k = np.sqrt(np.sum(rinv**2, axis=1))
    q = _sps.norm.ppf(0.5 + conf_level / 2)
    stat, pv, lo, hi = _wald(start, se_k, kept, p, q, "z")
    coef = [None] * p
    se = [None] * p
    for j, b, s in zip(kept, start, se_k):
        coef[j], se[j] = float(b), float(s)
    fitted = np.full(len(yv), np.nan)
    fitted[ok] = mu
    wmean = np.sum(wt * yy) / np.sum(wt)
    null_dev = _binomial_dev(yy, np.full(n, wmean), wt)
    return ModelFit(
        model="logistic regression (R glm, binomial)",
        terms=terms,
        coef=tuple(coef),
        se=tuple(se),
        statistic=tuple(stat),
        p_value=tuple(pv),
        ci_low=tuple(lo),
        ci_high=tuple(hi),
        statistic_name="z (Wald)",
        n=int(n),
        rank=len(kept),
        df_residual=int(np.sum(wt != 0) - len(kept)),
        converged=conv,
        iterations=iters,
        aliased=tuple(terms[j] for j in aliased),
        fitted=tuple(float(v) for v in fitted),
        deviance=float(dev),
        null_deviance=float(null_dev),
        conf_level=conf_level,
        notes=tuple(notes),
    )


def linear_model(y: Any, X: Any, conf_level: float = 0.95, tol: float = LM_TOL) -> ModelFit:
    """R ``lm(y ~ X)`` (see the module docstring); ``X`` includes the intercept column (:func:`model_matrix`).
    Rows with a missing value are left out (noted)."""
    yv, Xd, ok = _complete(y, X)
    terms = tuple(str(c) for c in Xd.columns)
    notes: list[str] = []
    if (~ok).sum():
        notes.append(f"{int((~ok).sum())} row(s) with a missing value left out (complete cases).")
    yy, Xm = yv[ok], Xd.to_numpy(dtype=float)[ok]
    n, p = Xm.shape
    kept, aliased = _rank_columns(Xm, tol)
    if aliased:
        notes.append(
            f"Aliased (linearly dependent on the columns before, R's NA): {', '.join(terms[j] for j in aliased)}."
        )
    Xk = Xm[:, kept]
    Q, Rfac = np.linalg.qr(Xk)
    b = np.linalg.solve(Rfac, Q.T @ yy)
    fit = Xk @ b
    res = yy - fit
    df = n - len(kept)
    sigma = math.sqrt(float(res @ res) / df) if df > 0 else math.nan
    if df <= 0:
        notes.append("No residual degrees of freedom: standard errors, CIs and p-values not computed.")
    rinv = np.linalg.inv(Rfac)
    se_k = np.sqrt(np.sum(rinv**2, axis=1)) * sigma
    q = _sps.t.ppf(0.5 + conf_level / 2, df) if df > 0 else math.nan
    stat, pv, lo, hi = _wald(b, se_k, kept, p, q, "t", df)
    coef = [None] * p
    se = [None] * p
    for j, bj, s in zip(kept, b, se_k):
        coef[j], se[j] = float(bj), (float(s) if df > 0 else None)
    if df <= 0:
        stat, pv, lo, hi = [None] * p, [None] * p, [None] * p, [None] * p
    fitted = np.full(len(yv), np.nan)
    fitted[ok] = fit
    return ModelFit(
        model="linear model (R lm)",
        terms=terms,
        coef=tuple(coef),
        se=tuple(se),
        statistic=tuple(stat),
        p_value=tuple(pv),
        ci_low=tuple(lo),
        ci_high=tuple(hi),
        statistic_name="t",
        n=int(n),
        rank=len(kept),
        df_residual=int(df),
        converged=True,
        iterations=None,
        aliased=tuple(terms[j] for j in aliased),
        fitted=tuple(float(v) for v in fitted),
        deviance=float(res @ res),
        sigma=None if math.isnan(sigma) else sigma,
        conf_level=conf_level,
        notes=tuple(notes),
    )
