"""Tests viewed: every p-value shown on screen in this session, with BH q over all of them (misc_dash.ledger)."""

import streamlit as st

from misc_dash import ledger, ui
from misc_dash.ui import ledger as session_ledger

if ui.get_view().ctx is not None:  # the usual header (banner, cohort line, report basket, the counter)
    ui.page_header("ledger", title="Tests viewed", need_groups=False, caution=False)
else:  # the ledger does not depend on the filters: shown even when they match no patient
    st.title("Tests viewed")
    session_ledger.counter()
st.caption(
    "The ledger only counts tests shown on screen in this browser session; it is not saved. The same test on the "
    "same selection is counted once; a re-run with other filters is a new test looked at."
)
st.button("Clear the ledger", icon=":material/delete:", key="ledger_clear", on_click=session_ledger.clear)
entries = session_ledger.entries()
if not entries:
    st.info("No tests viewed yet: open an outcome page (Fever, Cardiac, …) and its p-values are listed here.")
else:
    st.markdown(ui.md_escape(ledger.summary_sentence(entries)))
    st.dataframe(
        ledger.ledger_table(entries),
        hide_index=True,
        column_config={
            "p": st.column_config.NumberColumn(format="%.4g"),
            "q (BH, whole session)": st.column_config.NumberColumn(format="%.4g"),
        },
        key="ledger_table",
    )
