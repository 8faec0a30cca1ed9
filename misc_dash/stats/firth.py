"""Firth's penalised Cox regression, as R ``coxphf`` (Heinze & Schemper 2001, Biometrics 57:114): the log partial
likelihood plus ½·log det I(β) (Jeffreys' prior), which stays finite under monotone likelihood (a covariate that
separates the event times, where the ordinary estimate runs to ±∞).

* **Fit**: Firth's modified score U*(β)_r = U_r + ½ tr(I⁻¹ ∂I/∂β_r) set to zero by Newton steps with I(β) (as
  coxphf), each step at most ``max_step`` per coefficient and halved while the penalised log likelihood does not
  increase; converged when every step is below 1e-10 (coxphf's default stops at 1e-6 on standardised
  coefficients, so its printed estimates agree with these to about that). ∂I/∂β_r is the third central moment of
  the covariates over each risk set, exact. Ties: Breslow by default, as coxphf (it has no other); Efron
  available.
* **Variance**: I(β̂)⁻¹, the inverse information at the penalised estimate (coxphf's ``var``).
* **CI**: profile penalised likelihood (coxphf ``pl = TRUE``): the β_j where 2·[l*(β̂) − max over the other
  coefficients of l*(β_j, ·)] equals the χ²₁ quantile, the penalty always that of the full model.
* **p**: the penalised likelihood ratio test of β_j = 0 (coxphf's ``prob``, as ``coxphftest``): 2·[l*(β̂) − max
  l* with β_j = 0], χ²₁.

No weights and no strata (coxphf has neither).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize as _opt
from scipy import stats as _sps

from ._common import _dc_to_dict
from .cox import _prepare

MAX_ITER = 200
TOL = 1e-10


@dataclass(frozen=True)
class FirthCoxFit:
    """Firth's penalised Cox fit (see the module docstring). ``ci_low``/``ci_high``/``p_value`` per coefficient
    (None when ``pl`` was off or the profile did not cross the χ² level within ±50 on the log scale);
    ``loglik`` = the penalised log likelihood at β̂, ``loglik_null`` at β = 0 (coxphf's ``loglik[2:1]``)."""

    terms: tuple[str, ...]
    coef: tuple[float, ...]
    var: tuple[tuple[float, ...], ...]
    ci_low: tuple[float | None, ...]
    ci_high: tuple[float | None, ...]
    p_value: tuple[float | None, ...]
    chisq: tuple[float | None, ...]  # the penalised likelihood ratio statistic of β_j = 0
    loglik_null: float
    loglik: float
    iterations: int
    converged: bool
    n: int
    events: int
    ties: str
    conf_level: float = 0.95
    notes: tuple[str, ...] = ()

    @property
    def se(self) -> tuple[float, ...]:
        return tuple(math.sqrt(self.var[i][i]) if self.var[i][i] >= 0 else math.nan for i in range(len(self.coef)))

    def hazard_ratio(self, i: int = 0) -> tuple[float, float | None, float | None]:
        """(HR, CI low, CI high) of coefficient ``i`` (profile penalised likelihood CI)."""
        lo, hi = self.ci_low[i], self.ci_high[i]
        return (
            math.exp(self.coef[i]),
            None if lo is None else math.exp(lo),
            None if hi is None else math.exp(hi),
        )

    def to_dict(self) -> dict:
        return _dc_to_dict(self)


def _penalised(beta, t, e, X, s, ties: str):
    """Penalised log likelihood l + ½ log det I, the modified score and I at ``beta`` (unit weights)."""
    p = X.shape[1]
    eta = X @ beta
    r = np.exp(eta - eta.max())  # a common factor cancels in every ratio; the log likelihood adds it back
    shift = float(eta.max())
    loglik = float(np.sum(eta[e]))
    u = X[e].sum(axis=0)
    imat = np.zeros((p, p))
    dI = np.zeros((p, p, p))
    for st in np.unique(s):
        m = s == st
        ts, es, Xs, rs = t[m], e[m], X[m], r[m]
        if not es.any():
            continue
        times, first = np.unique(ts, return_index=True)
        rev = lambda a: np.cumsum(a[::-1], axis=0)[::-1]
        XX = Xs[:, :, None] * Xs[:, None, :]
        XXX = XX[:, :, :, None] * Xs[:, None, None, :]
        S = [
            rev(rs.reshape((-1,) + (1,) * k) * a)[first] for k, a in ((0, np.ones(len(rs))), (1, Xs), (2, XX), (3, XXX))
        ]
        idx = np.searchsorted(times, ts)
        D = np.bincount(idx[es], minlength=times.size)
        Dsum = []
        for k, a in ((0, np.ones(len(rs))), (1, Xs), (2, XX), (3, XXX)):
            acc = np.zeros((times.size,) + a.shape[1:])
            np.add.at(acc, idx[es], rs[es].reshape((-1,) + (1,) * k) * a[es])
            Dsum.append(acc)
        j = np.nonzero(D > 0)[0]
        d = D[j]
        if ties == "efron":
            jj = np.repeat(np.arange(j.size), d)
            frac = np.concatenate([np.arange(k) / k for k in d])
            mw = np.ones(jj.size)
        else:
            jj = np.arange(j.size)
            frac = np.zeros(j.size)
            mw = d.astype(float)
        tpos = j[jj]

        s0, s1, s2, s3 = (S[k][tpos] - frac.reshape((-1,) + (1,) * k) * Dsum[k][tpos] for k in range(4))
        mu = s1 / s0[:, None]
        e2 = s2 / s0[:, None, None]
        e3 = s3 / s0[:, None, None, None]
        loglik -= float(np.sum(mw * (np.log(s0) + shift)))
        u -= np.sum(mw[:, None] * mu, axis=0)
        cov = e2 - mu[:, :, None] * mu[:, None, :]
        imat += np.sum(mw[:, None, None] * cov, axis=0)
        k3 = (
            e3
            - mu[:, :, None, None] * e2[:, None, :, :]
            - mu[:, None, :, None] * e2[:, :, None, :]
            - mu[:, None, None, :] * e2[:, :, :, None]
            + 2 * mu[:, :, None, None] * mu[:, None, :, None] * mu[:, None, None, :]
        )
        dI += np.sum(mw[:, None, None, None] * k3, axis=0)
    sign, logdet = np.linalg.slogdet(imat)
    pen = loglik + 0.5 * logdet if sign > 0 else -math.inf
    try:
        inv = np.linalg.inv(imat)
        ustar = u + 0.5 * np.einsum("ab,bar->r", inv, dI)
    except np.linalg.LinAlgError:
        ustar = np.full(p, np.nan)
    return pen, ustar, imat, loglik


def _maximise(beta0, t, e, X, s, ties, free: np.ndarray, max_step: float, max_iter: int = MAX_ITER):
    """Maximise the penalised log likelihood over the coefficients marked ``free`` (the others stay as in
    ``beta0``): Newton steps I_ff⁻¹ U*_f, capped at ``max_step``, halved while l* does not increase."""
    beta = beta0.astype(float).copy()
    pen, ustar, imat, _ = _penalised(beta, t, e, X, s, ties)
    iters, converged = 0, False
    if not free.any():
        return beta, pen, 0, True
    for it in range(1, max_iter + 1):
        iters = it
        try:
            step = np.linalg.solve(imat[np.ix_(free, free)], ustar[free])
        except np.linalg.LinAlgError:
            step = np.linalg.pinv(imat[np.ix_(free, free)]) @ ustar[free]
        big = np.max(np.abs(step))
        if big > max_step:
            step *= max_step / big
        for _ in range(30):
            new = beta.copy()
            new[free] += step
            npen, nu, ni, _ = _penalised(new, t, e, X, s, ties)
            if np.isfinite(npen) and npen >= pen - 1e-12 * max(1.0, abs(pen)):
                break
            step /= 2
        beta, pen, ustar, imat = new, npen, nu, ni
        if np.max(np.abs(step)) < TOL:
            converged = True
            break
    return beta, pen, iters, converged


def firth_cox_fit(
    time: Any,
    event: Any,
    X: Any,
    terms: Sequence[str] | None = None,
    ties: str = "breslow",
    conf_level: float = 0.95,
    pl: bool = True,
    max_step: float = 2.5,
) -> FirthCoxFit:
    """Firth's penalised Cox model = R ``coxphf(Surv(time, event) ~ X, pl = TRUE)`` (see the module docstring).
    ``X``: n × p covariates without missing values; ``terms``: their names."""
    if ties not in ("efron", "breslow"):
        raise ValueError("ties must be 'efron' or 'breslow'")
    t, e, Xs, _w, s, _order = _prepare(time, event, X, None, None)
    n, p = Xs.shape
    names = tuple(terms) if terms is not None else tuple(f"x{i + 1}" for i in range(p))
    Xc = Xs - Xs.mean(axis=0)  # centring changes neither β nor l* (the risk-set ratios are shift-invariant)
    notes: list[str] = []
    allfree = np.ones(p, bool)
    null_pen = _penalised(np.zeros(p), t, e, Xc, s, ties)[0]
    beta, pen, iters, converged = _maximise(np.zeros(p), t, e, Xc, s, ties, allfree, max_step)
    if not converged:
        notes.append(f"Firth's fit did not converge in {MAX_ITER} iterations.")
    _, _, imat, _ = _penalised(beta, t, e, Xc, s, ties)
    try:
        var = np.linalg.inv(imat)
    except np.linalg.LinAlgError:
        var = np.full((p, p), np.nan)
    lo: list[float | None] = [None] * p
    hi: list[float | None] = [None] * p
    pv: list[float | None] = [None] * p
    chi: list[float | None] = [None] * p
    if pl:
        q = float(_sps.chi2.ppf(conf_level, 1))
        for j in range(p):
            free = allfree.copy()
            free[j] = False

            def prof(b, j=j, free=free, start=beta):
                b0 = start.copy()
                b0[j] = b
                return _maximise(b0, t, e, Xc, s, ties, free, max_step)[1]

            stat0 = max(2 * (pen - prof(0.0)), 0.0)
            pv[j] = float(_sps.chi2.sf(stat0, 1))
            chi[j] = float(stat0)
            se_j = math.sqrt(var[j, j]) if var[j, j] > 0 else 1.0
            f = lambda b, prof=prof: 2 * (pen - prof(b)) - q
            for side in (-1, 1):
                step = se_j
                edge = beta[j]
                found = None
                while abs(edge - beta[j]) < 50:
                    nxt = edge + side * step
                    if f(nxt) > 0:
                        found = _opt.brentq(f, min(edge, nxt), max(edge, nxt), xtol=1e-13, rtol=1e-14)
                        break
                    edge, step = nxt, step * 2
                if found is None:
                    notes.append(f"{names[j]}: the profile penalised likelihood does not reach the CI level.")
                if side < 0:
                    lo[j] = found
                else:
                    hi[j] = found
    return FirthCoxFit(
        terms=names,
        coef=tuple(float(b) for b in beta),
        var=tuple(tuple(float(x) for x in row) for row in var),
        ci_low=tuple(lo),
        ci_high=tuple(hi),
        p_value=tuple(pv),
        chisq=tuple(chi),
        loglik_null=float(null_pen),
        loglik=float(pen),
        iterations=iters,
        converged=converged,
        n=int(n),
        events=int(e.sum()),
        ties=ties,
        conf_level=conf_level,
        notes=tuple(notes),
    )
