"""Adjusted & sensitivity page (issue 17): does the fever difference survive adjustment, and can it be adjusted at
all with these patients? Positivity first; the naive, adjusted and weighted hazard ratios side by side with the
E-value; balance and propensity overlap of the weights; weighted Kaplan–Meier curves; the effect within subgroups
with the interaction p; and the fever comparison over every what-if at once (the specification plot)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import analyses as A
from .. import figures, stats
from .. import formatting as fmt
from ..analyses.adjusted import COVARIATES, LABELS, STRATA, AdjustOptions, age_band
from ..cards import Card, CardTable, Metric, TestLine
from ..figures.adjusted import (
    build_balance_figure,
    build_hr_comparison_figure,
    build_overlap_figure,
    build_specification_figure,
)
from ..vocabulary import ECHO_MEASURE_NAMES, confounding_caution
from .common import ViewContext

#: the what-ifs of the specification plot: origin × fever threshold × sustained
SPEC_ORIGINS = ("admission", "treatment")
SPEC_THRESHOLDS = (37.5, 37.8, 38.0, 38.3, 38.5)
SPEC_SUSTAINED = (False, True)
#: subgroups of the forest plot
SUBGROUPS = ("phenotype", "cv_shock", "age_band")
#: a subgroup with fewer patients than this in either group is flagged
SMALL_STRATUM = 5

E_VALUE_MEANING = (
    "E-value: how strong an unmeasured confounder would have to be — associated with both the treatment and the "
    "outcome by this risk ratio each, beyond the covariates adjusted for — to explain the adjusted estimate away."
)
METHODS = (
    "Naive: Cox proportional hazards of the group alone on the patients used (R coxph(Surv(t, e) ~ group, ties = "
    '"efron")). Adjusted: the same with the chosen covariates (R coxph(Surv(t, e) ~ group + covariates, ties = '
    '"efron")), or Firth\'s penalised likelihood on request (R coxphf, Breslow ties); Wald 95% CI and p. Weighted: '
    "stabilised ATE weights from a logistic propensity model on the same covariates (R glm(family = binomial)), "
    "Cox with robust variance (R coxph(weights = w, robust = TRUE)); balance as standardised mean differences "
    "(|SMD| < 0.1 balanced, the cobalt convention); weighted Kaplan–Meier (R survfit(weights = w)). Stratified "
    "log-rank: R survdiff(Surv(t, e) ~ group + strata(x)). Positivity: every level and every combination of the "
    "categorical covariates must have patients in both groups, else no adjusted number is given. E-value "
    "(VanderWeele & Ding 2017) of the adjusted HR after the common-outcome HR → RR conversion (R EValue::evalues.HR("
    "rare = FALSE)). Complete cases: patients missing a covariate are left out and counted."
)
SUBGROUP_METHODS = (
    "Within each subgroup: Cox hazard ratio of the second group vs the first (R coxph(Surv(t, e) ~ group), Efron "
    "ties), Wald 95% CI. Interaction p: likelihood-ratio test of coxph(Surv(t, e) ~ group * subgroup) against "
    "coxph(Surv(t, e) ~ group + subgroup) (R anova(fit0, fit1)), on the patients with the subgroup known. "
    f"Subgroups with fewer than {SMALL_STRATUM} patients in a group are flagged: their HR is not to be read."
)
SPEC_METHODS = (
    "The Fever page's comparison (Cox HR of the second group vs the first, R coxph with Efron ties, and the log-rank "
    "p, R survdiff) recomputed for every combination of origin (admission / treatment start), fever threshold "
    f"({', '.join(f'{t:g}' for t in SPEC_THRESHOLDS)} °C) and sustained defervescence (none / no fever in the next "
    "24 h). Unadjusted. The default (admission, 38.0 °C, not sustained) is marked."
)


@dataclass(frozen=True)
class AdjustedOptions:
    """The page's controls. The comparison is the current grouping (two groups with patients needed for the hazard
    ratios). ``strata``: a field of :data:`STRATA` or None; ``adjust_for``: fields of :data:`COVARIATES`;
    ``weights``: IPTW on the ``adjust_for`` covariates; ``trim``: upper quantile of the weights (None = none);
    ``firth``: Firth's penalised Cox for the adjusted HR."""

    strata: str | None = None
    adjust_for: tuple[str, ...] = ("cv_shock",)
    weights: bool = True
    trim: float | None = None
    firth: bool = False

    def adjust_options(self) -> AdjustOptions:
        w = "iptw" if self.weights and self.adjust_for else None
        return AdjustOptions(
            strata=self.strata,
            adjust_for=tuple(self.adjust_for),
            weights=w,
            trim=self.trim if w else None,
            firth=self.firth,
        )

    def analysis_options(self) -> A.AnalysisOptions:
        return A.AnalysisOptions(adjust=self.adjust_options())


