"""Session state, the loaded cohort and the cached computations the pages share.

Caching: the dashboard's cohort (the reconstructed default, or the folder/file named by ``$MISC_DASH_COHORT``) is
loaded once and shared by all sessions (``st.cache_resource``; never mutated); while it loads the first time,
each session waiting for it shows the progress. A ``$MISC_DASH_COHORT`` that cannot be opened is said plainly on
every page and the reconstructed cohort is shown instead. An uploaded cohort belongs to its session; sessions
that upload the same data share one copy (:func:`shared_upload`).

The patient frames, contexts, analyses and cards are cached per cohort fingerprint, filter, grouping and options,
shared by all sessions, in one least-recently-used store bounded by an approximate memory budget
(``$MISC_DASH_CACHE_MB``, default 512 MB; the entry just computed is always kept) rather than an entry count:
one context of a 100,000-patient cohort weighs as much as thousands of a small one. The filter, grouping and
option values are frozen dataclasses whose repr lists every field, which serves as their cache key.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import os
import sys
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from .. import analyses as A
from .. import cache as disk_cache
from .. import derive, privacy, views
from .. import filters as F
from ..loading import (
    DEFAULT_COHORT_DIR,
    ENV_COHORT,
    Cohort,
    CohortInvalid,
    Problem,
    load_cohort,
    validate_files,
)
from .auth import upload_allowed

# ------------------------------------------------------------------------------------------------ keys
SIGN_IN_TO_UPLOAD = "Sign in to load a cohort: uploads are refused to anyone not signed in."
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

ENV_CACHE_MB = "MISC_DASH_CACHE_MB"
DEFAULT_CACHE_MB = 512


# ------------------------------------------------------------------------------------------------ memory budget
def cache_budget_bytes() -> int:
    """The analysis caches' memory budget: ``$MISC_DASH_CACHE_MB`` megabytes (default 512)."""
    try:
        mb = float(os.environ.get(ENV_CACHE_MB, DEFAULT_CACHE_MB))
    except ValueError:
        mb = DEFAULT_CACHE_MB
    return int(max(mb, 0) * (1 << 20))


def approx_bytes(obj, _seen: set | None = None, _depth: int = 0) -> int:
    """A cheap estimate of the memory a cached value holds: frames and arrays by their buffers (object
    columns by their pointers: the strings are the cohort's, shared), a subset cohort by the tables it has
    filtered (not its parent's), a figure by its points, containers and dataclasses by their items (long
    sequences sampled). Objects met twice count once."""
    seen = set() if _seen is None else _seen
    if id(obj) in seen or _depth > 6:
        return 0
    seen.add(id(obj))
    if obj is None or isinstance(obj, (bool, int, float, complex)):
        return 0 if _depth else sys.getsizeof(obj)
    if isinstance(obj, (str, bytes, bytearray)):
        return sys.getsizeof(obj)
    if isinstance(obj, pd.DataFrame):
        return int(obj.memory_usage(index=True, deep=False).sum())
    if isinstance(obj, (pd.Series, pd.Index)):
        return int(obj.memory_usage(deep=False))
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, Cohort):
        return obj.own_bytes() if obj.is_subset else 0
    if type(obj).__module__.startswith("plotly"):
        return _figure_bytes(obj)
    if isinstance(obj, dict):
        items = list(obj.items())
        return sys.getsizeof(obj) + _sampled(
            items, lambda kv: approx_bytes(kv[0], seen, _depth + 1) + approx_bytes(kv[1], seen, _depth + 1)
        )
    if isinstance(obj, (list, tuple, set, frozenset)):
        return sys.getsizeof(obj) + _sampled(list(obj), lambda v: approx_bytes(v, seen, _depth + 1))
    if is_dataclass(obj) and not isinstance(obj, type):
        return sys.getsizeof(obj) + sum(approx_bytes(getattr(obj, f.name), seen, _depth + 1) for f in fields(obj))
    return sys.getsizeof(obj)


def _sampled(items: list, size, n: int = 64) -> int:
    if len(items) <= n:
        return sum(size(v) for v in items)
    step = len(items) / n
    return int(sum(size(items[int(i * step)]) for i in range(n)) * len(items) / n)


