"""Data & fidelity: the data dictionary, loading a hospital's own cohort, the fidelity report, downloads."""

import os

import pandas as pd
import streamlit as st

from misc_dash import ui
from misc_dash.loading import (
    ENV_COHORT,
    REPO_ROOT,
    Problem,
    cohort_xlsx,
    cohort_zip,
    export_metadata,
    xlsx_refusal,
)
from misc_dash.ui import state as ui_state

view = ui.page_header("data", title="Data & fidelity", need_groups=False, caution=False)
cohort = view.cohort

st.subheader("Loaded cohort")
counts = {name: len(df) for name, df in cohort.tables.items()}
st.markdown(
    f"**{ui.md_escape(cohort.name)}** — {'synthetic' if cohort.synthetic else 'as loaded'}; "
    + ", ".join(f"{v} {ui.md_escape(k)} rows" for k, v in counts.items())
)
missing_files = [w for w in cohort.warnings if w.file == "upload"]
if missing_files:
    st.warning(
        "**Tables may be missing from this upload.** "
        + " ".join(ui.md_escape(w.message + ". " + w.fix) for w in missing_files),
        icon=":material/warning:",
    )
for w in cohort.warnings:
    if w not in missing_files:
        st.caption(":material/warning: " + ui.md_escape(w.text()))

st.subheader("Load your own cohort")
if not ui.upload_allowed():  # login on and not signed in: no uploader (ui_state.load_upload refuses too)
    st.info("Sign in to load your own cohort.", icon=":material/lock:")
else:
    limit_mb = st.get_option("server.maxUploadSize")
    st.markdown(
        "One `.xlsx` workbook with one sheet per table, one `.zip` of the cohort folder, or the files themselves: "
        "CSV or Parquet, named after the tables (`patients.csv`, `labs.parquet`, …) with `metadata.json`. Everything "
        "is checked against the data contract below; a file with problems is rejected as a whole with every problem "
        "listed, and the current cohort stays loaded. Files are kept in this session's memory (while a file over 1 MB "
        "is being received, the web server holds it in a temporary file, deleted once read); nothing is stored or "
        "sent anywhere."
    )
    st.caption(
        f":material/info: Each file may be up to {limit_mb} MB: the browser refuses a larger file on its own, and the "
        "other files upload without it. Send a large cohort (more than a few thousand patients) as **one .zip** of its "
        "files, or as **Parquet** files (several times smaller than CSV). A `metadata.json` listing the tables (as the "
        "dashboard's own exports and `python -m misc_dash synth` write) makes an incomplete upload fail loudly."
    )
    UPLOAD_KINDS = {
        "contract": "Files in the data contract",
        "export": "Another export: map its columns",
        "redcap": "A REDCap export (data dictionary + records)",
    }
    kind = st.radio(
        "What are you uploading?",
        list(UPLOAD_KINDS),
        format_func=UPLOAD_KINDS.get,
        key="upload_kind",
        horizontal=True,
        help="Another export (a data warehouse's, a spreadsheet with other column names or codes): map each contract "
        "column to one of its columns, preview, then load; save the mapping to reuse it here or with "
        "python -m misc_dash validate PATH --mapping FILE. A REDCap project: upload its data dictionary and a records "
        "export; a project built on the data contract (docs/REDCAP.md) needs no mapping.",
    )
    files = st.file_uploader(
        {
            "contract": "Cohort files",
            "export": "Export files (CSV, Parquet, .xlsx or a .zip; and a saved mapping)",
            "redcap": "The data dictionary and the records export (CSV; and a saved mapping)",
        }[kind],
        type=["xlsx", "csv", "json", "zip", "parquet"],
        accept_multiple_files=True,
        key="upload_files",
    )
    made_up = st.checkbox(
        "These are synthetic patients",
        key="upload_synthetic",
        help="Tick only for made-up or resampled patients. The app decides the label from this answer, never from a "
        "file's metadata: an upload is real patient data unless you say otherwise.",
    )
    if kind == "export" and files:
        ui.mapping_upload(files, synthetic=made_up)
    elif kind == "redcap" and files:
        ui.redcap_upload(files, synthetic=made_up)
    c1, c2 = st.columns(2)
    if kind == "contract" and c1.button("Validate and load", disabled=not files, type="primary"):
        with st.status("Validating the upload …", expanded=True) as status:
            bar = st.progress(0.0, text="Reading the files")
            ui_state.load_upload(
                files, progress=lambda f, m: bar.progress(min(max(float(f), 0.0), 1.0), text=m), synthetic=made_up
            )
            failed = ui.upload_failed()
            status.update(
                label="Upload refused" if failed else "Upload validated", state="error" if failed else "complete"
            )
        if not failed:
            st.rerun()
    back = "Back to the server's cohort" if os.environ.get(ENV_COHORT) else "Back to the reconstructed default cohort"
    if c2.button(back, disabled=st.session_state.get(ui.K_UPLOAD_COHORT) is None):
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
    else:  # loaded: the notices about the upload itself (the cohort's own warnings are listed above)
        for p in problems:
            if isinstance(p, Problem) and p not in set(cohort.warnings):
                st.caption(":material/info: " + ui.md_escape(p.text()))

