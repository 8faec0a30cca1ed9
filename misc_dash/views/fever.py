"""Fever page: Kaplan–Meier time to defervescence, log-rank overall and pairwise, optional Cox HR; the daily maximum
temperature over time (one chart at a time: :data:`CHARTS`)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import analyses as A
from .. import figures, privacy
from .. import formatting as fmt
from ..analyses.adjusted import LABELS
from ..cards import Card, CardTable, TestLine
from ..vocabulary import confounding_caution
from .common import ViewContext

CHARTS = ("Time to defervescence", "Temperature over time")


@dataclass(frozen=True)
class FeverOptions:
    origin: str = "admission"  # admission | treatment
    threshold: float = 38.0
    sustained: bool = False
    cox: bool = False
    chart: str = CHARTS[0]  # which chart to build (only one is drawn at a time)
    adjust_for: tuple[str, ...] = ()  # "adjust for …": the between-group line becomes the adjusted Cox HR

    def analysis_options(self) -> A.AnalysisOptions:
        return A.AnalysisOptions(
            fever_origin=self.origin,
            fever_threshold=float(self.threshold),
            fever_sustained_hours=24.0 if self.sustained else None,
            cox=self.cox,
            adjust=A.AdjustOptions(adjust_for=tuple(self.adjust_for)) if self.adjust_for else None,
        )


ORIGIN_LABELS = {"admission": "Admission", "treatment": "Treatment start"}
METHODS = (
    'Kaplan–Meier product-limit estimate with 95% CI (Greenwood, log-log; R survfit(conf.type = "log-log")); '
    "still febrile at a day = the curve at that day with its CI (R summary.survfit). Log-rank test (R survdiff): "
    "observed and expected events per group; with 3+ groups also pairwise, Holm-adjusted for the number of pairs "
    "(the unadjusted p alongside). Cox proportional hazards on request, for two groups: hazard ratio of "
    "defervescence with its Wald 95% CI (R coxph, Efron ties), and the proportional-hazards check of R cox.zph "
    "(scaled Schoenfeld residuals). Times equal up to floating point count as ties (R's timefix)."
)
TEMPERATURE_METHODS = (
    "Each patient's highest reading per day since the origin (day k = hours 24k to 24(k + 1) after it; readings "
    "before the origin ignored, as for the time to defervescence). Per group and day: median and interquartile range "
    "(R quantile type 6) of the daily maxima of the patients measured that day, drawn only on days with at least "
    f"{figures.MIN_MEDIAN_N} of them. Descriptive: patients leave the chart when their readings stop (often because "
    "they were discharged afebrile), so late days describe the patients still in hospital."
)


def fever_counts(vc: ViewContext, fr) -> privacy.Shown:
    """Small-cell suppression of the fever page: per group in the curves, its patients = defervesced + censored,
    and its patients + those without usable readings = the group's size (fixed); the patients without usable
    readings, all groups together, are said in a notice (free text, so always hidden)."""
    c = privacy.Counts(vc.policy)
    sizes = vc.ctx.group_sizes()
    privacy.add_fixed(c, privacy.fixed_from(vc.sizes, [("group", g) for g in vc.groups]))
    c.add("excluded", len(fr.excluded))  # in a notice and the list's label
    without = []
    for g in vc.groups:
        cur = fr.curves.get(g)
        n = cur.n if cur is not None else 0
        c.add(("patients", g), n).add(("events", g), cur.events if cur else 0).add(
            ("censored", g), n - (cur.events if cur else 0)
        )
        c.line([("events", g), ("censored", g)], ("patients", g))
        c.add(("without", g), max(sizes.get(g, 0) - n, 0), derived=True, primary=False)
        if sizes.get(g, 0) >= n:
            c.line([("patients", g), ("without", g)], ("group", g))
        without.append(("without", g))
    rest = len(fr.excluded) - sum(c.value(k) for k in without)
    if rest >= 0:
        c.add("without_ungrouped", rest, derived=True, primary=False).line([*without, "without_ungrouped"], "excluded")
    return c.protect()


def _test_n(res, shown: privacy.Shown | None, key: str = "patients"):
    """A test result with its n as the page shows each group's count."""
    if shown is None or res is None:
        return res
    texts = [
        shown.text((key, g)) if (key, g) in shown.values and shown.value((key, g)) == n else shown.policy.count(n)
        for g, n in zip(res.groups, res.n)
    ]
    return privacy.shown_test(res, shown.policy, texts)


