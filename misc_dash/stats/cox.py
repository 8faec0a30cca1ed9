"""Cox proportional hazards, fitted here as R ``coxph`` fits it, and R's time-tie rule.

* :func:`timefix` = R ``survival::aeqSurv`` (``coxph``/``survfit``/``survdiff`` apply it by default,
  ``timefix = TRUE``): times equal up to floating point (24.3 h and 48.3 h apart is 1 day, but computes as
  0.9999999999999999) are merged into one, so they count as ties.
* :func:`cox_fit` = R ``coxph(ties = "efron")`` (or "breslow"): Newton–Raphson from β = 0 with step halving and R's
  stopping rule (``coxph.control``: relative change in the log partial likelihood ≤ 1e-9, at most 20 iterations),
  case weights and strata; the variance is the inverse information at the final β, as R's. With ``robust=True``
  also the sandwich variance of R ``coxph(..., robust = TRUE)``: the cross product of the weighted dfbeta residuals
  (score residuals × variance × weight, Efron's split of tied deaths as R ``residuals.coxph(type = "dfbeta",
  weighted = TRUE)``). R's warning "Loglik converged before variable …; coefficient may be infinite" (monotone
  likelihood: the next Newton step is still larger than 1e-9 and than √1e-9·|β|) is ``CoxFit.infinite``.
* :func:`cox_zph` = R ``cox.zph(fit, transform = "km")`` (survival ≥ 3.0): the score test for adding x·g(t) to the
  fitted model, g = 1 − KM(t−) centred on the events, per covariate and global.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _sps

EPS = 1e-9  # R coxph.control(eps)
MAX_ITER = 20  # R coxph.control(iter.max)
TOLERANCE = math.sqrt(np.finfo(float).eps)  # R aeqSurv tolerance


def timefix(times, tolerance: float = TOLERANCE) -> np.ndarray:
    """R ``aeqSurv``: sorted unique finite times whose gap is ≤ ``tolerance`` absolutely or relative to the mean
    absolute time are one time; every time is replaced by the smallest time of its run."""
    x = np.asarray(times, dtype=float)
    y = np.unique(x[np.isfinite(x)])
    if y.size < 2:
        return x.copy()
    dy = np.diff(y)
    tied = (dy <= tolerance) | (dy / np.mean(np.abs(y)) <= tolerance)
    if not tied.any():
        return x.copy()
    cuts = y[np.concatenate([[True], ~tied])]
    out = x.copy()
    ok = np.isfinite(x)
    idx = np.searchsorted(cuts, x[ok], side="right") - 1  # R findInterval
    out[ok] = cuts[np.maximum(idx, 0)]
    return out


@dataclass(frozen=True)
class CoxFit:
    coef: tuple[float, ...]
    var: tuple[tuple[float, ...], ...]  # model-based variance (inverse information)
    robust_var: tuple[tuple[float, ...], ...] | None  # the sandwich variance, when computed
    loglik_null: float
    loglik: float
    iterations: int
    converged: bool
    n: int
    events: int
    ties: str
    #: per coefficient, R's "coefficient may be infinite" flag (monotone likelihood / separation)
    infinite: tuple[bool, ...] = ()

    @property
    def naive_se(self) -> tuple[float, ...]:
        """Standard errors from the inverse information (R ``fit$naive.var`` when the fit is robust)."""
        v = self.var
        return tuple(math.sqrt(v[i][i]) if v[i][i] >= 0 else math.nan for i in range(len(self.coef)))

    @property
    def se(self) -> tuple[float, ...]:
        v = self.robust_var if self.robust_var is not None else self.var
        return tuple(math.sqrt(v[i][i]) if v[i][i] >= 0 else math.nan for i in range(len(self.coef)))

    def wald(self, i: int = 0, conf_level: float = 0.95) -> tuple[float, float, float, float]:
        """(z, p, CI low, CI high) for coefficient ``i``, CI on the hazard-ratio scale (R summary.coxph); from the
        robust variance when it was computed (as R's summary of a robust fit)."""
        b, s = self.coef[i], self.se[i]
        z = b / s
        p = 2 * _sps.norm.sf(abs(z))
        q = _sps.norm.ppf(0.5 + conf_level / 2)
        return z, float(p), math.exp(b - q * s), math.exp(b + q * s)


def _prepare(time, event, X, weights, strata):
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float).astype(bool)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    w = np.ones(t.size) if weights is None else np.asarray(weights, dtype=float)
    s = np.zeros(t.size, dtype=np.int64) if strata is None else np.unique(np.asarray(strata), return_inverse=True)[1]
    # within each stratum, by time; at equal times deaths and censorings are in one risk set
    order = np.lexsort((t, s))
    return timefix(t)[order], e[order], X[order], w[order], s[order], order


