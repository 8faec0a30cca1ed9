"""The Data page's mapping step: a hospital's own export (or a REDCap export) mapped onto the data contract,
column by column and code by code, with a preview of the first rows and the validation result before anything is
loaded, and the mapping saved as a small JSON file to reuse here or with ``python -m misc_dash validate PATH
--mapping FILE``.

The editors start from a base mapping (a saved one, or :func:`misc_dash.mapping.propose_mapping`'s) and hold the
user's edits; the current mapping is read back from them on every run (:func:`_table_map`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import pandas as pd
import streamlit as st

from .. import contract as C
from .. import mapping as M
from ..loading import Problem
from .elements import md_escape, table
from .state import accept_upload

NOT_MAPPED = "(not in this export)"
NO_COLUMN = ""
K_VERSION = "_mapping_version"
K_BASE = "_mapping_base"
K_PREVIEW = "_mapping_preview"

_CODES_HELP = (
    "Source code = contract value, separated by semicolons, e.g. 1=M; 2=F or Yes=1; No=0. Codes not listed are "
    "kept as they are and checked against the contract."
)


def _codes_text(values: Mapping[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in values.items())


def _parse_codes(text: str) -> tuple[dict[str, str], str | None]:
    out: dict[str, str] = {}
    for part in str(text or "").split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            return out, f"'{part.strip()}' has no '=' (write code=value)"
        k, v = part.split("=", 1)
        out[k.strip()] = v.strip()
    return out, None


def _expects(col: C.ColumnSpec) -> str:
    if col.dtype == "bool":
        return "yes/no (1/0, true/false)"
    if col.allowed:
        return ", ".join(col.allowed)
    kind = {"str": "text", "int": "whole number", "float": "number"}[col.dtype]
    return " ".join(x for x in (kind, col.unit, col.range_text) if x)


def _seen(df: pd.DataFrame, column: str | None, limit: int = 8) -> str:
    if not column or column not in df:
        return ""
    values = pd.Series(df[column]).dropna().astype(str)
    top = values.value_counts().index[:limit]
    more = values.nunique() - len(top)
    return ", ".join(top) + (f" … (+{more})" if more > 0 else "")


def _base_rows(spec: C.TableSpec, tm: M.TableMap | None, df: pd.DataFrame | None) -> pd.DataFrame:
    rows = []
    for col in spec.columns:
        cm = tm.columns.get(col.name) if tm is not None else None
        rows.append(
            {
                "Contract column": col.name,
                "Expects": _expects(col),
                "Required": "yes"
                if col.required and not col.nullable
                else ("may be empty" if col.required else "optional"),
                "Source column": (cm.column or NO_COLUMN) if cm else NO_COLUMN,
                "Codes (source=contract)": _codes_text(cm.values) if cm else "",
                "Transform": (cm.transform or "") if cm else "",
                "Date format": (cm.format or "") if cm else "",
                "Same value for every row": (cm.value or "") if cm else "",
                "Values in the source": _seen(df, cm.column if cm else None) if df is not None else "",
            }
        )
    return pd.DataFrame(rows)


def _table_map(source: str, edited: pd.DataFrame, missing: str, errors: list[str]) -> M.TableMap:
    cols: dict[str, M.ColumnMap] = {}
    for r in edited.to_dict("records"):
        column = str(r.get("Source column") or "").strip() or None
        value = str(r.get("Same value for every row") or "").strip() or None
        if column is None and value is None:
            continue
        values, err = _parse_codes(r.get("Codes (source=contract)") or "")
        if err:
            errors.append(f"{r['Contract column']}: {err}")
        transform = str(r.get("Transform") or "").strip() or None
        fmt = str(r.get("Date format") or "").strip() or None
        cols[r["Contract column"]] = M.ColumnMap(column, MappingProxyType(values), transform, value, fmt)
    codes = tuple(c.strip() for c in str(missing or "").split(",") if c.strip())
    return M.TableMap(source, MappingProxyType(cols), codes)


def _unmatched(spec: C.TableSpec, df: pd.DataFrame, edited: pd.DataFrame) -> list[str]:
    """For each coded contract column, the source values that are not contract values once the codes given are
    translated (what is left to translate)."""
    out = []
    for r in edited.to_dict("records"):
        col = spec.column(r["Contract column"])
        src = str(r.get("Source column") or "")
        if not (col.allowed or col.dtype == "bool") or src not in df or r.get("Transform"):
            continue
        codes, _ = _parse_codes(r.get("Codes (source=contract)") or "")
        values = pd.Series(df[src]).dropna().astype(str).str.strip().unique()[:1000]
        if col.allowed:
            left = [v for v in values if v and codes.get(v, v) not in col.allowed]
        else:
            left = [v for v in values if v and codes.get(v, v).lower() not in (*C.BOOL_TRUE, *C.BOOL_FALSE)]
        if left:
            shown = ", ".join(left[:6]) + (" …" if len(left) > 6 else "")
            out.append(f"{col.name}: {shown} — not {_expects(col)}; translate in Codes")
    return out


def _reset_key(reset: object) -> int:
    """A new editor generation when the upload (or the saved mapping) changes: the editors start again from the
    base mapping."""
    if st.session_state.get(K_BASE, (None,))[0] != reset:
        st.session_state[K_VERSION] = st.session_state.get(K_VERSION, 0) + 1
        st.session_state[K_BASE] = (reset,)
        st.session_state[K_PREVIEW] = None
    return st.session_state.get(K_VERSION, 0)


def _admission(sources: Mapping[str, pd.DataFrame], base: M.CohortMapping, v: int) -> M.Admission | None:
    names = list(sources)
    adm = base.admission
    st.markdown("**Admission date-time** (needed to turn dates into hours or days since admission)")
    c1, c2, c3, c4 = st.columns(4)
    opts = [NOT_MAPPED, *names]
    src = c1.selectbox(
        "Table", opts, index=opts.index(adm.source) if adm and adm.source in names else 0, key=f"map_adm_src_{v}"
    )
    if src == NOT_MAPPED:
        return None
    cols = [NO_COLUMN, *map(str, sources[src].columns)]

    def pick(col, label, current, key):
        return col.selectbox(label, cols, index=cols.index(current) if current in cols else 0, key=key)

    pid = pick(c2, "Patient id column", adm.id if adm else "", f"map_adm_id_{v}_{src}")
    when = pick(c3, "Admission date-time column", adm.column if adm else "", f"map_adm_col_{v}_{src}")
    fmt = c4.text_input(
        "Date format (empty: ISO 8601)",
        value=(adm.format or "") if adm else "",
        key=f"map_adm_fmt_{v}",
        help="strftime codes, e.g. %d/%m/%Y %H:%M",
    )
    if not pid or not when:
        return None
    return M.Admission(src, pid, when, fmt.strip() or None)


def _editor(spec: C.TableSpec, sources, base: M.CohortMapping, v: int, errors: list[str]) -> M.TableMap | None:
    names = list(sources)
    tm = base.tables.get(spec.name)
    opts = [NOT_MAPPED, *names]
    choice = st.selectbox(
        "Source table",
        opts,
        index=opts.index(tm.source) if tm and tm.source in names else 0,
        key=f"map_src_{v}_{spec.name}",
        help=spec.description,
    )
    if choice == NOT_MAPPED:
        if spec.required:
            st.caption(":material/warning: Required: choose the table that has one row per patient.")
        return None
    df = sources[choice]
    if tm is None or tm.source != choice:  # a new source: propose its columns afresh
        tm = M.propose_mapping({choice: df}).tables.get(spec.name) or M.TableMap(choice, MappingProxyType({}))
        if tm.source != choice:
            tm = M.TableMap(choice, tm.columns)
    base_df = _base_rows(spec, tm, df)
    edited = st.data_editor(
        base_df,
        key=f"map_cols_{v}_{spec.name}_{names.index(choice)}",
        hide_index=True,
        width="stretch",
        disabled=["Contract column", "Expects", "Required", "Values in the source"],
        column_config={
            "Source column": st.column_config.SelectboxColumn(options=[NO_COLUMN, *map(str, df.columns)]),
            "Transform": st.column_config.SelectboxColumn(
                options=["", *M.TRANSFORMS], help=" · ".join(f"{k}: {t.label}" for k, t in M.TRANSFORMS.items())
            ),
            "Codes (source=contract)": st.column_config.TextColumn(help=_CODES_HELP),
            "Date format": st.column_config.TextColumn(help="strftime codes, e.g. %d/%m/%Y; empty: ISO 8601"),
        },
    )
    hints = _unmatched(spec, df, edited)
    if hints:
        st.caption(":material/translate: " + md_escape(" · ".join(hints)))
    missing = st.text_input(
        "Codes that mean “missing” in this table (comma-separated)",
        value=", ".join(tm.missing),
        key=f"map_missing_{v}_{spec.name}",
        placeholder="-99, UNK",
    )
    return _table_map(choice, edited, missing, errors)


Load = Callable[[M.CohortMapping, Callable[[float, str], None]], tuple[object | None, list]]


def mapping_section(
    sources: Mapping[str, pd.DataFrame],
    base: M.CohortMapping,
    reset: object,
    synthetic: bool,
    source_label: str,
    load: Load | None = None,
) -> None:
    """Map ``sources`` onto the contract, starting from ``base``; preview, save, load (as ``synthetic`` or real).
    ``reset`` identifies the upload: a new one starts the editors again. ``load(mapping, progress)`` maps and
    validates (default :func:`misc_dash.mapping.validate_mapped`; REDCap's importer tells problems by record and
    field); the preview shows its problems and the first rows of the mapped tables."""
    if load is None:

        def load(mapping, progress):
            return M.validate_mapped(sources, mapping, source=source_label, progress=progress)

    v = _reset_key(reset)
    st.caption(
        f"{len(sources)} table(s) read: "
        + ", ".join(f"{md_escape(n)} ({len(df)} rows × {df.shape[1]} columns)" for n, df in sources.items())
    )
    errors: list[str] = []
    admission = _admission(sources, base, v)
    tables: dict[str, M.TableMap] = {}
    for spec in C.TABLES:
        tm = base.tables.get(spec.name)
        head = f"{spec.name} ({'required' if spec.required else 'optional'})"
        if tm is not None and tm.source in sources:
            head += f" ← {tm.source}"
        with st.expander(md_escape(head), expanded=spec.name == "patients"):
            got = _editor(spec, sources, base, v, errors)
        if got is not None:
            tables[spec.name] = got
    mapping = M.CohortMapping(MappingProxyType(tables), admission, base.name)
    for e in errors:
        st.warning(md_escape(e), icon=":material/warning:")
    b1, b2, b3 = st.columns(3)
    if b1.button("Preview and check", key=f"map_preview_{v}"):
        try:
            heads = {name: df.head(5) for name, df in M.apply_mapping(sources, mapping).tables.items()}
            _, problems = load(mapping, lambda f, m: None)
        except Exception as exc:  # never a traceback for a bad export
            heads, problems = {}, [Problem(source_label, f"could not be mapped ({type(exc).__name__})", "check it")]
        st.session_state[K_PREVIEW] = (mapping.to_json(), heads, [p for p in problems if isinstance(p, Problem)])
    b2.download_button(
        "Save this mapping (.json)",
        mapping.to_json(),
        file_name="cohort.mapping.json",
        mime="application/json",
        on_click="ignore",
        key=f"map_save_{v}",
    )
    if b3.button("Load with this mapping", type="primary", key=f"map_load_{v}", disabled=bool(errors)):
        with st.status("Validating the mapped export …", expanded=True) as status:
            bar = st.progress(0.0, text="Mapping")
            try:
                cohort, problems = load(mapping, lambda f, m: bar.progress(min(max(float(f), 0.0), 1.0), text=m))
            except Exception as exc:  # never a traceback for a bad export
                cohort, problems = None, [f"The export could not be mapped ({type(exc).__name__})."]
            accept_upload(cohort, problems, synthetic)
            status.update(
                label="Upload refused" if cohort is None else "Mapped and validated",
                state="error" if cohort is None else "complete",
            )
        if cohort is not None:
            st.rerun()
    shown = st.session_state.get(K_PREVIEW)
    if shown and shown[0] == mapping.to_json():
        _, heads, problems = shown
        errors_n = sum(p.severity == "error" for p in problems)
        if errors_n:
            st.error(f"{errors_n} problem(s) with this mapping: fix them before loading.", icon=":material/block:")
        else:
            st.success("The mapped export passes every check of the data contract.", icon=":material/check:")
        if problems:
            table(pd.DataFrame([p.to_dict() for p in problems]))
        for name, df in heads.items():
            st.caption(f"{name}: first {len(df)} rows after mapping")
            table(df)
    elif shown:
        st.caption("The mapping changed since the preview: preview it again.")


def _saved_mapping(files) -> tuple[M.CohortMapping | None, list[Problem]]:
    """A saved mapping among the uploaded files (``*.mapping.json``, or any .json that is one)."""
    for f in files:
        name = f.name.lower()
        if not name.endswith(".json"):
            continue
        try:
            text = f.getvalue().decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        if name.endswith(M.MAPPING_SUFFIX) or f'"{M.FORMAT}"' in text:
            return M.parse_mapping(text, f.name)
    return None, []


def export_upload(files, synthetic: bool) -> None:
    """The mapping step for uploaded files that are not in the contract: read every table they hold, start from
    a saved mapping uploaded with them (or a proposed one), and show the editors."""
    reset = tuple((f.file_id, f.name) for f in files)
    cached = st.session_state.get("_mapping_sources")
    if cached is None or cached[0] != reset:
        data = [(f.name, f.getvalue()) for f in files if not f.name.lower().endswith(".json")]
        try:
            sources, problems = M.read_sources(data)
        except Exception as exc:  # never a traceback for a bad upload
            sources, problems = {}, [Problem("upload", f"could not be read ({type(exc).__name__})", "save it again")]
        saved, saved_problems = _saved_mapping(files)
        cached = (reset, sources, problems + saved_problems, saved)
        st.session_state["_mapping_sources"] = cached
    _, sources, problems, saved = cached
    if problems:
        errors = [p for p in problems if p.severity == "error"]
        left_out = ": the tables with them are left out." if errors else "."
        (st.error if errors else st.info)(
            f"{len(problems)} problem(s) reading the export{left_out}", icon=":material/info:"
        )
        table(pd.DataFrame([p.to_dict() for p in problems]))
    if not sources:
        return
    base = saved if saved is not None else M.propose_mapping(sources)
    st.caption(
        ":material/info: Starting from the saved mapping you uploaded."
        if saved is not None
        else ":material/info: A first mapping is proposed from the column names: check every table."
    )
    mapping_section(sources, base, reset, synthetic, "upload")


def _is_dictionary(data: bytes) -> bool:
    first = data[:4096].decode("utf-8-sig", errors="replace").splitlines()[:1]
    head = first[0].strip().lower() if first else ""
    return head.startswith(('"variable / field name"', "variable / field name", "field_name"))


def redcap_upload(files, synthetic: bool) -> None:
    """The REDCap path: the data dictionary and the records export (raw or labelled) uploaded together, read by
    :mod:`misc_dash.redcap`; a project built on the contract maps itself, any other starts from what could be
    matched (or from a saved mapping uploaded with them)."""
    from .. import redcap as R

    csvs = [f for f in files if f.name.lower().endswith(".csv")]
    dictionaries = [f for f in csvs if _is_dictionary(f.getvalue())]
    records = [f for f in csvs if f not in dictionaries]
    if len(dictionaries) != 1 or len(records) != 1:
        st.info(
            "Upload the project's **data dictionary** (Project Setup → Data Dictionary → Download, a CSV whose "
            "first column is “Variable / Field Name”) and **one records export** (Data Exports → CSV, raw or "
            f"labelled, with variable names as headers). Found {len(dictionaries)} dictionary and {len(records)} "
            "other CSV file(s).",
            icon=":material/info:",
        )
        return
    reset = ("redcap", *((f.file_id, f.name) for f in files))
    cached = st.session_state.get("_redcap_export")
    if cached is None or cached[0] != reset:
        try:
            export, problems = R.read_export(
                (dictionaries[0].name, dictionaries[0].getvalue()), (records[0].name, records[0].getvalue())
            )
        except Exception as exc:  # never a traceback for a bad upload
            export, problems = None, [Problem(records[0].name, f"could not be read ({type(exc).__name__})", "")]
        saved, saved_problems = _saved_mapping(files)
        cached = (reset, export, problems + saved_problems, saved)
        st.session_state["_redcap_export"] = cached
    _, export, problems, saved = cached
    if export is None:
        st.error(f"The REDCap export cannot be read: {len(problems)} problem(s).", icon=":material/block:")
        table(pd.DataFrame([p.to_dict() for p in problems]))
        return
    st.caption(":material/info: " + md_escape(export.summary()))
    base = R.resolve_mapping(export, saved)

    def load(mapping, progress):
        progress(0.1, "Importing the REDCap records")
        cohort, probs, _ = R.import_export(export, mapping, synthetic=synthetic)
        progress(1.0, "Imported" if cohort is not None else "Refused")
        return cohort, probs

    mapping_section(export.sources, base, reset, synthetic, records[0].name, load=load)
