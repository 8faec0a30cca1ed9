"""MIS-C Cohort Explorer: the domain package (no Streamlit outside misc_dash.ui)."""