def _efron(beta, t, e, X, w, s, ties: str, per_time: bool = False):
    """Log partial likelihood, score and information at ``beta`` (R coxfit6's sums, vectorised). With
    ``per_time``, also the score contribution and information of each (stratum, death time) — for cox.zph."""
    _n, p = X.shape
    eta = X @ beta
    r = w * np.exp(eta)
    loglik = float(np.sum((w * eta)[e]))
    u = (w[:, None] * X)[e].sum(axis=0)
    imat = np.zeros((p, p))
    rows_u, rows_i, rows_key = [], [], []
    for st in np.unique(s):
        m = s == st
        ts, es, Xs, ws, rs = t[m], e[m], X[m], w[m], r[m]
        if not es.any():
            continue
        # risk-set sums at each distinct time: everyone with time >= t (reverse cumulative sums)
        times, first = np.unique(ts, return_index=True)
        rev = lambda a: np.cumsum(a[::-1], axis=0)[::-1]
        S0 = rev(rs)[first]
        S1 = rev(rs[:, None] * Xs)[first]
        S2 = rev(rs[:, None, None] * Xs[:, :, None] * Xs[:, None, :])[first]
        idx = np.searchsorted(times, ts)
        dmask = es
        D = np.bincount(idx[dmask], minlength=times.size).astype(float)
        keep = D > 0
        D0 = np.bincount(idx[dmask], weights=rs[dmask], minlength=times.size)
        D1 = np.zeros((times.size, p))
        np.add.at(D1, idx[dmask], rs[dmask, None] * Xs[dmask])
        D2 = np.zeros((times.size, p, p))
        np.add.at(D2, idx[dmask], rs[dmask, None, None] * Xs[dmask, :, None] * Xs[dmask, None, :])
        WD = np.bincount(idx[dmask], weights=ws[dmask], minlength=times.size)
        WX = np.zeros((times.size, p))
        np.add.at(WX, idx[dmask], ws[dmask, None] * Xs[dmask])
        j = np.nonzero(keep)[0]
        d = D[j].astype(int)
        meanwt = WD[j] / d
        # one term per death k = 0..d-1 at each time (Efron), or k = 0 with weight d (Breslow)
        if ties == "efron":
            jj = np.repeat(np.arange(j.size), d)
            frac = np.concatenate([np.arange(k) / k for k in d])
            mw = meanwt[jj]
        else:
            jj = np.arange(j.size)
            frac = np.zeros(j.size)
            mw = WD[j]
        den = S0[j][jj] - frac * D0[j][jj]
        a = S1[j][jj] - frac[:, None] * D1[j][jj]
        c = S2[j][jj] - frac[:, None, None] * D2[j][jj]
        mean = a / den[:, None]
        loglik -= float(np.sum(mw * np.log(den)))
        u -= np.sum(mw[:, None] * mean, axis=0)
        v = c / den[:, None, None] - mean[:, :, None] * mean[:, None, :]
        imat += np.sum(mw[:, None, None] * v, axis=0)
        if per_time:
            ut = WX[j].copy()
            np.subtract.at(ut, jj, mw[:, None] * mean)
            it = np.zeros((j.size, p, p))
            np.add.at(it, jj, mw[:, None, None] * v)
            rows_u.append(ut)
            rows_i.append(it)
            rows_key.append(np.column_stack([np.full(j.size, st), times[j]]))
    if per_time:
        return loglik, u, imat, (np.concatenate(rows_u), np.concatenate(rows_i), np.concatenate(rows_key))
    return loglik, u, imat


def _solve(imat, u):
    try:
        return np.linalg.solve(imat, u)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(imat) @ u