def build_fever_cards(vc: ViewContext, options: FeverOptions = FeverOptions()) -> list[Card]:
    opts = options.analysis_options()
    fr = vc.run("fever", opts)
    if not fr.curves:
        return [Card("fever.empty", warnings=("No temperature readings for this selection.",))]
    shown = fever_counts(vc, fr) if vc.policy is not None else None
    sustained = " not followed by fever within 24 h" if fr.sustained_hours else ""
    origin = "admission" if fr.origin == "admission" else "treatment start (first IVIG, else first anakinra day)"
    km_chart = options.chart != CHARTS[1]
    if km_chart:
        caption = (
            f"Kaplan–Meier estimate of the proportion still febrile (95% CI, log-log). Event = first reading < "
            f"{fr.threshold_c:g} °C{sustained}, from {origin}; patients who never defervesce are censored at their "
            f"last reading (+). Numbers at risk under the axis. Cohort: {vc.description}."
        )
    else:
        caption = (
            f"Time to defervescence (Kaplan–Meier, the '{CHARTS[0]}' chart): event = first reading < "
            f"{fr.threshold_c:g} °C{sustained}, from {origin}; patients who never defervesce are censored at their "
            f"last reading. Cohort: {vc.description}."
        )
    adjusted = adjusted_lines(vc, opts, shown) if options.adjust_for else None
    tests = [*adjusted.tests] if adjusted else []
    overall = TestLine("Overall (unadjusted)" if adjusted else "Overall", _test_n(fr.logrank, shown))
    tests.append(overall)
    tests += [TestLine("", _test_n(t, shown)) for t in fr.pairwise]
    if fr.cox is not None:
        tests.append(
            TestLine(
                "Cox proportional hazards (hazard ratio of defervescence, second vs first group)",
                _test_n(fr.cox, shown),
            )
        )
    ex = dict(fr.logrank.extras) if fr.logrank is not None else {}
    rows = []
    for g, c in fr.curves.items():
        row = {
            "Group": g,
            "Patients": c.n,
            "Defervesced (observed)": c.events,
            "Expected (log-rank)": fmt.number(ex[f"expected {g}"], 1) if f"expected {g}" in ex else "—",
            "Censored": c.n - c.events,
            "Median days (95% CI)": c.median_text(1),
        }
        if shown is not None:
            keys = [(k, g) for k in ("patients", "events", "censored")]
            row.update({col: shown.text(k) for col, k in zip(("Patients", "Defervesced (observed)", "Censored"), keys)})
            if any(shown.hidden(k) for k in keys):  # the expected events and the curve's own numbers give them back
                row["Expected (log-rank)"] = "—"
        for s in c.summary_at(fr.survival_days):
            row[f"Still febrile day {s['time']:g} (95% CI)"] = _still_febrile(s)
        rows.append(row)
    tables = [
        CardTable(
            pd.DataFrame(rows), formats={"Patients": "count", "Defervesced (observed)": "count", "Censored": "count"}
        )
    ]
    if len(fr.excluded):
        tables.append(
            CardTable(
                fr.excluded.rename(columns={"patient_id": "Patient", "reason": "Reason"}),
                kind="details",
                label=f"{len(fr.excluded)} patient(s) not in the curves",
                key="fever_excluded",
            )
        )
    figure = None
    if km_chart:
        counts = None if shown is None else privacy.GroupCounts.of(shown, {g: ("patients", g) for g in fr.curves})
        figure = figures.build_km_figure(
            fr.curves,
            vc.groups,
            fr.at_risk_days,
            logrank=overall.result,  # the curves are unadjusted: their log-rank
            origin=fr.origin,
            threshold_c=fr.threshold_c,
            colors=vc.colors(),
            counts=counts,
        )
    km = Card(  # the tests, the summary table and the notes: on the page whichever chart is shown
        "fever.km",
        title="Time to defervescence",
        heading=not km_chart,  # the KM figure's own title says it
        figure=figure,
        figure_key="km" if km_chart else "",
        tables=tuple(tables),
        tests=tuple(tests),
        tests_heading="Pairwise log-rank (Holm-adjusted for the number of pairs)" if fr.pairwise else "",
        notices=tuple(fr.notes) + (adjusted.notices if adjusted else ()),
        warnings=adjusted.warnings if adjusted else (),
        caveats=adjusted.caveats if adjusted else (),
        caption=caption,
        methods=METHODS + (" " + ADJUSTED_METHODS if adjusted else ""),
        **vc.card_fields(opts),
    )
    if km_chart:
        return [km]
    return [_temperature_card(vc, options, fr.threshold_c), km]


@dataclass(frozen=True)
class AdjustedLines:
    """What "adjust for …" adds to the Fever card: the adjusted test line (or why there is none) and its notes."""

    tests: tuple[TestLine, ...]
    notices: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()


ADJUSTED_METHODS = (
    "Adjust for …: Cox proportional hazards of the group with the chosen covariates (R coxph(Surv(t, e) ~ group + "
    'covariates, ties = "efron")), Wald 95% CI, on the patients with every covariate known; only when every '
    "combination of the categorical covariates has patients in both groups (positivity). E-value (VanderWeele & Ding) "
    "after the common-outcome HR → RR conversion. The curves and the log-rank stay unadjusted. Weighting, strata "
    "and the subgroups: the Adjusted & sensitivity page."
)


