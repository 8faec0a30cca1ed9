"""`python -m misc_dash analyze --strata / --adjust-for / --weights iptw --json`: the ``adjusted`` key on the default
cohort equals R (the reference values of tests/test_stats_adjusted.py, computed by R 4.2 / survival 3.5.3 on
tests/data/default_cohort_adjusted.csv, which is the default cohort's fever table read as ``d`` with ``d$anakinra <-
as.numeric(d$group == "With anakinra")``); positivity fires where the cohort has no overlap and then no estimate
is printed; complete cases are counted; bad flags are usage errors.

Tolerances: ``R`` = 1e-10 relative (the same closed form or the same convergence rule on both sides, then a JSON
round trip, which is exact for floats); ``F`` = 1e-9 for Firth's penalised fit (as in test_stats_adjusted.py)."""

from __future__ import annotations

import contextlib
import io
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from misc_dash import analyses as A
from misc_dash import stats as S
from misc_dash.__main__ import main
from misc_dash.loading import load_default_cohort

R = dict(rel=1e-10, abs=1e-12)
F = dict(rel=1e-9, abs=1e-11)
DATA = Path(__file__).parent / "data"
GROUPS = ("Without anakinra", "With anakinra")
NO_OVERLAP = ("--treatment", "IVIG monotherapy", "--treatment", "IVIG + anakinra with CS")


def analyze(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["analyze", *args])
    return rc, out.getvalue(), err.getvalue()


def adjusted(*args: str) -> dict:
    rc, out, err = analyze("--json", *args)
    assert rc == 0, err
    return json.loads(out)["adjusted"]


@pytest.fixture(scope="module")
def main_json():
    return adjusted("--group-by", "anakinra", "--adjust-for", "cv_shock,age_years", "--strata", "cv_shock",
                    "--weights", "iptw")  # fmt: skip


@pytest.fixture(scope="module")
def d():
    return pd.read_csv(DATA / "default_cohort_adjusted.csv")


def test_stratified_logrank_vs_r(main_json):
    """R: survdiff(Surv(time_days, event) ~ group + strata(cv_shock), d): chisq 9.3660829375256185, p
    0.0022103736776236164 on 1 df."""
    s = main_json["fever"]["stratified_logrank"]
    assert s["strata"] == "cv_shock" and s["df"] == 1
    assert s["statistic"] == pytest.approx(9.3660829375256185, **R)
    assert s["p_value"] == pytest.approx(0.0022103736776236164, **R)


def test_adjusted_cox_and_e_value_vs_r(main_json):
    """R: coxph(Surv(time_days, event) ~ anakinra + cv_shock + age_years, d, ties = "efron"): HR 0.30769767073826682
    (0.13534831485342785–0.69951263656502793), Wald p 0.0049106652571624526; cv_shock HR 1.26814760256223957, p
    0.4653611593731109553. E-value, by hand in R as EValue::evalues.HR(rare = FALSE): 3.896096943162815, CI (upper
    limit, closest to 1) 1.880102431363365."""
    f = main_json["fever"]
    c = f["cox"]
    assert c["covariates"] == ["cv_shock", "age_years"] and "Efron" in c["method"]
    assert c["treatment"]["hr"] == pytest.approx(0.30769767073826682, **R)
    assert c["treatment"]["ci"] == pytest.approx([0.13534831485342785, 0.69951263656502793], **R)
    assert c["treatment"]["p_value"] == pytest.approx(0.0049106652571624526, **R)
    assert c["terms"]["cv_shock"]["hr"] == pytest.approx(1.26814760256223957, **R)
    assert c["terms"]["cv_shock"]["p_value"] == pytest.approx(0.4653611593731109553, **R)
    assert f["positivity"] == {**f["positivity"], "ok": True, "problems": []}
    assert f["e_value"]["point"] == pytest.approx(3.896096943162815, **R)
    assert f["e_value"]["ci"] == pytest.approx(1.880102431363365, **R)
    assert f["n_used"] == 46 and f["n_left_out"] == 0


def test_naive_hr_is_shown_next_to_the_adjusted_one(main_json, d):
    """The naive HR is R coxph(Surv(time_days, event) ~ anakinra, d) on the same patients."""
    ref = S.cox_adjusted(d.time_days, d.event, d.group, None, group_order=GROUPS)
    assert main_json["fever"]["naive"]["hr"] == pytest.approx(ref.estimate, rel=1e-12)


