"""The only module of misc_dash that imports streamlit: cached loaders, the shared sidebar filters, session
keys and small display helpers. Pages call :func:`page_header` (which returns the current :class:`View`)
and then the pure core (analyses, figures) through the cached :func:`run`.

Privacy: nothing patient-derived is ever rendered as raw HTML; free text from a cohort (race, ethnicity,
cohort name, custom group names) is escaped before it reaches markdown. Filters in the URL hold only
categories and numbers (never patient identifiers).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from . import analyses as A
from . import derive, figures, stats
from . import filters as F
from .loading import Cohort, load_default_cohort, validate
from .plotspec import figure_json

# ------------------------------------------------------------------------------------------------ keys
K_TREAT, K_PHENO, K_AGE, K_SEX = "f_treatment", "f_phenotype", "f_age", "f_sex"
K_RACE, K_ETH, K_PCR, K_ICU, K_CS = "f_race", "f_ethnicity", "f_pcr", "f_icu", "f_cs"
K_COMPARE = "compare_by"
FILTER_KEYS = (K_TREAT, K_PHENO, K_AGE, K_SEX, K_RACE, K_ETH, K_PCR, K_ICU, K_CS)
K_UPLOAD_COHORT = "_uploaded_cohort"
K_UPLOAD_PROBLEMS = "_upload_problems"
K_VIEW = "_view"
K_REROUTED = "_rerouted"
COMPARE_LABELS = {k: F.GROUP_BY_TITLES[k] for k in F.GROUP_BY_CHOICES}
SYNTHETIC_BANNER = (
    "**SYNTHETIC COHORT — not real patients.** These {n} patients were reconstructed from the published summary "
    "tables and figures of the index study (46-patient single-centre MIS-C cohort); no patient-level data were "
    "published. Use it to explore the methods, not to make clinical decisions."
)


def md_escape(text: object) -> str:
    """Escape markdown/HTML-significant characters in untrusted (cohort-derived) text."""
    s = str(text)
    s = s.replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~$])", r"\\\1", s)


# ------------------------------------------------------------------------------------------------ caching
# The filter, grouping and options are frozen dataclasses whose repr lists every field exactly: a cache key
# ~10x cheaper than Streamlit's default (asdict + recursive hashing, ~1 ms per call, several calls per rerun).
_KEYS = {F.CohortFilter: repr, F.Grouping: repr, A.AnalysisOptions: repr}


@st.cache_resource(show_spinner=False)
def default_cohort() -> Cohort:
    return load_default_cohort()


@st.cache_resource(show_spinner=False, max_entries=8)
def _patient_frame(fingerprint: str, _cohort: Cohort) -> pd.DataFrame:
    return derive.patient_frame(_cohort)


@st.cache_resource(show_spinner=False, hash_funcs=_KEYS, max_entries=256)
def _option_counts(
    fingerprint: str, flt: F.CohortFilter, races: list[str], eths: list[str], _pf: pd.DataFrame
) -> dict[str, dict[str, int]]:
    """The sidebar's live counts for every filter option, given the other filters (one pass, cached)."""
    return F.all_option_counts(
        _pf,
        flt,
        {
            "treatment": derive.TREATMENT_GROUPS,
            "phenotype": derive.PHENOTYPES,
            "sex": F.SEXES,
            "race": races,
            "ethnicity": eths,
            "pcr": F.TRI,
            "icu": F.TRI,
            "cs": F.CS_OPTIONS,
        },
    )


@st.cache_resource(show_spinner=False, hash_funcs=_KEYS, max_entries=128)
def _context(fingerprint: str, flt: F.CohortFilter, grouping: F.Grouping, _cohort: Cohort, _pf: pd.DataFrame):
    try:
        return A.prepare(_cohort, flt, grouping, pf_all=_pf), None
    except A.AnalysisError as exc:
        return None, str(exc)


