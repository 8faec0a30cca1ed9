"""The Adjusted & sensitivity view (issue 17): its cards on the default cohort carry the numbers of the adjusted
analysis, positivity replaces an estimate by a sentence, the specification plot covers every what-if, the page
renders, and a real (suppressed) cohort builds."""

from __future__ import annotations

import pytest

from misc_dash import analyses as A
from misc_dash import filters as F
from misc_dash import views
from misc_dash.analyses.adjusted import AdjustOptions
from misc_dash.loading import load_default_cohort
from misc_dash.views.adjusted import (
    SPEC_ORIGINS,
    SPEC_SUSTAINED,
    SPEC_THRESHOLDS,
    AdjustedOptions,
    adjust_args,
    specification_rows,
)
from misc_dash.vocabulary import confounding_caution


@pytest.fixture(scope="module")
def cohort():
    return load_default_cohort()


@pytest.fixture(scope="module")
def anakinra_cards(cohort):
    vc = views.ViewContext(A.prepare(cohort, grouping="anakinra"), cohort.n_patients)
    opts = AdjustedOptions(adjust_for=("cv_shock", "age_years"))
    return vc, views.build_cards("adjusted", vc, opts)


def _by_key(cards):
    return {c.key: c for c in cards}


def test_adjusted_hr_and_e_value_next_to_the_naive_one(cohort, anakinra_cards):
    _, cards = anakinra_cards
    ref = A.run(
        "adjusted",
        A.prepare(cohort, grouping="anakinra"),
        A.AnalysisOptions(adjust=AdjustOptions(adjust_for=("cv_shock", "age_years"), weights="iptw")),
    ).fever
    card = _by_key(cards)["adjusted.hr"]
    results = {t.what.split(" (")[0]: t.result for t in card.tests}
    naive = results["Naive Cox"]
    cox = results["Cox adjusted for CV shock, age"]
    ipw = results["Weighted Cox"]
    assert (naive.estimate, naive.ci_low, naive.ci_high, naive.p_value) == (
        ref.naive.estimate, ref.naive.ci_low, ref.naive.ci_high, ref.naive.p_value,
    )  # fmt: skip
    assert (cox.estimate, cox.ci_low, cox.ci_high, cox.p_value) == (
        ref.cox.estimate, ref.cox.ci_low, ref.cox.ci_high, ref.cox.p_value,
    )  # fmt: skip
    assert ipw.estimate == ref.iptw_cox.estimate and ipw.p_value == ref.iptw_cox.p_value
    metrics = {m.label: m.value for m in card.metrics}
    assert metrics["Naive HR (95% CI)"] == "0.32 (0.15–0.70)"
    assert metrics["Adjusted HR (95% CI)"] == "0.31 (0.14–0.70)"
    assert metrics["E-value (point / CI limit)"] == f"{ref.e_value.point:.2f} / {ref.e_value.ci:.2f}" == "3.90 / 1.88"
    assert "unmeasured confounder" in card.lead
    # the figure shows the three estimates side by side, each with its CI
    (trace,) = [t for t in card.figure.data if t.error_x is not None and t.error_x.array is not None]
    assert list(trace.x) == pytest.approx([ref.naive.estimate, ref.cox.estimate, ref.iptw_cox.estimate])
    assert confounding_caution("anakinra") in card.caveats
    assert "--adjust-for cv_shock,age_years --weights iptw" in card.reproduce
    assert {"adjusted.balance", "adjusted.overlap", "adjusted.weighted_km", "adjusted.subgroups"} <= set(_by_key(cards))


def test_every_figure_is_small_and_every_p_says_its_test(anakinra_cards):
    _, cards = anakinra_cards
    for c in cards:
        assert (c.figure is None) == (c.key == "adjusted.echo"), c.key  # the echo card is its test lines
        if c.figure is not None:
            assert len(c.figure.to_json()) < 1_000_000, c.key
            assert not any(t["type"] == "scattergl" for t in c.figure.to_dict()["data"]), c.key
        for t in c.tests:
            if t.result is not None and t.result.p_value is not None:
                assert t.result.test and all(n > 0 for n in t.result.n), (c.key, t.what)
        assert c.methods and c.reproduce.startswith("python -m misc_dash analyze"), c.key


