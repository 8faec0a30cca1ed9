"""Statistical truth, part 2: agreement with R (survival 3.5.3, stats; R 4.2) on awkward data — groups without
expected events, times equal only up to floating point, Cox models converged to R's rule, the proportional-hazards
check, survival at fixed days — and the effects with confidence intervals reported next to each p-value.

Each test names the R call that produced its reference values (run with options(digits = 17)). Tolerances:
1e-10 relative where both sides compute the same closed form or converge the same way; 2e-4 where R finds a
root with uniroot(tol = 1e-4) (Hodges–Lehmann CI in the asymptotic case, fisher.test's conditional MLE and CI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from misc_dash import analyses as A
from misc_dash import stats as S
from misc_dash.filters import CohortFilter
from misc_dash.loading import load_default_cohort

DATA = Path(__file__).parent / "data"
R = dict(rel=1e-10, abs=1e-12)


@pytest.fixture(scope="module")
def cohort():
    return load_default_cohort()


# ------------------------------------------------------------------------------------------------ log-rank df
def test_logrank_df_counts_only_groups_with_expected_events_vs_r():
    """R: survdiff(Surv(c(1,2,3,0.5), c(1,1,1,0)) ~ c("a","a","b","c")) — group c (censored at 0.5, before the
    first event) has expected 0, so R drops it: chisq = 1.4705882352941178 on 1 df, p = 0.22525290636065318
    (expected 1.1666666666666665, 1.8333333333333333, 0). 2 df would give p = 0.479."""
    res = S.logrank([1, 2, 3, 0.5], [1, 1, 1, 0], ["a", "a", "b", "c"])
    assert res.df == 1
    assert res.statistic == pytest.approx(1.4705882352941178, **R)
    assert res.p_value == pytest.approx(0.22525290636065318, **R)
    assert res.extra("expected c") == 0 and res.extra("expected a") == pytest.approx(1.1666666666666665, **R)
    assert any("No expected events in c" in n for n in res.notes)


def test_pairwise_logrank_with_a_group_without_expected_events_is_no_test_vs_r():
    """R: survdiff(Surv(t, e) ~ g, subset = g %in% c("a", "c")) has chisq 0 with expected (2, 0): 0 df, no test.
    The pairwise list reports it without a p-value (not df 1) and Holm adjusts over the pairs actually tested."""
    pw = S.pairwise_logrank([1, 2, 3, 0.5], [1, 1, 1, 0], ["a", "a", "b", "c"])
    by_pair = {t.groups: t for t in pw}
    assert by_pair[("a", "c")].df == 0 and by_pair[("a", "c")].p_value is None
    assert by_pair[("b", "c")].p_value is None
    assert by_pair[("a", "b")].p_value is not None and "over 1 pairwise" in by_pair[("a", "b")].method


# ------------------------------------------------------------------------------------------------ aeqSurv
def test_times_equal_up_to_floating_point_are_ties_vs_r():
    """R: survdiff(Surv(c(1, 1.0000000000000002, 2, 3), rep(1, 4)) ~ c("a","b","a","b")): aeqSurv merges the first
    two times, chisq = 0.4285714285714286, p = 0.5126907602619234 (without the merge lifelines gives p = 0.615).
    survfit(Surv(t, e) ~ 1): time 1, 2, 3 and surv 0.5, 0.25, 0."""
    t = [1, 1.0000000000000002, 2, 3]
    res = S.logrank(t, [1, 1, 1, 1], ["a", "b", "a", "b"])
    assert res.statistic == pytest.approx(0.4285714285714286, **R)
    assert res.p_value == pytest.approx(0.5126907602619234, **R)
    km = S.kaplan_meier(t, [1, 1, 1, 1])
    assert km.timeline == (0.0, 1.0, 2.0, 3.0) and km.survival == pytest.approx((1.0, 0.5, 0.25, 0.0), abs=1e-15)
    # IVIG at 24.3 h, defervescence at 48.3 h: one day in exact arithmetic, 0.99999999999999978 in floating point
    # (R: print(48.3/24 - 24.3/24, digits = 17)); timefix makes it equal to a neighbouring 1.0
    assert S.timefix([48.3 / 24 - 24.3 / 24, 1.0, 2.0]).tolist() == [pytest.approx(1.0, abs=1e-15)] * 2 + [2.0]
    assert S.timefix([1.0, 1.5, 2.0]).tolist() == [1.0, 1.5, 2.0]


def test_timefix_is_r_aeqsurv_on_random_near_ties():
    """R aeqSurv: sorted unique times whose gap is ≤ sqrt(eps) absolutely or relative to mean(|times|) are one
    time, replaced by the first of the run (findInterval on the cuts)."""
    rng = np.random.default_rng(7)
    base = np.round(rng.uniform(0, 10, 50), 1)
    jitter = base * (1 + rng.choice([0, 1e-15, -1e-15, 1e-9], 50))
    fixed = S.timefix(jitter)
    y = np.unique(jitter)
    dy = np.diff(y)
    tied = (dy <= np.sqrt(np.finfo(float).eps)) | (dy / np.mean(np.abs(y)) <= np.sqrt(np.finfo(float).eps))
    cuts = y[np.concatenate([[True], ~tied])]
    assert np.array_equal(fixed, cuts[np.searchsorted(cuts, jitter, side="right") - 1])
    assert len(np.unique(fixed)) == len(np.unique(base))


# ------------------------------------------------------------------------------------------------ Cox
AML_TIME = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
AML_STATUS = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
AML_X = [0] * 11 + [1] * 12  # Maintained = 0, Nonmaintained = 1


def test_cox_aml_efron_converged_as_r():
    """R: fit <- coxph(Surv(time, status) ~ x, data = aml, ties = "efron"): coef 0.91553257501471763, se
    0.5119342751720054, z 1.7883791326671901, p 0.07371486063904574, HR CI 0.91590725743640833 to
    6.8134957660633022, iter 3, loglik -42.724839262760220, -41.032615596458378."""
    fit = S.cox_fit(AML_TIME, AML_STATUS, AML_X)
    assert fit.converged and fit.iterations == 3
    assert fit.coef[0] == pytest.approx(0.91553257501471763, rel=1e-12)
    assert fit.se[0] == pytest.approx(0.5119342751720054, rel=1e-12)
    z, p, lo, hi = fit.wald(0)
    assert (z, p, lo, hi) == pytest.approx(
        (1.7883791326671901, 0.07371486063904574, 0.9159072574364083, 6.813495766063302), rel=1e-12
    )
    assert (fit.loglik_null, fit.loglik) == pytest.approx((-42.724839262760220, -41.032615596458378), rel=1e-13)
    res = S.cox_hr(AML_TIME, AML_STATUS, AML_X, groups=("Maintained", "Nonmaintained"))
    assert res.estimate == pytest.approx(2.4981053261721411, rel=1e-12) and res.p_value == pytest.approx(p, rel=1e-12)


def test_cox_aml_breslow_vs_r():
    """R: coxph(Surv(time, status) ~ x, data = aml, ties = "breslow"): coef 0.90421972368570025,
    se 0.51224790730415115."""
    fit = S.cox_fit(AML_TIME, AML_STATUS, AML_X, ties="breslow")
    assert fit.coef[0] == pytest.approx(0.90421972368570025, rel=1e-12)
    assert fit.se[0] == pytest.approx(0.51224790730415115, rel=1e-12)


def test_cox_zph_aml_vs_r():
    """R: cox.zph(coxph(Surv(time, status) ~ x, data = aml)): chisq 0.0078750777233237406, df 1,
    p 0.92928724336459245 (x and GLOBAL)."""
    fit = S.cox_fit(AML_TIME, AML_STATUS, AML_X)
    (stat, df, p), (gstat, gdf, _) = S.cox_zph(AML_TIME, AML_STATUS, AML_X, fit)
    assert (stat, df, p) == (
        pytest.approx(0.0078750777233237406, rel=1e-10),
        1,
        pytest.approx(0.92928724336459245, rel=1e-10),
    )
    assert (gstat, gdf) == (pytest.approx(stat, rel=1e-12), 1)


@pytest.fixture(scope="module")
def lung():
    """R: lung2 <- na.omit(lung[, c("time", "status", "age", "sex", "ph.ecog")]); status recoded to 0/1."""
    return pd.read_csv(DATA / "lung2.csv")


def test_cox_three_covariates_with_ties_vs_r(lung):
    """R: fit <- coxph(Surv(time, status) ~ age + sex + ph.ecog, data = lung2): coef 0.011066764560073482,
    -0.552612395703630965, 0.463728475370427662; se 0.0092674110137005283, 0.1677390537872635035,
    0.1135772661619966206; loglik -744.48045576144023, -729.23012137486194. cox.zph(fit): chisq 0.18798767365229005,
    2.30543722740497348, 2.05424877405440620, GLOBAL 4.46365758875861474 on 3 df (p 0.21555494534179592)."""
    X = lung[["age", "sex", "ph.ecog"]].to_numpy(float)
    fit = S.cox_fit(lung.time, lung.status, X)
    assert fit.coef == pytest.approx((0.011066764560073482, -0.552612395703630965, 0.463728475370427662), rel=1e-10)
    assert fit.se == pytest.approx((0.0092674110137005283, 0.1677390537872635035, 0.1135772661619966206), rel=1e-10)
    assert fit.loglik == pytest.approx(-729.23012137486194, rel=1e-13)
    zph = S.cox_zph(lung.time, lung.status, X, fit)
    assert [z[0] for z in zph] == pytest.approx(
        [0.18798767365229005, 2.30543722740497348, 2.05424877405440620, 4.46365758875861474], rel=1e-9
    )
    assert zph[-1][1] == 3 and zph[-1][2] == pytest.approx(0.21555494534179592, rel=1e-9)


def test_cox_weights_and_strata_vs_r(lung):
    """R: coxph(Surv(time, status) ~ age + sex + strata(ph.ecog), data = lung2, weights = rep(c(1, 2, 3),
    length.out = nrow(lung2))): coef 0.0078728145133683102, -0.3494235075271985846; se 0.0065520884941797121,
    0.1191690776157219578. With weights rep(c(1, 2, 0.5)): coef 0.012069483902526148, -0.543708720847895677 and
    fit$naive.var's se 0.0086203322297670783, 0.1591317756411641249 (R then reports the robust se by default)."""
    X = lung[["age", "sex"]].to_numpy(float)
    fit = S.cox_fit(lung.time, lung.status, X, weights=np.resize([1, 2, 3], len(lung)), strata=lung["ph.ecog"])
    assert fit.coef == pytest.approx((0.0078728145133683102, -0.3494235075271985846), rel=1e-10)
    assert fit.se == pytest.approx((0.0065520884941797121, 0.1191690776157219578), rel=1e-10)
    fit = S.cox_fit(lung.time, lung.status, X, weights=np.resize([1, 2, 0.5], len(lung)), strata=lung["ph.ecog"])
    assert fit.coef == pytest.approx((0.012069483902526148, -0.543708720847895677), rel=1e-10)
    assert fit.se == pytest.approx((0.0086203322297670783, 0.1591317756411641249), rel=1e-10)


