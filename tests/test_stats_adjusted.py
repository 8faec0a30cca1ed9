"""Statistical truth, part 3: the adjusted and stratified comparisons (issue 17) against R 4.2 (survival 3.5.3,
stats, coin 1.4) — stratified log-rank, Cox with covariates, the robust variance of a weighted Cox model, the
weighted Kaplan–Meier curve, logistic regression and the IPTW weights, the balance table, Firth's penalised Cox,
the E-value, the linear model, Mantel–Haenszel and van Elteren — and the positivity check.

Each test names the R call that produced its reference values (run with options(digits = 17)); R has no part in
CI, so the values are written here. ``tests/data/default_cohort_adjusted.csv`` is the default cohort's per-patient
table as the fever analysis builds it (admission origin, < 38.0 °C; group = anakinra yes / no, treatment group,
phenotype, the flags, age, the LVEF echo pair), read by R as ``d``, with ``d$anakinra <- as.numeric(d$group ==
"With anakinra")``. Tolerances: 1e-10 relative where both sides compute the same closed form or converge the same
way; looser ones are stated where they apply."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from misc_dash import stats as S

DATA = Path(__file__).parent / "data"
R = dict(rel=1e-10, abs=1e-12)
GROUPS = ("Without anakinra", "With anakinra")


@pytest.fixture(scope="module")
def d():
    return pd.read_csv(DATA / "default_cohort_adjusted.csv")


@pytest.fixture(scope="module")
def lung():
    """R: lung2 <- na.omit(lung[, c("time", "status", "age", "sex", "ph.ecog")]); status recoded to 0/1."""
    return pd.read_csv(DATA / "lung2.csv")


def test_default_cohort_table_is_the_fever_analysis(d):
    """The CSV is what the fever analysis computes on the default cohort (so R's numbers are the app's)."""
    from misc_dash import analyses as A
    from misc_dash.loading import load_default_cohort

    ctx = A.prepare(load_default_cohort(), grouping="anakinra")
    pp = A.fever(ctx).per_patient.set_index("patient_id")
    dd = d.set_index("patient_id")
    assert list(pp.index) == list(dd.index)
    assert np.allclose(pp["time_days"].to_numpy(float), dd["time_days"].to_numpy(float), rtol=1e-15, atol=0)
    assert (pp["event"].astype(int) == dd["event"]).all() and (pp["group"] == dd["group"]).all()


# ------------------------------------------------------------------------------------------------ stratified LR
def test_stratified_logrank_default_cohort_vs_r(d):
    """R: survdiff(Surv(time_days, event) ~ group + strata(cv_shock), d): chisq 9.3660829375256185, p
    0.0022103736776236164, obs (With 32, Without 14), exp 38.6906806380305497, 7.3093193619694494 (summed over
    strata)."""
    r = S.stratified_logrank(d.time_days, d.event, d.group, d.cv_shock, group_order=GROUPS, strata_name="CV shock")
    assert r.statistic == pytest.approx(9.3660829375256185, **R)
    assert r.p_value == pytest.approx(0.0022103736776236164, **R)
    assert r.df == 1 and r.n == (14, 32)
    assert r.extra("expected With anakinra") == pytest.approx(38.6906806380305497, **R)
    assert r.extra("expected Without anakinra") == pytest.approx(7.3093193619694494, **R)
    assert r.extra("observed With anakinra") == 32 and r.extra("strata contributing") == 2
    assert r.test == "Stratified log-rank (by CV shock)"


def test_stratified_logrank_three_groups_vs_r(d):
    """R: survdiff(Surv(time_days, event) ~ treatment_group + strata(phenotype), d): chisq 10.896866663216851 on
    2 df, p 0.0043030408507986305."""
    r = S.stratified_logrank(d.time_days, d.event, d.treatment_group, d.phenotype)
    assert r.df == 2
    assert r.statistic == pytest.approx(10.896866663216851, **R)
    assert r.p_value == pytest.approx(0.0043030408507986305, **R)


AW = dict(
    t=[1, 2, 2, 3, 4, 5, 5, 6, 2, 3, 3, 4, 7, 8, 1.0000000000000002],
    e=[1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1],
    g=list("abababab") + list("abab") + ["a", "a", "b"],
    s=["A"] * 8 + ["B"] * 4 + ["C", "C", "A"],
)


def test_stratified_logrank_ties_empty_and_one_group_strata_vs_r():
    """Tied times (2, 5 and 1 = 1.0000000000000002 after aeqSurv), a stratum without events (B) and one with a
    single group (C). R: aw <- data.frame(t, e, g, s) as AW; survdiff(Surv(t, e) ~ g + strata(s), aw): chisq
    0.90075346738973905, p 0.34257975918035449, expected (summed) 4.912698412698413, 4.087301587301587."""
    r = S.stratified_logrank(AW["t"], AW["e"], AW["g"], AW["s"])
    assert r.statistic == pytest.approx(0.90075346738973905, **R)
    assert r.p_value == pytest.approx(0.34257975918035449, **R)
    assert r.extra("expected a") == pytest.approx(4.912698412698413, **R)
    assert r.extra("strata contributing") == 1
    assert any("Only one group in stratum C (only a)" in n for n in r.notes)
    assert any("No events in stratum B" in n for n in r.notes)


def test_stratified_logrank_with_one_stratum_is_the_logrank(d):
    """One stratum: survdiff with strata(1) is survdiff."""
    r = S.stratified_logrank(d.time_days, d.event, d.group, ["all"] * len(d), group_order=GROUPS)
    plain = S.logrank(d.time_days, d.event, d.group, group_order=GROUPS)
    assert r.statistic == pytest.approx(plain.statistic, rel=1e-13) and r.p_value == pytest.approx(plain.p_value)


def test_stratified_logrank_without_any_comparing_stratum():
    """Every stratum holds one group only: nothing to compare, no test."""
    r = S.stratified_logrank([1, 2, 3, 4], [1, 1, 1, 1], ["a", "a", "b", "b"], ["x", "x", "y", "y"])
    assert r.p_value is None and r.statistic is None


# ------------------------------------------------------------------------------------------------ Cox adjusted
def test_cox_adjusted_default_cohort_vs_r(d):
    """R: coxph(Surv(time_days, event) ~ anakinra + cv_shock + age_years, d, ties = "efron"): coef
    -1.178637566594177954, se 0.419021039759848724, HR 0.30769767073826682 (0.13534831485342785–0.69951263656502793),
    p 0.0049106652571624526; cv_shock HR 1.26814760256223957 (0.67017627957515746–2.39966467166494679), p
    0.4653611593731109553; age HR 1.03891590098035147, p 0.3083885771865361169; iter 4. With icu as well (icu =
    cv_shock in this cohort) R gives icu NA and the same coefficients."""
    r = S.cox_adjusted(d.time_days, d.event, d.group, d[["cv_shock", "age_years"]], group_order=GROUPS)
    assert r.estimate == pytest.approx(0.30769767073826682, **R)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.13534831485342785, 0.69951263656502793), **R)
    assert r.p_value == pytest.approx(0.0049106652571624526, **R)
    assert r.extra("coef") == pytest.approx(-1.178637566594177954, **R)
    assert r.extra("se") == pytest.approx(0.419021039759848724, **R)
    assert r.extra("HR cv_shock") == pytest.approx(1.26814760256223957, **R)
    assert (r.extra("CI low cv_shock"), r.extra("CI high cv_shock")) == pytest.approx(
        (0.67017627957515746, 2.39966467166494679), **R
    )
    assert r.extra("p cv_shock") == pytest.approx(0.4653611593731109553, **R)
    assert r.extra("HR age_years") == pytest.approx(1.03891590098035147, **R)
    assert r.extra("p age_years") == pytest.approx(0.3083885771865361169, **R)
    assert r.extra("iterations") == 4 and r.effect.startswith("hazard ratio (With anakinra vs Without anakinra)")
    r2 = S.cox_adjusted(d.time_days, d.event, d.group, d[["cv_shock", "icu", "age_years"]], group_order=GROUPS)
    assert r2.estimate == pytest.approx(r.estimate, rel=1e-12)
    assert any("no coefficient" in n and "(icu)" in n for n in r2.notes) and r2.extra("HR icu") is None


def test_cox_adjusted_categorical_covariate_vs_r(d):
    """A text covariate becomes R's dummy columns. R: coxph(Surv(time_days, event) ~ anakinra + phenotype, d):
    anakinra HR 0.24594458424912966 (0.10480587515133494–0.57715026408714443), p 0.00126889743548418035;
    phenotypeKDSS-like HR 5.90895264644372986, p 0.00022458482784907751."""
    r = S.cox_adjusted(d.time_days, d.event, d.group, d[["phenotype"]], group_order=GROUPS)
    assert r.estimate == pytest.approx(0.24594458424912966, **R)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.10480587515133494, 0.57715026408714443), **R)
    assert r.p_value == pytest.approx(0.00126889743548418035, **R)
    assert r.extra("HR phenotypeKDSS-like") == pytest.approx(5.90895264644372986, **R)
    assert r.extra("p phenotypeKDSS-like") == pytest.approx(0.00022458482784907751, **R)


def test_cox_adjusted_constant_covariate_is_left_out(d):
    """A covariate constant among the patients (R: NA coefficient) is left out and named; the HR is unchanged."""
    cov = d[["cv_shock", "age_years"]].assign(all_ivig=1)
    r = S.cox_adjusted(d.time_days, d.event, d.group, cov, group_order=GROUPS)
    assert r.estimate == pytest.approx(0.30769767073826682, **R)
    assert any("constant among the patients used (all_ivig)" in n for n in r.notes)


def test_cox_adjusted_complete_cases(d):
    """Patients missing a covariate are left out and counted; the fit is that of the complete cases."""
    cov = d[["cv_shock", "age_years"]].astype(float)
    cov.loc[[0, 5], "age_years"] = np.nan
    r = S.cox_adjusted(d.time_days, d.event, d.group, cov, group_order=GROUPS)
    keep = cov["age_years"].notna()
    ref = S.cox_adjusted(d.time_days[keep], d.event[keep], d.group[keep], cov[keep], group_order=GROUPS)
    assert r.estimate == pytest.approx(ref.estimate, rel=1e-13) and sum(r.n) == 44
    assert any("2 patient(s) without time, event or a covariate left out" in n for n in r.notes)


def test_cox_monotone_likelihood_is_reported_as_r(lung):
    """R: lung2$late <- as.numeric(lung2$time > 500); coxph(Surv(time, status) ~ age + late, lung2) warns
    "Loglik converged before variable 2; coefficient may be infinite": coef 0.013509116634347207,
    -20.678806432602137, iter 19. As the group, no hazard ratio is given and the notes say why; as a covariate,
    the group's HR is still given with the warning."""
    late = (lung.time > 500).astype(float).to_numpy()
    fit = S.cox_fit(lung.time, lung.status, np.column_stack([lung.age, late]))
    assert fit.converged and fit.iterations == 19 and fit.infinite == (False, True)
    assert fit.coef[0] == pytest.approx(0.013509116634347207, rel=1e-9)
    assert fit.coef[1] == pytest.approx(-20.678806432602137, rel=1e-7)
    grp = np.where(late == 1, "late", "early")
    r = S.cox_adjusted(lung.time, lung.status, grp, lung[["age"]], group_order=("early", "late"))
    assert r.estimate is None and r.p_value is None
    assert any("diverges" in n and "coefficient may be infinite" in n for n in r.notes)
    r2 = S.cox_adjusted(
        lung.time, lung.status, lung.sex.map({1: "m", 2: "f"}), pd.DataFrame({"late": late}), group_order=("m", "f")
    )
    assert r2.estimate is not None and any("late" in n and "diverges" in n for n in r2.notes)