def test_subgroups_flag_small_strata_and_give_the_interaction_p(anakinra_cards):
    _, cards = anakinra_cards
    card = _by_key(cards)["adjusted.subgroups"]
    whats = [t.what for t in card.tests]
    assert whats == ["Interaction group × phenotype", "Interaction group × CV shock", "Interaction group × age band"]
    assert all(t.result is not None and 0 <= t.result.p_value <= 1 and t.result.df >= 1 for t in card.tests)
    assert card.warnings and "Small subgroups" in card.warnings[0]
    table = card.tables[0].df
    assert set(table["Subgroup"]) == {"phenotype", "CV shock", "age band"}


def test_positivity_shows_a_sentence_instead_of_an_estimate(cohort):
    flt = F.CohortFilter(treatment=("IVIG monotherapy", "IVIG + anakinra with CS"))
    vc = views.ViewContext(A.prepare(cohort, flt, "treatment"), cohort.n_patients)
    card = _by_key(views.build_cards("adjusted", vc, AdjustedOptions(adjust_for=("icu",))))["adjusted.hr"]
    sentence = "No IVIG + anakinra with CS patient without ICU admission: the comparison cannot be adjusted for ICU"
    assert any(w.startswith(sentence) for w in card.warnings)
    adjusted = next(t for t in card.tests if t.what.startswith("Cox adjusted"))
    assert adjusted.result is None and "positivity fails" in adjusted.missing
    weighted = next(t for t in card.tests if t.what.startswith("Weighted Cox"))
    assert weighted.result is None
    labels = {m.label for m in card.metrics}
    assert "Adjusted HR (95% CI)" not in labels and not any(lab.startswith("E-value") for lab in labels)
    assert "Naive HR (95% CI)" in labels  # the naive comparison is still there
    assert "adjusted.weighted_km" not in _by_key(
        views.build_cards("adjusted", vc, AdjustedOptions(adjust_for=("icu",)))
    )


def test_three_groups_say_two_are_needed(cohort):
    vc = views.ViewContext(A.prepare(cohort, grouping="treatment"), cohort.n_patients)
    cards = views.build_cards("adjusted", vc, AdjustedOptions(strata="cv_shock"))
    assert [c.key for c in cards] == ["adjusted.groups"]
    assert "compare two groups" in cards[0].warnings[0]
    assert cards[0].tests[0].result.p_value is not None  # the stratified log-rank works for any number of groups


def test_specification_grid_has_every_combination(anakinra_cards):
    vc, cards = anakinra_cards
    rows = specification_rows(vc)
    combos = {(r["origin"], r["threshold"], r["sustained"]) for r in rows}
    assert combos == {(o, t, s) for o in SPEC_ORIGINS for t in SPEC_THRESHOLDS for s in SPEC_SUSTAINED}
    assert len(rows) == 20 and sum(r["default"] for r in rows) == 1
    default = next(r for r in rows if r["default"])
    fever = vc.run("fever", A.AnalysisOptions(cox=True))
    assert default["hr"] == fever.cox.estimate and default["logrank"].p_value == fever.logrank.p_value
    card = _by_key(cards)["adjusted.specification"]
    assert len(card.tables[0].df) == 20
    names = {t.name for t in card.figure.data}
    assert names == {"Default (the Fever page's settings)", "Other specifications"}


def test_adjust_args_are_the_analyze_flags():
    adj = AdjustedOptions(strata="age_band", adjust_for=("cv_shock", "icu"), trim=0.99, firth=True).adjust_options()
    assert adj_args_text(adj) == "--strata age_band --adjust-for cv_shock,icu --weights iptw --trim 0.99 --firth"
    assert AdjustedOptions(adjust_for=()).adjust_options().weights is None  # IPTW needs covariates


def adj_args_text(adj) -> str:
    return " ".join(adjust_args(adj))


def test_reproduce_command_gives_the_same_numbers(cohort, anakinra_cards):
    import json
    import shlex
    import subprocess
    import sys

    _, cards = anakinra_cards
    card = _by_key(cards)["adjusted.hr"]
    args = shlex.split(card.reproduce)
    out = subprocess.run([sys.executable, *args[1:]], capture_output=True, text=True, check=True).stdout
    cox = json.loads(out)["adjusted"]["fever"]["cox"]["treatment"]
    ref = next(t.result for t in card.tests if t.what.startswith("Cox adjusted"))
    assert cox["hr"] == pytest.approx(ref.estimate, rel=1e-9)