def _figure_bytes(fig) -> int:
    """A plotly figure: a fixed part plus ~16 bytes per plotted value."""
    points = 0
    for tr in getattr(fig, "data", ()) or ():
        for attr in ("x", "y", "z", "text", "customdata"):
            try:
                v = getattr(tr, attr, None)
            except Exception:  # a trace without the attribute
                v = None
            if v is not None and not isinstance(v, str):
                try:
                    points += int(np.size(v))
                except (TypeError, ValueError):  # ragged nested lists
                    points += len(v) if hasattr(v, "__len__") else 1
    return 64 * 1024 + 16 * points


class BudgetCache:
    """One least-recently-used store for every cached computation, shared by all sessions and bounded by
    :func:`cache_budget_bytes`. Each entry's size is estimated once (:func:`approx_bytes`), and again before
    evicting for values that grow after they are cached (a context's subset filters its tables on first use).
    One computation per key at a time (other callers wait for it); a computation that raises is not cached."""

    def __init__(self):
        self._lock = threading.RLock()
        self._entries: OrderedDict = OrderedDict()  # key -> [value, bytes, grows]
        self._computing: dict = {}

    def get(self, key, compute, grows: bool = False):
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit[0]
            klock = self._computing.setdefault(key, threading.Lock())
        with klock:
            with self._lock:
                hit = self._entries.get(key)
                if hit is not None:
                    self._entries.move_to_end(key)
                    return hit[0]
            try:
                value = compute()
            finally:
                with self._lock:
                    self._computing.pop(key, None)
            with self._lock:
                self._entries[key] = [value, approx_bytes(value), grows]
                self._evict(key)
            return value

    def _evict(self, keep) -> None:
        budget = cache_budget_bytes()
        for entry in self._entries.values():
            if entry[2]:
                # (RuntimeError: its subset is filtering a table in another session right now)
                with contextlib.suppress(RuntimeError):
                    entry[1] = approx_bytes(entry[0])
        total = sum(e[1] for e in self._entries.values())
        for key in list(self._entries):
            if total <= budget:
                break
            if key == keep:
                continue
            total -= self._entries.pop(key)[1]

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(e[1] for e in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list:
        with self._lock:
            return list(self._entries)

    def clear(self, prefix: str | None = None) -> None:
        with self._lock:
            for key in list(self._entries):
                if prefix is None or key[0] == prefix:
                    del self._entries[key]


STORE = BudgetCache()


def _key_part(v, hash_funcs: dict):
    f = hash_funcs.get(type(v))
    if f is not None:
        return (type(v).__qualname__, f(v))
    try:
        hash(v)
        return (type(v).__qualname__, v)
    except TypeError:
        return (type(v).__qualname__, repr(v))


def budget_cached(hash_funcs: dict | None = None, grows: bool = False):
    """Like ``st.cache_resource`` (arguments whose name starts with ``_`` are not part of the key; ``hash_funcs``
    maps a type to the function giving its key), in :data:`STORE` under the memory budget. ``.clear()`` empties
    this function's entries."""
    hash_funcs = hash_funcs or {}

    def deco(fn):
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            key = (fn.__qualname__,) + tuple(
                _key_part(v, hash_funcs) for n, v in bound.arguments.items() if not n.startswith("_")
            )
            return STORE.get(key, lambda: fn(*args, **kwargs), grows=grows)

        wrapper.clear = lambda: STORE.clear(fn.__qualname__)
        return wrapper

    return deco


# ------------------------------------------------------------------------------------------------ the cohort
@st.cache_resource(show_spinner=False)
def reconstructed_cohort() -> Cohort:
    """The reconstructed default cohort shipped in data/default_cohort (shared by all sessions)."""
    return load_cohort(DEFAULT_COHORT_DIR)


class CohortOpening:
    """The load of ``$MISC_DASH_COHORT``, run once in a background thread and shared by every session: each
    session waiting for it reads its progress (so no Streamlit call happens inside the cached function)."""

    def __init__(self, path: str):
        self.path = path
        self.fraction, self.message = 0.0, "Starting"
        self.cohort: Cohort | None = None
        self.error: Exception | None = None
        self.seconds = 0.0
        self.done = threading.Event()
        threading.Thread(target=self._run, name="misc_dash-open-cohort", daemon=True).start()

    def _progress(self, fraction: float, message: str) -> None:
        self.fraction, self.message = fraction, message

    def _run(self) -> None:
        t = time.perf_counter()
        try:
            self.cohort = load_cohort(self.path, progress=self._progress)
        except Exception as exc:  # CohortInvalid, or anything unexpected: the app says so and falls back
            self.error = exc
        finally:
            self.seconds = time.perf_counter() - t
            self.done.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)