def _score_residuals(beta, t, e, X, w, s, ties: str) -> np.ndarray:
    """Score residuals per row (the rows as :func:`_prepare` sorted them) = R ``residuals.coxph(type = "score")``
    (survival's coxscore2): for row i, Σ over the death terms of its own death (x_i − x̄_k)/d, minus
    exp(η_i)·Σ over the terms of the risk sets it is in of meanwt·c_ik·(x_i − x̄_k)/den_k, where Efron's k-th term
    of d tied deaths has den_k = S0 − (k/d)·D0 and c_ik = 1 − k/d for the rows dying then (1 otherwise); Breslow:
    one term with the deaths' total weight. Σ_i w_i·resid_i is the score."""
    n, p = X.shape
    eta = X @ beta
    risk = np.exp(eta)
    r = w * risk
    out = np.zeros((n, p))
    for st in np.unique(s):
        m = np.nonzero(s == st)[0]
        ts, es, Xs, ws, rs = t[m], e[m], X[m], w[m], r[m]
        if not es.any():
            continue
        times, first = np.unique(ts, return_index=True)
        rev = lambda a: np.cumsum(a[::-1], axis=0)[::-1]
        S0 = rev(rs)[first]
        S1 = rev(rs[:, None] * Xs)[first]
        idx = np.searchsorted(times, ts)
        D = np.bincount(idx[es], minlength=times.size)
        D0 = np.bincount(idx[es], weights=rs[es], minlength=times.size)
        D1 = np.zeros((times.size, p))
        np.add.at(D1, idx[es], rs[es, None] * Xs[es])
        WD = np.bincount(idx[es], weights=ws[es], minlength=times.size)
        j = np.nonzero(D > 0)[0]
        d = D[j]
        if ties == "efron":
            jj = np.repeat(np.arange(j.size), d)
            frac = np.concatenate([np.arange(k) / k for k in d])
            mw = (WD[j] / d)[jj]
            dn = d[jj].astype(float)
        else:
            jj = np.arange(j.size)
            frac = np.zeros(j.size)
            mw = WD[j]
            dn = np.ones(j.size)
        den = S0[j][jj] - frac * D0[j][jj]
        mean = (S1[j][jj] - frac[:, None] * D1[j][jj]) / den[:, None]
        h = mw / den
        # per distinct time: Σ_k h_k and Σ_k h_k x̄_k (risk part), Σ_k x̄_k / d (death part), Σ_k frac_k h_k and
        # Σ_k frac_k h_k x̄_k (Efron's correction for the rows dying at that time)
        tpos = j[jj]
        A = np.bincount(tpos, weights=h, minlength=times.size)
        B = np.zeros((times.size, p))
        np.add.at(B, tpos, h[:, None] * mean)
        M = np.zeros((times.size, p))
        np.add.at(M, tpos, mean / dn[:, None])
        Fa = np.bincount(tpos, weights=frac * h, minlength=times.size)
        Fb = np.zeros((times.size, p))
        np.add.at(Fb, tpos, (frac * h)[:, None] * mean)
        cA, cB = np.cumsum(A), np.cumsum(B, axis=0)
        res = -risk[m][:, None] * (Xs * cA[idx][:, None] - cB[idx])
        dead = np.nonzero(es)[0]
        k = idx[dead]
        res[dead] += Xs[dead] - M[k]
        res[dead] += risk[m][dead][:, None] * (Xs[dead] * Fa[k][:, None] - Fb[k])
        out[m] = res
    return out