def test_real_cohort_builds_with_suppression():
    from misc_dash import privacy as P
    from misc_dash.loading import DEFAULT_COHORT_DIR, validate_files

    c, problems = validate_files([(p.name, p.read_bytes()) for p in sorted(DEFAULT_COHORT_DIR.glob("*.csv"))])
    assert c is not None and not c.synthetic, problems
    vc = views.ViewContext(
        A.prepare(c, grouping="anakinra"), c.n_patients, cohort_name=c.name, is_synthetic=False,
        suppression=P.PRESETS["5"],
    )  # fmt: skip
    cards = views.build_cards("adjusted", vc, AdjustedOptions(adjust_for=("cv_shock", "age_years")))
    assert cards and all(c.privacy for c in cards)


def test_page_renders():
    from test_app import start

    at = start("pages/adjusted.py")
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown) + "\n".join(w.value for w in at.warning)
    assert "two groups" in text  # the default grouping (treatment) has three groups


def test_page_compares_by_anakinra_with_every_card():
    from test_app import plotly_specs, start

    at = start("pages/adjusted.py")
    at.multiselect(key="adj_for").set_value(["cv_shock", "age_years"]).run()
    assert not at.exception, [e.message for e in at.exception]
    at.selectbox(key="compare_by").set_value("anakinra").run()  # last: a later widget change resets it in AppTest
    assert not at.exception, [e.message for e in at.exception]
    text = "\n".join(m.value for m in at.markdown)
    assert "unmeasured confounder" in text  # the E-value line of the adjusted HR
    assert len(plotly_specs(at)) == 6  # HR comparison, balance, overlap, weighted KM, subgroups, specifications


# ------------------------------------------------------------------------------- "adjust for …" on Fever, Cardiac
def test_fever_adjust_for_switches_the_between_group_line(cohort):
    """Fever, grouped by anakinra, adjusted for CV shock and age: the first line is the adjusted Cox HR (R
    coxph(Surv(t, e) ~ anakinra + cv_shock + age_years, ties = "efron") on tests/data/default_cohort_adjusted.csv:
    HR 0.308, 95% CI 0.135–0.700, p 0.0049; tests/r/adjusted_reference.R), next to the unadjusted one on the same
    patients, with the E-value; the log-rank says it is unadjusted; the reproduce command carries the flags."""
    from misc_dash.views import FeverOptions

    vc = views.ViewContext(A.prepare(cohort, grouping="anakinra"), cohort.n_patients)
    (card,) = views.build_cards("fever", vc, FeverOptions(adjust_for=("cv_shock", "age_years")))
    first, naive, logrank = card.tests[:3]
    assert first.what.startswith("Cox adjusted for CV shock, age")
    assert first.result.estimate == pytest.approx(0.3077, abs=5e-4)
    assert (first.result.ci_low, first.result.ci_high) == pytest.approx((0.135, 0.700), abs=5e-3)
    assert first.result.p_value == pytest.approx(0.0049, abs=1e-4)
    assert naive.result.estimate == pytest.approx(0.3207, abs=5e-4)
    assert logrank.what == "Overall (unadjusted)"
    assert any("unmeasured confounder" in n for n in card.notices)
    assert any("Confounding by indication" in c for c in card.caveats)
    assert "--adjust-for cv_shock,age_years" in card.reproduce


def test_fever_adjust_for_says_when_positivity_fails(cohort):
    """IVIG monotherapy vs IVIG + anakinra with corticosteroids, adjusted for ICU: no IVIG-only child was in the
    ICU, so there is no adjusted number, only the sentence saying why."""
    from misc_dash.views import FeverOptions

    flt = F.CohortFilter(treatment=("IVIG monotherapy", "IVIG + anakinra with CS"))
    vc = views.ViewContext(A.prepare(cohort, flt, "treatment"), cohort.n_patients)
    (card,) = views.build_cards("fever", vc, FeverOptions(adjust_for=("icu",)))
    first = card.tests[0]
    assert first.result is None and "positivity fails" in first.missing
    assert card.warnings and "ICU" in card.warnings[0]