@st.cache_resource(show_spinner=False, max_entries=2)
def cohort_opening(path: str, stamp: str) -> CohortOpening:
    """The (shared) load of the cohort at ``path``; ``stamp`` changes when its files change, so an updated
    folder is loaded again."""
    return CohortOpening(path)


def _show_progress(opening: CohortOpening) -> None:
    """A progress bar while the server's cohort loads (removed once it has loaded)."""
    box = st.empty()
    with box.container(), st.status(f"Opening the server's cohort {Path(opening.path).name} …", expanded=True):
        bar = st.progress(0.0, text="Starting")
        while not opening.wait(0.25):
            bar.progress(min(max(opening.fraction, 0.0), 1.0), text=opening.message)
    box.empty()


def _show_opening_failed(opening: CohortOpening) -> None:
    exc = opening.error
    name = Path(opening.path).name or opening.path
    if isinstance(exc, CohortInvalid):
        errors = [p for p in exc.problems if p.severity == "error"]
        what = f"{len(errors)} problem(s) in the data"
    else:
        errors, what = [], f"it could not be read ({type(exc).__name__})"
    st.error(
        f"**The server's cohort could not be opened** (`{ENV_COHORT}` names *{name}*): {what}. The reconstructed "
        "default cohort is shown instead. Fix the files (or the variable) and restart the server, or check them "
        f"with `python -m misc_dash validate {name}`.",
        icon=":material/error:",
    )
    if errors:
        with st.expander("What is wrong with the server's cohort"):
            st.code("\n".join(p.text() for p in errors[:50]), language=None, wrap_lines=True)


def default_cohort() -> Cohort:
    """The dashboard's cohort: ``$MISC_DASH_COHORT`` (a folder of CSV or Parquet files, an .xlsx or a .zip) if
    set and valid, else the reconstructed default. Loaded once for all sessions."""
    env = os.environ.get(ENV_COHORT)
    if not env:
        return reconstructed_cohort()
    try:
        stamp = disk_cache.stat_key(env)
    except OSError:
        stamp = ""
    opening = cohort_opening(env, stamp)
    if not opening.done.is_set():
        _show_progress(opening)
    if opening.cohort is not None:
        return opening.cohort
    _show_opening_failed(opening)
    return reconstructed_cohort()


@budget_cached()
def patient_frame(fingerprint: str, _cohort: Cohort) -> pd.DataFrame:
    return derive.patient_frame(_cohort)


@budget_cached(hash_funcs=_KEYS)
def option_counts(fingerprint: str, flt: F.CohortFilter, _pf: pd.DataFrame) -> dict[str, dict[str, int]]:
    """The sidebar's live counts for every option of every categorical filter, given the other filters."""
    options = {f.key: f.options(_pf) for f in F.FILTER_FIELDS if f.kind == "categorical"}
    return F.all_option_counts(_pf, flt, options)


@budget_cached(hash_funcs=_KEYS, grows=True)
def context(fingerprint: str, flt: F.CohortFilter, grouping: F.Grouping, _cohort: Cohort, _pf: pd.DataFrame):
    try:
        return A.prepare(_cohort, flt, grouping, pf_all=_pf), None
    except A.AnalysisError as exc:
        return None, str(exc)


@budget_cached(hash_funcs=_KEYS)
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


@budget_cached(hash_funcs=_KEYS)
def cards(
    name: str, cohort: tuple, flt: F.CohortFilter, grouping: F.Grouping, options, _vc: views.ViewContext
):  # cohort: (fingerprint, name, synthetic, small-cell policy) — another label or policy gets its own cards
    """The cards of a view for the current selection and the page's options (shared, never mutated)."""
    return tuple(views.build_cards(name, _vc, options))


# ------------------------------------------------------------------------------------------------ small cells
def suppression_setting() -> tuple[privacy.SuppressionPolicy, str | None]:
    """The deployer's small-cell policy for cohorts that are not synthetic, and what is wrong with the setting
    (None when nothing is). Read from ``[privacy]`` in Streamlit's secrets (``.streamlit/secrets.toml``, or the
    secrets of the deployment), never from the viewer: ``small_cell_preset = "5" | "11" | "round5"``,
    ``small_cell_threshold = 7`` (:func:`misc_dash.privacy.policy_from_config`). No setting: hide counts below 5.
    A setting that cannot be used gives the strictest preset, and the pages say so."""
    try:
        section = st.secrets.get(privacy.CONFIG_SECTION)
    except Exception:  # no secrets file (Streamlit raises): the default policy
        section = None
    try:
        if section is not None and hasattr(section, "to_dict"):
            section = section.to_dict()
        return privacy.policy_from_config(section), None
    except ValueError as exc:
        return privacy.STRICTEST_POLICY, (
            f"The server's small-cell setting cannot be used ({exc}); the strictest preset is applied (counts "
            f"below {privacy.STRICTEST_POLICY.threshold} hidden)."
        )


