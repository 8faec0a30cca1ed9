"""A page's frame: make sure it runs under app.py's router, get the current view, draw the header, draw cards."""

from __future__ import annotations

import streamlit as st

from .. import compat, views
from .elements import show, show_header
from .sidebar import sidebar
from .state import K_REROUTED, K_VIEW, View


def _sidebar_drawn_this_run() -> bool:
    """True when app.py already drew the sidebar in this script run. (AppTest's switch_page runs a page
    script on its own, without app.py; then the page draws the sidebar itself.)"""
    drawn = compat.sidebar_has_content()
    return K_VIEW in st.session_state if drawn is None else drawn


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
    compat.leave_pages_directory_mode()
    if K_VIEW not in st.session_state and not st.session_state.get(K_REROUTED):
        st.session_state[K_REROUTED] = True
        st.rerun()


def get_view() -> View:
    if not _sidebar_drawn_this_run():
        _reroute_through_app()
    if not _sidebar_drawn_this_run() or st.session_state.get(K_VIEW) is None:
        return sidebar()
    return st.session_state[K_VIEW]


def page_header(
    name: str, caption: str | None = None, title: str | None = None, need_groups: bool = True, caution: bool = True
) -> View:
    """Title, the synthetic-data banner, the cohort line and group sizes, page-wide notes and warnings for view
    ``name`` (see misc_dash.views.VIEWS, which gives the title and which notes apply; a page that is not a view
    passes them). Stops the page with a plain warning when the selection is empty."""
    view = get_view()
    spec = views.VIEWS.get(name) or views.View(name, title or name, None, None, need_groups, caution)
    if view.ctx is None:
        st.title(spec.title)
        if view.cohort.synthetic:
            st.warning(views.SYNTHETIC_BANNER.format(n=view.cohort.n_patients), icon="⚠️")
        from .elements import md_escape

        st.warning(
            f"**No patients match the current filters.** {md_escape(view.error or '')}  \n"
            "Relax a filter in the sidebar (or press *Reset all filters*).",
            icon="🔍",
        )
        st.stop()
    header = views.build_header(
        view.view_context, spec.title, caption=caption, need_groups=spec.need_groups, caution=spec.caution
    )
    show_header(header)
    return view


def show_cards(cards) -> None:
    """Draw a view's cards in order; a card that is only a warning (nothing to show) ends the page."""
    for card in cards:
        show(card)
        if card.warnings and card.figure is None and not card.tables and not card.tests:
            st.stop()
