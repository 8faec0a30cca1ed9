"""The shared sidebar: the loaded cohort, the filters with live counts (from the filter-field registry), compare-by,
custom groups A / B, and reset. Drawn once per run by app.py, so the filters persist across pages."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from .. import filters as F
from .. import privacy
from ..vocabulary import GROUP_BY_CHOICES, GROUP_BY_TITLES
from .elements import md_escape
from .plot import K_SHOW_IDS
from .state import (
    GROUP_PREFIXES,
    K_COMPARE,
    K_VIEW,
    View,
    age_bounds,
    context,
    current_cohort,
    option_counts,
    patient_frame,
    reset_filters,
    state_filter,
    suppression_policy,
)

COMPARE_LABELS = {k: GROUP_BY_TITLES[k] for k in GROUP_BY_CHOICES}


def _multi(field: F.FilterField, options, counts: dict[str, int] | None):
    """A filter multiselect bound to the URL. The live counts go in a caption under it, not in the option
    labels: a bound widget stores its *label* in the URL, and a label that changes with the counts would
    break shared links."""
    value = st.multiselect(
        field.label, list(options), key=field.url_key, help=field.help, placeholder="All", bind="query-params"
    )
    if counts is not None:
        st.caption(" · ".join(f"{md_escape(o)}: {md_escape(counts.get(o, 0))}" for o in options))
    return value


def _shown_counts(field: F.FilterField, counts: dict[str, int], pre: F.CohortFilter, policy, selection):
    """A real cohort's live counts under the small-cell rule (:func:`misc_dash.privacy.protect_options`); while
    this filter is not set they are counted among the selection, whose n the pages show (``selection``)."""
    if policy is None:
        return counts
    unset = not getattr(pre, field.key, ())
    return privacy.protect_options(policy, counts, selection if unset else None)


def _filter_widget(field: F.FilterField, pf: pd.DataFrame, counts: dict[str, dict[str, int]], shown=None) -> None:
    if field.kind == "range":
        lo, hi = age_bounds(pf)
        st.slider(field.label, lo, hi, (lo, hi), key=field.url_key, bind="query-params")
    else:
        options = field.options(pf)
        c = counts[field.key] if shown is None else shown(field, {o: counts[field.key].get(o, 0) for o in options})
        _multi(field, options, c)


def _group_filter_widgets(prefix: str, pf: pd.DataFrame, default_name: str) -> tuple[str, F.CohortFilter]:
    """The name and filter defining one custom group (the fields the registry offers for custom groups)."""
    name = st.text_input("Name", default_name, key=f"{prefix}_name", max_chars=40, bind="query-params")
    name = " ".join(str(name).split()) or default_name
    kw = {}
    for field in F.FILTER_FIELDS:
        if field.group_label is None:
            continue
        key = f"{prefix}_{field.key}"
        if field.kind == "range":
            lo, hi = age_bounds(pf)
            v = st.slider(field.group_label, lo, hi, (lo, hi), key=key, bind="query-params")
            kw[field.attrs[0]] = None if v[0] <= lo else float(v[0])
            kw[field.attrs[1]] = None if v[1] >= hi else float(v[1])
        else:
            extra = {"format_func": field.group_format} if field.group_format else {}
            v = st.multiselect(
                field.group_label, list(field.group_options), key=key, placeholder="Any", bind="query-params", **extra
            )
            kw[field.key] = tuple(v)
    return name, F.CohortFilter(**kw)


def sidebar() -> View:
    """Draw the shared sidebar and return the current view."""
    cohort = current_cohort()
    pf = patient_frame(cohort.fingerprint, cohort)
    pre = state_filter(pf)
    with st.sidebar:
        st.markdown("### Cohort")
        if cohort.synthetic:
            st.warning(f"Synthetic: {md_escape(cohort.name)} — not real patients", icon=":material/warning:")
        else:
            n = suppression_policy().count(cohort.n_patients)
            st.info(f"Loaded: {md_escape(cohort.name)} ({md_escape(n)} patients)", icon=":material/local_hospital:")
            st.toggle(
                "Show patient ids in chart hovers", key=K_SHOW_IDS,
                help="Off by default for a real cohort: hovers say 'a patient'. Ids never go in the address.",
            )  # fmt: skip
        st.markdown("### Filters")
        counts = option_counts(cohort.fingerprint, pre, pf)
        shown = None
        if not cohort.synthetic:  # small-cell rule: the selection's n as every page shows it
            policy = suppression_policy()
            sizes = privacy.protect_selection(policy, cohort.n_patients, int(pre.mask(pf).sum()))
            selection = (sizes.value("selection"), sizes.state("selection"))

            def shown(field, c):
                return _shown_counts(field, c, pre, policy, selection)

        for field in F.FILTER_FIELDS:
            if not field.more:
                _filter_widget(field, pf, counts, shown)
        more = [f for f in F.FILTER_FIELDS if f.more]
        with st.expander("More filters", expanded=any(f.mask(pf, pre) is not None for f in more)):
            for field in more:
                _filter_widget(field, pf, counts, shown)
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
            a_prefix, b_prefix = GROUP_PREFIXES
            with st.expander("Group A", expanded=True):
                a_name, a = _group_filter_widgets(a_prefix, pf, "Group A")
            with st.expander("Group B", expanded=True):
                b_name, b = _group_filter_widgets(b_prefix, pf, "Group B")
            if a_name == b_name:
                b_name = f"{b_name} (B)"
            grouping = F.Grouping(by="custom", a=a, b=b, a_name=a_name, b_name=b_name)
        st.button("Reset all filters", on_click=reset_filters, use_container_width=True)
    flt = state_filter(pf)  # the widgets' values, now in session state
    ctx, err = context(cohort.fingerprint, flt, grouping, cohort, pf)
    view = View(cohort, pf, flt, grouping, ctx, err)
    st.session_state[K_VIEW] = view
    return view
