"""Anakinra dosing: daily courses, Table 2 by CV shock, route."""

import streamlit as st

from misc_dash import ui
from misc_dash.views import AnakinraOptions
from misc_dash.views.anakinra import X_AXES

view = ui.page_header("anakinra")
if view.run("dosing").courses.empty:
    st.warning("No patient on anakinra in this selection.", icon=":material/search_off:")
    st.stop()
with ui.controls():
    xaxis = st.radio(
        "Time axis", list(X_AXES), format_func=X_AXES.get, horizontal=True, key="dose_x", bind="query-params"
    )
ui.show_cards(view.cards("anakinra", AnakinraOptions(xaxis)))