def test_cox_that_runs_out_of_iterations_gives_no_hr():
    """R: coxph(Surv(c(1, 2, 3), c(1, 1, 1)) ~ c(1, 1, 0)) warns "Ran out of iterations and did not converge"
    (coef 20.97494359…): no hazard ratio, and the note says Firth's method gives one."""
    r = S.cox_adjusted([1, 2, 3, 4], [1, 1, 1, 0], ["b", "b", "a", "a"], group_order=("a", "b"))
    assert r.estimate is None and any("did not converge" in n and "Firth" in n for n in r.notes)


# ------------------------------------------------------------------------------------------------ robust variance
TA = pd.DataFrame(
    {
        "t": [1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 6, 7, 8],
        "e": [1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1],
        "x": [0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0],
        "z": [2.5, 1, 3, 0.5, 2, 4, 1.5, 3, 2, 1, 0, 2.5, 3.5, 1, 2],
        "w": [0.5, 1.7, 2.2, 1, 0.8, 1.3, 2.9, 0.6, 1.1, 1.9, 0.7, 1.4, 2.1, 0.9, 1.6],
    }
)


def test_robust_variance_tied_times_non_integer_weights_vs_r():
    """Tied deaths at 1, 2, 3 and 6 with non-integer weights. R: coxph(Surv(t, e) ~ x + z, TA, weights = w, robust =
    TRUE): coef 0.119467284178861002, -0.087295518086950311; var (robust) [0.3020697378082834450,
    0.0087729798458700912; ·, 0.0539897334511427393]; naive.var [0.286381923001646999, 0.021482646339109349; ·,
    0.065526888038068970]."""
    fit = S.cox_fit(TA.t, TA.e, TA[["x", "z"]].to_numpy(float), weights=TA.w, robust=True)
    assert fit.coef == pytest.approx((0.119467284178861002, -0.087295518086950311), rel=1e-10)
    rv = np.array(fit.robust_var)
    assert rv[0, 0] == pytest.approx(0.3020697378082834450, rel=1e-10)
    assert rv[0, 1] == pytest.approx(0.0087729798458700912, rel=1e-9)
    assert rv[1, 1] == pytest.approx(0.0539897334511427393, rel=1e-10)
    assert np.array(fit.var) == pytest.approx(
        np.array([[0.286381923001646999, 0.021482646339109349], [0.021482646339109349, 0.065526888038068970]]),
        rel=1e-10,
    )
    assert fit.se[0] == pytest.approx(math.sqrt(0.3020697378082834450), rel=1e-10)
    assert fit.naive_se[0] == pytest.approx(math.sqrt(0.286381923001646999), rel=1e-10)


