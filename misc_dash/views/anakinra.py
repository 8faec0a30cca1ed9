"""Anakinra dosing page: daily courses, Table 2 by CV shock, route."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import figures, privacy
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


def anakinra_counts(vc: ViewContext, ds) -> privacy.Shown:
    """Small-cell suppression of the dosing page: the patients on anakinra (and those not, in the selection: its
    size is fixed) = the two CV-shock columns; per count row of Table 2 and column, k + the others = the column;
    the routes add up to the patients on anakinra when each patient has one route."""
    c = privacy.Counts(vc.policy)
    privacy.add_fixed(c, privacy.fixed_from(vc.sizes, ["selection"]))
    n = len(ds.courses)
    c.add("anakinra", n).add("no_anakinra", len(vc.ctx.pf) - n, derived=True).line(
        ["anakinra", "no_anakinra"], "selection"
    )
    for g in ds.groups:
        c.add(("col", g), ds.group_n[g])
    c.line([("col", g) for g in ds.groups], "anakinra")
    for i, rec in enumerate(ds.records):
        for g in ds.groups:
            v = rec["groups"][g]
            if "count" not in v:
                continue
            c.add(("k", i, g), v["count"]).add(("rest", i, g), v["n"] - v["count"], derived=True)
            c.line([("k", i, g), ("rest", i, g)], ("col", g))
    routes = [(str(r), int(p)) for r, p in zip(ds.routes["route"], ds.routes["patients"])]
    for r, p in routes:
        c.add(("route", r), p)
    if sum(p for _, p in routes) == n:
        c.line([("route", r) for r, _ in routes], "anakinra")
    return c.protect()


def table2(ds, shown: privacy.Shown | None = None) -> pd.DataFrame:
    """Table 2; ``shown`` (:func:`anakinra_counts`): the counts as the small-cell rule shows them, and no p for a
    row with a hidden count (with the column sizes it would give the count back)."""
    rows = []
    for i, rec in enumerate(ds.records):
        row = {"Parameter": rec["variable"]}
        hidden = False
        for g in ds.groups:
            v = rec["groups"][g]
            col = f"{g} (n = {ds.group_n[g]})" if shown is None else f"{g} ({shown.n(('col', g))})"
            if "count" in v and shown is not None:
                row[col] = shown.count_percent(("k", i, g), ("col", g), also=(("rest", i, g),))
                hidden = hidden or shown.hidden(("k", i, g)) or shown.hidden(("rest", i, g))
            elif "count" in v:
                row[col] = fmt.count_percent(v["count"], v["n"])
            else:
                row[col] = fmt.summary_text(v, rec.get("decimals", 1))
        row["Test"] = rec["test"] or "not computed"
        row["p"] = "not shown" if hidden and rec["p_value"] is not None else fmt.p_or(rec["p_value"], "N/A")
        rows.append(row)
    return pd.DataFrame(rows)


def build_anakinra_cards(vc: ViewContext, options: AnakinraOptions = AnakinraOptions()) -> list[Card]:
    ds = vc.run("dosing")
    if ds.courses.empty:
        return [Card("anakinra.empty", warnings=("No patient on anakinra in this selection.",))]
    common = vc.card_fields()
    o = ds.overall
    shown = anakinra_counts(vc, ds) if vc.policy is not None else None
    counts = None if shown is None else privacy.GroupCounts.of(shown, {g: ("col", g) for g in ds.groups})
    fig = figures.build_dosing_figure(ds.daily, x=options.xaxis, counts=counts)
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
            Metric("Patients on anakinra", str(len(ds.courses)) if shown is None else shown.text("anakinra")),
            Metric("Starting dose, mg/kg/day", o["start_dose_mg_kg_day"].text(1)),
            Metric("Max dose, mg/kg/day", o["max_dose_mg_kg_day"].text(1)),
            Metric("Duration, days", o["duration_days"].text(1)),
        ),
        **common,
    )
    few = 5 if vc.policy is None else max(5, vc.policy.threshold)  # never finer than the small-cell label
    t2 = Card(
        "anakinra.table2",
        title="Table 2 — anakinra patients without vs with CV shock",
        caption="Within the current filter; this table is always split by CV shock, whatever “Compare by” says.",
        tables=(CardTable(table2(ds, shown), formats={"p": "p"}),),
        methods=TABLE2_METHODS,
        warnings=(f"Fewer than {few} patients on anakinra: these summaries are fragile.",)
        if len(ds.courses) < few
        else (),
        **common,
    )
    route = Card(
        "anakinra.route",
        title="Route",
        tables=(
            CardTable(_routes(ds, shown), formats={"Patients": "count"}),
            CardTable(ds.courses, kind="details", label="Per-patient courses", key="anakinra_courses"),
        ),
        **common,
    )
    return [chart, t2, route]


def _routes(ds, shown: privacy.Shown | None) -> pd.DataFrame:
    df = ds.routes.rename(columns={"route": "Route", "patients": "Patients"})
    if shown is not None:
        df = df.assign(Patients=[shown.text(("route", str(r))) for r in ds.routes["route"]])
    return df