def test_iptw_cox_and_balance_vs_r(main_json):
    """R: ps <- fitted(glm(anakinra ~ cv_shock + age_years, binomial, d)); pa <- mean(d$anakinra); w <-
    ifelse(d$anakinra == 1, pa / ps, (1 - pa) / (1 - ps)); coxph(Surv(time_days, event) ~ anakinra, d, weights = w,
    robust = TRUE): HR 0.30354852796063136 (0.1494944231239671–0.61635549274408996), p 0.00096994567980315078. SMD
    by hand in R: cv_shock 0.915252994717239754 → 0.022327769215941894; age_years -0.19033003043769012 →
    -0.08464373792287011."""
    w = main_json["fever"]["iptw"]
    assert w["covariates"] == ["cv_shock", "age_years"] and w["trim"] is None and w["stabilized"] is True
    assert w["treatment"]["hr"] == pytest.approx(0.30354852796063136, **R)
    assert w["treatment"]["ci"] == pytest.approx([0.1494944231239671, 0.61635549274408996], **R)
    assert w["treatment"]["p_value"] == pytest.approx(0.00096994567980315078, **R)
    b = w["balance"]
    assert [b["cv_shock"]["smd_before"], b["cv_shock"]["smd_after"]] == pytest.approx(
        [0.915252994717239754, 0.022327769215941894], **R
    )
    assert [b["age_years"]["smd_before"], b["age_years"]["smd_after"]] == pytest.approx(
        [-0.19033003043769012, -0.08464373792287011], **R
    )


def test_trimmed_weights_vs_r():
    """R: w truncated at quantile(w, 0.9) (type 7): coxph(…, weights = wt, robust = TRUE): coef -1.179739478919684,
    p 0.00085835008464956234."""
    w = adjusted("--group-by", "anakinra", "--adjust-for", "cv_shock,age_years", "--weights", "iptw", "--trim", "0.9")
    w = w["fever"]["iptw"]
    assert w["trim"] == 0.9 and "90th percentile" in w["trim_rule"]
    assert math.log(w["treatment"]["hr"]) == pytest.approx(-1.179739478919684, **R)
    assert w["treatment"]["p_value"] == pytest.approx(0.00085835008464956234, **R)


def test_adjusted_echo_and_aliased_covariate_vs_r():
    """R: lm(lvef_followup ~ anakinra + lvef_baseline + cv_shock + icu, d): anakinra -0.93872513532826207 (CI
    -4.546030090866316264 to 2.66857982020979190), p 0.60089795718800287; icu NA (= cv_shock in this cohort). The
    Cox fit with icu as well: R gives icu NA and the HR of anakinra + cv_shock."""
    a = adjusted("--group-by", "anakinra", "--adjust-for", "cv_shock,icu")
    e = a["echo"]["lvef"]
    assert e["covariates"] == ["baseline", "cv_shock", "icu"]
    assert e["estimate"] == pytest.approx(-0.93872513532826207, **R)
    assert e["ci"] == pytest.approx([-4.546030090866316264, 2.66857982020979190], **R)
    assert e["p_value"] == pytest.approx(0.60089795718800287, **R)
    assert e["n"] == {"Without anakinra": 13, "With anakinra": 27} and e["df"] == 36
    assert any("6 patient(s) without a first and a follow-up echo" in n for n in e["notes"])
    c = a["fever"]["cox"]
    assert any("no coefficient" in n and "(icu)" in n for n in c["notes"]) and "icu" not in c["terms"]
    assert set(a["echo"]) == {"lvef", "strain"} and a["fever"]["iptw"] is None


