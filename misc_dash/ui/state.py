"""Session state, the loaded cohort and the cached computations the pages share.

Caching: the loaded cohort and its patient frame are shared by all sessions (``st.cache_resource``; never
mutated); analyses and cards are cached per cohort fingerprint, filter, grouping and options. The filter,
grouping and option values are frozen dataclasses whose repr lists every field, which serves as their cache key.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd
import streamlit as st

from .. import analyses as A
from .. import derive, views
from .. import filters as F
from ..loading import Cohort, Problem, load_default_cohort, validate

# ------------------------------------------------------------------------------------------------ keys
K_COMPARE = "compare_by"
FILTER_KEYS = tuple(f.url_key for f in F.FILTER_FIELDS)
GROUP_PREFIXES = ("ga", "gb")  # custom groups A and B: widget keys "<prefix>_<field key>"
K_UPLOAD_COHORT = "_uploaded_cohort"
K_UPLOAD_PROBLEMS = "_upload_problems"
K_VIEW = "_view"
K_REROUTED = "_rerouted"

_KEYS = {
    F.CohortFilter: repr,
    F.Grouping: repr,
    A.AnalysisOptions: repr,
    **{v.options: repr for v in views.VIEWS.values() if v.options is not None},
}


@st.cache_resource(show_spinner=False)
def default_cohort() -> Cohort:
    return load_default_cohort()


@st.cache_resource(show_spinner=False, max_entries=8)
def patient_frame(fingerprint: str, _cohort: Cohort) -> pd.DataFrame:
    return derive.patient_frame(_cohort)


@st.cache_resource(show_spinner=False, hash_funcs=_KEYS, max_entries=256)
def option_counts(fingerprint: str, flt: F.CohortFilter, _pf: pd.DataFrame) -> dict[str, dict[str, int]]:
    """The sidebar's live counts for every option of every categorical filter, given the other filters."""
    options = {f.key: f.options(_pf) for f in F.FILTER_FIELDS if f.kind == "categorical"}
    return F.all_option_counts(_pf, flt, options)


@st.cache_resource(show_spinner=False, hash_funcs=_KEYS, max_entries=128)
def context(fingerprint: str, flt: F.CohortFilter, grouping: F.Grouping, _cohort: Cohort, _pf: pd.DataFrame):
    try:
        return A.prepare(_cohort, flt, grouping, pf_all=_pf), None
    except A.AnalysisError as exc:
        return None, str(exc)


@st.cache_resource(show_spinner=False, hash_funcs=_KEYS, max_entries=512)
def run_analysis(
    name: str,
    fingerprint: str,
    flt: F.CohortFilter,
    grouping: F.Grouping,
    opts: A.AnalysisOptions,
    params: tuple,
    _ctx: A.Context,
):
    """A registered analysis of the current selection (``opts`` already narrowed to what the analysis reads)."""
    return A.run(name, _ctx, opts, **dict(params))


@st.cache_resource(show_spinner=False, hash_funcs=_KEYS, max_entries=256)
def cards(
    name: str, cohort: tuple, flt: F.CohortFilter, grouping: F.Grouping, options, _vc: views.ViewContext
):  # cohort: (fingerprint, name, synthetic) — the same data under another label gets its own cards
    """The cards of a view for the current selection and the page's options (shared, never mutated)."""
    return tuple(views.build_cards(name, _vc, options))


@st.cache_resource(show_spinner=False, max_entries=4)
def fidelity(fingerprint: str, _cohort: Cohort):
    from ..fidelity import fidelity_report

    return fidelity_report(_cohort)


def literature():
    return views.literature.literature()


class CardList(list):
    """A view's cards, carrying the view's name and options (for "Add to report" and exports)."""

    view_name: str | None = None
    options = None


@dataclass(frozen=True, eq=False)
class View:
    """What every page works from: the loaded cohort, the current filter and grouping, and the context."""

    cohort: Cohort
    pf_all: pd.DataFrame
    flt: F.CohortFilter
    grouping: F.Grouping
    ctx: A.Context | None
    error: str | None

    def run(self, name: str, opts: A.AnalysisOptions = A.AnalysisOptions(), **params):
        """A cached registered analysis of the current selection (see misc_dash.analyses.registry)."""
        spec = A.ANALYSES[name]
        key = (self.cohort.fingerprint, self.flt, self.grouping, spec.narrow(opts), tuple(sorted(params.items())))
        return run_analysis(name, *key, self.ctx)

    @property
    def view_context(self) -> views.ViewContext:
        c = self.cohort
        data = None if c.source and "default_cohort" in str(c.source) else "PATH/TO/THIS/COHORT"
        return views.ViewContext(
            self.ctx, c.n_patients, data_path=data, runner=self.run, cohort_name=c.name, is_synthetic=c.synthetic
        )

    def cards(self, name: str, options=None) -> tuple:
        """The cached cards of view ``name`` for ``options`` (the page's controls)."""
        view = views.VIEWS[name]
        if options is None and view.options is not None:
            options = view.options()
        c = self.cohort
        out = CardList(
            cards(name, (c.fingerprint, c.name, c.synthetic), self.flt, self.grouping, options, self.view_context)
        )
        out.view_name, out.options = name, options
        return out

    @property
    def colors(self) -> dict[str, str]:
        from ..figures import group_colors

        return group_colors(self.ctx.groups if self.ctx else ())

    @property
    def description(self) -> str:
        n = len(self.ctx.pf) if self.ctx else 0
        return self.flt.describe(n)


