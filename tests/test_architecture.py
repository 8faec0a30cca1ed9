"""The structure the features stand on: a pure core without streamlit, one analysis registry, one filter-field
registry (sidebar, CohortFilter, URL, CLI all generated from it), and cards for every view whose reproduce command
gives the same numbers."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from misc_dash import analyses as A
from misc_dash import filters as F
from misc_dash import views
from misc_dash.__main__ import build_parser, main
from misc_dash.cards import Card
from misc_dash.loading import load_default_cohort

ROOT = Path(__file__).resolve().parents[1]
CORE = [
    "misc_dash.analyses",
    "misc_dash.cards",
    "misc_dash.compat",
    "misc_dash.derive",
    "misc_dash.fidelity",
    "misc_dash.figures",
    "misc_dash.filters",
    "misc_dash.formatting",
    "misc_dash.literature",
    "misc_dash.loading",
    "misc_dash.plotspec",
    "misc_dash.stats",
    "misc_dash.views",
    "misc_dash.vocabulary",
    "misc_dash.__main__",
]


@pytest.fixture(scope="module")
def cohort():
    return load_default_cohort()


def test_core_does_not_import_streamlit():
    """Only misc_dash.ui imports streamlit: the core runs headless (CLI, reports, tests) without it."""
    code = f"import sys; import {', '.join(CORE)}; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------------------------ analyses
def test_every_registered_analysis_runs(cohort):
    ctx = A.prepare(cohort, grouping="treatment")
    for name, spec in A.ANALYSES.items():
        params = {k: v[0] for k, v in spec.params.items()}
        assert A.run(name, ctx, A.AnalysisOptions(), **params) is not None, name


def test_analyze_json_keys_come_from_the_registry(cohort):
    out = A.analyze_to_dict(cohort, F.CohortFilter())
    json_keys = [s.json_key for s in A.ANALYSES.values() if s.json_key]
    always = [s.json_key for s in A.ANALYSES.values() if s.json_key and s.in_json is None]
    assert [k for k in out if k in json_keys] == always
    assert always == ["table1", "fever", "echo", "cytokines", "adverse_events", "anakinra", "labs_first_value"]
    # "adjusted" is written only when an adjustment is asked for (--strata / --adjust-for / --weights)
    assert json_keys == [*always, "adjusted"]
    asked = A.AnalysisOptions(adjust=A.AdjustOptions(strata="cv_shock"))
    assert list(A.analyze_to_dict(cohort, F.CohortFilter(), opts=asked))[-1] == "adjusted"


def test_narrowed_options_keep_only_what_an_analysis_reads():
    opts = A.AnalysisOptions(fever_threshold=37.5, lvef_normal=50.0, cox=True)
    assert A.ANALYSES["table1"].narrow(opts) == A.AnalysisOptions()
    assert A.ANALYSES["fever"].narrow(opts) == A.AnalysisOptions(fever_threshold=37.5, cox=True)
    assert A.ANALYSES["echo"].narrow(opts) == A.AnalysisOptions(lvef_normal=50.0)


def test_unknown_analysis_parameter_is_refused(cohort):
    with pytest.raises(KeyError):
        A.run("fever", A.prepare(cohort), measure="lvef")


def test_confounding_caution_one_rule_for_screen_and_json(cohort):
    """The caution is shown for treatment, anakinra and custom groupings, on screen and in the JSON alike."""
    from misc_dash.vocabulary import CONFOUNDING_NOTE, confounding_applies

    for by in F.GROUP_BY_CHOICES:
        if by == "custom":
            continue
        vc = views.ViewContext(A.prepare(cohort, grouping=by), cohort.n_patients)
        header = views.build_header(vc, "t")
        out = A.analyze_to_dict(cohort, F.CohortFilter(), by)
        assert (header.caution == CONFOUNDING_NOTE) == confounding_applies(by) == (out["caution"] is not None), by


# ------------------------------------------------------------------------------------------------ filters
def test_filter_fields_generate_the_filter_value():
    attrs = [a for f in F.FILTER_FIELDS for a in f.attrs]
    assert [f.name for f in fields(F.CohortFilter)] == attrs
    assert len({f.url_key for f in F.FILTER_FIELDS}) == len(F.FILTER_FIELDS)


@pytest.mark.parametrize(
    "flt",
    [
        F.CohortFilter(),
        F.CohortFilter(phenotype=("CV shock", "KDSS-like"), age_min=5.0, age_max=12.0),
        F.CohortFilter(treatment=("IVIG monotherapy",), sex=("F",), icu=("Yes",), race=("African American",)),
        F.CohortFilter(pcr=("No", "Not recorded"), cs=("With CS",), ethnicity=("Latin-American",)),
    ],
)
def test_every_filter_field_has_a_cli_flag_and_round_trips(flt):
    """CohortFilter → analyze flags → parsed back: the same filter (every field has a flag)."""
    from misc_dash.__main__ import _filter_from_args

    args = build_parser().parse_args(["analyze", *flt.to_cli_args()])
    assert _filter_from_args(args) == flt
    assert F.CohortFilter.from_query_params(flt.to_query_params()) == flt


def test_filter_descriptions_read_as_words():
    flt = F.CohortFilter(pcr=("Not recorded", "Yes"), icu=("No",))
    assert flt.describe(3) == "PCR not recorded or positive, ICU no — n = 3"


# ------------------------------------------------------------------------------------------------ cards
SELECTIONS = [
    ("treatment", F.CohortFilter()),
    ("anakinra", F.CohortFilter(phenotype=("CV shock", "KDSS-like"))),
    ("cv_shock", F.CohortFilter(age_min=5.0)),
]


@pytest.mark.parametrize("by, flt", SELECTIONS)
@pytest.mark.parametrize("name", list(views.VIEWS))
def test_every_view_builds_cards(cohort, name, by, flt):
    vc = views.ViewContext(A.prepare(cohort, flt, by), cohort.n_patients)
    cards = views.build_cards(name, vc)
    assert cards and all(isinstance(c, Card) for c in cards)
    assert len({c.key for c in cards}) == len(cards)
    for c in cards:
        if c.key.startswith("literature.case003"):
            continue  # one published case, not the cohort
        assert c.cohort == vc.description and c.source and c.synthetic
        assert c.reproduce.startswith("python -m misc_dash analyze ") and c.reproduce.endswith(" --json")
        for t in c.tables:
            assert len(t.df.columns) > 0


def _analyze(command: str) -> dict:
    import shlex

    argv = shlex.split(command)[3:]  # drop "python -m misc_dash"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(argv) == 0
    return json.loads(buf.getvalue())


def test_fever_card_reproduce_command_gives_its_numbers(cohort):
    flt = F.CohortFilter(phenotype=("CV shock", "KDSS-like", "KD-like"))
    options = views.FeverOptions(origin="treatment", threshold=37.8, sustained=True, cox=True)
    vc = views.ViewContext(A.prepare(cohort, flt, "anakinra"), cohort.n_patients)
    (card,) = views.build_cards("fever", vc, options)
    out = _analyze(card.reproduce)
    assert out["description"] == card.cohort
    assert out["fever"]["threshold_c"] == 37.8 and out["fever"]["sustained_hours"] == 24.0
    results = card.test_results
    assert out["fever"]["logrank"]["p_value"] == results[0].p_value
    assert out["fever"]["cox"]["estimate"] == results[-1].estimate


def test_cardiac_card_reproduce_command_gives_its_numbers(cohort):
    options = views.CardiacOptions(measure="strain", followup="nearest", followup_day=7, strain_normal=-20.0)
    vc = views.ViewContext(A.prepare(cohort, F.CohortFilter(sex=("M",)), "treatment"), cohort.n_patients)
    cards = views.build_cards("cardiac", vc, options)
    paired = next(c for c in cards if c.key == "cardiac.before_after")
    out = _analyze(paired.reproduce)
    groups = out["echo"]["strain"]["groups"]
    for line in paired.tests:
        group = line.what.split(":")[0]
        assert groups[group]["p_value"] == line.result.p_value
    assert out["echo"]["strain"]["normal_threshold"] == -20.0


def test_custom_groups_reproduce_command(cohort):
    grouping = F.Grouping(by="custom", a=F.CohortFilter(phenotype=("CV shock",)), b=F.CohortFilter(sex=("F",)))
    vc = views.ViewContext(A.prepare(cohort, F.CohortFilter(), grouping), cohort.n_patients)
    (card,) = views.build_cards("table1", vc)
    out = _analyze(card.reproduce)
    assert out["group_sizes"] == vc.ctx.group_sizes()
    assert out["custom_groups"]["Group A"] == {"phenotype": "CV shock"}
