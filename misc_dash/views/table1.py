"""Table 1 page: baseline characteristics by the compare-by groups."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import formatting as fmt
from .. import privacy
from ..cards import Card, CardTable, TableP
from .common import ViewContext
from .effects import difference_text, odds_ratio_text, smd_text

HIDDEN_STAT = "not shown"  # p, q, effects and SMD of a row with a hidden count (they would give it back)
HIDDEN_NOTE = (
    "Rows with a count hidden by the small-cell rule show no p, q, effect or SMD: with the counts around them, "
    "they would give the hidden count back."
)

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


def _try_line(c: privacy.Counts, parts, total) -> None:
    """A sum the reader can form, when it holds for these counts (a flag with missing values breaks it)."""
    if all(k in c for k in (*parts, total)) and sum(c.value(k) for k in parts) == c.value(total):
        c.line(parts, total)


def table1_counts(vc: ViewContext, t1) -> privacy.Shown:
    """Small-cell suppression of Table 1 (:class:`misc_dash.privacy.Counts`). Per binary row and column (each
    group, the patients in no group, All): the count k, the patients without it (e, read from the percentage) and
    the missing (m): k + e + m = the column's size, fixed by the page's group sizes (All's m is the Missing
    column); across the columns k, e and m add up to All's. A categorical variable: its levels add
    up to its recorded n ("n = X") per column, and each level adds up across the columns. The phenotype rows are
    tied (KD-like = KD-like only + KDSS-like; CV shock likewise; the four phenotypes make the column's size)."""
    sizes = vc.sizes
    groups = list(t1.groups)
    size_key = {g: ("group", g) for g in groups} | {"All": "selection", "ung": "ung_total"}
    c = privacy.Counts(vc.policy)
    privacy.add_fixed(c, privacy.fixed_from(sizes, size_key.values()))
    by_name = {}
    for i, rec in enumerate(t1.records):
        by_name[rec["variable"]] = i
        if rec["kind"] == "continuous":
            c.add(("m", i, "All"), rec["missing"])
            continue
        if rec["kind"] == "categorical":
            ms = {g: rec["groups"][g]["missing"] for g in groups}
            ns = {g: rec["groups"][g]["n"] for g in groups}
            ms["All"], ns["All"] = rec["overall"]["missing"], rec["overall"]["n"]
            ms["ung"] = ms["All"] - sum(ms[g] for g in groups)
            ns["ung"] = ns["All"] - sum(ns[g] for g in groups)
            for col in (*groups, "ung", "All"):
                derived = col != "All"  # only All's missing count is in the table
                c.add(("nrec", i, col), ns[col], derived=col == "ung").add(
                    ("m", i, col), ms[col], derived=derived, primary=not derived
                )
                _try_line(c, [("nrec", i, col), ("m", i, col)], size_key[col])
            for kind in ("nrec", "m"):
                _try_line(c, [(kind, i, col) for col in (*groups, "ung")], (kind, i, "All"))
            continue
        parent = by_name.get(rec.get("level_of")) if "level_of" in rec else None
        vals = {g: rec["groups"][g] for g in groups} | {"All": rec["overall"]}
        ks = {col: v["count"] for col, v in vals.items()}
        ks["ung"] = ks["All"] - sum(ks[g] for g in groups)
        for col in (*groups, "ung", "All"):
            c.add(("k", i, col), ks[col], derived=col == "ung")
        _try_line(c, [("k", i, col) for col in (*groups, "ung")], ("k", i, "All"))
        if parent is not None:
            continue  # a level: its n and missing are its variable's
        ns = {col: v["n"] for col, v in vals.items()}
        ms = {col: v["missing"] for col, v in vals.items()}
        ns["ung"], ms["ung"] = ns["All"] - sum(ns[g] for g in groups), ms["All"] - sum(ms[g] for g in groups)
        for col in (*groups, "ung", "All"):
            availability = col != "All"  # a group's missing values: only All's are in the table
            c.add(("e", i, col), ns[col] - ks[col], derived=True)
            c.add(("m", i, col), ms[col], derived=availability, primary=not availability)
            _try_line(c, [("k", i, col), ("e", i, col), ("m", i, col)], size_key[col])
        for kind in ("e", "m"):
            _try_line(c, [(kind, i, col) for col in (*groups, "ung")], (kind, i, "All"))
    for i, rec in enumerate(t1.records):  # a categorical variable's levels make its recorded n
        if rec["kind"] == "categorical":
            levels = [j for j, r in enumerate(t1.records) if r.get("level_of") == rec["variable"]]
            for col in (*groups, "ung", "All"):
                _try_line(c, [("k", j, col) for j in levels], ("nrec", i, col))
    ph = {name: by_name.get(name) for name in ("Non-specific", "KD-like", "CV shock", "KDSS-like")}
    if all(v is not None for v in ph.values()):
        ns_, kd, cv, kdss = (ph[x] for x in ("Non-specific", "KD-like", "CV shock", "KDSS-like"))
        for col in (*groups, "ung", "All"):
            kd_only = c.value(("k", kd, col)) - c.value(("k", kdss, col))
            cv_only = c.value(("k", cv, col)) - c.value(("k", kdss, col))
            if kd_only < 0 or cv_only < 0:
                continue
            c.add(("kd_only", col), kd_only, derived=True).add(("cv_only", col), cv_only, derived=True)
            _try_line(c, [("kd_only", col), ("k", kdss, col)], ("k", kd, col))
            _try_line(c, [("cv_only", col), ("k", kdss, col)], ("k", cv, col))
            _try_line(c, [("k", ns_, col), ("kd_only", col), ("cv_only", col), ("k", kdss, col)], size_key[col])
    return c.protect()


def _row_hidden(shown: privacy.Shown, i: int, rec: dict, t1, by_name: dict) -> bool:
    """Whether any count of row ``i`` (a level: of its variable) is hidden, or would be given back."""
    cols = [*t1.groups, "ung", "All"]
    if rec["kind"] == "continuous":
        return False
    if rec["kind"] == "categorical":
        rows = [i] + [j for j, r in enumerate(t1.records) if r.get("level_of") == rec["variable"]]
    elif "level_of" in rec:
        rows = [by_name[rec["level_of"]], i]
    else:
        rows = [i]
    keys = [(kind, j, col) for j in rows for col in cols for kind in ("k", "e", "nrec", "m")]
    return any(shown.hidden(k) for k in keys if k in shown.values)


def _shown_cell(shown: privacy.Shown, i: int, col: str, rec: dict, v: dict, parent, proportion_ci: bool) -> str:
    if "counts" in v:
        return shown.n(("nrec", i, col))
    if "count" not in v:
        return v["text"]
    if parent is not None:
        n_key, also = ("nrec", parent, col), ()
    else:  # the recorded n is k + e; the percentage would give e and m back
        n_key, also = None, (("e", i, col), ("m", i, col))
    txt = shown.count_percent(("k", i, col), n_key, also=also, empty="0 (n/a)", n=v["n"])
    pct = shown.percent(("k", i, col), n_key, also=also, n=v["n"])
    if proportion_ci and v.get("ci") and v["ci"][0] is not None and pct:
        lo, hi = v["ci"]
        txt = f"{txt}; {fmt.number(100 * lo, 0)}–{fmt.number(100 * hi, 0)}%"
    return txt


def table1_frame(t1, proportion_ci: bool = False, shown: privacy.Shown | None = None) -> pd.DataFrame:
    """Table 1 for display: Variable, All, one column per group (with n), then for two groups the difference and
    odds ratio with their 95% CIs and the SMD, p, q (BH), Missing, Test. A categorical variable has one row with
    its r × c test, then one row per level (counts; the per-level tests the paper printed are in the JSON).
    ``shown`` (:func:`table1_counts`): the counts as the small-cell rule shows them; a row with a hidden count
    shows no p, q, effect or SMD (:data:`HIDDEN_STAT`)."""
    two = len([g for g in t1.groups if t1.group_n[g] > 0]) == 2
    by_name = {r["variable"]: i for i, r in enumerate(t1.records)}
    rows = []
    for i, rec in enumerate(t1.records):
        level = "level_of" in rec
        parent = by_name.get(rec["level_of"]) if level else None
        hidden = shown is not None and _row_hidden(shown, i, rec, t1, by_name)
        if shown is None:
            row = {
                "Variable": ("   " if level else "") + rec["variable"],
                "All": _group_cell(rec["overall"], proportion_ci),
            }
        else:
            row = {
                "Variable": ("   " if level else "") + rec["variable"],
                "All": _shown_cell(shown, i, "All", rec, rec["overall"], parent, proportion_ci),
            }
        for g in t1.groups:
            if shown is None:
                row[f"{g} (n = {t1.group_n[g]})"] = _group_cell(rec["groups"][g], proportion_ci)
            else:
                cell = _shown_cell(shown, i, g, rec, rec["groups"][g], parent, proportion_ci)
                row[f"{g} ({shown.n(('group', g))})"] = cell
        # p, q and the test first (they fit the page's width), then the effects with their CIs
        row["p"] = "—" if level else HIDDEN_STAT if hidden else fmt.p_or(rec["p_value"])
        row["q (BH)"] = "—" if level else HIDDEN_STAT if hidden else fmt.p_or(rec.get("q_value"))
        if level:
            row["Test"] = f"see {rec['level_of']}"
        else:
            row["Test"] = rec["test"] or "not computed (fewer than 2 groups with data)"
        if two:
            row["Difference (95% CI)"] = HIDDEN_STAT if hidden else difference_text(rec.get("effects"))
            row["Odds ratio (95% CI)"] = HIDDEN_STAT if hidden else odds_ratio_text(rec.get("effects"))
            row["SMD"] = HIDDEN_STAT if hidden else smd_text(rec.get("smd"))
        if shown is None:
            row["Missing"] = rec["missing"]
        else:
            key = ("m", parent if level else i, "All")
            row["Missing"] = shown.text(key)
        rows.append(row)
    return pd.DataFrame(rows)


def table1_p_values(t1, frame: pd.DataFrame, shown: privacy.Shown | None = None) -> tuple[TableP, ...]:
    """The p-values the table shows (one per variable; none for a hidden row), for the tests-viewed ledger."""
    sizes = [shown.n(("group", g)) if shown is not None else str(t1.group_n[g]) for g in t1.groups]
    n = " vs ".join(str(v).removeprefix("n = ") for v in sizes)
    out = []
    for rec, p in zip(t1.records, frame["p"], strict=True):
        if "level_of" in rec or rec.get("p_value") is None or p in ("—", HIDDEN_STAT):
            continue
        out.append(TableP(f"Table 1: {rec['variable']}", rec["test"], float(rec["p_value"]), n))
    return tuple(out)


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
    shown = table1_counts(vc, t1) if vc.policy is not None else None
    frame = table1_frame(t1, options.proportion_ci, shown)
    if shown is not None and (frame["p"] == HIDDEN_STAT).any():
        caveats.append(HIDDEN_NOTE)
    return [
        Card(
            "table1.table",
            table_p_values=table1_p_values(t1, frame, shown),
            title="Table 1 — baseline characteristics",
            heading=False,
            tables=(
                CardTable(
                    frame,
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