def cox_fit(
    time,
    event,
    X,
    weights=None,
    strata=None,
    ties: str = "efron",
    eps: float = EPS,
    max_iter: int = MAX_ITER,
    robust: bool = False,
) -> CoxFit:
    """Fit a Cox model as R ``coxph(Surv(time, event) ~ X, weights, strata, ties)`` does (see the module
    docstring). ``X``: n × p (or n) covariates; rows must have no missing values (complete cases are the caller's
    choice, stated on screen). ``robust=True`` adds the sandwich variance (``robust_var``; then ``se`` and
    :meth:`CoxFit.wald` use it, as R's summary of ``coxph(..., robust = TRUE)``, and ``naive_se`` is R's
    ``naive.var``). R turns ``robust`` on by itself for non-integer weights; here it is always the caller's
    choice."""
    if ties not in ("efron", "breslow"):
        raise ValueError("ties must be 'efron' or 'breslow'")
    t, e, Xs, w, s, _order = _prepare(time, event, X, weights, strata)
    p = Xs.shape[1]
    Xc = Xs - np.average(Xs, axis=0, weights=w)  # R centres the covariates: same β, better conditioned sums
    beta = np.zeros(p)
    loglik0, u, imat = _efron(beta, t, e, Xc, w, s, ties)
    best = loglik0
    newbeta = beta + _solve(imat, u)
    halving, converged, it = False, False, 0
    for it in range(1, max_iter + 1):
        newlk, u, imat = _efron(newbeta, t, e, Xc, w, s, ties)
        if abs(1 - best / newlk) <= eps and not halving:
            converged = True
            best = newlk
            beta = newbeta
            break
        if it == max_iter:
            break
        if not np.isfinite(newlk) or newlk < best:
            halving = True
            newbeta = (newbeta + beta) / 2
        else:
            halving = False
            best = newlk
            beta = newbeta
            newbeta = newbeta + _solve(imat, u)
    if not converged:
        beta = newbeta if np.isfinite(newlk) and newlk >= best else beta
        best, u, imat = _efron(beta, t, e, Xc, w, s, ties)
    try:
        var = np.linalg.inv(imat)
    except np.linalg.LinAlgError:
        var = np.full((p, p), np.nan)
    # R coxph.fit: |u' var| (the Newton step still to go) > eps and > toler.inf·|β| → "coefficient may be
    # infinite" (checked only when the fit converged; otherwise R says it ran out of iterations)
    step = np.abs(u @ var)
    infinite = (~np.isfinite(u)) | ((step > eps) & (step > math.sqrt(eps) * np.abs(beta)))
    if not converged:
        infinite = (~np.isfinite(step)) | np.zeros(p, bool)
    rvar = None
    if robust and np.all(np.isfinite(var)):
        resid = _score_residuals(beta, t, e, Xc, w, s, ties)
        dfbeta = (w[:, None] * resid) @ var
        rvar = dfbeta.T @ dfbeta
    return CoxFit(
        coef=tuple(float(b) for b in beta),
        var=tuple(tuple(float(x) for x in row) for row in var),
        robust_var=None if rvar is None else tuple(tuple(float(x) for x in row) for row in rvar),
        loglik_null=float(loglik0),
        loglik=float(best),
        iterations=it,
        converged=converged,
        n=int(t.size),
        events=int(e.sum()),
        ties=ties,
        infinite=tuple(bool(x) for x in infinite),
    )


def cox_zph(time, event, X, fit: CoxFit, weights=None, strata=None) -> tuple[tuple[float, int, float], ...]:
    """R ``cox.zph(fit, transform = "km")``: (chi-square, df, p) per covariate, then the global test."""
    t, e, Xs, w, s, _order = _prepare(time, event, X, weights, strata)
    p = Xs.shape[1]
    Xc = Xs - np.average(Xs, axis=0, weights=w)
    beta = np.asarray(fit.coef)
    _, _, _, (ut, it, key) = _efron(beta, t, e, Xc, w, s, fit.ties, per_time=True)
    # g(t) = 1 - KM(t-) of all rows (unweighted, as R's survfitKM call), centred on the mean over events
    times = np.unique(t)
    n_risk = np.array([(t >= x).sum() for x in times], dtype=float)
    d = np.array([(e & (t == x)).sum() for x in times], dtype=float)
    km = np.cumprod(1 - d / n_risk)
    km_before = lambda x: np.concatenate([[1.0], km])[np.searchsorted(times, x, side="left")]
    g_all = 1 - km_before(t)
    g = 1 - km_before(key[:, 1]) - g_all[e].mean()
    u2 = (g[:, None] * ut).sum(axis=0)
    i11 = it.sum(axis=0)
    i12 = (g[:, None, None] * it).sum(axis=0)
    i22 = (g[:, None, None] ** 2 * it).sum(axis=0)
    imat = np.block([[i11, i12], [i12, i22]])
    out = []
    for k in range(p):
        kk = [*range(p), p + k]
        uk = np.concatenate([np.zeros(p), [u2[k]]])
        stat = float(_solve(imat[np.ix_(kk, kk)], uk) @ uk)
        out.append((stat, 1, float(_sps.chi2.sf(stat, 1))))
    uall = np.concatenate([np.zeros(p), u2])
    stat = float(_solve(imat, uall) @ uall)
    out.append((stat, p, float(_sps.chi2.sf(stat, p))))
    return tuple(out)