def test_robust_variance_weights_all_one_equal_unweighted_vs_r():
    """R: coxph(Surv(t, e) ~ x + z, TA, robust = TRUE)$var and the same with weights = rep(1, 15): both
    [0.3226101077226588010, 0.0075704938077100509; ·, 0.0563030488167102564]."""
    X = TA[["x", "z"]].to_numpy(float)
    a = np.array(S.cox_fit(TA.t, TA.e, X, robust=True).robust_var)
    b = np.array(S.cox_fit(TA.t, TA.e, X, weights=np.ones(15), robust=True).robust_var)
    ref = np.array([[0.3226101077226588010, 0.0075704938077100509], [0.0075704938077100509, 0.0563030488167102564]])
    assert a == pytest.approx(ref, rel=1e-10) and b == pytest.approx(a, rel=1e-14)


def test_robust_variance_strata_and_breslow_vs_r(lung):
    """R: w <- rep(c(1, 2, 0.5), length.out = nrow(lung2)); coxph(Surv(time, status) ~ age + sex +
    strata(ph.ecog), lung2, weights = w, robust = TRUE)$var: [9.6982294863355846e-05, 2.0532311076591870e-05; ·,
    0.03357298438234906229]; coxph(… ~ age + sex + ph.ecog, weights = w, robust = TRUE, ties = "breslow")$var
    diagonal 9.7381727205030373e-05, 3.3098212620268908e-02, 0.01912126738499759712; unweighted, Efron:
    9.7641923274435497e-05, 2.7142044512681665e-02, 0.01541541968894938330."""
    w = np.resize([1, 2, 0.5], len(lung))
    fit = S.cox_fit(
        lung.time, lung.status, lung[["age", "sex"]].to_numpy(float), weights=w, strata=lung["ph.ecog"], robust=True
    )
    assert np.array(fit.robust_var) == pytest.approx(
        np.array([[9.6982294863355846e-05, 2.0532311076591870e-05], [2.0532311076591870e-05, 0.03357298438234906229]]),
        rel=1e-9,
    )
    X3 = lung[["age", "sex", "ph.ecog"]].to_numpy(float)
    fb = S.cox_fit(lung.time, lung.status, X3, weights=w, robust=True, ties="breslow")
    assert np.diag(fb.robust_var) == pytest.approx(
        [9.7381727205030373e-05, 3.3098212620268908e-02, 0.01912126738499759712], rel=1e-9
    )
    fu = S.cox_fit(lung.time, lung.status, X3, robust=True)
    assert np.diag(fu.robust_var) == pytest.approx(
        [9.7641923274435497e-05, 2.7142044512681665e-02, 0.01541541968894938330], rel=1e-9
    )


# ------------------------------------------------------------------------------------------------ IPTW
IPTW_W_R = [
    0.82385365259945942,
    1.26080012904554528,
    0.65365880091648265,
    1.32334056934061284,
    1.22260798870428933,
    0.79957935706811767,
    2.07550570575503590,
    0.83314530235170248,
    0.77700474790601703,
    0.78600739181625601,
    0.79957935706811767,
    0.78922445511279793,
    0.77990127547736721,
    0.78290093281535877,
    1.36883349799961973,
    2.01461238420720123,
    0.79957935706811767,
    2.64754650078765152,
    0.79255606072902118,
    0.61885480848189789,
    0.81944601962999053,
    0.67897578841137363,
    0.78600739181625601,
    0.79255606072902118,
    1.52606861119107862,
    0.78290093281535877,
    1.26080012904554528,
    0.81944601962999053,
    0.58751855103610862,
    0.72043289269324262,
    0.83804069309162110,
    1.18699683546667489,
    0.57778299543984879,
    0.77990127547736721,
    1.34568917681957778,
    0.60804189618996640,
    1.55563527378353506,
    0.73524744382909502,
    0.72043289269324262,
    1.34568917681957778,
    1.36883349799961973,
    0.58751855103610862,
    1.30176031851521579,
    0.55930451689751337,
    0.80711168037287595,
    0.79957935706811767,
]


@pytest.fixture(scope="module")
def weights(d):
    return S.iptw(d.group, d[["cv_shock", "age_years"]], group_order=GROUPS)


def test_propensity_model_vs_r_glm(d):
    """R: glm(anakinra ~ cv_shock + icu + age_years, binomial, d): coef 0.382689376513479063, 1.798353365759418843,
    NA (icu = cv_shock here), -0.034985431115399569; se 0.74060740359499122, 0.74837760639414019, ·,
    0.07213276332972407; p 0.605349069444910848, 0.016261069925417815, ·, 0.627666109361914915; iter 4; deviance
    49.417268117374114; fitted 0.84438804357799591, 0.55175452308976858, 0.53439343942093920."""
    a = (d.group == "With anakinra").astype(int)
    f = S.logistic_regression(a, S.model_matrix(d, ["cv_shock", "icu", "age_years"]))
    assert f.terms == ("(Intercept)", "cv_shock", "icu", "age_years")
    assert f.coef[2] is None and f.aliased == ("icu",) and any("Aliased" in n for n in f.notes)
    assert [f.coef[i] for i in (0, 1, 3)] == pytest.approx(
        [0.382689376513479063, 1.798353365759418843, -0.034985431115399569], **R
    )
    assert [f.se[i] for i in (0, 1, 3)] == pytest.approx(
        [0.74060740359499122, 0.74837760639414019, 0.07213276332972407], **R
    )
    assert [f.p_value[i] for i in (0, 1, 3)] == pytest.approx(
        [0.605349069444910848, 0.016261069925417815, 0.627666109361914915], **R
    )
    assert f.iterations == 4 and f.converged and f.deviance == pytest.approx(49.417268117374114, **R)
    assert f.fitted[:3] == pytest.approx((0.84438804357799591, 0.55175452308976858, 0.53439343942093920), **R)