def test_echo_change_stratified_by_van_elteren_vs_r():
    """``adjusted.echo.lvef.stratified`` with --strata. R, on d with change <- lvef_followup - lvef_baseline, the
    van Elteren statistic by hand (Σ_k W_k/(n_k + 1), within-stratum permutation mean and variance with ties) for
    "With anakinra" vs "Without anakinra": by CV shock T 13.514874141876431324, E 13.5, V 0.554747602482944857,
    z 0.019970282234979507, p 0.984067079177334048 (coin: independence_test(change ~ gf | sf, ytrafo = rank / (n +
    1) per block): -0.019970282234978314, the first level's sign, p 0.984067079177335047); by age band (cut(age,
    c(0, 5, 12, Inf), right = FALSE)) z -0.0065953569247760423, p 0.9947377046872943884. n: 13 vs 27. Without
    --strata: null; with three groups: null (the stratified log-rank still runs)."""
    e = adjusted("--group-by", "anakinra", "--strata", "cv_shock")["echo"]["lvef"]["stratified"]
    assert e["strata"] == "cv_shock" and e["test"] == "Van Elteren stratified Wilcoxon (by CV shock)"
    assert e["statistic"] == pytest.approx(0.019970282234979507, **R)
    assert e["p_value"] == pytest.approx(0.984067079177334048, **R)
    assert e["n"] == {"Without anakinra": 13, "With anakinra": 27} and e["strata_contributing"] == 2
    b = adjusted("--group-by", "anakinra", "--strata", "age_band")["echo"]["lvef"]["stratified"]
    assert b["statistic"] == pytest.approx(-0.0065953569247760423, **R)
    assert b["p_value"] == pytest.approx(0.9947377046872943884, **R)
    assert adjusted("--group-by", "anakinra", "--adjust-for", "cv_shock")["echo"]["lvef"]["stratified"] is None
    three = adjusted("--strata", "cv_shock")
    assert three["echo"]["lvef"]["stratified"] is None and three["fever"]["stratified_logrank"] is not None


def test_echo_normal_at_followup_by_mantel_haenszel_vs_r():
    """``adjusted.echo.lvef.normal_stratified``: LVEF ≥ 55% at follow-up (the Cardiac page's threshold), With vs
    Without anakinra, by the stratum. R, on d's patients with both echoes: mantelhaen.test(table(factor(group, levels
    = c("With anakinra", "Without anakinra")), factor(lvef_followup >= 55, levels = c(TRUE, FALSE)), cv_shock),
    correct = TRUE): X-squared 0.07786982248520688, p 0.78020518865657074, common OR 0.65185185185185190, CI
    0.04337390282773361–9.79646305868046952; by age band (cut(age_years, c(0, 5, 12, Inf), right = FALSE)):
    0.14165830577764493, p 0.70663796597765827, OR 0.35641677255400256, CI 0.03340547636101332–3.80275720019572816."""
    e = adjusted("--group-by", "anakinra", "--strata", "cv_shock")["echo"]["lvef"]["normal_stratified"]
    assert e["outcome"] == "follow-up ≥ 55" and e["test"] == "Mantel–Haenszel (by CV shock)"
    assert e["statistic"] == pytest.approx(0.07786982248520688, **R)
    assert e["p_value"] == pytest.approx(0.78020518865657074, **R)
    assert e["odds_ratio"] == pytest.approx(0.65185185185185190, **R)
    assert e["ci"] == pytest.approx([0.04337390282773361, 9.79646305868046952], **R)
    assert e["n"] == {"Without anakinra": 13, "With anakinra": 27}
    b = adjusted("--group-by", "anakinra", "--strata", "age_band")["echo"]["lvef"]["normal_stratified"]
    assert b["statistic"] == pytest.approx(0.14165830577764493, **R)
    assert b["p_value"] == pytest.approx(0.70663796597765827, **R)
    assert b["odds_ratio"] == pytest.approx(0.35641677255400256, **R)
    assert b["ci"] == pytest.approx([0.03340547636101332, 3.80275720019572816], **R)
    s = adjusted("--group-by", "anakinra", "--strata", "cv_shock")["echo"]["strain"]["normal_stratified"]
    assert s["outcome"] == "follow-up ≤ -21.4"
    assert s["notes"] == ["Strata where every patient has the same outcome contribute nothing: CV shock yes."]


