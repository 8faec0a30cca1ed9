"""Cytokines page: fold difference (value / upper limit of normal) by group, Mann–Whitney per cytokine, BH q."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import figures, privacy
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


def cytokine_table(cr, groups, policy=None) -> pd.DataFrame:
    """Median [Q1–Q3] per group; for two groups the Hodges–Lehmann shift (first − second) with its 95% CI.
    ``policy``: small-cell suppression of each n (in no sum the page shows: the primary rule)."""
    two = any(rec.get("effect") for rec in cr.records)
    rows = []
    for rec in cr.records:
        row = {"Cytokine": rec["cytokine"], "All": fmt.summary_text(rec["overall"], sep="–")}
        for g in groups:
            n = rec["groups"][g]["n"]
            head = f"n = {n}" if policy is None else policy.n(n)
            row[f"{g} ({head})"] = fmt.summary_text(rec["groups"][g], sep="–")
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
    policy = vc.policy
    counts = None
    if policy is not None:
        per_group = cr.values.groupby("group")["patient_id"].nunique()
        counts = privacy.GroupCounts.primary(policy, {g: int(per_group.get(g, 0)) for g in vc.groups})
    if options.chart == CHARTS[0]:
        values, left_out = cr.values, ""
        if policy is not None:  # no patient's point where fewer patients than the threshold have the cytokine
            n = values.groupby(["cytokine", "group"])["patient_id"].transform("nunique")
            values = values[n >= policy.threshold]
            if len(values) < len(cr.values):
                left_out = (
                    f" A cytokine measured in fewer than {policy.threshold} patients of a group is not drawn for "
                    "that group (small-cell rule)."
                )
        figure = figures.build_cytokine_figure(values, vc.groups, colors=vc.colors(), counts=counts)
        key, figure_key = "cytokines.fold", "cyto"
        note = figures.summary_note(figure)
        shown = "Each point is one patient's sample" if note is None else f"{note}. Each patient's sample is"
        caption = (
            f"{shown} taken shortly after admission and before anakinra. Log scale; the line at 1 is the upper "
            f"limit of normal. Cohort: {vc.description}.{left_out}"
        )
    else:
        figure = figures.build_cytokine_heatmap(list(cr.records), vc.groups, counts=counts)
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
            tables=(CardTable(cytokine_table(cr, vc.groups, policy), formats={"p": "p", "q (BH)": "q"}),),
            caveats=caveats,
            caption=caption,
            methods=METHODS,
            **vc.card_fields(),
        )
    ]