@st.cache_resource(show_spinner=False, hash_funcs=_KEYS, max_entries=512)
def _run(
    kind: str,
    fingerprint: str,
    flt: F.CohortFilter,
    grouping: F.Grouping,
    opts: A.AnalysisOptions,
    extra: tuple,
    _ctx: A.Context,
):
    kw = dict(extra)
    if kind == "table1":
        return A.table1(_ctx)
    if kind == "fever":
        return A.fever(_ctx, opts)
    if kind == "echo":
        return A.echo(_ctx, kw.get("measure", "lvef"), opts)
    if kind == "cytokines":
        return A.cytokines(_ctx)
    if kind == "adverse_events":
        return A.adverse_events(_ctx)
    if kind == "dosing":
        return A.dosing(_ctx)
    if kind == "labs":
        return A.labs(_ctx)
    if kind == "crosstab":
        return A.crosstab(_ctx)
    if kind == "flow":
        return A.cohort_flow(_ctx)
    if kind == "key_figures":
        return A.key_figures(_ctx)
    if kind == "lvef_since_anakinra":
        return A.lvef_since_anakinra(_ctx)
    raise ValueError(kind)


@st.cache_resource(show_spinner=False)
def literature():
    from .literature import load_literature

    return load_literature()


@st.cache_resource(show_spinner=False, max_entries=4)
def fidelity(fingerprint: str, _cohort: Cohort):
    from .fidelity import fidelity_report

    return fidelity_report(_cohort)


