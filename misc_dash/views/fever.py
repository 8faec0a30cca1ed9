"""Fever page: Kaplan–Meier time to defervescence, log-rank overall and pairwise, optional Cox HR; the daily maximum
temperature over time (one chart at a time: :data:`CHARTS`)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import analyses as A
from .. import figures
from .. import formatting as fmt
from ..cards import Card, CardTable, TestLine
from .common import ViewContext

CHARTS = ("Time to defervescence", "Temperature over time")


@dataclass(frozen=True)
class FeverOptions:
    origin: str = "admission"  # admission | treatment
    threshold: float = 38.0
    sustained: bool = False
    cox: bool = False
    chart: str = CHARTS[0]  # which chart to build (only one is drawn at a time)

    def analysis_options(self) -> A.AnalysisOptions:
        return A.AnalysisOptions(
            fever_origin=self.origin,
            fever_threshold=float(self.threshold),
            fever_sustained_hours=24.0 if self.sustained else None,
            cox=self.cox,
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


def build_fever_cards(vc: ViewContext, options: FeverOptions = FeverOptions()) -> list[Card]:
    opts = options.analysis_options()
    fr = vc.run("fever", opts)
    if not fr.curves:
        return [Card("fever.empty", warnings=("No temperature readings for this selection.",))]
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
    tests = [TestLine("Overall", fr.logrank)]
    tests += [TestLine("", t) for t in fr.pairwise]
    if fr.cox is not None:
        tests.append(
            TestLine("Cox proportional hazards (hazard ratio of defervescence, second vs first group)", fr.cox)
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
        figure = figures.build_km_figure(
            fr.curves,
            vc.groups,
            fr.at_risk_days,
            logrank=fr.logrank,
            origin=fr.origin,
            threshold_c=fr.threshold_c,
            colors=vc.colors(),
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
        notices=tuple(fr.notes),
        caption=caption,
        methods=METHODS,
        **vc.card_fields(opts),
    )
    if km_chart:
        return [km]
    return [_temperature_card(vc, options, fr.threshold_c), km]


def _temperature_card(vc: ViewContext, options: FeverOptions, threshold_c: float) -> Card:
    opts = options.analysis_options()
    tr = vc.run("temperature", opts)
    origin = "admission" if tr.origin == "admission" else "treatment start (first IVIG, else first anakinra day)"
    n = sum(tr.n_patients.values())
    fig = figures.build_temperature_figure(tr, vc.groups, vc.colors(), threshold_c=threshold_c, origin=tr.origin)
    note = figures.summary_note(fig)
    lines = "one thin line per patient" if note is None else "thin lines: a random sample of patients"
    caption = (
        f"Daily maximum temperature: {lines} (each patient's highest reading per day since "
        f"{origin}; day 0 = the first 24 h), thick line = group median and band = interquartile range of the "
        f"patients measured that day, drawn on days with at least {tr.min_n} of them; dotted line = fever threshold "
        f"{threshold_c:g} °C. {n} patient(s) with readings. Cohort: {vc.description}."
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