def test_logistic_categorical_vs_r(d):
    """R: glm(anakinra ~ cv_shock + icu + age_years + phenotype, binomial, d): coef 0.281105559203518651,
    1.879001977992546424, NA, -0.096115028810295378, 1.886529918598365496, 1.214048062035582687, NA; iter 5."""
    a = (d.group == "With anakinra").astype(int)
    f = S.logistic_regression(a, S.model_matrix(d, ["cv_shock", "icu", "age_years", "phenotype"]))
    assert f.terms[4:] == ("phenotypeKD-like", "phenotypeKDSS-like", "phenotypeNon-specific")
    assert f.aliased == ("icu", "phenotypeNon-specific") and f.iterations == 5
    assert [f.coef[i] for i in (0, 1, 3, 4, 5)] == pytest.approx(
        [0.281105559203518651, 1.879001977992546424, -0.096115028810295378, 1.886529918598365496, 1.214048062035582687],
        rel=1e-9,
    )


def test_logistic_separation_is_reported_as_r():
    """Complete separation. R: glm(y ~ x + z, binomial, data.frame(y = c(0,0,0,0,1,1,1,1), x = 1:8, z =
    c(1,0,1,0,1,0,0,1))) warns "fitted probabilities numerically 0 or 1 occurred" after 24 iterations: coef
    -117.908122137932040, 23.587423938818564, 23.533444307576012 (tolerance 1e-9: the last IRLS steps are on
    a nearly flat deviance). Quasi-complete: glm(y ~ x, data.frame(y = c(0,0,0,1,0,1,1,1), x = c(1,2,3,4,4,5,6,7))):
    -81.073817875771439, 20.268454468942856 after 21 iterations."""
    f = S.logistic_regression(
        [0, 0, 0, 0, 1, 1, 1, 1], S.model_matrix(pd.DataFrame({"x": range(1, 9), "z": [1, 0, 1, 0, 1, 0, 0, 1]}))
    )
    assert f.iterations == 24 and f.converged
    assert f.coef == pytest.approx((-117.908122137932040, 23.587423938818564, 23.533444307576012), rel=1e-9)
    assert any("separation" in n for n in f.notes)
    q = S.logistic_regression([0, 0, 0, 1, 0, 1, 1, 1], S.model_matrix(pd.DataFrame({"x": [1, 2, 3, 4, 4, 5, 6, 7]})))
    assert q.iterations == 21 and q.coef == pytest.approx((-81.073817875771439, 20.268454468942856), rel=1e-9)
    assert any("numerically 0 or 1" in n for n in q.notes)


def test_stabilised_weights_vs_r(d, weights):
    """R: ps <- fitted(glm(anakinra ~ cv_shock + age_years, binomial, d)); pa <- mean(d$anakinra);
    w <- ifelse(d$anakinra == 1, pa / ps, (1 - pa) / (1 - ps)) — IPTW_W_R. Trimming at 0.9: quantile(w, 0.9) =
    1.4474510545953492 (type 7)."""
    assert weights.weights == pytest.approx(tuple(IPTW_W_R), **R)
    assert weights.marginal == pytest.approx(32 / 46, rel=1e-15) and weights.trim_rule == "no trimming"
    assert weights.n == (14, 32)
    w = np.array(IPTW_W_R)
    a = (d.group == "With anakinra").to_numpy()
    assert weights.ess == pytest.approx((w[~a].sum() ** 2 / (w[~a] ** 2).sum(), w[a].sum() ** 2 / (w[a] ** 2).sum()))
    t = S.iptw(d.group, d[["cv_shock", "age_years"]], group_order=GROUPS, trim=0.9)
    assert max(t.weights) == pytest.approx(1.4474510545953492, **R)
    assert t.n_trimmed == 5 and "90th percentile" in t.trim_rule and any("Trimming" in n for n in t.notes)
    u = S.iptw(d.group, d[["cv_shock", "age_years"]], group_order=GROUPS, stabilized=False)
    assert u.weights[0] == pytest.approx(IPTW_W_R[0] / (32 / 46), rel=1e-12)


def test_iptw_cox_robust_vs_r(d, weights):
    """R: coxph(Surv(time_days, event) ~ anakinra, d, weights = w, robust = TRUE): coef -1.1922137868306253, HR
    0.30354852796063136 (0.1494944231239671–0.61635549274408996), robust se 0.36137521358658647, naive se
    0.40602183679309661, p 0.00096994567980315078. Weights truncated at quantile(w, 0.9): coef
    -1.179739478919684, robust se 0.35392973990092869, p 0.00085835008464956234."""
    r = S.iptw_cox(d.time_days, d.event, d.group, weights.weights, group_order=GROUPS)
    assert r.estimate == pytest.approx(0.30354852796063136, **R)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.1494944231239671, 0.61635549274408996), **R)
    assert r.p_value == pytest.approx(0.00096994567980315078, **R)
    assert r.extra("robust se") == pytest.approx(0.36137521358658647, **R)
    assert r.extra("naive se") == pytest.approx(0.40602183679309661, **R)
    t = S.iptw(d.group, d[["cv_shock", "age_years"]], group_order=GROUPS, trim=0.9)
    rt = S.iptw_cox(d.time_days, d.event, d.group, t.weights, group_order=GROUPS)
    assert rt.extra("coef") == pytest.approx(-1.179739478919684, **R)
    assert rt.extra("robust se") == pytest.approx(0.35392973990092869, **R)
    assert rt.p_value == pytest.approx(0.00085835008464956234, **R)


def test_balance_table_vs_r(d, weights):
    """SMD (With − Without) over √ of the mean of the unweighted group variances (binary p(1 − p)), by hand in R:
    smd(x, a, w) = c((mean(x[a==1]) − mean(x[a==0])) / sqrt(v), (weighted.mean(x[a==1], w[a==1]) −
    weighted.mean(x[a==0], w[a==0])) / sqrt(v)): cv_shock 0.915252994717239754 → 0.022327769215941894; age_years
    -0.19033003043769012 → -0.08464373792287011 (var(), n − 1); kd_like (not in the model) 0.69383131984388946 →
    0.65127906866930352."""
    b = S.balance_table(d[["cv_shock", "age_years", "kd_like"]], d.group, weights.weights, group_order=GROUPS)
    cv, age, kd = b.row("cv_shock"), b.row("age_years"), b.row("kd_like")
    assert (cv.smd_before, cv.smd_after) == pytest.approx((0.915252994717239754, 0.022327769215941894), **R)
    assert (age.smd_before, age.smd_after) == pytest.approx((-0.19033003043769012, -0.08464373792287011), **R)
    assert (kd.smd_before, kd.smd_after) == pytest.approx((0.69383131984388946, 0.65127906866930352), **R)
    assert cv.binary and not age.binary and cv.balanced_after and not kd.balanced_after
    # the unweighted SMD is Table 1's standardized_difference with the sign of second − first
    a = (d.group == "With anakinra").to_numpy()
    table1 = S.standardized_difference(d.cv_shock[a], d.cv_shock[~a], binary=True)
    assert cv.smd_before == pytest.approx(table1, rel=1e-14)
    assert b.to_dict()["rows"][0]["balanced_after"] is True


