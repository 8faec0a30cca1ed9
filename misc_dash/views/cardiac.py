"""Cardiac page: LVEF and Ap4 strain trajectories, paired before/after, Wilcoxon per group, change between groups."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import analyses as A
from .. import figures
from ..cards import Card, CardTable, TestLine
from ..vocabulary import ECHO_MEASURE_NAMES
from .common import ViewContext

CHARTS = ("Trajectories over time", "Before and after (paired)")


@dataclass(frozen=True)
class CardiacOptions:
    measure: str = "lvef"  # lvef | strain
    xaxis: str = "day"  # day | day_since_treatment
    followup: str = "last"  # last | nearest
    followup_day: int = 10  # for "nearest"
    lvef_normal: float = 55.0
    strain_normal: float = -21.4
    chart: str = CHARTS[0]  # which chart to build (only one is drawn at a time)

    def analysis_options(self) -> A.AnalysisOptions:
        return A.AnalysisOptions(
            echo_followup="last" if self.followup == "last" else int(self.followup_day),
            lvef_normal=self.lvef_normal,
            strain_normal=self.strain_normal,
        )


PAIRED_METHODS = (
    "Wilcoxon matched-pairs signed-rank test (two-sided, follow-up − baseline; zero differences dropped; exact when "
    "there are fewer than 50 pairs and no ties or zeros, otherwise normal approximation with continuity correction). "
    "Statistic V = sum of positive ranks, as in R. Pseudo-median = Hodges–Lehmann estimate of the change with its "
    "95% CI (R wilcox.test(conf.int = TRUE)); 'pairs with a change' = the non-zero differences the test ranks. "
    "'Normal' = share of patients meeting the threshold (exact 95% CI in the data)."
)
CHANGE_METHODS = (
    "Mann–Whitney U (2 groups) or Kruskal–Wallis (3+ groups) on the per-patient change. Groups differ in severity at "
    "baseline (confounding by indication): a larger change can reflect more room to improve."
)


def build_cardiac_cards(vc: ViewContext, options: CardiacOptions = CardiacOptions()) -> list[Card]:
    opts = options.analysis_options()
    er = vc.run("echo", opts, measure=options.measure)
    name = ECHO_MEASURE_NAMES[options.measure]
    if er.trajectories.empty:
        return [Card("cardiac.empty", warnings=(f"No {name} measurements for this selection.",))]
    common = vc.card_fields(opts)
    colors = vc.colors()
    if options.chart == CHARTS[0]:
        sign = "≥" if options.measure == "lvef" else "≤"
        fig = figures.build_echo_trajectories(
            er.trajectories, vc.groups, er.measure, er.normal_threshold, x=options.xaxis, colors=colors
        )
        note = figures.summary_note(fig)
        if note is None:
            caption = (
                f"{name}: one thin line per patient; thick line = the median of the patients' trajectories, each "
                "interpolated linearly between that patient's own echoes (not beyond them), drawn on days with at "
                f"least {figures.MIN_MEDIAN_N} patients' trajectories; dotted line = normal "
                f"({sign} {er.normal_threshold:g} %). Cohort: {vc.description}."
            )
        else:
            caption = (
                f"{name}: {note}. The median and bands are of the patients' trajectories, each interpolated linearly "
                "between that patient's own echoes (not beyond them), on days with at least "
                f"{figures.MIN_MEDIAN_N} patients' trajectories; dotted line = normal "
                f"({sign} {er.normal_threshold:g} %). Cohort: {vc.description}."
            )
        chart = Card(
            "cardiac.trajectories",
            title=f"{name} over time",
            heading=False,
            figure=fig,
            figure_key="traj",
            caption=caption,
            **common,
        )
    else:
        tests = {eg.group: eg.test for eg in er.groups}
        fig = figures.build_paired_slope(
            er.pairs, vc.groups, er.measure, er.normal_threshold, tests=tests, colors=colors
        )
        note = figures.summary_note(fig)
        shown = "per patient" if note is None else f"({note})"
        chart = Card(
            "cardiac.paired",
            title=f"{name}: first vs follow-up echo",
            heading=False,
            figure=fig,
            figure_key="slope",
            caption=(
                f"{name}: first echo (left) and {er.followup} echo (right) {shown}, one panel per group; "
                "diamonds = group medians; Wilcoxon p and number of pairs above each panel; dotted line = normal. "
                f"Cohort: {vc.description}."
            ),
            **common,
        )
    rows = [
        {
            "Group": eg.group,
            "Patients": eg.n_patients,
            "Pairs": eg.n_pairs,
            "Pairs with a change": int(eg.test.extra("non-zero pairs")) if eg.test else 0,
            "Baseline, median [Q1, Q3]": eg.baseline.text(1),
            "Follow-up, median [Q1, Q3]": eg.followup.text(1),
            "Change, median [Q1, Q3]": eg.change.text(1),
            "Change, pseudo-median (95% CI)": eg.test.estimate_text(1)
            if eg.test and eg.test.estimate is not None
            else "—",
            "Days between echoes": eg.interval.text(0),
            "Normal at baseline": eg.normal_baseline.text(),
            "Normal at follow-up": eg.normal_followup.text(),
            "Test": eg.test.test if eg.test else "no pairs",
            "p": eg.test.p_text() if eg.test else "n/a",
        }
        for eg in er.groups
    ]
    tables = [
        CardTable(
            pd.DataFrame(rows),
            formats={"Patients": "count", "Pairs": "count", "Pairs with a change": "count", "p": "p"},
        )
    ]
    if len(er.unpaired):
        tables.append(
            CardTable(
                er.unpaired.rename(
                    columns={
                        "patient_id": "Patient",
                        "n_studies": "Studies with this measure",
                        "reason": "Reason",
                        "group": "Group",
                    }
                ),
                kind="details",
                label=f"{len(er.unpaired)} patient(s) without a pair (not in the paired analysis)",
                key="cardiac_unpaired",
            )
        )
    paired = Card(
        "cardiac.before_after",
        title=f"Before and after — first echo vs {er.followup} echo",
        tables=tuple(tables),
        tests=tuple(
            TestLine(f"{eg.group}: {name} baseline vs follow-up", eg.test) for eg in er.groups if eg.test is not None
        ),
        methods=PAIRED_METHODS,
        **common,
    )
    change = Card(
        "cardiac.change",
        title="Did one group improve more? (change from baseline, between groups)",
        tests=(TestLine(f"Change in {name}", er.change_test),),
        methods=CHANGE_METHODS,
        **common,
    )
    return [chart, paired, change]