@dataclass(frozen=True, eq=False)
class View:
    """What every page works from: the loaded cohort, the current filter and grouping, and the context."""

    cohort: Cohort
    pf_all: pd.DataFrame
    flt: F.CohortFilter
    grouping: F.Grouping
    ctx: A.Context | None
    error: str | None

    def run(self, kind: str, opts: A.AnalysisOptions = A.AnalysisOptions(), **extra):
        """A cached analysis of the current selection (see analyses.py)."""
        return _run(
            kind, self.cohort.fingerprint, self.flt, self.grouping, opts, tuple(sorted(extra.items())), self.ctx
        )

    @property
    def colors(self) -> dict[str, str]:
        return figures.group_colors(self.ctx.groups if self.ctx else ())

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
    import tempfile
    from pathlib import Path

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
                    cohort = Cohort(
                        cohort.tables,
                        name="Uploaded cohort" if cohort.name.startswith("tmp") else cohort.name,
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
        st.session_state[K_UPLOAD_PROBLEMS] = [p for p in problems]
        reset_filters()


def use_default_cohort() -> None:
    st.session_state[K_UPLOAD_COHORT] = None
    st.session_state[K_UPLOAD_PROBLEMS] = None
    reset_filters()


# ------------------------------------------------------------------------------------------------ sidebar
def _age_bounds(pf: pd.DataFrame) -> tuple[int, int]:
    a = pf["age_years"].dropna()
    if a.empty:
        return 0, 21
    lo, hi = int(a.min() // 1), int(-(-a.max() // 1))
    return lo, max(hi, lo + 1)


def _state_filter(pf: pd.DataFrame) -> F.CohortFilter:
    """The filter as the widgets currently hold it (read before drawing them, for the live counts)."""
    lo, hi = _age_bounds(pf)
    ss = dict(st.session_state)
    # On the first run of a shared link the widgets do not exist yet: read their URL-bound values.
    try:
        for k in FILTER_KEYS:
            if k not in ss and k in st.query_params:
                vals = st.query_params.get_all(k)
                ss[k] = tuple(float(v) for v in vals[:2]) if k == K_AGE and len(vals) == 2 else tuple(vals)
    except Exception:  # malformed URL values are ignored, as the widgets ignore them
        pass
    age = ss.get(K_AGE, (lo, hi))
    age_min = None if age is None or age[0] <= lo else float(age[0])
    age_max = None if age is None or age[1] >= hi else float(age[1])
    return F.CohortFilter(
        treatment=tuple(ss.get(K_TREAT, ()) or ()),
        phenotype=tuple(ss.get(K_PHENO, ()) or ()),
        age_min=age_min,
        age_max=age_max,
        sex=tuple(ss.get(K_SEX, ()) or ()),
        race=tuple(ss.get(K_RACE, ()) or ()),
        ethnicity=tuple(ss.get(K_ETH, ()) or ()),
        pcr=tuple(ss.get(K_PCR, ()) or ()),
        icu=tuple(ss.get(K_ICU, ()) or ()),
        cs=tuple(ss.get(K_CS, ()) or ()),
    )


def reset_filters() -> None:
    for k in FILTER_KEYS + (K_COMPARE,):
        if k in st.session_state:
            del st.session_state[k]
    for k in list(st.session_state.keys()):
        if str(k).startswith(("ga_", "gb_")):
            del st.session_state[k]


def _multi(label: str, key: str, options, counts: dict[str, int] | None, help: str | None = None):
    """A filter multiselect bound to the URL. The live counts go in a caption under it, not in the option
    labels: a bound widget stores its *label* in the URL, and a label that changes with the counts would
    break shared links."""
    value = st.multiselect(label, list(options), key=key, help=help, placeholder="All", bind="query-params")
    if counts is not None:
        st.caption(" · ".join(f"{md_escape(o)}: {counts.get(o, 0)}" for o in options))
    return value


def _levels(pf: pd.DataFrame, col: str) -> list[str]:
    return sorted(pf[col].fillna("Not recorded").astype(str).unique().tolist())


def _group_filter_widgets(prefix: str, pf: pd.DataFrame) -> F.CohortFilter:
    lo, hi = _age_bounds(pf)
    t = st.multiselect(
        "Treatment",
        list(derive.TREATMENT_GROUPS[:3]),
        key=f"{prefix}_treatment",
        placeholder="Any",
        bind="query-params",
    )
    p = st.multiselect(
        "Phenotype", list(derive.PHENOTYPES), key=f"{prefix}_phenotype", placeholder="Any", bind="query-params"
    )
    s = st.multiselect(
        "Sex",
        list(F.SEXES),
        key=f"{prefix}_sex",
        format_func=lambda x: F.SEX_LABELS[x],
        placeholder="Any",
        bind="query-params",
    )
    cs = st.multiselect(
        "Corticosteroids", list(F.CS_OPTIONS), key=f"{prefix}_cs", placeholder="Any", bind="query-params"
    )
    age = st.slider("Age (years)", lo, hi, (lo, hi), key=f"{prefix}_age", bind="query-params")
    return F.CohortFilter(
        treatment=tuple(t),
        phenotype=tuple(p),
        sex=tuple(s),
        cs=tuple(cs),
        age_min=None if age[0] <= lo else float(age[0]),
        age_max=None if age[1] >= hi else float(age[1]),
    )


def sidebar() -> View:
    """Draw the shared sidebar (cohort, filters with live counts, compare-by, custom groups, reset) and
    return the current view. Called once per run from app.py, so the filters persist across pages."""
    cohort = current_cohort()
    pf = _patient_frame(cohort.fingerprint, cohort)
    pre = _state_filter(pf)
    sb = st.sidebar
    with sb:
        st.markdown("### Cohort")
        if cohort.synthetic:
            st.warning(f"Synthetic: {md_escape(cohort.name)} — not real patients", icon="⚠️")
        else:
            st.info(f"Loaded: {md_escape(cohort.name)} ({cohort.n_patients} patients)", icon="🏥")
        st.markdown("### Filters")
        lo, hi = _age_bounds(pf)
        races, eths = _levels(pf, "race"), _levels(pf, "ethnicity")
        counts = _option_counts(cohort.fingerprint, pre, races, eths, pf)
        _multi(
            "Treatment group",
            K_TREAT,
            [
                g
                for g in derive.TREATMENT_GROUPS
                if g in derive.TREATMENT_GROUPS[:3] or (pf["treatment_group"] == g).any()
            ],
            counts["treatment"],
        )
        _multi("Phenotype", K_PHENO, derive.PHENOTYPES, counts["phenotype"], help=derive.PHENOTYPE_HELP)
        st.slider("Age (years)", lo, hi, (lo, hi), key=K_AGE, bind="query-params")
        _multi("Sex", K_SEX, F.SEXES, counts["sex"])
        with st.expander("More filters", expanded=bool(pre.race or pre.ethnicity or pre.pcr or pre.icu or pre.cs)):
            _multi("Race", K_RACE, races, counts["race"])
            _multi("Ethnicity", K_ETH, eths, counts["ethnicity"])
            _multi("SARS-CoV-2 PCR positive", K_PCR, F.TRI, counts["pcr"])
            _multi("ICU", K_ICU, F.TRI, counts["icu"])
            _multi("Corticosteroids (stress or inflammatory dose)", K_CS, F.CS_OPTIONS, counts["cs"])
        st.markdown("### Compare by")
        by = st.selectbox(
            "Compare groups by",
            list(COMPARE_LABELS),
            format_func=COMPARE_LABELS.get,
            key=K_COMPARE,
            bind="query-params",
            label_visibility="collapsed",
        )
        grouping = F.Grouping(by=by)
        if by == "custom":
            st.caption(
                "Define two groups; each is compared within the filtered cohort. Patients matching both are left out."
            )
            with st.expander("Group A", expanded=True):
                a = _group_filter_widgets("ga", pf)
            with st.expander("Group B", expanded=True):
                b = _group_filter_widgets("gb", pf)
            grouping = F.Grouping(by="custom", a=a, b=b, a_name="Group A", b_name="Group B")
        st.button("Reset all filters", on_click=reset_filters, use_container_width=True)
    flt = _state_filter(pf)  # the widgets' values, now in session state
    ctx, err = _context(cohort.fingerprint, flt, grouping, cohort, pf)
    view = View(cohort, pf, flt, grouping, ctx, err)
    st.session_state[K_VIEW] = view
    return view


def _sidebar_drawn_this_run() -> bool:
    """True when app.py already drew the sidebar in this script run. (AppTest's switch_page runs a page
    script on its own, without app.py; then the page draws the sidebar itself.)"""
    try:
        from streamlit.proto.RootContainer_pb2 import RootContainer
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        cur = ctx.cursors.get(RootContainer.SIDEBAR) if ctx is not None else None
        return cur is not None and cur.index > 0
    except Exception:  # internal API changed: assume the normal app.py route
        return K_VIEW in st.session_state


def _reroute_through_app() -> None:
    """Make sure a page runs under app.py's router, even on the first visit after a server start.

    Streamlit quirk (1.4x–1.67): because a ``pages/`` folder sits next to app.py, a fresh server starts in the
    old "pages directory" mode and leaves it only when app.py calls ``st.navigation``. If the first visit after
    a start is a shared link to a page (``/cardiac?f_phenotype=…``), Streamlit runs ``pages/cardiac.py`` on its
    own: app.py never runs, the navigation lists file names, and the whole server stays in that mode. A page
    run without app.py therefore switches the server to ``st.navigation`` mode and, on a session's first run
    (no widget has been used yet, so nothing is lost), reruns once: the rerun goes through app.py to the same
    page (a page's id is its URL path in both modes). Later runs without app.py (AppTest's ``switch_page``)
    fall back to the page drawing the sidebar itself (:func:`get_view`)."""
    try:
        from streamlit.runtime.pages_manager import PagesManager

        if PagesManager.uses_pages_directory:
            PagesManager.uses_pages_directory = False
    except ImportError:  # internal API moved: nothing to switch
        pass
    if K_VIEW not in st.session_state and not st.session_state.get(K_REROUTED):
        st.session_state[K_REROUTED] = True
        st.rerun()


def get_view() -> View:
    if not _sidebar_drawn_this_run():
        _reroute_through_app()
    if not _sidebar_drawn_this_run() or st.session_state.get(K_VIEW) is None:
        return sidebar()
    return st.session_state[K_VIEW]


# ------------------------------------------------------------------------------------------------ page parts
def page_header(title: str, caption: str | None = None, need_groups: bool = True) -> View:
    """Title, the synthetic-data banner, the one-line cohort description and group sizes. Stops the page
    with a plain warning when the selection is empty."""
    view = get_view()
    st.title(title)
    if view.cohort.synthetic:
        st.warning(SYNTHETIC_BANNER.format(n=view.cohort.n_patients), icon="⚠️")
    if view.ctx is None:
        st.warning(
            f"**No patients match the current filters.** {md_escape(view.error or '')}  \n"
            "Relax a filter in the sidebar (or press *Reset all filters*).",
            icon="🔍",
        )
        st.stop()
    ctx = view.ctx
    sizes = ctx.group_sizes()
    groups_txt = " · ".join(f"{md_escape(g)}: {n}" for g, n in sizes.items())
    st.markdown(f"**{md_escape(view.description)}**  \nCompared by *{md_escape(view.grouping.title)}* — {groups_txt}")
    if caption:
        st.caption(caption)
    for note in ctx.notes:
        st.info(md_escape(note), icon="ℹ️")
    if need_groups and len(ctx.present_groups) < 2:
        st.warning(
            "Fewer than two groups have patients in this selection, so no between-group test can be computed. "
            "Relax a filter or choose another *Compare by*.",
            icon="⚠️",
        )
    small = [g for g, n in sizes.items() if 0 < n < stats.SMALL_GROUP]
    if small:
        st.warning(
            f"Small group(s): {', '.join(md_escape(g) for g in small)} (fewer than {stats.SMALL_GROUP} patients). "
            "p-values from groups this small are fragile; a non-significant result is not evidence of no difference.",
            icon="⚠️",
        )
    return view


def confounding_caution(view: View) -> None:
    """The confounding-by-indication caution, shown wherever treatment groups are compared."""
    if view.grouping.by in ("treatment", "anakinra", "custom"):
        st.warning(A.CONFOUNDING_NOTE, icon="⚖️")


def test_line(res: stats.TestResult | None, what: str = "") -> None:
    """One p-value with its test and n, plus its caveats next to it."""
    if res is None:
        st.caption(f"{md_escape(what)}: no test (fewer than two groups with data).")
        return
    prefix = f"{md_escape(what)} — " if what else ""
    est = res.estimate_text() if res.estimate is not None else ""
    est_txt = f"; {md_escape(res.effect)} {md_escape(est)}" if est and res.effect else ""
    # one element: the line, then its caveats in small grey text (each element costs the browser ~2-4 ms per rerun)
    lines = [f"{prefix}**{md_escape(res.label())}**{est_txt}"]
    lines += [f":small[:gray[⚠️ {md_escape(note)}]]" for note in res.notes]
    st.markdown("  \n".join(lines))


# ------------------------------------------------------------------------------------------------ charts
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "png", "scale": 2}}
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"  # Streamlit serves <app.py's folder>/static
_PLOT_JS = (Path(__file__).with_name("plot_component.js")).read_text(encoding="utf-8")
_plot_component = st.components.v2.component(
    "misc_dash_plot", html='<div class="misc-dash-plot"></div>', js=_PLOT_JS, isolate_styles=False
)