# ------------------------------------------------------------------------------------------------ weighted KM
def test_weighted_km_robust_vs_r(d, weights):
    """R: s <- survfit(Surv(time_days, event) ~ group, d, weights = w) (non-integer weights → R's robust,
    infinitesimal-jackknife variance; conf.type "log"); summary(s, times = c(3, 5, 7), extend = TRUE): With
    anakinra 0.74114495863471952 (0.60341941412210010–0.91030523190709234), 0.53167434168663752
    (0.38018323180093977–0.74352991390195400), 0.33342954099875582 (0.20177561863350252–0.55098460142786354),
    n.risk 23.757680708918546, …; Without 0.81273206950215404 (0.64472559381487859–1), then 0 (NA)."""
    w = np.array(weights.weights)
    m = (d.group == "With anakinra").to_numpy()
    k = S.weighted_kaplan_meier(d.time_days[m], d.event[m], w[m], label="With anakinra")
    s = k.summary_at([3, 5, 7])
    assert [x["survival"] for x in s] == pytest.approx(
        [0.74114495863471952, 0.53167434168663752, 0.33342954099875582], **R
    )
    assert [x["ci"][0] for x in s] == pytest.approx(
        [0.60341941412210010, 0.38018323180093977, 0.20177561863350252], **R
    )
    assert [x["ci"][1] for x in s] == pytest.approx(
        [0.91030523190709234, 0.74352991390195400, 0.55098460142786354], **R
    )
    assert k.variance.startswith("robust") and k.conf_type == "log"
    i = int(np.searchsorted(k.timeline, 3, side="right")) - 1
    assert k.weighted_n_risk[i + 1] == pytest.approx(23.757680708918546, **R)
    k0 = S.weighted_kaplan_meier(d.time_days[~m], d.event[~m], w[~m])
    s0 = k0.summary_at([3, 5])
    assert s0[0]["survival"] == pytest.approx(0.81273206950215404, **R)
    assert s0[0]["ci"] == pytest.approx([0.64472559381487859, 1.0], **R)
    assert s0[1]["survival"] == 0 and s0[1]["ci"] == [None, None]


def test_weighted_km_integer_weights_greenwood_vs_r(d):
    """Integer weights: R uses Greenwood on the weighted counts. R: survfit(Surv(time_days, event) ~ group, d,
    weights = rep(c(1, 2), 23)), summary at 3, 5, 7: With 0.65217391304347827 (0.52809143262391400–
    0.80541131057762538), 0.41304347826086957 (0.29267557290396190–0.58291477228890387), 0.28260869565217395
    (0.17833127821775860–0.44786128185935753)."""
    w = np.resize([1.0, 2.0], 46)
    m = (d.group == "With anakinra").to_numpy()
    k = S.weighted_kaplan_meier(d.time_days[m], d.event[m], w[m])
    s = k.summary_at([3, 5, 7])
    assert k.variance.startswith("Greenwood")
    assert [x["survival"] for x in s] == pytest.approx(
        [0.65217391304347827, 0.41304347826086957, 0.28260869565217395], **R
    )
    assert [x["ci"][0] for x in s] == pytest.approx(
        [0.52809143262391400, 0.29267557290396190, 0.17833127821775860], **R
    )
    assert [x["ci"][1] for x in s] == pytest.approx(
        [0.80541131057762538, 0.58291477228890387, 0.44786128185935753], **R
    )


def test_weighted_km_with_weights_one_is_kaplan_meier(d):
    """Weights all 1: the unweighted curve, its Greenwood CI and median (R survfit without weights)."""
    k = S.weighted_kaplan_meier(d.time_days, d.event, np.ones(len(d)), conf_type="log-log")
    u = S.kaplan_meier(d.time_days, d.event)
    assert k.survival == pytest.approx(u.survival, rel=1e-13) and k.timeline == u.timeline
    assert k.ci_lower == pytest.approx(u.ci_lower, rel=1e-12, nan_ok=True) and k.median == u.median
    assert (k.median_ci_low, k.median_ci_high) == (u.median_ci_low, u.median_ci_high)


# ------------------------------------------------------------------------------------------------ Firth
# coxphf cannot be installed here (not in Debian, no CRAN), and neither the coxphf manual nor Heinze & Schemper
# (2001) prints its breast-cancer example's output to full precision. The reference is therefore Firth's penalised
# likelihood written out in R from its definition, on survival's own log likelihood, score and information at a
# fixed β (coxph(init = b, control = coxph.control(iter.max = 0))) — a computation independent of ours:
#   pen(b) = loglik + 0.5 * log det solve(var); the penalty's gradient by Richardson-extrapolated central
#   differences (h = 1e-3); Newton steps solve(I, U + 0.5 * grad) to |step| < 1e-10; the profile penalised
#   likelihood CI by uniroot(2 * (pen(b̂) − max pen | b_j) − qchisq(0.95, 1), tol = 1e-11) and the p-value
#   by the penalised likelihood ratio with b_j = 0 (the full model's penalty throughout, as coxphf/coxphftest).
# coxphf itself stops at 1e-6 (standardised coefficients), so its printout agrees with these to about 1e-6.
# Tolerance: 1e-9 relative (the R side's numerical derivative).
F = dict(rel=1e-9, abs=1e-11)


@pytest.fixture(scope="module")
def breast():
    """coxphf's breast cancer data (Heinze & Schemper 2001): 100 patients, tumour stage T, nodal status N,
    grading G, cathepsin-D CD; no patient with G = 0 has an event (monotone likelihood in G)."""
    return pd.read_csv(DATA / "breast.csv")


def test_firth_breast_vs_r(breast):
    """coxphf(Surv(TIME, CENS) ~ T + N + G + CD, breast) by hand in R (see above): coef 1.22443880709599306,
    0.91888819551869549, 2.42441414405839373, 0.39711809939678661; se 0.49160443092763983, 0.42257335533904594,
    1.47354635138163581, 0.44185539902517768; profile CI (log scale) 0.30950189018305385 to 2.2483595198802844,
    0.11373505589791505 to 1.7635077516477811, 0.38231077730610513 to 7.2806599617778618, -0.46702043068055454 to
    1.2561240679529859; p 0.0082252035047900417, 0.0252828304996489187, 0.0135898757070055682,
    0.3645024396601407868; penalised loglik (null, fit) -110.328129108987483, -92.352418929893631."""
    f = S.firth_cox_fit(
        breast.TIME, breast.CENS, breast[["T", "N", "G", "CD"]].to_numpy(float), terms=["T", "N", "G", "CD"]
    )
    assert f.converged and f.ties == "breslow"
    assert f.coef == pytest.approx(
        (1.22443880709599306, 0.91888819551869549, 2.42441414405839373, 0.39711809939678661), **F
    )
    assert f.se == pytest.approx(
        (0.49160443092763983, 0.42257335533904594, 1.47354635138163581, 0.44185539902517768), **F
    )
    assert f.ci_low == pytest.approx(
        (0.30950189018305385, 0.11373505589791505, 0.38231077730610513, -0.46702043068055454), **F
    )
    assert f.ci_high == pytest.approx(
        (2.2483595198802844, 1.7635077516477811, 7.2806599617778618, 1.2561240679529859), **F
    )
    assert f.p_value == pytest.approx(
        (0.0082252035047900417, 0.0252828304996489187, 0.0135898757070055682, 0.3645024396601407868), **F
    )
    assert (f.loglik_null, f.loglik) == pytest.approx((-110.328129108987483, -92.352418929893631), **F)
    hr, lo, hi = f.hazard_ratio(2)
    assert (hr, lo, hi) == pytest.approx(
        (math.exp(2.42441414405839373), math.exp(0.38231077730610513), math.exp(7.2806599617778618)), **F
    )


