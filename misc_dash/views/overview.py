"""Overview page: key figures, cohort flow, phenotype × treatment."""

from __future__ import annotations

from .. import figures
from ..cards import Card, CardTable, Metric
from .common import ViewContext

CROSSTAB_CAPTION = (
    "Phenotypes are mutually exclusive: non-specific (neither KD-like features nor CV shock), KD-like (without "
    "shock), CV shock (without KD-like features), KDSS-like (both). Counts for the current filter."
)
PAGES_GUIDE = (
    "**Pages.** *Table 1* — baseline characteristics by group · *Cardiac* — LVEF and Ap4 strain · *Fever* — "
    "Kaplan–Meier time to defervescence · *Cytokines* · *Labs* · *Anakinra dosing* (Table 2) · *Safety* (Table 3) · "
    "*Literature* — published case reports and series · *Data & fidelity* — data dictionary, your own cohort, and "
    "how the reconstructed cohort reproduces the paper. Use **Compare by** in the sidebar to change the groups "
    "on every page; the filters and comparison are kept in the page address, so a link shares the same view."
)


def build_overview_cards(vc: ViewContext, options: None = None) -> list[Card]:
    kf = vc.run("key_figures")
    common = vc.card_fields()
    icu_help = f"{kf['icu_missing']} without an ICU record" if kf["icu_missing"] else None
    key = Card(
        "overview.key_figures",
        title="Key figures",
        heading=False,
        metrics=(
            Metric("Patients", f"{kf['n_patients']} of {kf['n_total']}"),
            Metric("Anakinra", str(kf["anakinra"])),
            Metric("CV shock", str(kf["cv_shock"])),
            Metric("ICU", str(kf["icu"]), icu_help),
            Metric("Age, years — median [Q1, Q3]", kf["age"].text(1)),
            Metric("Length of stay, days — median [Q1, Q3]", kf["length_of_stay"].text(1)),
        ),
        **common,
    )
    flow = Card(
        "overview.flow",
        title="Cohort flow",
        figure=figures.build_flow_figure(vc.run("flow")),
        figure_key="flow",
        **common,
    )
    cross = Card(
        "overview.crosstab",
        title="Phenotype × treatment group",
        tables=(CardTable(vc.run("crosstab").reset_index(), formats={"Total": "count"}),),
        caption=CROSSTAB_CAPTION,
        **common,
    )
    return [key, flow, cross]
