"""Data & fidelity: the data dictionary, loading a hospital's own cohort, the fidelity report, downloads."""

import io

import pandas as pd
import streamlit as st

from misc_dash import ui
from misc_dash.loading import REPO_ROOT, Problem

view = ui.page_header("data", title="Data & fidelity", need_groups=False, caution=False)
cohort = view.cohort

st.subheader("Loaded cohort")
counts = {name: len(df) for name, df in cohort.tables.items()}
st.markdown(
    f"**{ui.md_escape(cohort.name)}** — {'synthetic' if cohort.synthetic else 'as loaded'}; "
    + ", ".join(f"{v} {ui.md_escape(k)} rows" for k, v in counts.items())
)
for w in cohort.warnings:
    st.caption(":material/warning: " + ui.md_escape(w.text()))

st.subheader("Load your own cohort")
st.markdown(
    "One `.xlsx` workbook with one sheet per table, or the CSV files (`patients.csv`, `echo.csv`, …). Everything is "
    "checked against the data contract below; a file with problems is rejected as a whole with every problem listed, "
    "and the current cohort stays loaded. Files stay in this session's memory; nothing is stored or sent anywhere."
)
files = st.file_uploader("Cohort files", type=["xlsx", "csv", "json"], accept_multiple_files=True, key="upload_files")
c1, c2 = st.columns(2)
if c1.button("Validate and load", disabled=not files, type="primary"):
    ui.load_upload(files)
    if not ui.upload_failed():
        st.rerun()
if c2.button("Back to the reconstructed default cohort", disabled=st.session_state.get(ui.K_UPLOAD_COHORT) is None):
    ui.use_default_cohort()
    st.rerun()
problems = st.session_state.get(ui.K_UPLOAD_PROBLEMS)
if problems:
    errors = [p for p in problems if not isinstance(p, Problem) or p.severity == "error"]
    if errors:
        st.error(
            f"The upload was not loaded: {len(errors)} problem(s). Fix them and upload again.", icon=":material/block:"
        )
        rows = [p.to_dict() if isinstance(p, Problem) else {"message": str(p)} for p in problems]
        ui.table(pd.DataFrame(rows))

tpl = REPO_ROOT / "data" / "template.xlsx"
if tpl.exists():
    st.download_button("Download the empty template (.xlsx)", tpl.read_bytes(), file_name="misc_cohort_template.xlsx")

st.subheader("Download the filtered cohort")
ids = view.ctx.pf["patient_id"]


def filtered_workbook() -> bytes:
    """Built only when the button is clicked (not on every rerun)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as w:
        for name, df in cohort.tables.items():
            df[df["patient_id"].isin(ids)].to_excel(w, sheet_name=name, index=False)
        pd.DataFrame(
            {
                "key": ["name", "synthetic", "description"],
                "value": [cohort.name + " (filtered)", str(cohort.synthetic).lower(), view.description],
            }
        ).to_excel(w, sheet_name="metadata", index=False)
    return buf.getvalue()


st.download_button(
    f"Download {len(ids)} patients (.xlsx, same data contract)",
    filtered_workbook,
    file_name="misc_cohort_filtered.xlsx",
    on_click="ignore",
)

st.subheader("Fidelity: published vs reconstructed")
if cohort.synthetic and cohort.source and "default_cohort" in str(cohort.source):
    rep = ui.fidelity(cohort.fingerprint, cohort)
    s = rep.summary
    st.markdown(
        f"**{s['required_pass']} of {s['required']} required values reproduced**; {s['not_reproducible']} published "
        "values cannot be reproduced from the methods as written (listed with why). Same numbers as "
        "`python -m misc_dash fidelity`. Tolerance: counts exact; other numbers within half a unit of the last "
        "published digit."
    )
    status = st.multiselect(
        "Show",
        ["pass", "FAIL", "not reproducible", "informative"],
        default=["pass", "FAIL", "not reproducible", "informative"],
        key="fid_status",
        bind="query-params",
    )
    ui.table(rep.rows[rep.rows["status"].isin(status)])
else:
    st.info(
        "The fidelity report compares the reconstructed default cohort with the index paper; it does not apply to an "
        "uploaded cohort."
    )

st.subheader("Data dictionary")
dd = REPO_ROOT / "docs" / "DATA_DICTIONARY.md"
st.markdown(dd.read_text(encoding="utf-8"))