def adjusted_lines(vc: ViewContext, opts: A.AnalysisOptions, shown: privacy.Shown | None = None) -> AdjustedLines:
    """The between-group line adjusted for ``opts.adjust`` (two groups), or a plain sentence saying why there is no
    adjusted number (positivity fails, not two groups)."""
    f = vc.run("adjusted", opts).fever
    covs = ", ".join(LABELS[c] for c in f.covariates)
    what = f"Cox adjusted for {covs} (hazard ratio of defervescence, second vs first group)"
    if len(f.groups) != 2:
        why = f"the adjusted hazard ratio compares two groups; this selection has {len(f.groups)}"
        return AdjustedLines((TestLine(what, None, missing=f"no estimate: {why}"),))
    caveat = confounding_caution(vc.ctx.grouping.by)
    caveats = (caveat,) if caveat else ()  # (the fits' own notes show under their lines)
    notices = tuple(n for n in f.notes if "left out" in n or "complete cases" in n)
    if not f.estimable:
        problems = tuple(f"{p[:1].upper()}{p[1:]}." for p in f.positivity.problems)
        why = "positivity fails: " + "; ".join(f.positivity.problems)
        return AdjustedLines((TestLine(what, None, missing=f"no estimate: {why}"),), notices, problems, caveats)
    line = TestLine(what, _test_n(f.cox, shown))
    naive = TestLine("Unadjusted Cox on the same patients", _test_n(f.naive, shown))
    if f.e_value is not None:
        notices = (*notices, f.e_value.text)
    return AdjustedLines((line, naive), notices, (), caveats)


def temperature_counts(vc: ViewContext, tr) -> privacy.Shown:
    """Small-cell suppression of the temperature chart: per group, its patients with readings and those without
    (the notice's count, free text) make the group's size (fixed)."""
    c = privacy.Counts(vc.policy)
    sizes = vc.ctx.group_sizes()
    privacy.add_fixed(c, privacy.fixed_from(vc.sizes, [("group", g) for g in vc.groups]))
    ex = tr.excluded["group"].value_counts() if len(tr.excluded) and "group" in tr.excluded else {}
    c.add("excluded", len(tr.excluded))  # in a notice
    parts = []
    for g in vc.groups:
        n, x = int(tr.n_patients.get(g, 0)), int(ex.get(g, 0))
        c.add(("patients", g), n).add(("without", g), x, derived=True, primary=False)
        if n + x == sizes.get(g, 0):
            c.line([("patients", g), ("without", g)], ("group", g))
        parts.append(("without", g))
    if sum(c.value(k) for k in parts) == len(tr.excluded):
        c.line(parts, "excluded")
    c.add("all", sum(int(v) for v in tr.n_patients.values())).line([("patients", g) for g in vc.groups], "all")
    return c.protect()


def _temperature_card(vc: ViewContext, options: FeverOptions, threshold_c: float) -> Card:
    opts = options.analysis_options()
    tr = vc.run("temperature", opts)
    origin = "admission" if tr.origin == "admission" else "treatment start (first IVIG, else first anakinra day)"
    n = sum(tr.n_patients.values())
    shown = temperature_counts(vc, tr) if vc.policy is not None else None
    counts = None if shown is None else privacy.GroupCounts.of(shown, {g: ("patients", g) for g in vc.groups})
    fig = figures.build_temperature_figure(
        tr, vc.groups, vc.colors(), threshold_c=threshold_c, origin=tr.origin, counts=counts
    )
    note = figures.summary_note(fig)
    lines = "one thin line per patient" if note is None else "thin lines: a random sample of patients"
    min_n = tr.min_n if counts is None else figures.median_min_n(counts)
    n_txt = str(n) if shown is None else shown.text("all")
    caption = (
        f"Daily maximum temperature: {lines} (each patient's highest reading per day since "
        f"{origin}; day 0 = the first 24 h), thick line = group median and band = interquartile range of the "
        f"patients measured that day, drawn on days with at least {min_n} of them; dotted line = fever threshold "
        f"{threshold_c:g} °C. {n_txt} patient(s) with readings. Cohort: {vc.description}."
    )
    if note is not None:
        caption = f"{caption} {note[:1].upper()}{note[1:]}."
    notices = ()
    if len(tr.excluded):
        notices = (
            f"{len(tr.excluded)} patient(s) without a temperature reading at or after the origin are not drawn.",
        )
    return Card(
        "fever.temperature",
        title="Daily maximum temperature",
        heading=False,
        figure=fig,
        figure_key="temp",
        notices=notices,
        caption=caption,
        methods=TEMPERATURE_METHODS,
        **vc.card_fields(opts),
    )


def _still_febrile(s: dict) -> str:
    """ "72% (53–84%)"; the CI is undefined once everyone has defervesced."""
    lo, hi = s["ci"]
    txt = fmt.proportion(s["survival"])
    if lo is None or hi is None or s["survival"] in (0.0, 1.0):
        return txt
    return f"{txt} ({fmt.number(100 * lo, 0)}–{fmt.number(100 * hi, 0)}%)"