# ------------------------------------------------------------------------------------------------ KM at times
def test_survival_at_fixed_times_vs_r():
    """R: summary(survfit(Surv(c(1,2,2,4,6), c(1,0,1,1,0)) ~ 1, conf.type = "log-log"), times = c(0.5, 2, 3, 6, 9),
    extend = TRUE): surv 1, 0.6, 0.6, 0.3, 0.3; lower 1, 0.125730182994431366, …, 0.012301529425416074; upper 1,
    0.88175640739353234, …, 0.71921802081041497; n.risk 5, 4, 2, 1, 0."""
    km = S.kaplan_meier([1, 2, 2, 4, 6], [1, 0, 1, 1, 0])
    s = km.summary_at([0.5, 2, 3, 6, 9])
    assert [x["survival"] for x in s] == pytest.approx([1, 0.6, 0.6, 0.3, 0.3], rel=1e-14)
    assert [x["ci"][0] for x in s] == pytest.approx(
        [1, 0.125730182994431366, 0.125730182994431366, 0.012301529425416074, 0.012301529425416074], rel=1e-12
    )
    assert [x["ci"][1] for x in s] == pytest.approx(
        [1, 0.88175640739353234, 0.88175640739353234, 0.71921802081041497, 0.71921802081041497], rel=1e-12
    )
    assert [x["n_risk"] for x in s] == [5, 4, 2, 1, 0]


