"""A page's frame: make sure it runs under app.py's router, get the current view, draw the header, draw cards."""

from __future__ import annotations

import streamlit as st

from .. import compat, views
from . import ledger, report
from .elements import md_escape, show, show_compact_header, show_header
from .plot import plot
from .share import presentation_styles, slide_keys
from .sidebar import sidebar
from .state import K_REROUTED, K_VIEW, View, suppression_setting


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
            st.warning(views.synthetic_banner(view.cohort, view.cohort.n_patients), icon=":material/warning:")
        st.warning(
            f"**No patients match the current filters.** {md_escape(view.error or '')}  \n"
            "Relax a filter in the sidebar (or press *Reset all filters*).",
            icon=":material/search_off:",
        )
        st.stop()
    header = views.build_header(
        view.view_context, spec.title, caption=caption, need_groups=spec.need_groups, caution=spec.caution
    )
    problem = suppression_setting()[1]
    if problem and not view.cohort.synthetic:
        st.warning(md_escape(problem), icon=":material/shield:")
    report.toolbar(view)
    if report.presenting():
        show_compact_header(header)
    else:
        show_header(header)
    ledger.counter()
    return view


def show_cards(cards, name: str | None = None, options=None) -> None:
    """Draw a view's cards in order, each with its export menu and "Add to report", then how to reproduce the
    numbers; in presentation mode, one chart at a time as a slide. A card that is only a warning (nothing to show)
    ends the page. ``name`` / ``options``: the view and its options (``View.cards`` attaches them)."""
    name = name or getattr(cards, "view_name", None)
    options = options if options is not None else getattr(cards, "options", None)
    view = get_view()
    if report.presenting():
        _present(view, list(cards))
        ledger.record(name, cards)
        return
    for card in cards:
        show(card)
        if card.warnings and card.figure is None and not card.tables and not card.tests:
            ledger.record(name, cards)
            st.stop()
        report.card_tools(card, view, name, options)
    ledger.record(name, cards)
    reproduce_panel(cards)


def page_failed(exc: Exception) -> None:
    """A page raised: say so plainly, keep the rest of the app working, and log only where it happened (the
    exception's type and the code location — never its message, which could hold data)."""
    import logging
    import traceback

    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" if frame else "?"
    logging.getLogger("misc_dash").error("page failed: %s at %s", type(exc).__name__, where)
    st.error(
        "This view could not be drawn for the current selection. The other pages and your filters are unaffected; "
        "try another filter or reset them. (The error was logged on the server without any data.)",
        icon=":material/error:",
    )


def bound_value(key: str, default: float) -> float:
    """A URL-bound number input's value before the widget is drawn: the session's, else the address's, else the
    default (a shared link's first run has it only in the address)."""
    if key in st.session_state:
        return st.session_state[key]
    try:
        return float(st.query_params.get(key, default))
    except (TypeError, ValueError):
        return default


def controls():
    """Where a page draws its controls: in place, or, in presentation mode, folded into one closed expander so
    the chart gets the first screen (the controls are still drawn, so their values stay in the address)."""
    if report.presenting():
        return st.expander("View settings", icon=":material/tune:")
    return st.container()


def reproduce_panel(cards) -> None:
    """The exact ``analyze`` command and a short Python program that give this page's numbers."""
    card = next((c for c in cards if c.reproduce), None)
    if card is None:
        return
    with st.expander("Reproduce these numbers", icon=":material/terminal:"):
        st.caption("The same numbers from the command line (JSON; keys in docs/ANALYZE.md):")
        st.code(card.reproduce, language="bash", wrap_lines=True)
        if card.snippet:
            st.caption("…or in Python, with the dashboard's own code:")
            st.code(card.snippet, language="python", wrap_lines=True)


# ------------------------------------------------------------------------------------------------ presentation
K_SLIDE = "slide"
K_SLIDES_FROM = "slides_from"


def _page_slides(view: View, cards) -> list:
    """Every chart of the page, in order (a page that switches between charts has one slide per chart)."""
    name, options = getattr(cards, "view_name", None), getattr(cards, "options", None)
    spec = views.VIEWS.get(name)
    if spec is None or not spec.charts or options is None:
        return [c for c in cards if c.figure is not None]
    out, seen = [], set()
    for opts in spec.all_chart_options(options):
        for c in view.cards(name, opts):
            if c.figure is not None and c.key not in seen:
                out.append(c)
                seen.add(c.key)
    return out


def _present(view: View, cards: list) -> None:
    from ..figures.present import for_presentation

    presentation_styles()
    basket_cards = report.basket_cards(view) if report.basket() else []
    sources = ["This page"] + (["Report basket"] if basket_cards else [])
    source = sources[0]
    if len(sources) > 1:
        source = st.segmented_control(
            "Slides", sources, default=sources[0], required=True, key=K_SLIDES_FROM, bind="query-params",
            label_visibility="collapsed",
        )  # fmt: skip
    if source == "Report basket":
        slides = [c for c in basket_cards if c.figure is not None]
    else:
        slides = _page_slides(view, cards)
    if not slides:
        for card in cards:  # nothing to project: the page as it is
            show(card)
        return
    n = len(slides)
    if K_SLIDE not in st.session_state:
        try:
            st.session_state[K_SLIDE] = int(st.query_params.get(K_SLIDE, 1)) - 1
        except ValueError:
            st.session_state[K_SLIDE] = 0

    def step(k: int) -> None:
        st.session_state[K_SLIDE] = (st.session_state.get(K_SLIDE, 0) + k) % n

    slide_keys(step)
    i = min(max(st.session_state.get(K_SLIDE, 0), 0), n - 1)
    st.session_state[K_SLIDE] = i
    st.query_params[K_SLIDE] = str(i + 1)
    card = slides[i]
    fig = for_presentation(card.figure, caption=card.context_line(), min_height=560)
    plot(fig, key="present")
    c1, c2, c3 = st.columns([1, 3, 1], vertical_alignment="center")
    c1.button("Previous", on_click=step, args=(-1,), icon=":material/arrow_back:", key="slide_prev")
    c2.markdown(f"Slide {i + 1} of {n} · **{md_escape(card.title)}** · ← / → to move")
    c3.button("Next", on_click=step, args=(1,), icon=":material/arrow_forward:", key="slide_next")