def test_firth_finite_where_the_mle_diverges_vs_r(breast):
    """G alone: no event among G = 0, so R coxph(Surv(TIME, CENS) ~ G, breast) warns "Loglik converged before
    variable 1; coefficient may be infinite" (coef ≈ 19.6). Firth by hand in R: coef 3.1564640670672102, se
    1.4555761635493423, CI 1.1910045382471464 to 7.9994958497038287, p 7.8781830242016538e-05; loglik
    -112.80108613390941, -105.00743448597153. Through cox_adjusted with G as the group: no ordinary HR, a note
    that it diverges, and Firth's finite HR."""
    mle = S.cox_fit(breast.TIME, breast.CENS, breast[["G"]].to_numpy(float))
    assert mle.converged and mle.infinite == (True,)
    f = S.firth_cox_fit(breast.TIME, breast.CENS, breast[["G"]].to_numpy(float))
    assert f.coef[0] == pytest.approx(3.1564640670672102, **F) and f.se[0] == pytest.approx(1.4555761635493423, **F)
    assert (f.ci_low[0], f.ci_high[0]) == pytest.approx((1.1910045382471464, 7.9994958497038287), **F)
    assert f.p_value[0] == pytest.approx(7.8781830242016538e-05, **F)
    assert (f.loglik_null, f.loglik) == pytest.approx((-112.80108613390941, -105.00743448597153), **F)
    g = np.where(breast.G == 1, "G1", "G0")
    ordinary = S.cox_adjusted(breast.TIME, breast.CENS, g, group_order=("G0", "G1"))
    assert ordinary.estimate is None and any("diverges" in n and "Firth" in n for n in ordinary.notes)
    firth = S.cox_adjusted(breast.TIME, breast.CENS, g, group_order=("G0", "G1"), firth=True)
    assert firth.estimate == pytest.approx(math.exp(3.1564640670672102), **F)
    assert firth.ci_high == pytest.approx(math.exp(7.9994958497038287), **F) and math.isfinite(firth.ci_high)
    assert firth.p_value == pytest.approx(7.8781830242016538e-05, **F) and firth.statistic > 0


def test_firth_default_cohort_vs_r(d):
    """Firth's adjusted HR on the default cohort (two tied event times; Breslow as coxphf), by hand in R:
    firth_ref(time_days, event, cbind(anakinra, cv_shock, age_years)): coef -1.166314048137811810, se
    0.418845501134124165, CI -1.990856125835797519 to -0.35859815521023658, p 0.0048708133293981293; cv_shock
    0.225259649443507154 (p 0.4842478437621955956). With Efron ties (anakinra + cv_shock): -1.19940004403431355,
    CI -2.02233070185884811 to -0.39293964597354492, p 0.0037628948350834491."""
    r = S.cox_adjusted(d.time_days, d.event, d.group, d[["cv_shock", "age_years"]], group_order=GROUPS, firth=True)
    assert r.extra("coef") == pytest.approx(-1.166314048137811810, **F)
    assert r.extra("se") == pytest.approx(0.418845501134124165, **F)
    assert r.estimate == pytest.approx(math.exp(-1.166314048137811810), **F)
    assert (r.ci_low, r.ci_high) == pytest.approx(
        (math.exp(-1.990856125835797519), math.exp(-0.35859815521023658)), **F
    )
    assert r.p_value == pytest.approx(0.0048708133293981293, **F)
    assert r.extra("HR cv_shock") == pytest.approx(math.exp(0.225259649443507154), **F)
    assert r.extra("p cv_shock") == pytest.approx(0.4842478437621955956, **F)
    assert r.test.startswith("Firth's penalised Cox") and "coxphf" in r.method
    e = S.cox_adjusted(d.time_days, d.event, d.group, d[["cv_shock"]], group_order=GROUPS, firth=True, ties="efron")
    assert e.extra("coef") == pytest.approx(-1.19940004403431355, **F)
    assert (math.log(e.ci_low), math.log(e.ci_high)) == pytest.approx((-2.02233070185884811, -0.39293964597354492), **F)
    assert e.p_value == pytest.approx(0.0037628948350834491, **F)


# ------------------------------------------------------------------------------------------------ E-value
def test_e_value_paper_examples():
    """VanderWeele & Ding (2017), Ann Intern Med 167:268, worked example: RR 3.9 (95% CI 1.8 to 8.7) → E-value
    7.26, for the CI 3.0 (by hand: 3.9 + √(3.9·2.9) = 7.2630…, 1.8 + √(1.8·0.8) = 3). A protective RR 0.80 (0.71 to
    0.91): 1/0.8 = 1.25 → 1.25 + √(1.25·0.25) = 1.8090169943749475; CI from 0.91 (closest to 1):
    1.4285714285714282 (R by hand: ev(0.80), ev(0.91)). A CI including 1 has E-value 1."""
    e = S.e_value(3.9, 1.8, 8.7)
    assert e.point == pytest.approx(3.9 + math.sqrt(3.9 * 2.9), rel=1e-15) and round(e.point, 2) == 7.26
    assert e.ci == pytest.approx(3.0, rel=1e-15) and e.conversion.startswith("none")
    p = S.e_value(0.80, 0.71, 0.91)
    assert p.point == pytest.approx(1.8090169943749475, rel=1e-14) and p.ci == pytest.approx(1.4285714285714282, **R)
    assert S.e_value(1.3, 0.9, 1.8).ci == 1.0 and S.e_value(0.7, 0.4, 1.2).ci == 1.0
    assert "7.26" in e.text and "3.00" in e.text