# ------------------------------------------------------------------------------------------------ the fever analysis
def test_fever_analysis_of_the_default_cohort_vs_r(cohort):
    """The dashboard's fever analysis (admission origin, < 38.0 °C, grouped by anakinra) against R on the same
    per-patient times (written from the app): d <- read.csv(…); survdiff(Surv(time_days, event) ~ group, d):
    chisq 8.9989185777014224, p 0.0027013941098249015, obs (With 32, Without 14), exp 38.7786079752927932,
    7.2213920247071961. summary(survfit(…, conf.type = "log-log"), times = c(3, 5, 7), extend = TRUE): With
    anakinra 0.71875 (0.52909587367543176–0.84255228168698171, n.risk 23), 0.5 (0.31897404597684514–0.65673529645908013,
    17), 0.34375 (0.18789306840860895–0.50558665418966020, 11); Without 0.7142857142857143
    (0.40630172242417001–0.88187868554649662, 11), 0 (NA, 0), 0 (NA, 0). coxph(Surv(time_days, event) ~ group):
    HR (Without vs With) 3.1185280732438279 (exp(-coef) 0.32066410066330453), CI 1.429769487830802–6.8019477449925398,
    p 0.0042566347183132366;
    cox.zph: chisq 17.044325615772664, p 3.6517332888197513e-05."""
    ctx = A.prepare(cohort, CohortFilter(), "anakinra")
    out = A.analyze_to_dict(cohort, CohortFilter(), "anakinra", A.AnalysisOptions(cox=True))["fever"]
    assert out["logrank"]["statistic"] == pytest.approx(8.9989185777014224, **R)
    assert out["logrank"]["p_value"] == pytest.approx(0.0027013941098249015, **R)
    oe = out["observed_expected"]
    assert oe["With anakinra"] == {"observed": 32.0, "expected": pytest.approx(38.7786079752927932, **R)}
    assert oe["Without anakinra"]["expected"] == pytest.approx(7.2213920247071961, **R)
    w = out["survival_at"]["With anakinra"]
    assert [w[d]["survival"] for d in ("3", "5", "7")] == pytest.approx([0.71875, 0.5, 0.34375], rel=1e-14)
    assert [w[d]["ci"][0] for d in ("3", "5", "7")] == pytest.approx(
        [0.52909587367543176, 0.31897404597684514, 0.18789306840860895], rel=1e-12
    )
    assert [w[d]["ci"][1] for d in ("3", "5", "7")] == pytest.approx(
        [0.84255228168698171, 0.65673529645908013, 0.50558665418966020], rel=1e-12
    )
    assert [w[d]["n_risk"] for d in ("3", "5", "7")] == [23, 17, 11]
    wo = out["survival_at"]["Without anakinra"]
    assert wo["3"]["survival"] == pytest.approx(0.7142857142857143, rel=1e-14) and wo["5"]["survival"] == 0.0
    assert wo["5"]["ci"] == [None, None] and wo["7"]["n_risk"] == 0
    cox = out["cox"]
    # the app reports the second group vs the first (With vs Without): R's exp(-coef) and the reciprocal CI
    assert cox["estimate"] == pytest.approx(0.32066410066330453, rel=1e-10)
    assert cox["ci"] == pytest.approx([1 / 6.8019477449925398, 1 / 1.429769487830802], rel=1e-10)
    assert cox["p_value"] == pytest.approx(0.0042566347183132366, rel=1e-9)
    assert cox["events"] == {"Without anakinra": 14.0, "With anakinra": 32.0}
    assert cox["ph_test"]["statistic"] == pytest.approx(17.044325615772664, rel=1e-9)
    assert cox["ph_test"]["p_value"] == pytest.approx(3.6517332888197513e-05, rel=1e-8)
    fr = A.fever(ctx, A.AnalysisOptions(cox=True))
    assert any("Proportional hazards doubtful" in n for n in fr.cox.notes)