def adjust_args(adj: AdjustOptions) -> list[str]:
    """The ``analyze`` flags of the adjusted analysis (see :meth:`AdjustOptions.cli_args`)."""
    return adj.cli_args()


def _caution(vc: ViewContext) -> tuple[str, ...]:
    c = confounding_caution(vc.ctx.grouping.by)
    return (c,) if c else ()


def _hr_text(t: stats.TestResult | None) -> str:
    if t is None or t.estimate is None:
        return "—"
    if t.ci_low is None or t.ci_high is None:
        return fmt.number(t.estimate, 2)
    return f"{fmt.number(t.estimate, 2)} ({fmt.number(t.ci_low, 2)}–{fmt.number(t.ci_high, 2)})"


def _row(label: str, t: stats.TestResult | None, note: str = "") -> dict:
    ok = t is not None and t.estimate is not None and t.ci_low is not None and t.ci_high is not None
    return {
        "label": label,
        "hr": t.estimate if ok else None,
        "ci": (t.ci_low, t.ci_high) if ok else None,
        "note": note or "not estimable",
    }


def build_adjusted_cards(vc: ViewContext, options: AdjustedOptions = AdjustedOptions()) -> list[Card]:
    opts = options.analysis_options()
    res = vc.run("adjusted", opts)
    f = res.fever
    if len(f.groups) != 2:
        return [_not_two_card(vc, opts, f)]
    cards = [_hr_card(vc, opts, options, f)]
    if f.iptw is not None:
        cards += _weight_cards(vc, opts, f)
    cards.append(_echo_card(vc, opts, res.echo))
    cards.append(_subgroup_card(vc, opts, f))
    cards.append(_specification_card(vc))
    return cards


ECHO_METHODS = (
    "Follow-up value (last echo) of each measure on the group, its baseline value and the chosen covariates (R "
    "lm(followup ~ group + baseline + covariates)): the group coefficient is the follow-up difference, second group "
    "minus first, at equal baseline, t-based 95% CI. Adjusting for baseline answers the change score's problem: a "
    "child who starts lower has more room to improve. Complete cases; positivity as for the hazard ratio. With a "
    "stratum chosen: van Elteren's stratified Wilcoxon test of the change (follow-up − baseline), the stratified "
    "form of the Cardiac page's Mann–Whitney: within-stratum rank sums weighted by 1/(n + 1), normal approximation "
    "(R: coin independence_test(change ~ group | stratum) with ranks / (n + 1) per block); a stratum with one group "
    "only contributes nothing. It gives a p-value, no effect: the adjusted difference above is the effect. And the "
    "share with a normal follow-up value (the Cardiac page's thresholds: LVEF ≥ 55%, strain ≤ −21.4%) by "
    "Mantel–Haenszel: the common odds ratio of the second group vs the first with its Robins–Breslow–Greenland 95% "
    "CI and the continuity-corrected χ² p (R mantelhaen.test(table(group, normal, stratum)))."
)


