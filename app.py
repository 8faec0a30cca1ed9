"""MIS-C Cohort Explorer — the router. The sidebar filters are drawn here so they persist across pages."""

import streamlit as st

from misc_dash import ui

st.set_page_config(page_title="MIS-C Cohort Explorer", page_icon="🫀", layout="wide")

PAGES = {
    "Cohort": [
        st.Page("pages/overview.py", title="Overview", icon="🏠", default=True),
        st.Page("pages/table1.py", title="Table 1", icon="📋"),
    ],
    "Outcomes": [
        st.Page("pages/cardiac.py", title="Cardiac (LVEF, strain)", icon="🫀"),
        st.Page("pages/fever.py", title="Fever", icon="🌡️"),
        st.Page("pages/cytokines.py", title="Cytokines", icon="🧪"),
        st.Page("pages/labs.py", title="Labs", icon="🩸"),
    ],
    "Treatment": [
        st.Page("pages/anakinra.py", title="Anakinra dosing", icon="💉"),
        st.Page("pages/safety.py", title="Safety", icon="🛡️"),
    ],
    "Evidence & data": [
        st.Page("pages/literature.py", title="Literature", icon="📚"),
        st.Page("pages/data.py", title="Data & fidelity", icon="🗂️"),
    ],
}

nav = st.navigation(PAGES)
ui.sidebar()
nav.run()