def test_pairwise_log_rank_reports_raw_and_holm_p(cohort):
    """Three treatment groups: each pairwise entry has the Holm-adjusted p (p_value) and the raw p (p_value_raw),
    and Holm's adjusted p = R p.adjust(raw, "holm")."""
    out = A.analyze_to_dict(cohort, CohortFilter(), "treatment")["fever"]["pairwise"]
    raw = [t["p_value_raw"] for t in out]
    holm = S.holm(raw)
    assert [t["p_value"] for t in out] == pytest.approx(list(holm), rel=1e-14)
    assert all(t["df"] == 1 for t in out)


# ------------------------------------------------------------------------------------------------ effects
def test_risk_difference_newcombe_published_examples():
    """Newcombe RG (1998) Stat Med 17:873–890, Table II, method 10 (hybrid score, no continuity correction):
    56/70 − 48/80: 0.0524 to 0.3339; 9/10 − 3/10: 0.1705 to 0.8090; 5/56 − 0/29: −0.0381 to 0.1926;
    0/10 − 0/20: −0.1611 to 0.2775; 10/10 − 0/20: 0.6791 to 1.0000. Tolerance: the published 4 decimals."""
    for (k1, n1, k2, n2), (lo, hi) in [
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ((0, 10, 0, 20), (-0.1611, 0.2775)),
        ((10, 10, 0, 20), (0.6791, 1.0000)),
    ]:
        e = S.risk_difference(k1, n1, k2, n2)
        assert e.estimate == pytest.approx(k1 / n1 - k2 / n2, abs=1e-15)
        assert (round(e.ci_low, 4), round(e.ci_high, 4)) == (lo, hi)