def _echo_card(vc: ViewContext, opts: A.AnalysisOptions, echo: dict) -> Card:
    """The echo counterpart: LVEF and Ap4 strain at follow-up, adjusted for baseline (and the covariates)."""
    tests, notices, warnings = [], [], []
    for measure, e in echo.items():
        name = ECHO_MEASURE_NAMES[measure]
        covs = ", ".join([f"baseline {name}", *(LABELS[c] for c in e.covariates if c != "baseline")])
        what = f"Follow-up {name}, second − first group, adjusted for {covs}"
        if e.positivity is not None and not e.positivity.ok:
            why = "positivity fails: " + "; ".join(e.positivity.problems)
            tests.append(TestLine(what, None, missing=f"no estimate: {why}"))
            warnings += [f"{p[:1].upper()}{p[1:]}." for p in e.positivity.problems]
        else:
            tests.append(TestLine(what, e.result, missing="no estimate: the adjusted difference compares two groups"))
        if e.stratified is not None:
            tests.append(TestLine(f"Change in {name}, within the strata of {LABELS[e.strata]}", e.stratified))
        if e.normal_stratified is not None:
            what_n = f"Normal {name} at follow-up ({e.normal_rule}%), within the strata of {LABELS[e.strata]}"
            tests.append(TestLine(what_n, e.normal_stratified))
        notices += [f"{name}: {n}" for n in e.notes if not n.startswith("Positivity fails")]
    return Card(
        "adjusted.echo",
        title="LVEF and Ap4 strain at follow-up, adjusted for baseline",
        tests=tuple(tests),
        notices=tuple(notices),
        warnings=tuple(dict.fromkeys(warnings)),
        caveats=_caution(vc),
        methods=ECHO_METHODS,
        **vc.card_fields(opts),
    )


def _not_two_card(vc: ViewContext, opts: A.AnalysisOptions, f) -> Card:
    tests = ()
    if f.stratified_logrank is not None:
        tests = (TestLine(f"Stratified log-rank (by {LABELS[f.strata]})", f.stratified_logrank),)
    msg = (
        f"The adjusted and weighted hazard ratios compare two groups; this selection has {len(f.groups)} group(s) "
        "with temperature data. Compare two groups (e.g. group by anakinra, or filter to two treatment groups)."
    )
    return Card(
        "adjusted.groups",
        title="Adjusted comparison",
        warnings=(msg,),
        tests=tests,
        notices=tuple(n for n in f.notes if not n.startswith("The adjusted and weighted")),
        caveats=_caution(vc),
        methods=METHODS,
        **vc.card_fields(opts),
    )


