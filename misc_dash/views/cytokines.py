"""Cytokines page: fold difference (value / upper limit of normal) by group, Mann–Whitney per cytokine, BH q."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import figures
from .. import formatting as fmt
from ..cards import Card, CardTable
from .common import ViewContext, merge_notes
from .effects import ci_text

CHARTS = ("Fold difference by group", "Panel heatmap (medians)")
METHODS = (
    "Median [Q1–Q3] per group (n = patients with that cytokine). Test: Mann–Whitney U (2 groups; exact without ties, "
    "otherwise normal approximation with continuity correction) or Kruskal–Wallis (3+ groups). q = "
    "Benjamini–Hochberg across the panel of cytokines shown. Two groups: difference = Hodges–Lehmann shift of the "
    "fold difference (first − second group) with its 95% CI (R wilcox.test(conf.int = TRUE))."
)


@dataclass(frozen=True)
class CytokineOptions:
    chart: str = CHARTS[0]


def cytokine_table(cr, groups) -> pd.DataFrame:
    """Median [Q1–Q3] per group; for two groups the Hodges–Lehmann shift (first − second) with its 95% CI."""
    two = any(rec.get("effect") for rec in cr.records)
    rows = []
    for rec in cr.records:
        row = {"Cytokine": rec["cytokine"], "All": fmt.summary_text(rec["overall"], sep="–")}
        for g in groups:
            row[f"{g} (n = {rec['groups'][g]['n']})"] = fmt.summary_text(rec["groups"][g], sep="–")
        if two:
            row["Difference (95% CI)"] = ci_text(rec.get("effect"), 1)
        row["Test"] = rec["test"] or "not computed"
        row["p"] = fmt.p_or(rec["p_value"])
        row["q (BH)"] = fmt.p_or(rec["q_value"])
        rows.append(row)
    return pd.DataFrame(rows)


def build_cytokine_cards(vc: ViewContext, options: CytokineOptions = CytokineOptions()) -> list[Card]:
    cr = vc.run("cytokines")
    if cr.values.empty:
        return [Card("cytokines.empty", warnings=("No cytokine measurements for this selection.",))]
    if options.chart == CHARTS[0]:
        figure = figures.build_cytokine_figure(cr.values, vc.groups, colors=vc.colors())
        key, figure_key = "cytokines.fold", "cyto"
        note = figures.summary_note(figure)
        shown = "Each point is one patient's sample" if note is None else f"{note}. Each patient's sample is"
        caption = (
            f"{shown} taken shortly after admission and before anakinra. Log scale; the line at 1 is the upper "
            f"limit of normal. Cohort: {vc.description}."
        )
    else:
        figure = figures.build_cytokine_heatmap(list(cr.records), vc.groups)
        key, figure_key = "cytokines.heatmap", "heat"
        caption = f"Median fold difference per cytokine and group (colour: log scale). Cohort: {vc.description}."
    caveats = merge_notes([(c, n) for c, t in cr.tests.items() if t is not None for n in t.notes], "every cytokine")
    return [
        Card(
            key,
            title="Cytokines — fold difference over the upper limit of normal",
            heading=False,
            figure=figure,
            figure_key=figure_key,
            tables=(CardTable(cytokine_table(cr, vc.groups), formats={"p": "p", "q (BH)": "q"}),),
            caveats=caveats,
            caption=caption,
            methods=METHODS,
            **vc.card_fields(),
        )
    ]