def suppression_policy() -> privacy.SuppressionPolicy:
    return suppression_setting()[0]


@budget_cached()
def rows_per_patient(fingerprint: str, _cohort: Cohort) -> dict[str, pd.Series]:
    """Each table's row count per patient (to size an export of a selection without filtering every table)."""
    return {name: df["patient_id"].value_counts(dropna=True) for name, df in _cohort.tables.items()}


def selection_rows(cohort: Cohort, ids) -> dict[str, int]:
    """How many rows each table has for the patients ``ids``."""
    per = rows_per_patient(cohort.fingerprint, cohort)
    idx = pd.Index(ids)
    return {name: int(s.reindex(idx).fillna(0).sum()) for name, s in per.items()}


@budget_cached()
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
            self.ctx,
            c.n_patients,
            data_path=data,
            runner=self.run,
            cohort_name=c.name,
            is_synthetic=c.synthetic,
            suppression=suppression_policy(),
        )

    def cards(self, name: str, options=None) -> tuple:
        """The cached cards of view ``name`` for ``options`` (the page's controls)."""
        view = views.VIEWS[name]
        if options is None and view.options is not None:
            options = view.options()
        c = self.cohort
        vc = self.view_context
        out = CardList(
            cards(name, (c.fingerprint, c.name, c.synthetic, vc.suppression), self.flt, self.grouping, options, vc)
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


_UPLOADS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_UPLOADS_LOCK = threading.Lock()


def shared_upload(cohort: Cohort) -> Cohort:
    """One copy of an uploaded cohort for every session that uploaded the same data (same fingerprint, name and
    label): the first session's copy, while any session still holds it."""
    key = (cohort.fingerprint, cohort.name, cohort.synthetic, cohort.description, cohort.source)
    with _UPLOADS_LOCK:
        have = _UPLOADS.get(key)
        if have is not None and have.warnings == cohort.warnings:
            return have
        _UPLOADS[key] = cohort
        return cohort


def load_upload(files, progress=None, synthetic: bool = False) -> None:
    """Validate uploaded files (one .xlsx, one .zip, or several CSV/Parquet files named after the tables, with
    metadata.json) in memory. On any problem the current cohort stays loaded and the problems are kept for
    display. ``progress(fraction, message)`` is called as the validation advances.

    Whether the patients are synthetic is the uploader's answer (``synthetic``), never the file's own metadata: a
    real cohort must not be shown as made-up (nor a made-up one as real) because of a flag in a JSON file."""
    st.session_state[K_UPLOAD_PROBLEMS] = None
    if not files:
        return
    if not upload_allowed():  # login on and not signed in (or not allowed): not even read
        st.session_state[K_UPLOAD_PROBLEMS] = [SIGN_IN_TO_UPLOAD]
        return
    files = files if isinstance(files, list) else [files]
    try:
        cohort, problems = validate_files([(f.name, f.getvalue()) for f in files], progress=progress)
    except Exception as exc:  # never a traceback for a bad upload
        cohort, problems = None, [f"The file could not be read ({type(exc).__name__})."]
    accept_upload(cohort, problems, synthetic)


def accept_upload(cohort, problems: list, synthetic: bool) -> None:
    """Make a validated upload the session's cohort (labelled synthetic or real by the uploader's answer), or keep
    the current cohort and the problems for display when it was refused (``cohort`` None)."""
    if not upload_allowed():  # every upload path (files, mapped export, REDCap) ends here
        cohort, problems = None, [SIGN_IN_TO_UPLOAD]
    if cohort is not None and cohort.synthetic != bool(synthetic):
        if cohort.synthetic:
            problems = [
                *problems,
                Problem(
                    "metadata.json",
                    "says the patients are synthetic; the upload is labelled as real patients",
                    'tick "These are synthetic patients" before loading if they are made up',
                    severity="warning",
                ),
            ]
        cohort = dataclasses.replace(cohort, synthetic=bool(synthetic), _rows={})
    if cohort is None:
        st.session_state[K_UPLOAD_PROBLEMS] = problems
    else:
        st.session_state[K_UPLOAD_COHORT] = shared_upload(cohort)
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