def _hr_card(vc: ViewContext, opts: A.AnalysisOptions, options: AdjustedOptions, f) -> Card:
    first, second = f.groups
    pos = f.positivity
    blocked = pos is not None and not pos.ok
    covs = ", ".join(LABELS[c] for c in f.covariates)
    why = "positivity fails: " + "; ".join(pos.problems) if blocked else ""
    rows = [_row(f"Naive (group only), n = {vc.count(f.n_used)}", f.naive)]
    tests = [TestLine("Naive Cox (hazard ratio of defervescence, second vs first group)", f.naive)]
    metrics = [Metric("Naive HR (95% CI)", _hr_text(f.naive))]
    warnings: list[str] = []
    if f.covariates:
        label = f"Adjusted for {covs}" + (" (Firth)" if options.firth else "")
        if blocked:
            rows.append(_row(label, None, why))
            tests.append(TestLine(f"Cox adjusted for {covs}", None, missing=f"no estimate: {why}"))
            warnings += [f"{p[:1].upper()}{p[1:]}." for p in pos.problems]
        else:
            rows.append(_row(label, f.cox))
            tests.append(TestLine(f"Cox adjusted for {covs}", f.cox))
            metrics.append(Metric("Adjusted HR (95% CI)", _hr_text(f.cox)))
    if f.iptw is not None:
        label = f"IPTW on {covs}" + (f" (weights trimmed at {options.trim:g})" if options.trim else "")
        if f.iptw_cox is None:
            note = why or "the propensity model could not be fitted"
            rows.append(_row(label, None, note))
            tests.append(TestLine("Weighted Cox (IPTW, robust variance)", None, missing=f"no estimate: {note}"))
        else:
            rows.append(_row(label, f.iptw_cox))
            tests.append(TestLine("Weighted Cox (IPTW, robust variance)", f.iptw_cox))
            metrics.append(Metric("IPTW HR (95% CI)", _hr_text(f.iptw_cox)))
    if f.stratified_logrank is not None:
        tests.append(TestLine(f"Stratified log-rank (by {LABELS[f.strata]})", f.stratified_logrank))
    lead = ""
    if f.e_value is not None:
        ci = f"{fmt.number(f.e_value.ci, 2)}" if f.e_value.ci is not None else "—"
        metrics.append(
            Metric("E-value (point / CI limit)", f"{fmt.number(f.e_value.point, 2)} / {ci}", E_VALUE_MEANING)
        )
        lead = f"{f.e_value.text} {E_VALUE_MEANING}"
    elif not f.covariates:
        lead = "Choose covariates to adjust for (adjust for …) to see the adjusted hazard ratio and its E-value."
    fig = build_hr_comparison_figure(rows, title=f"Hazard ratio of defervescence: {second} vs {first}")
    caveats = [*_caution(vc)]
    for t in (f.naive, None if blocked else f.cox, f.iptw_cox):
        caveats += list(t.notes) if t is not None else []
    caption = (
        f"Hazard ratio of defervescence of {second} vs {first} (dot: estimate, bar: 95% CI, log scale): naive, "
        f"adjusted for the chosen covariates and inverse-probability weighted; {vc.count(f.n_used)} patients with "
        f"every covariate known. Cohort: {vc.description}."
    )
    return Card(
        "adjusted.hr",
        title="Naive vs adjusted hazard ratio",
        heading=False,
        lead=lead,
        figure=fig,
        figure_key="adjusted_hr",
        tests=tuple(tests),
        metrics=tuple(metrics),
        caveats=tuple(dict.fromkeys(caveats)),
        notices=f.notes,
        warnings=tuple(warnings),
        caption=caption,
        methods=METHODS,
        **vc.card_fields(opts),
    )


