"""Cytokines: fold difference (value / upper limit of normal) by group, Mann–Whitney per cytokine, BH q."""

import streamlit as st

from misc_dash import figures, ui

view = ui.page_header("Cytokines — fold difference over the upper limit of normal")
ui.confounding_caution(view)
cr = view.run("cytokines")
if cr.values.empty:
    st.warning("No cytokine measurements for this selection.", icon="🔍")
    st.stop()
chart = ui.view_switch("Chart", ["Fold difference by group", "Panel heatmap (medians)"], key="cyto_chart")
if chart == "Fold difference by group":
    ui.plot(figures.build_cytokine_figure(cr.values, view.ctx.groups, colors=view.colors), key="cyto")
    st.caption(
        "Each point is one patient's sample taken shortly after admission and before anakinra. Log scale; the line at 1 "
        f"is the upper limit of normal. Cohort: {ui.md_escape(view.description)}."
    )
else:
    ui.plot(figures.build_cytokine_heatmap(list(cr.records), view.ctx.groups), key="heat")
    st.caption(
        f"Median fold difference per cytokine and group (colour: log scale). Cohort: {ui.md_escape(view.description)}."
    )
ui.summary_table(cr.table)
st.caption(
    "Median [Q1–Q3] per group (n = patients with that cytokine). Test: Mann–Whitney U (2 groups; exact without ties, "
    "otherwise normal approximation with continuity correction) or Kruskal–Wallis (3+ groups). q = Benjamini–Hochberg "
    "across the panel of cytokines shown."
)
ui.notes_block([(c, n) for c, t in cr.tests.items() if t is not None for n in t.notes])