def test_table1_effects_vs_r(cohort):
    """Table 1 grouped by anakinra (first = Without, second = With), against R on the same patients:
    wilcox.test(age_without, age_with, conf.int = TRUE): estimate 1.00006516463784378, CI -2.99999778752664303 to
    4.99993407424275205 (R's uniroot, tol 1e-4; the exact jump points are 1, -3, 5), p 0.57371355356102827;
    length of stay: -4.9999429959553510, -7.0000545173302404 to -3.0000409704097697, p 1.5982314467317295e-05.
    fisher.test(matrix(c(3, 11, 20, 12), 2, byrow = TRUE)) (CV shock): OR 0.170567790757547577, CI
    0.025393247233180708 to 0.820380990930663190, p 0.023042895419526203. fisher.test(table(group, race)):
    p 0.99999999999998224. binom.test(20, 32)$conf.int: 0.43692245509692668, 0.78899968357600725.
    SMD (CV shock) by hand: (3/14 − 20/32) / sqrt((3/14·11/14 + 20/32·12/32) / 2) = −0.9152529947172398."""
    t1 = {r["variable"]: r for r in A.table1(A.prepare(cohort, grouping="anakinra")).records}
    hl = t1["Age, years"]["effects"]["hodges_lehmann_shift"]
    assert hl["estimate"] == pytest.approx(1.00006516463784378, abs=2e-4)
    assert hl["ci"] == pytest.approx([-2.99999778752664303, 4.99993407424275205], abs=2e-4)
    assert t1["Age, years"]["p_value"] == pytest.approx(0.57371355356102827, rel=1e-10)
    hl = t1["Length of stay, days"]["effects"]["hodges_lehmann_shift"]
    assert [hl["estimate"], *hl["ci"]] == pytest.approx(
        [-4.9999429959553510, -7.0000545173302404, -3.0000409704097697], abs=2e-4
    )
    cv = t1["CV shock"]
    assert cv["effects"]["odds_ratio"]["estimate"] == pytest.approx(0.170567790757547577, rel=2e-4)
    assert cv["effects"]["odds_ratio"]["ci"] == pytest.approx([0.025393247233180708, 0.820380990930663190], rel=2e-4)
    assert cv["p_value"] == pytest.approx(0.023042895419526203, rel=1e-10)
    assert cv["groups"]["With anakinra"]["ci"] == pytest.approx([0.43692245509692668, 0.78899968357600725], rel=1e-12)
    assert cv["smd"] == pytest.approx(-0.9152529947172398, rel=1e-12)
    rd = cv["effects"]["risk_difference"]
    assert rd["estimate"] == pytest.approx(3 / 14 - 20 / 32, abs=1e-15) and rd["ci"][0] < rd["estimate"] < rd["ci"][1]
    race = t1["Race"]
    assert race["kind"] == "categorical" and race["p_value"] == pytest.approx(0.99999999999998224, abs=1e-12)
    assert race["q_value"] is not None and t1["Race: Caucasian"]["q_value"] is None
    assert t1["Race: Caucasian"]["level_of"] == "Race" and t1["Race: Caucasian"]["kind"] == "binary"


def test_categorical_smd_with_two_levels_is_the_binary_smd():
    """Yang & Dalton's multivariate SMD reduces to |binary SMD| for a variable with two levels."""
    k1, n1, k2, n2 = 3, 14, 20, 32
    binary = S.standardized_difference([1] * k1 + [0] * (n1 - k1), [1] * k2 + [0] * (n2 - k2), binary=True)
    cat = S.standardized_difference_categorical([n1 - k1, k1], [n2 - k2, k2])
    assert cat == pytest.approx(abs(binary), rel=1e-12)


