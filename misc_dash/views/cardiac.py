"""Cardiac page: LVEF and Ap4 strain trajectories, paired before/after, Wilcoxon per group, change between groups."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from .. import analyses as A
from .. import figures, privacy
from ..analyses.adjusted import LABELS
from ..cards import Card, CardTable, TestLine
from ..vocabulary import ECHO_MEASURE_NAMES, confounding_caution
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
    adjust_for: tuple[str, ...] = ()  # "adjust for …": the between-group line becomes the adjusted difference

    def analysis_options(self) -> A.AnalysisOptions:
        return A.AnalysisOptions(
            echo_followup="last" if self.followup == "last" else int(self.followup_day),
            lvef_normal=self.lvef_normal,
            strain_normal=self.strain_normal,
            adjust=A.AdjustOptions(adjust_for=tuple(self.adjust_for)) if self.adjust_for else None,
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


def cardiac_counts(vc: ViewContext, er) -> privacy.Shown:
    """Small-cell suppression of the cardiac page: per group, its patients (the group's size, fixed) = pairs +
    patients without a pair (the patient-level list's count: free text); pairs = pairs with a change + pairs
    without one (a test note's count: free text); per share "k/n normal", k + the others = n (n = the pairs when
    every pair has the value); the patients with this measure per group (the trajectory chart's legend)."""
    c = privacy.Counts(vc.policy)
    privacy.add_fixed(c, privacy.fixed_from(vc.sizes, [("group", g) for g in vc.groups]))
    c.add("unpaired", len(er.unpaired))  # the patient-level list's label
    unpaired = []
    for eg in er.groups:
        g = eg.group
        changed = int(eg.test.extra("non-zero pairs")) if eg.test else 0
        c.add(("pairs", g), eg.n_pairs).add(("changed", g), changed).add(("unchanged", g), eg.n_pairs - changed)
        c.line([("changed", g), ("unchanged", g)], ("pairs", g))
        c.add(("unpaired", g), max(eg.n_patients - eg.n_pairs, 0), derived=True, primary=False)
        unpaired.append(("unpaired", g))
        if eg.n_patients == vc.ctx.group_sizes().get(g):
            c.line([("pairs", g), ("unpaired", g)], ("group", g))
        for what, share in (("normal_baseline", eg.normal_baseline), ("normal_followup", eg.normal_followup)):
            n_key = ("pairs", g) if share.n == eg.n_pairs else (what, "n", g)
            if n_key not in c:
                c.add(n_key, share.n)
            c.add((what, "k", g), share.k).add((what, "rest", g), share.n - share.k, derived=True)
            c.line([(what, "k", g), (what, "rest", g)], n_key)
    if sum(c.value(k) for k in unpaired) == len(er.unpaired):
        c.line(unpaired, "unpaired")
    measured = er.trajectories.groupby("group")["patient_id"].nunique()
    for g in vc.groups:
        c.add(("measured", g), int(measured.get(g, 0)))
    return c.protect()


def _share_text(shown: privacy.Shown | None, share, what: str, g: str, n_pairs: int) -> str:
    """ "9/12 (75%)" as the small-cell rule shows it."""
    if shown is None:
        return share.text()
    if not share.n:
        return share.text()
    n_key = ("pairs", g) if share.n == n_pairs else (what, "n", g)
    k_key = (what, "k", g)
    k, n = shown.text(k_key), shown.text(n_key)
    p = shown.percent(k_key, n_key, also=((what, "rest", g),))
    return f"{k}/{n} ({p})" if p is not None else f"{k}/{n}"


def build_cardiac_cards(vc: ViewContext, options: CardiacOptions = CardiacOptions()) -> list[Card]:
    opts = options.analysis_options()
    er = vc.run("echo", opts, measure=options.measure)
    name = ECHO_MEASURE_NAMES[options.measure]
    if er.trajectories.empty:
        return [Card("cardiac.empty", warnings=(f"No {name} measurements for this selection.",))]
    common = vc.card_fields(opts)
    colors = vc.colors()
    shown = cardiac_counts(vc, er) if vc.policy is not None else None
    pair_counts = None if shown is None else privacy.GroupCounts.of(shown, {g: ("pairs", g) for g in vc.groups})
    if options.chart == CHARTS[0]:
        sign = "≥" if options.measure == "lvef" else "≤"
        counts = None if shown is None else privacy.GroupCounts.of(shown, {g: ("measured", g) for g in vc.groups})
        fig = figures.build_echo_trajectories(
            er.trajectories, vc.groups, er.measure, er.normal_threshold, x=options.xaxis, colors=colors, counts=counts
        )
        note = figures.summary_note(fig)
        min_n = figures.median_min_n(counts)
        if note is None:
            caption = (
                f"{name}: one thin line per patient; thick line = the median of the patients' trajectories, each "
                "interpolated linearly between that patient's own echoes (not beyond them), drawn on days with at "
                f"least {min_n} patients' trajectories; dotted line = normal "
                f"({sign} {er.normal_threshold:g} %). Cohort: {vc.description}."
            )
        else:
            caption = (
                f"{name}: {note}. The median and bands are of the patients' trajectories, each interpolated linearly "
                "between that patient's own echoes (not beyond them), on days with at least "
                f"{min_n} patients' trajectories; dotted line = normal "
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
        tests = {eg.group: _pair_test(eg.test, eg.group, shown) for eg in er.groups}
        fig = figures.build_paired_slope(
            er.pairs, vc.groups, er.measure, er.normal_threshold, tests=tests, colors=colors, counts=pair_counts
        )
        note = figures.summary_note(fig)
        drawn = "per patient" if note is None else f"({note})"
        chart = Card(
            "cardiac.paired",
            title=f"{name}: first vs follow-up echo",
            heading=False,
            figure=fig,
            figure_key="slope",
            caption=(
                f"{name}: first echo (left) and {er.followup} echo (right) {drawn}, one panel per group; "
                "diamonds = group medians; Wilcoxon p and number of pairs above each panel; dotted line = normal. "
                f"Cohort: {vc.description}."
            ),
            **common,
        )
    rows = [
        {
            "Group": eg.group,
            "Patients": eg.n_patients if shown is None else shown.text(("group", eg.group), eg.n_patients),
            "Pairs": eg.n_pairs if shown is None else shown.text(("pairs", eg.group)),
            "Pairs with a change": (int(eg.test.extra("non-zero pairs")) if eg.test else 0)
            if shown is None
            else shown.text(("changed", eg.group)),
            "Baseline, median [Q1, Q3]": eg.baseline.text(1),
            "Follow-up, median [Q1, Q3]": eg.followup.text(1),
            "Change, median [Q1, Q3]": eg.change.text(1),
            "Change, pseudo-median (95% CI)": eg.test.estimate_text(1)
            if eg.test and eg.test.estimate is not None
            else "—",
            "Days between echoes": eg.interval.text(0),
            "Normal at baseline": _share_text(shown, eg.normal_baseline, "normal_baseline", eg.group, eg.n_pairs),
            "Normal at follow-up": _share_text(shown, eg.normal_followup, "normal_followup", eg.group, eg.n_pairs),
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
            TestLine(f"{eg.group}: {name} baseline vs follow-up", _pair_test(eg.test, eg.group, shown))
            for eg in er.groups
            if eg.test is not None
        ),
        methods=PAIRED_METHODS,
        **common,
    )
    change_line = TestLine(f"Change in {name}", _change_test(er.change_test, shown))
    if options.adjust_for:
        change = _adjusted_change_card(vc, opts, options.measure, change_line, shown, common)
    else:
        change = Card(
            "cardiac.change",
            title="Did one group improve more? (change from baseline, between groups)",
            tests=(change_line,),
            methods=CHANGE_METHODS,
            **common,
        )
    return [chart, paired, change]


ADJUSTED_CHANGE_METHODS = (
    "Adjust for …: linear model of the follow-up value on the group, the baseline value and the chosen covariates "
    "(R lm(followup ~ group + baseline + covariates)); the group coefficient = the follow-up difference, second "
    "group minus first, at equal baseline, with its t-based 95% CI and p. Adjusting for baseline answers the "
    "change score's problem (a child starting lower has more room to improve). Complete cases; only when every "
    "combination of the categorical covariates has patients in both groups (positivity)."
)


def _adjusted_change_card(vc: ViewContext, opts, measure: str, unadjusted: TestLine, shown, common: dict) -> Card:
    """The between-group card with "adjust for …": the adjusted follow-up difference first, the unadjusted test of
    the change under it."""
    e = vc.run("adjusted", opts).echo[measure]
    name = ECHO_MEASURE_NAMES[measure]
    covs = ", ".join([f"baseline {name}", *(LABELS[c] for c in e.covariates if c != "baseline")])
    what = f"Follow-up {name}, second − first group, adjusted for {covs} (linear model)"
    warnings: tuple[str, ...] = ()
    notices = tuple(n for n in e.notes if not n.startswith("Positivity fails"))
    if e.positivity is not None and not e.positivity.ok:
        warnings = tuple(f"{p[:1].upper()}{p[1:]}." for p in e.positivity.problems)
        line = TestLine(what, None, missing="no estimate: positivity fails: " + "; ".join(e.positivity.problems))
    elif e.result is None:
        line = TestLine(what, None, missing="no estimate: the adjusted difference compares two groups")
    else:
        line = TestLine(what, _change_test(e.result, shown))
    caveat = confounding_caution(vc.ctx.grouping.by)
    return Card(
        "cardiac.change",
        title="Did one group improve more? (follow-up adjusted for baseline, between groups)",
        tests=(line, replace(unadjusted, what=f"{unadjusted.what} (unadjusted)")),
        notices=notices,
        warnings=warnings,
        caveats=(caveat,) if caveat else (),
        methods=f"{ADJUSTED_CHANGE_METHODS} {CHANGE_METHODS}",
        **common,
    )


def _pair_test(res, g: str, shown: privacy.Shown | None):
    """A group's Wilcoxon test with its number of pairs as the page shows it."""
    if shown is None or res is None:
        return res
    texts = [shown.text(("pairs", g)) if n == shown.value(("pairs", g)) else shown.policy.count(n) for n in res.n]
    return privacy.shown_test(res, shown.policy, texts)


def _change_test(res, shown: privacy.Shown | None):
    """The between-group test of the change, each group's n (its pairs) as the page shows it."""
    if shown is None or res is None:
        return res
    texts = [
        shown.text(("pairs", g))
        if ("pairs", g) in shown.values and shown.value(("pairs", g)) == n
        else shown.policy.count(n)
        for g, n in zip(res.groups, res.n)
    ]
    return privacy.shown_test(res, shown.policy, texts)