@st.cache_resource(show_spinner=False)
def plotly_js_url() -> str | None:
    """The app-relative URL of plotly.js for the in-place chart, or None to fall back to ``st.plotly_chart``.

    The file is the plotly.js bundled with the installed plotly package, copied once into ``static/`` under a
    versioned name (so a browser cache never serves an old one). None when static serving is off or the folder
    is not writable.
    """
    if not st.get_option("server.enableStaticServing"):
        return None
    try:
        import plotly
        from plotly.offline import get_plotlyjs_version

        src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        name = f"plotly-{get_plotlyjs_version()}.min.js"
        dest = STATIC_DIR / name
        if not dest.is_file() or dest.stat().st_size != src.stat().st_size:
            STATIC_DIR.mkdir(exist_ok=True)
            tmp = dest.with_name(f".{name}.{os.getpid()}.tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        return f"app/static/{name}"
    except (OSError, ImportError):
        return None


def plot(fig, key: str) -> None:
    """One chart. Kept mounted across reruns and redrawn in place (Plotly.react) when the figure changes;
    ``st.plotly_chart`` when plotly.js cannot be served."""
    src = plotly_js_url()
    if src is None:
        st.plotly_chart(fig, key=key, config={k: v for k, v in PLOT_CONFIG.items() if k != "responsive"})
        return
    _plot_component(
        key=f"plot_{key}",
        data={"spec": figure_json(fig), "src": src, "config": PLOT_CONFIG, "height": fig.layout.height},
    )


def notes_block(notes: list[tuple[str, str]]) -> None:
    """Caveats from the statistics engine ("⚠️ <what>: <note>") as one small grey markdown element (not one
    element per note: each element costs the browser a few ms on every rerun)."""
    if notes:
        st.markdown("  \n".join(f":small[:gray[⚠️ {md_escape(what)}: {md_escape(n)}]]" for what, n in notes))


def summary_table(df: pd.DataFrame) -> None:
    """A small per-group summary (a few rows) as one markdown table.

    Why: in the browser a data grid costs ~45 ms per rerun and ``st.table`` ~35 ms (it renders every cell as a
    separate markdown element); one markdown table of the same 3 × 11 cells costs ~9 ms (measured in headless
    Chromium, main-thread CPU per rerun). Cells and headers are escaped (``md_escape`` also escapes ``|``), so
    cohort-derived text (group names) stays text. Numbers are right-aligned; missing values show as "—"."""
    st.markdown(markdown_table(df))


def markdown_table(df: pd.DataFrame) -> str:
    """GitHub-flavoured markdown for a small DataFrame (index dropped), every cell escaped."""

    def cell(v) -> str:
        if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):  # None, NaN, NA, NaT
            return "—"
        return md_escape(str(v).replace("\n", " ").replace("\r", " "))

    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]
    head = "| " + " | ".join(cell(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---:" if n else ":---" for n in numeric) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False, name=None)]
    return "\n".join([head, rule, *body])


def view_switch(label: str, options: list[str], key: str) -> str:
    """A one-of-several view selector (segmented control) for charts that need not all be drawn at once.

    Why: each plotly chart costs the browser 45–85 ms on every rerun; the Cardiac page with both of its charts
    repainted a filter change in ~0.5 s, with one in ~0.35 s. Only the selected view is built and sent;
    switching reruns the page (the analyses come from the cache). Bound to the URL (``?{key}=…``) so a shared
    link opens the same view. (Not ``st.tabs``: its panel re-scans every node inside it for focusable
    elements after each DOM change, and a plotly chart is hundreds of nodes.)"""
    return st.segmented_control(label, options, default=options[0], required=True, key=key, bind="query-params")


def details_table(label: str, df: pd.DataFrame, key: str) -> None:
    """A patient-level list in a collapsed expander, drawn only while the expander is open.

    Why: a data grid costs the browser 40–70 ms on every rerun even inside a closed expander (it measured as the
    largest single item of the Cardiac page's repaint after a filter change). The expander tracks its state
    (``on_change="rerun"``): opening it reruns the page, which then draws the table."""
    exp = st.expander(label, key=f"details_{key}", on_change="rerun")
    if exp.open:
        with exp:
            table(df)


def table(df: pd.DataFrame, max_rows: int = 30, **kw) -> None:
    """A dataframe tall enough to show every row up to ``max_rows`` without an inner scrollbar."""
    kw.setdefault("height", 35 * (min(len(df), max_rows) + 1) + 3)
    st.dataframe(df, hide_index=True, **kw)