# ------------------------------------------------------------------------------------------------ cohort
def current_cohort() -> Cohort:
    up = st.session_state.get(K_UPLOAD_COHORT)
    return up if up is not None else default_cohort()


def load_upload(files) -> None:
    """Validate uploaded files (one .xlsx, or several CSVs named after the tables). On any problem the
    current cohort stays loaded and the problems are kept for display."""
    st.session_state[K_UPLOAD_PROBLEMS] = None
    if not files:
        return
    files = files if isinstance(files, list) else [files]
    try:
        xlsx = [f for f in files if f.name.lower().endswith((".xlsx", ".xlsm"))]
        if xlsx:
            cohort, problems = validate(xlsx[0].getvalue(), filename=xlsx[0].name)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                for f in files:
                    name = Path(f.name).name
                    if name.lower().endswith((".csv", ".json")):
                        (Path(tmp) / name).write_bytes(f.getvalue())
                cohort, problems = validate(tmp)
                if cohort is not None:
                    name = "Uploaded cohort" if cohort.name.startswith("tmp") else cohort.name
                    cohort = Cohort(
                        cohort.tables,
                        name=name,
                        synthetic=cohort.synthetic,
                        description=cohort.description,
                        source="upload",
                        warnings=cohort.warnings,
                        fingerprint=cohort.fingerprint,
                    )
    except Exception as exc:  # never a traceback for a bad upload
        cohort, problems = None, [f"The file could not be read ({type(exc).__name__})."]
    if cohort is None:
        st.session_state[K_UPLOAD_PROBLEMS] = problems
    else:
        st.session_state[K_UPLOAD_COHORT] = cohort
        st.session_state[K_UPLOAD_PROBLEMS] = list(problems)
        reset_filters()


def upload_failed() -> bool:
    """True when the last upload was refused (it has at least one error)."""
    problems = st.session_state.get(K_UPLOAD_PROBLEMS) or []
    return any(not isinstance(p, Problem) or p.severity == "error" for p in problems)


def use_default_cohort() -> None:
    st.session_state[K_UPLOAD_COHORT] = None
    st.session_state[K_UPLOAD_PROBLEMS] = None
    reset_filters()


def reset_filters() -> None:
    for k in (*FILTER_KEYS, K_COMPARE):
        if k in st.session_state:
            del st.session_state[k]
    for k in list(st.session_state.keys()):
        if str(k).startswith(tuple(f"{p}_" for p in GROUP_PREFIXES)):
            del st.session_state[k]


# ------------------------------------------------------------------------------------------------ filter state
def age_bounds(pf: pd.DataFrame, col: str = "age_years") -> tuple[int, int]:
    a = pf[col].dropna()
    if a.empty:
        return 0, 21
    lo, hi = int(a.min() // 1), int(-(-a.max() // 1))
    return lo, max(hi, lo + 1)


def _range_column(field: F.FilterField) -> str:
    return {"age": "age_years"}.get(field.key, field.key)


def state_filter(pf: pd.DataFrame, prefix: str | None = None, fields_: tuple | None = None) -> F.CohortFilter:
    """The filter as the widgets currently hold it (read before drawing them, for the live counts).

    ``prefix``: a custom group's widgets (``ga`` / ``gb``) instead of the sidebar's filters."""
    ss = dict(st.session_state)
    chosen = fields_ or F.FILTER_FIELDS
    keys = {f.key: (f"{prefix}_{f.key}" if prefix else f.url_key) for f in chosen}
    # On the first run of a shared link the widgets do not exist yet: read their URL-bound values.
    try:
        for f in chosen:
            k = keys[f.key]
            if k not in ss and k in st.query_params:
                vals = st.query_params.get_all(k)
                if f.kind == "range":
                    if len(vals) == 2:
                        ss[k] = tuple(float(v) for v in vals)
                else:
                    ss[k] = tuple(vals)
    except Exception:  # malformed URL values are ignored, as the widgets ignore them
        pass
    kw = {}
    for f in chosen:
        v = ss.get(keys[f.key])
        if f.kind == "range":
            lo, hi = age_bounds(pf, _range_column(f))
            v = v if v is not None else (lo, hi)
            kw[f.attrs[0]] = None if v[0] <= lo else float(v[0])
            kw[f.attrs[1]] = None if v[1] >= hi else float(v[1])
        else:
            kw[f.key] = tuple(v or ())
    return F.CohortFilter(**{k: v for k, v in kw.items() if k in {x.name for x in fields(F.CohortFilter)}})
