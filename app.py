"""MIS-C Cohort Explorer — the router. The sidebar filters are drawn here so they persist across pages."""

from pathlib import Path

import streamlit as st

from misc_dash import ui

# the favicon is a local file: a Material icon or an emoji as page icon makes the browser fetch it from the web
st.set_page_config(
    page_title="MIS-C Cohort Explorer", page_icon=str(Path(__file__).parent / "static" / "favicon.png"), layout="wide"
)

PAGES = {
    "Cohort": [
        st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True),
        st.Page("pages/table1.py", title="Table 1", icon=":material/table_chart:"),
    ],
    "Outcomes": [
        st.Page("pages/cardiac.py", title="Cardiac (LVEF, strain)", icon=":material/cardiology:"),
        st.Page("pages/fever.py", title="Fever", icon=":material/thermometer:"),
        st.Page("pages/cytokines.py", title="Cytokines", icon=":material/science:"),
        st.Page("pages/labs.py", title="Labs", icon=":material/bloodtype:"),
        st.Page("pages/adjusted.py", title="Adjusted & sensitivity", icon=":material/balance:"),
    ],
    "Treatment": [
        st.Page("pages/anakinra.py", title="Anakinra dosing", icon=":material/vaccines:"),
        st.Page("pages/safety.py", title="Safety", icon=":material/health_and_safety:"),
    ],
    "Evidence & data": [
        st.Page("pages/literature.py", title="Literature", icon=":material/menu_book:"),
        st.Page("pages/data.py", title="Data & fidelity", icon=":material/folder_open:"),
        st.Page("pages/ledger.py", title="Tests viewed", icon=":material/fact_check:"),
    ],
}

# optional login (secrets [auth]): when it is on and the user may not see the data, the pages are registered but
# hidden and never run; the sign-in screen is drawn instead and the run stops
gate = ui.login_gate()
nav = st.navigation(PAGES, position="sidebar" if gate.open else "hidden")
if not gate.open:
    ui.show_sign_in(gate)
ui.show_signed_in(gate)
ui.sidebar()
try:
    nav.run()
except Exception as exc:  # never a traceback (nor Streamlit's error box with its external links) for a user
    ui.page_failed(exc)