def test_cardiac_adjust_for_switches_the_between_group_line(cohort):
    """Cardiac, by anakinra, adjusted for CV shock: the follow-up LVEF difference adjusted for baseline LVEF and CV
    shock (R lm(followup ~ group + baseline + cv_shock)) is the first line, the Mann–Whitney of the change under it
    marked unadjusted; the numbers are the analysis' own (adjusted.echo.lvef in the analyze JSON)."""
    from misc_dash.views import CardiacOptions

    vc = views.ViewContext(A.prepare(cohort, grouping="anakinra"), cohort.n_patients)
    change = views.build_cards("cardiac", vc, CardiacOptions(adjust_for=("cv_shock",)))[-1]
    first, unadjusted = change.tests
    assert "adjusted for baseline LVEF, CV shock" in first.what
    expected = vc.run("adjusted", CardiacOptions(adjust_for=("cv_shock",)).analysis_options()).echo["lvef"].result
    assert first.result.estimate == expected.estimate and first.result.p_value == expected.p_value
    assert unadjusted.what.endswith("(unadjusted)") and unadjusted.result.test.startswith("Mann–Whitney")
    assert "--adjust-for cv_shock" in change.reproduce


def test_fever_and_cardiac_pages_adjust_for():
    from test_app import start

    for page, key, needle in (
        ("pages/fever.py", "fever_adjust", "Cox adjusted for CV shock"),
        ("pages/cardiac.py", "cardiac_adjust", "adjusted for baseline"),
    ):
        at = start(page)
        at.multiselect(key=key).set_value(["cv_shock"]).run()
        at.selectbox(key="compare_by").set_value("anakinra").run()
        assert not at.exception, [e.message for e in at.exception]
        text = "\n".join(m.value for m in at.markdown)
        assert needle in text, page


def test_adjusted_page_has_the_echo_card(anakinra_cards):
    """LVEF and strain at follow-up adjusted for baseline and the covariates (R lm(followup ~ group + baseline +
    cv_shock + age_years)), the same numbers as the analysis' adjusted.echo."""
    vc, cards = anakinra_cards
    card = _by_key(cards)["adjusted.echo"]
    res = vc.run("adjusted", AdjustedOptions(adjust_for=("cv_shock", "age_years")).analysis_options())
    assert [t.result.estimate for t in card.tests] == [res.echo[m].result.estimate for m in ("lvef", "strain")]
    assert all("adjusted for baseline" in t.what for t in card.tests)


def test_echo_card_adds_van_elteren_with_a_stratum(cohort):
    """With a stratum chosen, the echo card gives, under each adjusted difference, van Elteren's stratified test of
    the change (its p with test and n; the effect is the adjusted difference above it) and the Mantel–Haenszel odds
    ratio of a normal follow-up value with its CI; neither without a stratum."""
    vc = views.ViewContext(A.prepare(cohort, grouping="anakinra"), cohort.n_patients)
    card = next(
        c for c in views.build_cards("adjusted", vc, AdjustedOptions(strata="cv_shock")) if c.key == "adjusted.echo"
    )
    lines = [(t.what, t.result) for t in card.tests]
    assert [w for w, _ in lines] == [
        "Follow-up LVEF, second − first group, adjusted for baseline LVEF, CV shock",
        "Change in LVEF, within the strata of CV shock",
        "Normal LVEF at follow-up (≥ 55%), within the strata of CV shock",
        "Follow-up Ap4 strain, second − first group, adjusted for baseline Ap4 strain, CV shock",
        "Change in Ap4 strain, within the strata of CV shock",
        "Normal Ap4 strain at follow-up (≤ -21.4%), within the strata of CV shock",
    ]
    assert lines[0][1].test == "Linear model (follow-up ~ group + baseline + CV shock)"  # labels, not field names
    ve = lines[1][1]
    assert ve.test == "Van Elteren stratified Wilcoxon (by CV shock)" and ve.n == (13, 27)
    assert ve.p_value == pytest.approx(0.984067079177334048, rel=1e-10)  # R, see test_analyze_adjusted.py
    mh = lines[2][1]  # an effect with its CI next to the p
    assert mh.effect == "common odds ratio (With anakinra vs Without anakinra)" and mh.n == (13, 27)
    assert (mh.estimate, mh.ci_low, mh.ci_high) == pytest.approx((0.6518518518518519, 0.04337390282773361,
                                                                  9.79646305868046952), rel=1e-10)  # fmt: skip
    assert "van Elteren" in card.methods and "Mantel–Haenszel" in card.methods
    plain = next(c for c in views.build_cards("adjusted", vc, AdjustedOptions()) if c.key == "adjusted.echo")
    assert not [t for t in plain.tests if "strata" in t.what]