def test_phenotype_covariate_is_categorical_vs_r():
    """The phenotype as R's dummy columns. R: coxph(Surv(time_days, event) ~ anakinra + phenotype, d): anakinra HR
    0.24594458424912966 (0.10480587515133494–0.57715026408714443), p 0.00126889743548418035 (the group's HR does
    not depend on the reference phenotype; here the first in display order, Non-specific)."""
    c = adjusted("--group-by", "anakinra", "--adjust-for", "phenotype")["fever"]["cox"]
    assert c["treatment"]["hr"] == pytest.approx(0.24594458424912966, **R)
    assert c["treatment"]["ci"] == pytest.approx([0.10480587515133494, 0.57715026408714443], **R)
    assert c["treatment"]["p_value"] == pytest.approx(0.00126889743548418035, **R)
    assert "phenotypeKDSS-like" in c["terms"] and "phenotypeNon-specific" not in c["terms"]


def test_firth_vs_r():
    """Firth's penalised Cox (R coxphf, by hand in R, Breslow ties): coef -1.166314048137811810, CI
    -1.990856125835797519 to -0.35859815521023658, p 0.0048708133293981293."""
    c = adjusted("--group-by", "anakinra", "--adjust-for", "cv_shock,age_years", "--firth")["fever"]["cox"]
    assert "coxphf" in c["method"]
    assert math.log(c["treatment"]["hr"]) == pytest.approx(-1.166314048137811810, **F)
    assert [math.log(x) for x in c["treatment"]["ci"]] == pytest.approx(
        [-1.990856125835797519, -0.35859815521023658], **F
    )
    assert c["treatment"]["p_value"] == pytest.approx(0.0048708133293981293, **F)


def test_three_groups_stratified_logrank_only_vs_r():
    """R: survdiff(Surv(time_days, event) ~ treatment_group + strata(phenotype), d): chisq 10.896866663216851 on 2
    df, p 0.0043030408507986305. The HRs compare two groups: null, with a note."""
    f = adjusted("--group-by", "treatment", "--strata", "phenotype", "--adjust-for", "cv_shock")["fever"]
    s = f["stratified_logrank"]
    assert s["df"] == 2 and s["statistic"] == pytest.approx(10.896866663216851, **R)
    assert s["p_value"] == pytest.approx(0.0043030408507986305, **R)
    assert f["cox"] is None and f["iptw"] is None and f["e_value"] is None and f["positivity"] is None
    assert any("compare two groups" in n for n in f["notes"])


def test_positivity_fires_where_there_is_no_overlap():
    """IVIG monotherapy vs IVIG + anakinra with CS: every patient of the latter was in the ICU, so the comparison
    cannot be adjusted for ICU: no adjusted or weighted HR, no E-value, no adjusted echo difference."""
    a = adjusted("--group-by", "treatment", *NO_OVERLAP, "--adjust-for", "icu", "--weights", "iptw")
    f = a["fever"]
    assert f["groups"] == ["IVIG monotherapy", "IVIG + anakinra with CS"]
    assert f["positivity"]["ok"] is False
    assert f["positivity"]["problems"] == [
        "no IVIG + anakinra with CS patient without ICU admission: the comparison cannot be adjusted for ICU admission"
    ]
    assert f["cox"]["treatment"] is None and f["iptw"]["treatment"] is None and f["e_value"] is None
    assert f["naive"]["hr"] is not None  # the naive comparison is still there, to be read with the problem
    assert any(n.startswith("Positivity fails (no IVIG + anakinra with CS patient") for n in f["notes"])
    for m in ("lvef", "strain"):
        assert a["echo"][m]["estimate"] is None and a["echo"][m]["positivity"]["ok"] is False


def test_positivity_holds_with_overlap():
    f = adjusted("--group-by", "anakinra", "--adjust-for", "cv_shock,icu,kd_like")["fever"]
    assert f["positivity"]["ok"] is True and f["positivity"]["problems"] == []
    assert f["cox"]["treatment"] is not None and f["e_value"] is not None


