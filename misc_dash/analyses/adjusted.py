"""Against confounding by indication: the stratified, adjusted and weighted what-ifs of the fever and echo
comparisons (issue 17), with the positivity check before any adjusted number and the E-value after it.

:func:`adjusted_analysis` takes the :class:`Context` and the :class:`AnalysisOptions` whose ``adjust`` field is an
:class:`AdjustOptions` (``strata``, ``adjust_for``, ``weights``, ``trim``, ``firth``) and returns an
:class:`AdjustedResult`; :func:`to_json` writes the ``adjusted`` key of the analyze JSON (docs/ANALYZE.md).

* Fever (the per-patient times of :func:`.defervescence.fever`): the stratified log-rank over every group (R
  ``survdiff(Surv(t, e) ~ group + strata(x))``); for two groups the Cox hazard ratio of the second group vs the
  first adjusted for the covariates (R ``coxph(ties = "efron")``, or Firth's penalised likelihood, R ``coxphf``),
  the IPTW hazard ratio (stabilised ATE weights from R ``glm(binomial)`` on the same covariates, R ``coxph(weights
  = w, robust = TRUE)``) with its balance table and weighted Kaplan–Meier curves, and the E-value of the adjusted
  Cox HR (defervescence is common: VanderWeele's HR → RR conversion).
* Echo (the pairs of :func:`.cardiac.echo`): the follow-up difference, second group minus first, adjusted for the
  baseline value and the covariates (R ``lm(followup ~ group + baseline + …)``); with a stratum, van Elteren's
  stratified Wilcoxon test of the change (follow-up − baseline) between the two groups and the Mantel–Haenszel
  common odds ratio of a normal follow-up value (R ``mantelhaen.test``).

Covariates: ``cv_shock``, ``icu``, ``kd_like`` (0/1), ``sex`` (dummy ``sexM``), ``age_years`` (continuous) and
``phenotype`` (the categorical phenotype: one dummy column per phenotype but the first present in the display
order, Non-specific first). Strata: those fields with ``age_band`` (:data:`AGE_BANDS`) in place of ``age_years``.
Patients missing a covariate or the stratum are left out (complete cases) and counted in the notes. Positivity is
checked per level and per combination of the categorical adjustment covariates among the patients used; when it
fails the adjusted and weighted hazard ratios and the E-value are not given and the problems say why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import stats
from . import cardiac, defervescence
from .context import AnalysisOptions, Context
from .jsonable import test_dict

COVARIATES = ("cv_shock", "icu", "kd_like", "sex", "age_years", "phenotype")
STRATA = ("cv_shock", "icu", "kd_like", "sex", "age_band", "phenotype")
WEIGHTS = ("iptw",)
ECHO_MEASURES = ("lvef", "strain")
# age bands for --strata age_band: [lower, upper) in years, and their labels
AGE_BANDS = ((0.0, 5.0, "< 5 years"), (5.0, 12.0, "5–11 years"), (12.0, float("inf"), "≥ 12 years"))
LABELS = {
    "cv_shock": "CV shock",
    "icu": "ICU admission",
    "kd_like": "KD-like features",
    "sex": "sex",
    "age_years": "age",
    "age_band": "age band",
    "phenotype": "phenotype",
}
_BINARY = ("cv_shock", "icu", "kd_like")


@dataclass(frozen=True)
class AdjustOptions:
    """What the user asked to adjust for. ``strata``: one of :data:`STRATA` (or None); ``adjust_for``: fields of
    :data:`COVARIATES`; ``weights``: None or "iptw" (propensity covariates = ``adjust_for``); ``trim``: truncate
    the weights at this upper quantile (e.g. 0.99; None = no trimming); ``firth``: Firth's penalised Cox instead
    of the ordinary one. Invalid values raise ``ValueError`` with a message meant for the user."""

    strata: str | None = None
    adjust_for: tuple[str, ...] = ()
    weights: str | None = None
    trim: float | None = None
    firth: bool = False

    def __post_init__(self):
        object.__setattr__(self, "adjust_for", tuple(self.adjust_for))
        if self.strata is not None and self.strata not in STRATA:
            raise ValueError(f"unknown stratum field {self.strata!r}: one of {', '.join(STRATA)}")
        bad = [f for f in self.adjust_for if f not in COVARIATES]
        if bad:
            raise ValueError(f"unknown covariate(s) {', '.join(map(repr, bad))}: choose from {', '.join(COVARIATES)}")
        if len(set(self.adjust_for)) != len(self.adjust_for):
            raise ValueError("a covariate is named twice")
        if self.weights is not None and self.weights not in WEIGHTS:
            raise ValueError(f"unknown weights {self.weights!r}: one of {', '.join(WEIGHTS)}")
        if self.weights and not self.adjust_for:
            raise ValueError("weights 'iptw' need covariates for the propensity score (adjust for …)")
        if self.trim is not None and not (self.weights and 0.5 < self.trim < 1):
            raise ValueError("trim goes with weights 'iptw' and is an upper quantile between 0.5 and 1 (e.g. 0.99)")

    @property
    def active(self) -> bool:
        """Anything asked (the ``adjusted`` JSON key is written only then)."""
        return bool(self.strata or self.adjust_for or self.weights)

    def cli_args(self) -> list[str]:
        """The ``analyze`` flags that ask for this (``--strata``, ``--adjust-for``, ``--weights``, ``--trim``,
        ``--firth``)."""
        out: list[str] = []
        if self.strata:
            out += ["--strata", self.strata]
        if self.adjust_for:
            out += ["--adjust-for", ",".join(self.adjust_for)]
        if self.weights:
            out += ["--weights", self.weights]
        if self.trim is not None:
            out += ["--trim", f"{self.trim:g}"]
        if self.firth:
            out.append("--firth")
        return out

    @classmethod
    def parse(cls, adjust_for: str | None = None, **kw) -> AdjustOptions:
        """From a comma-separated ``adjust_for`` text (as the command line gives it)."""
        fields_ = tuple(f.strip() for f in (adjust_for or "").split(",") if f.strip())
        return cls(adjust_for=fields_, **kw)


@dataclass(frozen=True)
class AdjustedFever:
    groups: tuple[str, ...]  # the groups with patients in the fever analysis
    covariates: tuple[str, ...]
    strata: str | None
    n_used: int  # complete cases
    n_left_out: int
    stratified_logrank: stats.TestResult | None
    naive: stats.TestResult | None  # unadjusted Cox HR on the same patients (two groups)
    cox: stats.TestResult | None  # the fit, or None (fewer/more than two groups, no covariates)
    positivity: stats.Positivity | None
    iptw: stats.IPTWeights | None
    iptw_cox: stats.TestResult | None
    balance: stats.Balance | None
    weighted_curves: dict = field(default_factory=dict)  # group -> WeightedKMCurve
    e_value: stats.EValue | None = None
    per_patient: pd.DataFrame | None = None  # patient_id, group, time_days, event, covariates (, weight)
    notes: tuple[str, ...] = ()

    @property
    def estimable(self) -> bool:
        """Positivity holds: the adjusted numbers may be shown."""
        return self.positivity is None or self.positivity.ok


@dataclass(frozen=True)
class AdjustedEcho:
    measure: str  # lvef / strain
    covariates: tuple[str, ...]  # baseline + the adjustment covariates
    result: stats.TestResult | None  # R lm(followup ~ group + baseline + …); None when not estimable
    positivity: stats.Positivity | None
    n_used: int
    notes: tuple[str, ...] = ()
    # van Elteren's stratified Wilcoxon of the change (follow-up − baseline) by the stratum, two groups: the
    # stratified counterpart of the Cardiac page's Mann–Whitney (None without --strata or without two groups)
    stratified: stats.TestResult | None = None
    strata: str | None = None
    # Mantel–Haenszel common odds ratio of a normal follow-up value (the Cardiac page's threshold: LVEF ≥ 55%,
    # strain ≤ −21.4%), second group vs first, by the same stratum
    normal_stratified: stats.TestResult | None = None
    normal_rule: str = ""  # e.g. "≥ 55"


@dataclass(frozen=True)
class AdjustedResult:
    options: AdjustOptions
    groups: tuple[str, ...]
    fever: AdjustedFever
    echo: dict  # measure -> AdjustedEcho
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return to_json(self)


# ---------------------------------------------------------------------------------------------- columns
def age_band(age: pd.Series) -> pd.Series:
    """The :data:`AGE_BANDS` label of each age (None when missing)."""
    a = pd.to_numeric(age, errors="coerce").to_numpy(float)
    out = np.full(len(a), None, dtype=object)
    for lo, hi, lab in AGE_BANDS:
        out[(a >= lo) & (a < hi)] = lab
    return pd.Series(out, index=age.index, dtype=object)


def _column(pf: pd.DataFrame, name: str) -> pd.Series:
    """The covariate / stratum column as the models take it: 0/1 floats (NaN missing), numbers, or text."""
    if name == "age_band":
        return age_band(pf["age_years"])
    s = pf[name]
    if name in _BINARY:
        return s.astype("float64") if not s.isna().any() else s.map(lambda v: np.nan if pd.isna(v) else float(v))
    if name == "age_years":
        return pd.to_numeric(s, errors="coerce").astype(float)
    if name == "phenotype":
        cats = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(s.dropna().unique())
        return pd.Series(pd.Categorical(s, categories=cats), index=s.index)
    return s.map(lambda v: None if pd.isna(v) else str(v)).astype(object)


def _stratum_labels(s: pd.Series) -> pd.Series:
    """A stratum column as the stratified tests name its levels in their notes: "yes" / "no" for a 0/1 field (not
    "1.0"), text otherwise; missing stays missing."""
    if pd.api.types.is_float_dtype(s):
        return s.map(lambda v: None if pd.isna(v) else ("yes" if v == 1 else "no" if v == 0 else f"{v:g}"))
    return s


def _frame(pf: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({n: _column(pf, n) for n in names}, index=pf.index)


def _missing(df: pd.DataFrame) -> np.ndarray:
    return df.isna().any(axis=1).to_numpy() if df.shape[1] else np.zeros(len(df), bool)


def _categorical(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n for n in names if n != "age_years")


def _positivity(groups, cov: pd.DataFrame, order: tuple[str, str]) -> stats.Positivity:
    cat = list(_categorical(tuple(cov.columns)))
    sub = cov[cat].copy()
    for c in sub.columns:  # phenotype as text, so levels not seen are not checked
        if isinstance(sub[c].dtype, pd.CategoricalDtype):
            sub[c] = sub[c].astype(object)
    return stats.positivity_check(groups, sub, group_order=order, labels=LABELS)


# ---------------------------------------------------------------------------------------------- analysis
def adjusted_analysis(ctx: Context, opts: AnalysisOptions = AnalysisOptions()) -> AdjustedResult:
    adj = opts.adjust if opts.adjust is not None else AdjustOptions()
    fv = defervescence.fever(ctx, opts)
    fever_part = _fever(ctx, fv.per_patient, adj)
    echo_part = {m: _echo(ctx, m, opts, adj) for m in ECHO_MEASURES}
    notes = []
    if len(fv.excluded):
        notes.append(f"{len(fv.excluded)} patient(s) without usable temperature readings are not in the fever part.")
    return AdjustedResult(adj, ctx.groups, fever_part, echo_part, tuple(notes))


def _fever(ctx: Context, t: pd.DataFrame, adj: AdjustOptions) -> AdjustedFever:
    pf = ctx.pf.set_index("patient_id").loc[t["patient_id"]].reset_index()
    cov = _frame(pf, adj.adjust_for)
    strata = _frame(pf, (adj.strata,)) if adj.strata else pd.DataFrame(index=pf.index)
    miss = _missing(cov) | _missing(strata)
    notes: list[str] = []
    if miss.any():
        notes.append(
            f"{int(miss.sum())} patient(s) missing {' or '.join(LABELS[c] for c in (*adj.adjust_for, adj.strata) if c)}"
            f" left out (complete cases: {int((~miss).sum())} of {len(miss)} patients used)."
        )
    keep = ~miss
    d = t[keep].reset_index(drop=True)
    cov = cov[keep].reset_index(drop=True)
    strata = strata[keep].reset_index(drop=True)
    present = tuple(g for g in ctx.groups if (d["group"] == g).any())
    time, event, group = d["time_days"].to_numpy(float), d["event"].to_numpy(bool), d["group"]
    slr = None
    if adj.strata:
        if len(present) >= 2:
            slr = stats.stratified_logrank(
                time,
                event,
                group,
                _stratum_labels(strata[adj.strata]),
                group_order=present,
                strata_name=LABELS[adj.strata],
            )
        else:
            notes.append("The stratified log-rank needs at least two groups with patients.")
    per_patient = pd.concat([d[["patient_id", "group", "time_days", "event"]], cov], axis=1)
    base = dict(
        groups=present,
        covariates=adj.adjust_for,
        strata=adj.strata,
        n_used=len(d),
        n_left_out=int(miss.sum()),
        stratified_logrank=slr,
    )
    two = len(present) == 2
    if not two:
        if adj.adjust_for or adj.weights:
            notes.append(
                f"The adjusted and weighted hazard ratios, the E-value and the adjusted echo differences compare "
                f"two groups; there are {len(present)} groups with patients here (compare two groups, e.g. "
                "anakinra yes / no, or filter to two treatment groups)."
            )
        return AdjustedFever(
            naive=None,
            cox=None,
            positivity=None,
            iptw=None,
            iptw_cox=None,
            balance=None,
            per_patient=per_patient,
            notes=tuple(notes),
            **base,
        )
    naive = stats.cox_adjusted(time, event, group, None, group_order=present, firth=adj.firth)
    cox = pos = None
    if adj.adjust_for:
        pos = _positivity(group, cov, present)
        cox = stats.cox_adjusted(time, event, group, cov, group_order=present, firth=adj.firth, labels=LABELS)
        if not pos.ok:
            notes.append(
                "Positivity fails (" + "; ".join(pos.problems) + "): no adjusted hazard ratio, weighted hazard ratio "
                "or E-value is given."
            )
    ipw = icox = bal = None
    curves: dict = {}
    if adj.weights == "iptw":
        ipw = stats.iptw(group, cov, group_order=present, trim=adj.trim)
        w = np.asarray(ipw.weights, float)
        if pos is not None and pos.ok and ipw.fit is not None:
            icox = stats.iptw_cox(time, event, group, w, group_order=present)
            bal = stats.balance_table(cov, group, w, group_order=present)
            per_patient = per_patient.assign(propensity=list(ipw.propensity), weight=w)
            for g in present:
                m = (group == g).to_numpy()
                curves[g] = stats.weighted_kaplan_meier(time[m], event[m], w[m], label=g)
        else:
            bal = stats.balance_table(cov, group, None, group_order=present)
    ev = None
    if cox is not None and pos.ok and cox.estimate is not None:
        ev = stats.e_value(cox.estimate, cox.ci_low, cox.ci_high, measure="HR", rare=False)
    return AdjustedFever(
        naive=naive,
        cox=cox,
        positivity=pos,
        iptw=ipw,
        iptw_cox=icox,
        balance=bal,
        weighted_curves=curves,
        e_value=ev,
        per_patient=per_patient,
        notes=tuple(notes),
        **base,
    )


def _echo(ctx: Context, measure: str, opts: AnalysisOptions, adj: AdjustOptions) -> AdjustedEcho:
    er = cardiac.echo(ctx, measure, opts)
    pairs = er.pairs[er.pairs["group"].notna()].reset_index(drop=True)
    names = ("baseline", *adj.adjust_for)
    pf = ctx.pf.set_index("patient_id").loc[pairs["patient_id"]].reset_index()
    cov = _frame(pf, adj.adjust_for)
    y = pairs["followup"].to_numpy(dtype=float, na_value=np.nan)
    x0 = pairs["baseline"].to_numpy(dtype=float, na_value=np.nan)
    miss = _missing(cov) | np.isnan(y) | np.isnan(x0)
    notes: list[str] = []
    no_pair = int(ctx.pf["group"].notna().sum()) - len(pairs)
    if no_pair:
        notes.append(f"{no_pair} patient(s) without a first and a follow-up echo are not in the comparison.")
    if miss.any():
        notes.append(f"{int(miss.sum())} patient(s) with a missing value left out (complete cases).")
    present = tuple(g for g in ctx.groups if (pairs["group"][~miss] == g).any())
    strat = _echo_stratified(pairs, pf, y - x0, ctx.groups, adj)
    high = er.normal_direction == ">="
    rule = f"{'≥' if high else '≤'} {er.normal_threshold:g}"
    normal = np.where(np.isnan(y), np.nan, (y >= er.normal_threshold) if high else (y <= er.normal_threshold))
    mh = _echo_stratified(pairs, pf, normal, ctx.groups, adj, test=stats.mantel_haenszel_by)
    extra = (strat, adj.strata, mh, rule)
    if len(present) != 2:
        notes.append(
            f"The adjusted follow-up difference compares two groups; {len(present)} group(s) have patients with "
            "two echoes here."
        )
        return AdjustedEcho(measure, names, None, None, int((~miss).sum()), tuple(notes), *extra)
    keep = ~miss
    grp = pairs["group"][keep].reset_index(drop=True)
    cv = cov[keep].reset_index(drop=True)
    pos = _positivity(grp, cv, present) if adj.adjust_for else None
    if pos is not None and not pos.ok:
        notes.append("Positivity fails (" + "; ".join(pos.problems) + "): no adjusted difference is given.")
        return AdjustedEcho(measure, names, None, pos, int(keep.sum()), tuple(notes), *extra)
    res = stats.adjusted_difference(y[keep], grp, x0[keep], cv, group_order=present, labels=LABELS)
    return AdjustedEcho(measure, names, res, pos, int(keep.sum()), tuple(notes), *extra)


def _echo_stratified(
    pairs: pd.DataFrame,
    pf: pd.DataFrame,
    values: np.ndarray,
    groups: tuple[str, ...],
    adj: AdjustOptions,
    test=stats.van_elteren,
) -> stats.TestResult | None:
    """A stratified two-group test of ``values`` (one per echo pair) within the strata of ``adj.strata``: van
    Elteren's of the change, or Mantel–Haenszel's of a 0/1 outcome, on every patient with a value and a stratum (the
    adjustment covariates play no part in it); None without a stratum or unless exactly two groups have such
    patients."""
    if not adj.strata:
        return None
    s = _stratum_labels(_column(pf, adj.strata))
    ok = ~np.isnan(values) & s.notna().to_numpy()
    present = tuple(g for g in groups if (pairs["group"][ok] == g).any())
    if len(present) != 2:
        return None
    return test(values[ok], pairs["group"][ok], s[ok], group_order=present, strata_name=LABELS[adj.strata])


# ---------------------------------------------------------------------------------------------- JSON
def _hr(t: stats.TestResult | None) -> dict | None:
    if t is None or t.estimate is None:
        return None
    return {"hr": t.estimate, "ci": [t.ci_low, t.ci_high], "p_value": t.p_value}


def _terms(t: stats.TestResult, names: list[str]) -> dict:
    out = {}
    for c in names:
        if f"HR {c}" in dict(t.extras):
            out[c] = {"hr": t.extra(f"HR {c}"), "ci": [t.extra(f"CI low {c}"), t.extra(f"CI high {c}")]}
            out[c]["p_value"] = t.extra(f"p {c}")
    return out


def _design_names(cov_names: tuple[str, ...], per_patient: pd.DataFrame | None) -> list[str]:
    if per_patient is None or not cov_names:
        return []
    return list(stats.model_matrix(per_patient[list(cov_names)], intercept=False).columns)


def _fever_json(f: AdjustedFever, adj: AdjustOptions) -> dict:
    slr = None
    if f.stratified_logrank is not None:
        s = f.stratified_logrank
        slr = {
            "strata": f.strata,
            "statistic": s.statistic,
            "df": s.df,
            "p_value": s.p_value,
            "test": s.test,
            "n": dict(zip(s.groups, s.n)),
            "strata_contributing": s.extra("strata contributing"),
            "notes": list(s.notes),
        }
    ok = f.estimable
    cox = None
    if f.cox is not None:
        cox = {
            "covariates": list(f.covariates),
            "method": f.cox.method,
            "treatment": _hr(f.cox) if ok else None,
            "terms": _terms(f.cox, _design_names(f.covariates, f.per_patient)) if ok else {},
            "n": dict(zip(f.cox.groups, f.cox.n)),
            "notes": list(f.cox.notes),
            "test": test_dict(f.cox) if ok else None,
        }
    iptw = None
    if f.iptw is not None:
        iptw = {
            "covariates": list(f.covariates),
            "treatment": _hr(f.iptw_cox) if ok else None,
            "balance": {
                r.covariate: {"smd_before": r.smd_before, "smd_after": r.smd_after}
                for r in (f.balance.rows if f.balance else ())
            },
            "balanced_threshold": f.balance.threshold if f.balance else None,
            "stabilized": f.iptw.stabilized,
            "trim": f.iptw.trim,
            "trim_rule": f.iptw.trim_rule,
            "effective_n": dict(zip(f.iptw.groups, f.iptw.ess)),
            "weighted_median_days": {g: c.median for g, c in f.weighted_curves.items()},
            "method": f.iptw_cox.method if f.iptw_cox is not None else None,
            "notes": list(f.iptw.notes) + (list(f.iptw_cox.notes) if f.iptw_cox is not None else []),
        }
    pos = None if f.positivity is None else {"ok": f.positivity.ok, "problems": list(f.positivity.problems)}
    if pos is not None:
        pos["covariates_checked"] = list(f.positivity.covariates)
        pos["cells"] = list(f.positivity.cells)
        pos["notes"] = list(f.positivity.notes)
    ev = None if f.e_value is None else {"point": f.e_value.point, "ci": f.e_value.ci, "text": f.e_value.text}
    return {
        "groups": list(f.groups),
        "n_used": f.n_used,
        "n_left_out": f.n_left_out,
        "stratified_logrank": slr,
        "naive": _hr(f.naive),
        "cox": cox,
        "iptw": iptw,
        "positivity": pos,
        "e_value": ev,
        "firth": adj.firth,
        "notes": list(f.notes),
    }


def _echo_json(e: AdjustedEcho) -> dict:
    r = e.result
    return {
        "covariates": list(e.covariates),
        "estimate": r.estimate if r is not None else None,
        "ci": [r.ci_low, r.ci_high] if r is not None else [None, None],
        "p_value": r.p_value if r is not None else None,
        "effect": r.effect if r is not None else None,
        "n": dict(zip(r.groups, r.n)) if r is not None else {},
        "df": r.df if r is not None else None,
        "method": r.method if r is not None else None,
        "positivity": None
        if e.positivity is None
        else {"ok": e.positivity.ok, "problems": list(e.positivity.problems)},
        "notes": list(e.notes) + (list(r.notes) if r is not None else []),
        "stratified": None if e.stratified is None else _van_elteren_json(e.stratified, e.strata),
        "normal_stratified": None if e.normal_stratified is None else _mh_json(e),
    }


def _mh_json(e: AdjustedEcho) -> dict:
    s = e.normal_stratified
    return {
        "strata": e.strata,
        "outcome": f"follow-up {e.normal_rule}",
        "test": s.test,
        "statistic": s.statistic,
        "p_value": s.p_value,
        "odds_ratio": s.estimate,
        "ci": [s.ci_low, s.ci_high],
        "n": dict(zip(s.groups, s.n)),
        "notes": list(s.notes),
    }


def _van_elteren_json(s: stats.TestResult, strata: str | None) -> dict:
    return {
        "strata": strata,
        "test": s.test,
        "statistic": s.statistic,
        "p_value": s.p_value,
        "n": dict(zip(s.groups, s.n)),
        "strata_contributing": s.extra("strata contributing"),
        "notes": list(s.notes),
    }


def to_json(res: AdjustedResult) -> dict:
    """The ``adjusted`` key of the analyze JSON (docs/ANALYZE.md)."""
    o = res.options
    return {
        "options": {
            "strata": o.strata,
            "adjust_for": list(o.adjust_for),
            "weights": o.weights,
            "trim": o.trim,
            "firth": o.firth,
        },
        "fever": _fever_json(res.fever, o),
        "echo": {m: _echo_json(e) for m, e in res.echo.items()},
        "notes": list(res.notes),
    }