def _weight_cards(vc: ViewContext, opts: A.AnalysisOptions, f) -> list[Card]:
    first, second = f.groups
    ipw = f.iptw
    cards = []
    if f.balance is not None:
        brows = [{"covariate": r.covariate, "before": r.smd_before, "after": r.smd_after} for r in f.balance.rows]
        if f.iptw_cox is None:
            brows = [{**r, "after": None} for r in brows]
        table = pd.DataFrame(
            {
                "Covariate": [r["covariate"] for r in brows],
                "SMD before": [fmt.number(r["before"], 3) if r["before"] is not None else "—" for r in brows],
                "SMD after": [fmt.number(r["after"], 3) if r["after"] is not None else "—" for r in brows],
                "Balanced after (|SMD| < 0.1)": [
                    "—" if r["after"] is None else ("yes" if abs(r["after"]) < f.balance.threshold else "no")
                    for r in brows
                ],
            }
        )
        cards.append(
            Card(
                "adjusted.balance",
                title="Covariate balance before and after weighting",
                heading=False,
                figure=build_balance_figure(brows, f.balance.threshold),
                figure_key="adjusted_balance",
                tables=(CardTable(table),),
                caveats=_caution(vc) + tuple(f.balance.notes),
                caption=(
                    f"Standardised mean difference ({second} − {first}) of each propensity covariate before (open) "
                    f"and after (filled) stabilised IPTW; dashed line = {f.balance.threshold:g}. {f.balance.method}."
                ),
                methods=METHODS,
                **vc.card_fields(opts),
            )
        )
    # the overlap strip and the weighted curves show patients and numbers at risk: only for synthetic cohorts
    if ipw.fit is not None and f.iptw_cox is not None and vc.policy is None:
        pp = f.per_patient
        prop = {g: pp.loc[pp["group"] == g, "propensity"].dropna().tolist() for g in f.groups}
        ess = " vs ".join(fmt.number(e, 1) if e is not None else "—" for e in ipw.ess)
        trim = f" {ipw.trim_rule}" if ipw.trim is not None else " No trimming."
        cards.append(
            Card(
                "adjusted.overlap",
                title="Propensity overlap",
                heading=False,
                figure=build_overlap_figure(prop, f.groups, vc.colors()),
                figure_key="adjusted_overlap",
                metrics=(Metric("Effective sample size (Kish)", ess),),
                caveats=_caution(vc),
                caption=(
                    f"Each patient's propensity score (probability of {second} given the covariates, logistic "
                    f"regression), by group.{trim}"
                ),
                methods=METHODS,
                **vc.card_fields(opts),
            )
        )
        cards.append(
            Card(
                "adjusted.weighted_km",
                title="IPTW-weighted Kaplan–Meier",
                heading=False,
                figure=figures.build_km_figure(f.weighted_curves, f.groups, colors=vc.colors()),
                figure_key="adjusted_km",
                tests=(TestLine("Weighted Cox (IPTW, robust variance)", f.iptw_cox),),
                caveats=_caution(vc),
                caption=(
                    "Kaplan–Meier estimate of the proportion still febrile with each patient weighted by the "
                    "stabilised inverse probability of the group received (the pseudo-population in which the "
                    "covariates do not predict the group). Numbers at risk count patients, not weights."
                ),
                methods=METHODS,
                **vc.card_fields(opts),
            )
        )
    return cards


# ---------------------------------------------------------------------------------------------- subgroups
def _subgroup_values(vc: ViewContext, pp: pd.DataFrame, name: str) -> pd.Series:
    pf = vc.ctx.pf.set_index("patient_id").loc[pp["patient_id"]].reset_index()
    if name == "age_band":
        return age_band(pf["age_years"])
    col = pf[name]
    if name == "cv_shock":
        return col.map(lambda v: None if pd.isna(v) else ("yes" if bool(v) else "no")).astype(object)
    return col.astype(object).where(col.notna(), None)


def subgroup_rows(vc: ViewContext, f) -> tuple[list[dict], list[TestLine]]:
    """Per subgroup level: the HR (second vs first) with its CI and the group sizes; per subgroup field: the
    likelihood-ratio interaction test."""
    first, second = f.groups
    pp = f.per_patient
    rows: list[dict] = []
    tests: list[TestLine] = []
    for name in SUBGROUPS:
        sub = _subgroup_values(vc, pp, name)
        known = sub.notna().to_numpy()
        d, s = pp[known].reset_index(drop=True), sub[known].reset_index(drop=True)
        levels = [lv for lv in pd.unique(s) if lv is not None]
        if name == "phenotype":
            order = [p for p in figures.PHENOTYPES if p in levels]
            levels = order + [lv for lv in levels if lv not in order]
        elif name == "age_band":
            levels = [b[2] for b in A.adjusted.AGE_BANDS if b[2] in levels]
        for lv in levels:
            m = (s == lv).to_numpy()
            n1, n2 = int(((d["group"] == first) & m).sum()), int(((d["group"] == second) & m).sum())
            small = min(n1, n2) < SMALL_STRATUM
            t = None
            if n1 > 0 and n2 > 0:
                t = stats.cox_adjusted(
                    d.loc[m, "time_days"], d.loc[m, "event"], d.loc[m, "group"], None, group_order=f.groups
                )
            n_txt = f" (n = {n1} vs {n2})" if vc.policy is None else ""  # real cohorts: counts in the table only
            head = LABELS[name][:1].upper() + LABELS[name][1:]  # a row label starts a line: "Age band: < 5 years"
            label = f"{head}: {lv}{n_txt}{' ⚠ small' if small else ''}"
            note = "no patient in one group" if not (n1 and n2) else "not estimable"
            rows.append({**_row(label, t, note), "subgroup": LABELS[name], "level": str(lv), "n": (n1, n2),
                         "small": small, "result": t})  # fmt: skip
        tests.append(TestLine(f"Interaction group × {LABELS[name]}", _interaction(d, s, levels, f.groups, name)))
    return rows, tests


