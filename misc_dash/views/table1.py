"""Table 1 page: baseline characteristics by the compare-by groups."""

from __future__ import annotations

import pandas as pd

from .. import formatting as fmt
from ..cards import Card, CardTable
from .common import ViewContext

METHODS = (
    "Continuous: median [Q1, Q3] (quantiles as R type 6 / GraphPad Prism); categorical: n (% of patients with a "
    "recorded value). Tests: Fisher's exact test (2 groups) or its exact r×c extension (Freeman–Halton, 3+ groups) "
    "for categories; Mann–Whitney U (2 groups; exact without ties, else normal approximation with continuity "
    "correction) or Kruskal–Wallis (3+ groups) for continuous variables. q = Benjamini–Hochberg adjusted across "
    "the rows (exploratory; the index study reported unadjusted p). Missing values are counted, never imputed."
)


def table1_frame(t1) -> pd.DataFrame:
    """Table 1 for display: Variable, All, one column per group (with n), p, q (BH), Missing, Test."""
    rows = []
    for rec in t1.records:
        row = {"Variable": rec["variable"], "All": rec["overall"]["text"]}
        for g in t1.groups:
            row[f"{g} (n = {t1.group_n[g]})"] = rec["groups"][g]["text"]
        row["p"] = fmt.p_or(rec["p_value"])
        row["q (BH)"] = fmt.p_or(rec.get("q_value"))
        row["Missing"] = rec["missing"]
        row["Test"] = rec["test"] or "not computed (fewer than 2 groups with data)"
        rows.append(row)
    return pd.DataFrame(rows)


def build_table1_cards(vc: ViewContext, options: None = None) -> list[Card]:
    t1 = vc.run("table1")
    caveats = sorted({n for rec in t1.records for n in rec.get("notes", [])})
    return [
        Card(
            "table1.table",
            title="Table 1 — baseline characteristics",
            heading=False,
            tables=(
                CardTable(
                    table1_frame(t1),
                    kind="grid",
                    formats={"p": "p", "q (BH)": "q", "Missing": "count"},
                    download="table1.csv",
                ),
            ),
            caveats=tuple(caveats),
            methods=METHODS,
            **vc.card_fields(),
        )
    ]