def test_cytokine_shift_vs_r(cohort):
    """wilcox.test(IFNγ without, IFNγ with, conf.int = TRUE): estimate -0.450075096141555386, CI
    -1.260067141315154959 to 0.040011602730765781, p 0.068667911374826265 (uniroot tol 1e-4)."""
    cr = A.cytokines(A.prepare(cohort, grouping="anakinra"))
    rec = next(r for r in cr.records if r["cytokine"] == "IFNγ")
    assert rec["effect"]["estimate"] == pytest.approx(-0.450075096141555386, abs=2e-4)
    assert rec["effect"]["ci"] == pytest.approx([-1.260067141315154959, 0.040011602730765781], abs=2e-4)
    assert rec["p_value"] == pytest.approx(0.068667911374826265, rel=1e-10)


def test_adverse_event_effects_vs_r(cohort):
    """Elevated LFTs, without (2/14) vs with anakinra (13/32): R fisher.test(matrix(c(2, 12, 13, 19), 2, byrow =
    TRUE)): OR 0.250447571698082461, CI 0.023465487409249967 to 1.425428536426704085, p 0.099491791026101783."""
    ae = A.adverse_events(A.prepare(cohort, grouping="anakinra"))
    rec = next(r for r in ae.records if r["event"] == "elevated_lft")
    assert rec["effects"]["odds_ratio"]["estimate"] == pytest.approx(0.250447571698082461, rel=2e-4)
    assert rec["effects"]["odds_ratio"]["ci"] == pytest.approx([0.023465487409249967, 1.425428536426704085], rel=2e-3)
    assert rec["p_value"] == pytest.approx(0.099491791026101783, rel=1e-10)
    assert rec["effects"]["risk_difference"]["estimate"] == pytest.approx(2 / 14 - 13 / 32, abs=1e-15)


def test_echo_reports_nonzero_pairs_and_pseudo_median(cohort):
    """Each echo group: the non-zero pairs the signed-rank test ranks and the Hodges–Lehmann pseudo-median change
    with its CI (= the test's own estimate: R wilcox.test(followup, baseline, paired = TRUE, conf.int = TRUE))."""
    out = A.analyze_to_dict(cohort, CohortFilter(), "treatment")["echo"]["lvef"]["groups"]
    g = out["IVIG + anakinra without CS"]
    assert g["n_nonzero_pairs"] == g["n_pairs"] - 1  # one pair with no change (see its note)
    assert (
        g["pseudo_median_change"]["estimate"] == pytest.approx(3.5) and g["pseudo_median_change"]["conf_level"] == 0.95
    )


def test_every_test_reports_statistic_df_and_method(cohort):
    """Every p-value in the analyze JSON comes with its method, and its statistic (and df where it has one)."""
    out = A.analyze_to_dict(cohort, CohortFilter(), "anakinra", A.AnalysisOptions(cox=True))
    rows = [("table1", r) for r in out["table1"]]
    rows += [("cytokines", r) for r in out["cytokines"].values()]
    rows += [("labs", r) for r in out["labs_first_value"].values()]
    rows += [("adverse_events", r) for r in out["adverse_events"].values()]
    rows += [("fever", out["fever"]["logrank"]), ("cox", out["fever"]["cox"])]
    for where, r in rows:
        if r.get("p_value") is None:
            continue
        assert r["method"], (where, r)
        assert "statistic" in r and "df" in r, (where, r)
    assert out["fever"]["logrank"]["df"] == 1


def test_every_contract_analyte_appears_when_present(cohort, tmp_path):
    """Analytes the contract accepts but the default cohort lacks (wbc, albumin, …) appear in labs when present."""
    from misc_dash.contract import LAB_ANALYTES
    from misc_dash.vocabulary import LAB_LABELS

    assert set(LAB_ANALYTES) <= set(LAB_LABELS)
    labs = cohort["labs"]
    extra = labs[labs["analyte"] == "crp"].assign(analyte="albumin", unit="g/L")
    tables = dict(cohort.tables)
    tables["labs"] = pd.concat([labs, extra], ignore_index=True)
    from misc_dash.loading import Cohort

    c2 = Cohort(tables, name="with albumin", synthetic=True)
    lb = A.labs(A.prepare(c2, grouping="anakinra"))
    assert "albumin" in {r["analyte"] for r in lb.records}
    assert all(r["q_value"] is not None or r["p_value"] is None for r in lb.records)
    json.dumps(A.analyze_to_dict(c2, CohortFilter(), "anakinra")["labs_first_value"]["albumin"])
