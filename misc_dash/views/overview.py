"""Overview page: key figures, cohort flow, phenotype × treatment."""

from __future__ import annotations

import pandas as pd

from .. import figures, privacy
from ..cards import Card, CardTable, Metric
from ..vocabulary import BOOL_GROUP_LABELS
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


def _parents(flow) -> list[int | None]:
    """Each flow row's parent: the nearest earlier row one level up (as the figure draws the tree)."""
    out, stack = [], {}
    for i, (_, _, dep) in enumerate(flow):
        out.append(stack.get(dep - 1))
        stack[dep] = i
        for d in [k for k in stack if k > dep]:
            del stack[d]
    return out


def _flow_key(label: str, dep: int):
    return "selection" if dep == 0 else ("tg", label) if dep == 2 else ("flow", label)


def overview_counts(vc: ViewContext, kf: dict, flow, ct: pd.DataFrame) -> privacy.Shown:
    """Small-cell suppression of the page's counts together (:class:`misc_dash.privacy.Counts`): the key figures,
    the flow boxes (each box = the boxes it splits into), the phenotype × treatment table with its totals, and the
    group sizes every page shows (fixed), tied to the cells that are the same patients (treatment groups,
    phenotypes, anakinra, CV shock)."""
    sizes = vc.sizes
    c = privacy.Counts(vc.policy)
    privacy.add_fixed(c, privacy.fixed_from(sizes, ["cohort", "selection", *[("group", g) for g in vc.groups]]))
    parents = _parents(flow)
    for label, n, dep in flow:
        if dep:
            c.add(_flow_key(label, dep), n)
    for i, (label, n, dep) in enumerate(flow):
        kids = [_flow_key(a, d) for j, (a, _, d) in enumerate(flow) if parents[j] == i]
        if kids and sum(flow[j][1] for j in range(len(flow)) if parents[j] == i) == n:
            c.line(kids, _flow_key(label, dep))
    phen = [str(p) for p in ct.index if str(p) != "Total"]
    tgs = [str(t) for t in ct.columns if str(t) != "Total"]
    for p in phen:
        c.add(("ph", p), int(ct.loc[p, "Total"]))
        for t in tgs:
            c.add(("ct", p, t), int(ct.loc[p, t]))
        c.line([("ct", p, t) for t in tgs], ("ph", p))
    for t in tgs:
        c.add(("tg", t), int(ct.loc["Total", t]))
        c.line([("ct", p, t) for p in phen], ("tg", t))
    c.line([("ph", p) for p in phen], "selection").line([("tg", t) for t in tgs], "selection")
    c.add("cv_shock", kf["cv_shock"])
    shock = [("ph", p) for p in ("CV shock", "KDSS-like") if ("ph", p) in c]
    if sum(c.value(k) for k in shock) == kf["cv_shock"]:
        c.line(shock, "cv_shock")
    c.add("icu", kf["icu"]).add("icu_missing", kf["icu_missing"])
    c.add("no_icu", kf["n_patients"] - kf["icu"] - kf["icu_missing"], derived=True).line(
        ["icu", "icu_missing", "no_icu"], "selection"
    )
    # the compare-by groups that are the same patients as a cell of this page
    same = {}
    if vc.ctx.grouping.by in ("treatment", "phenotype"):
        same = {g: ("tg" if vc.ctx.grouping.by == "treatment" else "ph", g) for g in vc.groups}
    elif vc.ctx.grouping.by == "anakinra":
        same = dict(zip(BOOL_GROUP_LABELS["anakinra"], (("flow", "No anakinra"), ("flow", "Anakinra"))))
    elif vc.ctx.grouping.by == "cv_shock":
        same = {BOOL_GROUP_LABELS["cv_shock"][1]: "cv_shock"}
    for g, key in same.items():  # the same patients: the group's size as the page header shows it
        if key in c and ("group", g) in c and c.value(key) == vc.ctx.group_sizes().get(g):
            c.add(key, c.value(key), fixed=sizes.state(("group", g)))
    return c.protect()


def build_overview_cards(vc: ViewContext, options: None = None) -> list[Card]:
    kf = vc.run("key_figures")
    common = vc.card_fields()
    flow = vc.run("flow")
    ct = vc.run("crosstab")
    shown = overview_counts(vc, kf, flow, ct) if vc.policy is not None else None

    def n(key, value) -> str:
        return str(value) if shown is None else shown.text(key)

    icu_help = f"{n('icu_missing', kf['icu_missing'])} without an ICU record" if kf["icu_missing"] else None
    key = Card(
        "overview.key_figures",
        title="Key figures",
        heading=False,
        metrics=(
            Metric("Patients", f"{n('selection', kf['n_patients'])} of {n('cohort', kf['n_total'])}"),
            Metric("Anakinra", n(("flow", "Anakinra"), kf["anakinra"])),
            Metric("CV shock", n("cv_shock", kf["cv_shock"])),
            Metric("ICU", n("icu", kf["icu"]), icu_help),
            Metric("Age, years — median [Q1, Q3]", kf["age"].text(1)),
            Metric("Length of stay, days — median [Q1, Q3]", kf["length_of_stay"].text(1)),
        ),
        **common,
    )
    counts = None
    if shown is not None:
        parents = _parents(flow)
        keys = [_flow_key(a, d) for a, _, d in flow]
        counts = [
            (shown.text(k), shown.shown(k) and (p is None or shown.shown(keys[p]))) for k, p in zip(keys, parents)
        ]
    flow_card = Card(
        "overview.flow",
        title="Cohort flow",
        figure=figures.build_flow_figure(flow, counts=counts),
        figure_key="flow",
        **common,
    )
    table = ct.reset_index()
    if shown is not None:
        table = table.astype(object)
        for i, p in enumerate(table["Phenotype"]):
            for col in ct.columns:
                cell = {("Total", "Total"): "selection"}.get((p, col)) or (
                    ("tg", col) if p == "Total" else ("ph", p) if col == "Total" else ("ct", p, col)
                )
                table.at[i, col] = shown.text(cell)
    cross = Card(
        "overview.crosstab",
        title="Phenotype × treatment group",
        tables=(CardTable(table, formats={"Total": "count"}),),
        caption=CROSSTAB_CAPTION,
        **common,
    )
    return [key, flow_card, cross]
