"""Table 1 page: baseline characteristics by the compare-by groups."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import formatting as fmt
from ..cards import Card, CardTable
from .common import ViewContext
from .effects import difference_text, odds_ratio_text, smd_text

METHODS = (
    "Continuous: median [Q1, Q3] (quantiles as R type 6 / GraphPad Prism); categorical: n (% of patients with a "
    "recorded value). Tests: Fisher's exact test (2 groups) or its exact r×c extension (Freeman–Halton, 3+ "
    "groups) for categories (r×c tables of more than 1,000 patients: Pearson's χ² when every expected count is ≥ "
    "5, else a seeded Monte Carlo p as R fisher.test(simulate.p.value = TRUE); the Test column says which); "
    "Mann–Whitney U (2 groups; exact without ties, else normal approximation with continuity correction) or "
    "Kruskal–Wallis (3+ groups) for continuous variables. q = Benjamini–Hochberg adjusted across the rows "
    "(exploratory; the index study reported unadjusted p). Missing values are counted, never imputed."
)


def _group_cell(v: dict, proportion_ci: bool) -> str:
    if "counts" in v:  # categorical variable row: its levels are the rows below
        return f"n = {v['n']}"
    if proportion_ci and v.get("ci") and v["ci"][0] is not None:
        lo, hi = v["ci"]
        return f"{v['text']}; {fmt.number(100 * lo, 0)}–{fmt.number(100 * hi, 0)}%"
    return v["text"]


def table1_frame(t1, proportion_ci: bool = False) -> pd.DataFrame:
    """Table 1 for display: Variable, All, one column per group (with n), then for two groups the difference and
    odds ratio with their 95% CIs and the SMD, p, q (BH), Missing, Test. A categorical variable has one row with
    its r × c test, then one row per level (counts; the per-level tests the paper printed are in the JSON)."""
    two = len([g for g in t1.groups if t1.group_n[g] > 0]) == 2
    rows = []
    for rec in t1.records:
        level = "level_of" in rec
        row = {
            "Variable": ("   " if level else "") + rec["variable"],
            "All": _group_cell(rec["overall"], proportion_ci),
        }
        for g in t1.groups:
            row[f"{g} (n = {t1.group_n[g]})"] = _group_cell(rec["groups"][g], proportion_ci)
        # p, q and the test first (they fit the page's width), then the effects with their CIs
        row["p"] = "—" if level else fmt.p_or(rec["p_value"])
        row["q (BH)"] = "—" if level else fmt.p_or(rec.get("q_value"))
        if level:
            row["Test"] = f"see {rec['level_of']}"
        else:
            row["Test"] = rec["test"] or "not computed (fewer than 2 groups with data)"
        if two:
            row["Difference (95% CI)"] = difference_text(rec.get("effects"))
            row["Odds ratio (95% CI)"] = odds_ratio_text(rec.get("effects"))
            row["SMD"] = smd_text(rec.get("smd"))
        row["Missing"] = rec["missing"]
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Table1Options:
    proportion_ci: bool = False  # show the exact 95% CI of each proportion


EFFECT_METHODS = (
    " Two groups: the difference is the first group minus the second — Hodges–Lehmann shift with its 95% CI "
    "(R wilcox.test(conf.int = TRUE)) for continuous rows, risk difference in percentage points with Newcombe's "
    "hybrid score 95% CI for binary rows — and the odds ratio (first vs second) is R fisher.test's conditional MLE "
    "with its exact 95% CI. SMD = standardised mean difference (first − second; |SMD| < 0.1 is the usual balance "
    "threshold); for a categorical variable, the multivariate SMD over its levels. Proportion CIs: exact "
    "(Clopper–Pearson, R binom.test)."
)


def build_table1_cards(vc: ViewContext, options: Table1Options | None = None) -> list[Card]:
    options = options or Table1Options()
    t1 = vc.run("table1")
    caveats = sorted({n for rec in t1.records for n in rec.get("notes", [])})
    return [
        Card(
            "table1.table",
            title="Table 1 — baseline characteristics",
            heading=False,
            tables=(
                CardTable(
                    table1_frame(t1, options.proportion_ci),
                    kind="grid",
                    formats={"p": "p", "q (BH)": "q", "Missing": "count"},
                    download="table1.csv",
                ),
            ),
            caveats=tuple(caveats),
            methods=METHODS + EFFECT_METHODS,
            **vc.card_fields(),
        )
    ]