def _interaction(d: pd.DataFrame, s: pd.Series, levels, groups, name: str) -> stats.TestResult | None:
    """Likelihood-ratio test of group × subgroup (Cox, Efron ties): None when a level has too few patients."""
    if len(levels) < 2:
        return None
    g = (d["group"] == groups[1]).to_numpy(float)
    dummies = np.column_stack([(s == lv).to_numpy(float) for lv in levels[1:]])
    inter = dummies * g[:, None]
    keep = [j for j in range(inter.shape[1]) if inter[:, j].any() and (dummies[:, j] * (1 - g)).any()]
    if not keep:
        return None
    t, e = d["time_days"].to_numpy(float), d["event"].to_numpy(float)
    try:
        f0 = stats.cox_fit(t, e, np.column_stack([g, dummies]))
        f1 = stats.cox_fit(t, e, np.column_stack([g, dummies, inter[:, keep]]))
    except (ValueError, np.linalg.LinAlgError):
        return None
    chi2 = max(2 * (f1.loglik - f0.loglik), 0.0)
    df = len(keep)
    from scipy.stats import chi2 as _chi2

    p = float(_chi2.sf(chi2, df)) if math.isfinite(chi2) else None
    notes = () if f0.converged and f1.converged else ("A Cox fit did not converge: read the p with care.",)
    return stats.TestResult(
        test=f"Likelihood-ratio test of the group × {LABELS[name]} interaction (Cox)",
        statistic=chi2,
        statistic_name="chi-square",
        p_value=p,
        groups=tuple(groups),
        n=(int((g == 0).sum()), int((g == 1).sum())),
        df=df,
        method="asymptotic (χ²), Efron ties (R anova(coxph, coxph))",
        notes=notes,
    )


def _subgroup_card(vc: ViewContext, opts: A.AnalysisOptions, f) -> Card:
    first, second = f.groups
    rows, tests = subgroup_rows(vc, f)
    fig = build_hr_comparison_figure(rows, title=f"Subgroups: hazard ratio of defervescence, {second} vs {first}")
    small = [f"{r['subgroup']}: {r['level']}" for r in rows if r["small"]]
    warnings = ()
    if small:
        warnings = (
            f"Small subgroups (fewer than {SMALL_STRATUM} patients in a group): {', '.join(small)} — their hazard "
            "ratios are too imprecise to read.",
        )
    table = pd.DataFrame(
        {
            "Subgroup": [r["subgroup"] for r in rows],
            "Level": [r["level"] for r in rows],
            f"n {first}": [r["n"][0] for r in rows],
            f"n {second}": [r["n"][1] for r in rows],
            "HR (95% CI)": [_hr_text(r["result"]) for r in rows],
        }
    )
    return Card(
        "adjusted.subgroups",
        title="Subgroups",
        heading=False,
        figure=fig,
        figure_key="adjusted_subgroups",
        tables=(CardTable(table, formats={f"n {first}": "count", f"n {second}": "count"}),),
        tests=tuple(tests),
        tests_heading="Does the effect differ between subgroups? (interaction)",
        warnings=warnings,
        caveats=_caution(vc),
        caption=(
            f"Unadjusted hazard ratio of defervescence of {second} vs {first} within each phenotype, CV shock and "
            f"age band (dot: estimate, bar: 95% CI, log scale; ⚠ = small). Cohort: {vc.description}."
        ),
        methods=SUBGROUP_METHODS,
        **vc.card_fields(opts),
    )