def test_complete_cases_are_counted(d):
    """Two patients without age: left out of every part, counted in the notes; the HR is that of the 44 others."""
    cohort = load_default_cohort()
    ctx = A.prepare(cohort, grouping="anakinra")
    pf = ctx.pf.copy()
    gone = list(pf["patient_id"].iloc[[0, 5]])
    pf.loc[pf["patient_id"].isin(gone), "age_years"] = np.nan
    ctx2 = replace(ctx, pf=pf)
    opts = A.AnalysisOptions(adjust=A.AdjustOptions(adjust_for=("cv_shock", "age_years"), strata="age_band"))
    out = A.run("adjusted", ctx2, opts).to_dict()
    f = out["fever"]
    assert f["n_used"] == 44 and f["n_left_out"] == 2
    assert any("2 patient(s) missing CV shock or age or age band left out (complete cases: 44 of 46" in n
               for n in f["notes"])  # fmt: skip
    keep = ~d["patient_id"].isin(gone)
    dd = d[keep]
    ref = S.cox_adjusted(dd.time_days, dd.event, dd.group, dd[["cv_shock", "age_years"]], group_order=GROUPS)
    assert f["cox"]["treatment"]["hr"] == pytest.approx(ref.estimate, rel=1e-12)
    assert sum(f["stratified_logrank"]["n"].values()) == 44
    echo_n = sum(out["echo"]["lvef"]["n"].values())
    assert echo_n == 40 - int(d[~keep][["lvef_baseline", "lvef_followup"]].notna().all(axis=1).sum())


def test_age_bands():
    assert list(A.adjusted.age_band(pd.Series([0.5, 4.99, 5, 11.9, 12, 17, np.nan]))) == [
        "< 5 years", "< 5 years", "5–11 years", "5–11 years", "≥ 12 years", "≥ 12 years", None,
    ]  # fmt: skip
    s = adjusted("--group-by", "anakinra", "--strata", "age_band")["fever"]["stratified_logrank"]
    assert s["strata"] == "age_band" and s["p_value"] is not None


def test_no_adjusted_key_unless_asked():
    rc, out, _ = analyze("--json", "--group-by", "anakinra")
    assert rc == 0 and "adjusted" not in json.loads(out)


@pytest.mark.parametrize(
    "args, message",
    [
        (("--adjust-for", "cv_shock,weight"), "--adjust-for: unknown covariate(s) 'weight'"),
        (("--strata", "age_years"), "--strata: unknown stratum field 'age_years'"),
        (("--weights", "iptw"), "--weights: weights 'iptw' need covariates"),
        (("--adjust-for", "icu", "--trim", "0.99"), "--trim: trim goes with weights 'iptw'"),
        (("--adjust-for", "icu", "--weights", "iptw", "--trim", "1.5"), "--trim:"),
        (("--adjust-for", "icu,icu"), "a covariate is named twice"),
    ],
)
def test_usage_errors_exit_2_without_traceback(args, message):
    rc, out, err = analyze("--json", "--group-by", "anakinra", *args)
    assert rc == 2 and out == ""
    assert err.startswith("usage: ") and message in err and "Traceback" not in err


def test_text_summary_shows_adjusted_and_positivity():
    """Without --json: the adjusted lines next to the naive one, and the positivity problem instead of an HR (and
    Table 1's categorical rows print their counts)."""
    rc, out, err = analyze("--group-by", "anakinra", "--adjust-for", "cv_shock,age_years", "--weights", "iptw")
    assert rc == 0, err
    assert "naive: HR 0.32 (0.15–0.70)" in out and "adjusted Cox: HR 0.31 (0.14–0.70) p=0.005" in out
    assert "IPTW Cox: HR 0.30 (0.15–0.62)" in out and "E-value 3.90 (CI 1.88)" in out
    assert "Race  " in out and "African American 8" in out
    rc, out, _ = analyze("--group-by", "treatment", *NO_OVERLAP, "--adjust-for", "icu")
    assert rc == 0 and "POSITIVITY: no IVIG + anakinra with CS patient without ICU admission" in out
    assert "adjusted Cox: not given" in out


def test_options_value_is_a_cache_key():
    """The UI caches on the narrowed options: AdjustOptions is hashable and kept by the adjusted analysis only."""
    adj = A.AdjustOptions.parse("cv_shock, age_years", strata="cv_shock", weights="iptw")
    assert adj.adjust_for == ("cv_shock", "age_years") and adj.active and not A.AdjustOptions().active
    opts = A.AnalysisOptions(adjust=adj, fever_threshold=37.5)
    same = A.AdjustOptions.parse("cv_shock,age_years", strata="cv_shock", weights="iptw")
    assert hash(opts) == hash(A.AnalysisOptions(adjust=same, fever_threshold=37.5))
    assert A.ANALYSES["adjusted"].narrow(opts) == opts
    assert A.ANALYSES["fever"].narrow(opts).adjust is None