def test_e_value_hazard_ratio_common_outcome():
    """A hazard ratio of a common outcome (EValue::evalues.HR(rare = FALSE)), by hand in R: hr2rr(hr) = (1 −
    0.5^sqrt(hr)) / (1 − 0.5^sqrt(1/hr)): hr2rr(2) = 1.6125473265360659, E-value 2.6064092655308881; HR 1.2 →
    1.5255309175787344. The default cohort's adjusted HR 0.30769767073826682 (CI 0.13534831485342785 to
    0.69951263656502793): RR 0.44745623651576472 (0.26542523892684888 to 0.78086920242896440), E-value
    3.896096943162815, for the CI (upper limit, closest to 1) 1.880102431363365. Rare outcome: the HR is the RR. A
    common odds ratio: √OR (OR 2.5 → ev(sqrt(2.5)) = 2.5397112946980083)."""
    assert S.e_value(2, measure="HR").rr == pytest.approx(1.6125473265360659, **R)
    assert S.e_value(2, measure="HR").point == pytest.approx(2.6064092655308881, **R)
    assert S.e_value(1.2, measure="HR").point == pytest.approx(1.5255309175787344, **R)
    e = S.e_value(0.30769767073826682, 0.13534831485342785, 0.69951263656502793, measure="HR")
    assert e.rr == pytest.approx(0.44745623651576472, **R)
    assert e.rr_ci == pytest.approx((0.26542523892684888, 0.78086920242896440), **R)
    assert e.point == pytest.approx(3.896096943162815, **R) and e.ci == pytest.approx(1.880102431363365, **R)
    assert S.e_value(2, measure="HR", rare=True).point == pytest.approx(2 + math.sqrt(2), rel=1e-15)
    assert S.e_value(2.5, measure="OR").point == pytest.approx(2.5397112946980083, **R)
    with pytest.raises(ValueError):
        S.e_value(0.0)


# ------------------------------------------------------------------------------------------------ lm
def test_adjusted_difference_vs_r_lm(d):
    """R: lm(lvef_followup ~ anakinra + lvef_baseline + cv_shock + icu, d): anakinra -0.93872513532826207 (se
    1.778667534046330267, t -0.52776874674984109, p 0.60089795718800287, CI -4.546030090866316264 to
    2.66857982020979190), lvef_baseline 0.26996436394546752 (p 0.0029177869182312791); icu NA (aliased with
    cv_shock); 6 patients without an echo pair left out (40 used, 36 residual df)."""
    r = S.adjusted_difference(d.lvef_followup, d.group, d.lvef_baseline, d[["cv_shock", "icu"]], group_order=GROUPS)
    assert r.estimate == pytest.approx(-0.93872513532826207, **R)
    assert (r.ci_low, r.ci_high) == pytest.approx((-4.546030090866316264, 2.66857982020979190), **R)
    assert r.statistic == pytest.approx(-0.52776874674984109, **R)
    assert r.p_value == pytest.approx(0.60089795718800287, **R) and r.df == 36 and r.n == (13, 27)
    assert r.extra("estimate baseline") == pytest.approx(0.26996436394546752, **R)
    assert r.extra("p baseline") == pytest.approx(0.0029177869182312791, **R)
    assert r.extra("estimate icu") is None
    assert any("Aliased" in n and "icu" in n for n in r.notes)
    assert any("6 patient(s) with a missing value left out" in n for n in r.notes)
    assert r.effect == "adjusted difference (With anakinra − Without anakinra)"


def test_linear_model_vs_r(d):
    """R: lm(lvef_followup ~ group + lvef_baseline + cv_shock, d) (reference "With anakinra"): intercept
    48.00685211737945934 (se 5.441074634881259087, p 1.5772027033400787e-10), groupWithout anakinra
    0.93872513532826585, CI -2.668579820209786568 to 4.54603009086631804."""
    dd = d.assign(g=pd.Categorical(d.group, categories=["With anakinra", "Without anakinra"]))
    f = S.linear_model(dd.lvef_followup, S.model_matrix(dd, ["g", "lvef_baseline", "cv_shock"]))
    assert f.terms[1] == "gWithout anakinra" and f.df_residual == 36
    assert f.coef[0] == pytest.approx(48.00685211737945934, **R) and f.se[0] == pytest.approx(5.441074634881259087, **R)
    assert f.p_value[0] == pytest.approx(1.5772027033400787e-10, rel=1e-9)
    t = f.term("gWithout anakinra")
    assert t["estimate"] == pytest.approx(0.93872513532826585, **R)
    assert t["ci"] == pytest.approx([-2.668579820209786568, 4.54603009086631804], **R)


def test_adjusted_difference_without_residual_df():
    """Two patients, two parameters: no residual df, no p-value (R prints NaN)."""
    r = S.adjusted_difference([1.0, 3.0], ["a", "b"], group_order=("a", "b"))
    assert r.p_value is None and any("cannot be estimated" in n for n in r.notes)


# ------------------------------------------------------------------------------------------------ Mantel–Haenszel
UCB = np.array(  # R's UCBAdmissions, x[admit, gender, dept]
    [
        [[512, 353, 120, 138, 53, 22], [89, 17, 202, 131, 94, 24]],
        [[313, 207, 205, 279, 138, 351], [19, 8, 391, 244, 299, 317]],
    ]
)


def test_mantel_haenszel_ucb_vs_r():
    """R: mantelhaen.test(UCBAdmissions): X-squared 1.4269462285866883, p 0.23226346281704827, common odds ratio
    0.90469682825862308, CI 0.77190736175935049 to 1.06032976443665561 (Robins–Breslow–Greenland)."""
    r = S.mantel_haenszel(UCB)
    assert r.statistic == pytest.approx(1.4269462285866883, **R)
    assert r.p_value == pytest.approx(0.23226346281704827, **R)
    assert r.estimate == pytest.approx(0.90469682825862308, **R)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.77190736175935049, 1.06032976443665561), **R)
    assert r.df == 1 and "continuity correction" in r.method


def test_mantel_haenszel_stratum_with_one_group_vs_r():
    """R: mantelhaen.test(array(c(5, 2, 3, 6, 4, 0, 2, 0, 1, 3, 2, 4), dim = c(2, 2, 3))) — stratum 2 has no
    row-2 patients: X-squared 0.39751552795031059, p 0.52837513896810129, OR 2.3333333333333335, CI
    0.47122189726643016 to 11.55388676975285200. mantelhaen.test(array(c(2, 3, 4, 5, 6, 1, 2, 3), c(2, 2, 2))):
    |Σ(O − E)| < ½, so R applies no correction: X-squared 0.30663691993880654, p 0.57975127548977523."""
    x3 = np.array([5, 2, 3, 6, 4, 0, 2, 0, 1, 3, 2, 4], float).reshape(3, 2, 2).transpose(2, 1, 0)
    r = S.mantel_haenszel(x3)
    assert r.statistic == pytest.approx(0.39751552795031059, **R)
    assert r.p_value == pytest.approx(0.52837513896810129, **R)
    assert r.estimate == pytest.approx(2.3333333333333335, **R)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.47122189726643016, 11.55388676975285200), **R)
    assert any("one group only" in n and ": 2" in n for n in r.notes)
    x4 = np.array([2, 3, 4, 5, 6, 1, 2, 3], float).reshape(2, 2, 2).transpose(2, 1, 0)
    r4 = S.mantel_haenszel(x4)
    assert r4.statistic == pytest.approx(0.30663691993880654, **R) and r4.p_value == pytest.approx(
        0.57975127548977523, **R
    )