# ---------------------------------------------------------------------------------------------- specification
def specification_rows(vc: ViewContext) -> list[dict]:
    """The fever comparison (Cox HR, log-rank p) for every origin × threshold × sustained what-if."""
    rows = []
    for origin in SPEC_ORIGINS:
        for thr in SPEC_THRESHOLDS:
            for sus in SPEC_SUSTAINED:
                o = A.AnalysisOptions(
                    fever_origin=origin, fever_threshold=thr, fever_sustained_hours=24.0 if sus else None, cox=True
                )
                fr = vc.run("fever", o)
                cox, lr = fr.cox, fr.logrank
                ok = cox is not None and cox.estimate is not None and cox.ci_low is not None
                label = f"{'admission' if origin == 'admission' else 'treatment'}, < {thr:g} °C" + (
                    ", sustained 24 h" if sus else ""
                )
                rows.append(
                    {
                        "label": label,
                        "origin": origin,
                        "threshold": thr,
                        "sustained": sus,
                        "hr": cox.estimate if ok else None,
                        "ci": (cox.ci_low, cox.ci_high) if ok else None,
                        "cox": cox,
                        "logrank": lr,
                        "p_text": f"log-rank p {lr.p_text()}" if lr is not None else "no log-rank",
                        "default": origin == "admission" and thr == 38.0 and not sus,
                    }
                )
    return rows


def _specification_card(vc: ViewContext) -> Card:
    rows = specification_rows(vc)
    default = next(r for r in rows if r["default"])
    hrs = [r["hr"] for r in rows if r["hr"] is not None]
    ps = [r["logrank"].p_value for r in rows if r["logrank"] is not None and r["logrank"].p_value is not None]
    table = pd.DataFrame(
        {
            "Specification": [r["label"] for r in rows],
            "HR (95% CI)": [_hr_text(r["cox"]) for r in rows],
            "Cox p": [r["cox"].p_value if r["cox"] is not None else None for r in rows],
            "Log-rank p": [r["logrank"].p_value if r["logrank"] is not None else None for r in rows],
        }
    )
    metrics = []
    if hrs:
        metrics.append(
            Metric("HR range over the specifications", f"{fmt.number(min(hrs), 2)}–{fmt.number(max(hrs), 2)}")
        )
    if ps:
        metrics.append(Metric("Specifications with log-rank p < 0.05", f"{sum(p < 0.05 for p in ps)} of {len(ps)}"))
    return Card(
        "adjusted.specification",
        title="Every what-if at once",
        heading=False,
        figure=build_specification_figure(rows),
        figure_key="adjusted_spec",
        tables=(
            CardTable(table, kind="grid", formats={"Cox p": "p", "Log-rank p": "p"}, download="specifications.csv"),
        ),
        tests=(
            TestLine("Default specification: Cox", default["cox"]),
            TestLine("Default specification: log-rank", default["logrank"]),
        ),
        metrics=tuple(metrics),
        caveats=_caution(vc),
        caption=(
            f"The fever comparison over {len(rows)} specifications (origin × threshold × sustained), unadjusted: "
            f"hazard ratio with 95% CI; the Fever page's default is the orange diamond. Cohort: {vc.description}."
        ),
        methods=SPEC_METHODS,
        **vc.card_fields(A.AnalysisOptions(cox=True)),
    )


__all__ = [
    "COVARIATES",
    "STRATA",
    "AdjustedOptions",
    "adjust_args",
    "build_adjusted_cards",
    "specification_rows",
    "subgroup_rows",
]
