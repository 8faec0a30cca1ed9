"""Anakinra dosing page: daily courses, Table 2 by CV shock, route."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import figures
from .. import formatting as fmt
from ..cards import Card, CardTable, Metric
from .common import ViewContext

X_AXES = {"day_since_start": "Days since anakinra start", "day": "Days since admission"}
CAPTION = (
    "Daily anakinra dose (mg/kg/day) per patient, coloured by CV shock; markers at the start and the peak. The index "
    "study's algorithm started IV anakinra at 8–10 mg/kg/day (critically ill) or 6–8 mg/kg/day, divided every 6 h, "
    "and weaned by ~2 mg/kg/day every 24–48 h."
)
TABLE2_METHODS = (
    "Median [Q1, Q3]; Mann–Whitney U for continuous rows, Fisher's exact test for counts. Initiation day is the "
    "1-based hospitalization day (admission day = 1). Max mg/dose = max over days of daily mg/kg × weight ÷ doses per "
    "day. Duration = days on drug, a partial last day counted as doses given ÷ doses scheduled."
)


@dataclass(frozen=True)
class AnakinraOptions:
    xaxis: str = "day_since_start"  # day_since_start | day


def table2(ds) -> pd.DataFrame:
    rows = []
    for rec in ds.records:
        row = {"Parameter": rec["variable"]}
        for g in ds.groups:
            v = rec["groups"][g]
            col = f"{g} (n = {ds.group_n[g]})"
            if "count" in v:
                row[col] = fmt.count_percent(v["count"], v["n"])
            else:
                row[col] = fmt.summary_text(v, rec.get("decimals", 1))
        row["Test"] = rec["test"] or "not computed"
        row["p"] = fmt.p_or(rec["p_value"], "N/A")
        rows.append(row)
    return pd.DataFrame(rows)


def build_anakinra_cards(vc: ViewContext, options: AnakinraOptions = AnakinraOptions()) -> list[Card]:
    ds = vc.run("dosing")
    if ds.courses.empty:
        return [Card("anakinra.empty", warnings=("No patient on anakinra in this selection.",))]
    common = vc.card_fields()
    o = ds.overall
    fig = figures.build_dosing_figure(ds.daily, x=options.xaxis)
    note = figures.summary_note(fig)
    chart = Card(
        "anakinra.doses",
        title="Anakinra dose per day",
        heading=False,
        figure=fig,
        figure_key="dose",
        caption=CAPTION
        if note is None
        else CAPTION.replace(" per patient, coloured by CV shock;", f", coloured by CV shock: {note};", 1),
        metrics=(
            Metric("Patients on anakinra", str(len(ds.courses))),
            Metric("Starting dose, mg/kg/day", o["start_dose_mg_kg_day"].text(1)),
            Metric("Max dose, mg/kg/day", o["max_dose_mg_kg_day"].text(1)),
            Metric("Duration, days", o["duration_days"].text(1)),
        ),
        **common,
    )
    t2 = Card(
        "anakinra.table2",
        title="Table 2 — anakinra patients without vs with CV shock",
        caption="Within the current filter; this table is always split by CV shock, whatever “Compare by” says.",
        tables=(CardTable(table2(ds), formats={"p": "p"}),),
        methods=TABLE2_METHODS,
        warnings=("Fewer than 5 patients on anakinra: these summaries are fragile.",) if len(ds.courses) < 5 else (),
        **common,
    )
    route = Card(
        "anakinra.route",
        title="Route",
        tables=(
            CardTable(
                ds.routes.rename(columns={"route": "Route", "patients": "Patients"}), formats={"Patients": "count"}
            ),
            CardTable(ds.courses, kind="details", label="Per-patient courses", key="anakinra_courses"),
        ),
        **common,
    )
    return [chart, t2, route]
