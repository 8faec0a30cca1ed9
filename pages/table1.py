"""Table 1: baseline characteristics by the compare-by groups."""

import streamlit as st

from misc_dash import ui

view = ui.page_header("Table 1 — baseline characteristics")
ui.confounding_caution(view)
t1 = view.run("table1")
ui.table(t1.rows)
st.caption(
    "Continuous: median [Q1, Q3] (quantiles as R type 6 / GraphPad Prism); categorical: n (% of patients with a "
    "recorded value). Tests: Fisher's exact test (2 groups) or its exact r×c extension (Freeman–Halton, 3+ groups) "
    "for categories; Mann–Whitney U (2 groups; exact without ties, else normal approximation with continuity "
    "correction) or Kruskal–Wallis (3+ groups) for continuous variables. q = Benjamini–Hochberg adjusted across "
    "the rows (exploratory; the index study reported unadjusted p). Missing values are counted, never imputed."
)
notes = sorted({n for rec in t1.records for n in rec.get("notes", [])})
for n in notes:
    st.caption("⚠️ " + ui.md_escape(n))
st.download_button(
    "Download Table 1 (CSV)",
    t1.rows.to_csv(index=False).encode("utf-8"),
    file_name="table1.csv",
    mime="text/csv",
)
