"""Labs page: trajectories of inflammatory and cardiac markers against treatment start; first values by group."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import figures, privacy
from .. import formatting as fmt
from ..cards import Card, CardTable
from ..vocabulary import LAB_LABELS
from .common import ViewContext
from .effects import ci_text

METHODS = (
    "Median [Q1, Q3] of each patient's first value; Mann–Whitney U (2 groups) or Kruskal–Wallis (3+); q = "
    "Benjamini–Hochberg across the analytes shown. Two groups: difference = Hodges–Lehmann shift (first − second "
    "group, in the analyte's unit) with its 95% CI (R wilcox.test(conf.int = TRUE))."
)


@dataclass(frozen=True)
class LabsOptions:
    analyte: str | None = None  # None: the first analyte with data
    xaxis: str = "day_since_treatment"  # day_since_treatment | day
    log_y: bool = True


def available_analytes(lr) -> list[str]:
    present = set(pd.unique(lr.trajectories["analyte"]))  # one pass (not one comparison per analyte)
    return [a for a in LAB_LABELS if a in present]


def first_value_table(lr, groups, policy=None) -> pd.DataFrame:
    """First value per analyte and group; for two groups the Hodges–Lehmann shift (first − second) with its CI.
    ``policy``: small-cell suppression of each n (in no sum the page shows: the primary rule)."""
    two = any(rec.get("effect") for rec in lr.records)
    rows = []
    for rec in lr.records:
        row = {"Analyte (first value)": f"{LAB_LABELS[rec['analyte']]} ({rec['unit']})"}
        for g in groups:
            v = rec["groups"][g]
            n = f"n = {v['n']}" if policy is None else policy.n(v["n"])
            row[g] = (
                f"{fmt.significant(v['median'])} [{fmt.significant(v['q1'])}, {fmt.significant(v['q3'])}] ({n})"
                if v["n"]
                else fmt.NA
            )
        if two:
            row["Difference (95% CI)"] = ci_text(rec.get("effect"), None)
        row["Test"] = rec["test"] or "not computed"
        row["p"] = fmt.p_or(rec["p_value"])
        row["q (BH)"] = fmt.p_or(rec.get("q_value"))
        rows.append(row)
    return pd.DataFrame(rows)


def build_labs_cards(vc: ViewContext, options: LabsOptions = LabsOptions()) -> list[Card]:
    lr = vc.run("labs")
    if lr.trajectories.empty:
        return [Card("labs.empty", warnings=("No laboratory values for this selection.",))]
    available = available_analytes(lr)
    analyte = options.analyte if options.analyte in available else available[0]
    common = vc.card_fields()
    counts = None
    if vc.policy is not None:
        t = lr.trajectories[lr.trajectories["analyte"] == analyte]
        per_group = t.groupby("group")["patient_id"].nunique()
        counts = privacy.GroupCounts.primary(vc.policy, {g: int(per_group.get(g, 0)) for g in vc.groups})
    fig = figures.build_labs_figure(
        lr.trajectories, analyte, vc.groups, x=options.xaxis, log_y=options.log_y, colors=vc.colors(), counts=counts
    )
    note = figures.summary_note(fig)
    if note is None:
        shown = "Thin lines: patients; thick: the median of the patients' trajectories"
    else:
        shown = f"{note[:1].upper()}{note[1:]}. The median and bands are of the patients' trajectories"
    chart = Card(
        "labs.trajectory",
        title=f"{LAB_LABELS.get(analyte, analyte)} over time",
        heading=False,
        figure=fig,
        figure_key="lab",
        caption=(
            f"{shown}, each interpolated linearly between that patient's own measurements (not beyond them), drawn "
            f"on days with at least {figures.median_min_n(counts)} patients' trajectories. Treatment start = first "
            f"IVIG (else first anakinra day). Cohort: {vc.description}."
        ),
        **common,
    )
    first = Card(
        "labs.first_values",
        title="First (admission) value by group",
        tables=(CardTable(first_value_table(lr, vc.groups, vc.policy), formats={"p": "p"}),),
        methods=METHODS,
        **common,
    )
    return [chart, first]