tpl = REPO_ROOT / "data" / "template.xlsx"
if tpl.exists():
    st.download_button("Download the empty template (.xlsx)", tpl.read_bytes(), file_name="misc_cohort_template.xlsx")

st.subheader("Download the filtered cohort")
ids = view.ctx.pf["patient_id"]


def _filtered_tables() -> dict[str, pd.DataFrame]:
    keep = pd.Index(ids)
    return {name: df[df["patient_id"].isin(keep)].reset_index(drop=True) for name, df in cohort.tables.items()}


def _export_meta(tables) -> dict:
    return export_metadata(cohort, tables, cohort.name + " (filtered)", view.description)


def filtered_workbook() -> bytes:
    """Built only when the button is clicked (not on every rerun). Text cells are never formulas."""
    tables = _filtered_tables()
    return cohort_xlsx(tables, _export_meta(tables))


def filtered_zip_csv() -> bytes:
    tables = _filtered_tables()
    return cohort_zip(tables, _export_meta(tables), fmt="csv")


def filtered_zip_parquet() -> bytes:
    tables = _filtered_tables()
    return cohort_zip(tables, _export_meta(tables), fmt="parquet")


# small-cell rule (real patients): no patient-level download of fewer patients than the threshold
small_cells = ui_state.suppression_policy() if not cohort.synthetic else None
n_ids = str(len(ids)) if small_cells is None else view.view_context.sizes.text("selection")
# a real cohort the server opens for every session (MISC_DASH_COHORT) is never handed out patient by patient: the
# viewers of a deployment are not all the people who may hold the patient-level data
server_real = not cohort.synthetic and st.session_state.get(ui.K_UPLOAD_COHORT) is None
if server_real:
    st.info(
        "**No patient-level download of the server's cohort:** it holds real patients' data, opened by the server "
        "for every viewer. The team that may hold the data has its files where the server reads them; the cards' "
        "exports (summary tables, charts, report) are available on each page.",
        icon=":material/shield:",
    )
elif small_cells is not None and small_cells.hides(len(ids)):
    st.info(
        f"**No download for this selection:** it has fewer than {small_cells.threshold} patients, and a file of "
        "real patients' data this small is never offered (small-cell rule). Relax a filter to download.",
        icon=":material/shield:",
    )
else:
    # sized from row counts per patient (cached): nothing is filtered until a button is clicked
    rows = ui_state.selection_rows(cohort, ids)
    refusal = xlsx_refusal({name: (n, cohort.tables[name].shape[1]) for name, n in rows.items()})
    if refusal is None:
        st.download_button(
            f"Download {n_ids} patients (.xlsx, same data contract)",
            filtered_workbook,
            file_name="misc_cohort_filtered.xlsx",
            on_click="ignore",
        )
    else:
        st.info(
            f"**No .xlsx for this selection:** {ui.md_escape(refusal)}. Download it as one .zip instead (the CSV "
            "files, or Parquet — smaller and faster — with metadata.json listing the tables); the Data page loads "
            "either back.",
            icon=":material/info:",
        )
    z1, z2 = st.columns(2)
    z1.download_button(
        f"Download {n_ids} patients (.zip of CSVs)",
        filtered_zip_csv,
        file_name="misc_cohort_filtered.zip",
        mime="application/zip",
        on_click="ignore",
    )
    z2.download_button(
        f"Download {n_ids} patients (.zip of Parquet)",
        filtered_zip_parquet,
        file_name="misc_cohort_filtered_parquet.zip",
        mime="application/zip",
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