def test_mantel_haenszel_by_patient_default_cohort_vs_r(d):
    """Afebrile by day 3, With vs Without anakinra, stratified by CV shock. R: mantelhaen.test(table(factor(group,
    levels = c("With anakinra", "Without anakinra")), factor(time_days <= 3, levels = c(TRUE, FALSE)), cv_shock)):
    X-squared 0.027249306381292245, p 0.868886021165024, OR 0.87500000000000011, CI 0.18974580827811446 to
    4.03500349729890928. By day 5 every patient without anakinra is afebrile: R's common OR is 0, CI NaN."""
    r = S.mantel_haenszel_by(d.time_days <= 3, d.group, d.cv_shock, group_order=GROUPS, strata_name="CV shock")
    assert r.statistic == pytest.approx(0.027249306381292245, **R)
    assert r.p_value == pytest.approx(0.868886021165024, **R)
    assert r.estimate == pytest.approx(0.87500000000000011, **R)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.18974580827811446, 4.03500349729890928), **R)
    assert (
        r.groups == GROUPS and r.n == (14, 32) and r.effect == "common odds ratio (With anakinra vs Without anakinra)"
    )
    r5 = S.mantel_haenszel_by(d.time_days <= 5, d.group, d.cv_shock, group_order=GROUPS)
    assert r5.estimate == 0 and r5.ci_low is None and r5.statistic == pytest.approx(9.6443359374999975, **R)


def test_mantel_haenszel_refused_strata_are_left_out():
    """R stops on a stratum with fewer than 2 patients; here it is left out and named."""
    x = np.stack([np.array([[3, 2], [1, 4]]), np.array([[1, 0], [0, 0]])], axis=2)
    r = S.mantel_haenszel(x, strata=["big", "tiny"])
    ref = S.mantel_haenszel(np.array([[3, 2], [1, 4]]))
    assert r.statistic == pytest.approx(ref.statistic) and any("tiny" in n for n in r.notes)


# ------------------------------------------------------------------------------------------------ van Elteren
def test_van_elteren_vs_r(d):
    """Follow-up LVEF, With vs Without anakinra, stratified by CV shock (ties present). R, the formula by hand:
    ve(y, g, s) = Σ_k W_k/(n_k + 1) with its within-stratum permutation mean and variance: T 12.84439359267734559,
    E 13.5, V 0.55320710629125336, z -0.88145331254063541, p 0.37807251304662209; coin: independence_test(
    lvef_followup ~ gf | sf, ytrafo = rank(y) / (length(y) + 1) per block): statistic 0.8814533125406343 (the first
    level's sign), p 0.3780725130466227. By phenotype: z -1.19693087474939741, p 0.23133349888301893."""
    r = S.van_elteren(d.lvef_followup, d.group, d.cv_shock, group_order=GROUPS, strata_name="CV shock")
    assert r.extra("T") == pytest.approx(12.84439359267734559, **R) and r.extra("E T") == 13.5
    assert r.extra("Var T") == pytest.approx(0.55320710629125336, **R)
    assert r.statistic == pytest.approx(-0.88145331254063541, **R)
    assert r.p_value == pytest.approx(0.37807251304662209, **R)
    assert r.p_value == pytest.approx(0.3780725130466227, rel=1e-12)  # coin
    assert any("left out" in n for n in r.notes)
    r2 = S.van_elteren(d.lvef_followup, d.group, d.phenotype, group_order=GROUPS)
    assert r2.statistic == pytest.approx(-1.19693087474939741, **R)
    assert r2.p_value == pytest.approx(0.23133349888301893, **R)


def test_van_elteren_with_one_stratum_is_the_wilcoxon_normal_approximation():
    """One stratum: z is the Mann–Whitney normal approximation without continuity correction (R wilcox.test(x, y,
    exact = FALSE, correct = FALSE))."""
    x, y = [1.0, 2.0, 2.0, 5.0, 7.0], [3.0, 4.0, 6.0, 6.0, 8.0, 9.0]
    r = S.van_elteren(x + y, ["a"] * 5 + ["b"] * 6, ["s"] * 11, group_order=("a", "b"))
    mw = S.mann_whitney(x, y)
    from scipy import stats as sps

    ref = sps.mannwhitneyu(x, y, method="asymptotic", use_continuity=False)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-12) and mw.p_value is not None


def test_van_elteren_one_group_stratum_contributes_nothing():
    r = S.van_elteren(
        [1, 2, 3, 4, 5, 6], ["a", "b", "a", "b", "a", "a"], ["x", "x", "x", "x", "y", "y"], group_order=("a", "b")
    )
    ref = S.van_elteren([1, 2, 3, 4], ["a", "b", "a", "b"], ["x"] * 4, group_order=("a", "b"))
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-14)
    assert any("Only one group in stratum y (only a)" in n for n in r.notes)


# ------------------------------------------------------------------------------------------------ positivity
LABELS = {"icu": "ICU admission", "cv_shock": "CV shock", "kd_like": "KD-like features"}


def test_positivity_fires_on_the_default_cohort(d):
    """IVIG monotherapy vs IVIG + anakinra with CS: every patient of the latter was in the ICU."""
    p = S.positivity_check(
        d.treatment_group,
        d[["icu", "age_years"]],
        group_order=("IVIG monotherapy", "IVIG + anakinra with CS"),
        labels=LABELS,
    )
    assert not p.ok
    assert p.problems == (
        "no IVIG + anakinra with CS patient without ICU admission: the comparison cannot be adjusted for ICU admission",
    )
    assert p.cells[0]["IVIG monotherapy"] == 11 and p.cells[0]["IVIG + anakinra with CS"] == 0
    assert any("age_years is continuous" in n for n in p.notes)
    assert not any("without a covariate" in n for n in p.notes)  # patients of other groups are not "missing"
    ok = S.positivity_check(d.group, d[["cv_shock", "icu", "kd_like"]], group_order=GROUPS, labels=LABELS)
    assert ok.ok and ok.problems == ()


def test_positivity_combinations():
    """Each level has both groups, but one combination has patients of one group only."""
    g = ["A", "A", "A", "B", "B", "B", "A", "B"]
    x = pd.DataFrame({"shock": [1, 1, 0, 0, 1, 0, 0, 1], "icu": [1, 0, 1, 0, 1, 1, 0, 1]})
    p = S.positivity_check(g, x, group_order=("A", "B"), labels={"shock": "CV shock", "icu": "ICU admission"})
    assert not p.ok and len(p.problems) == 1
    assert p.problems[0].startswith("no B patient with CV shock and without ICU admission (all 1 such patients are A)")
    assert p.problems[0].endswith("cannot be adjusted for CV shock and ICU admission together")
    assert p.cells[0]["covariates"] == {"shock": 1, "icu": 0}
    txt = pd.DataFrame({"band": ["<5", "<5", "5-12", "5-12", "13+", "13+"]})
    q = S.positivity_check(["a", "b", "a", "b", "a", "a"], txt, group_order=("a", "b"), labels={"band": "age"})
    assert q.problems == ("no b patient with age 13+: the comparison cannot be adjusted for age",)
