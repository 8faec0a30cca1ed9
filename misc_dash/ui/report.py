"""The page toolbar (copy link, presentation mode, the report basket) and each card's export menu.

The basket is a list of :class:`~misc_dash.views.state.ViewState` in the session, mirrored in the address
(``?basket=…``), so "Copy link" shares it and a report's "Reopen" link restores it. Files are built only when their
download button is pressed."""

from __future__ import annotations

import datetime as _dt
import re

import streamlit as st

from ..cards import Card
from ..views import VIEWS
from ..views.state import MAX_ITEMS, ViewState, cards_for, decode_basket, encode_basket
from .share import copy_link
from .state import View

K_BASKET = "_basket"
K_PRESENT = "present"
URL_BASKET = "basket"


# ------------------------------------------------------------------------------------------------ basket
def basket() -> list[ViewState]:
    if K_BASKET not in st.session_state:
        raw = st.query_params.get(URL_BASKET)
        st.session_state[K_BASKET] = decode_basket(raw) if raw else []
    return st.session_state[K_BASKET]


def _save(items: list[ViewState]) -> None:
    st.session_state[K_BASKET] = items[:MAX_ITEMS]
    if items:
        st.query_params[URL_BASKET] = encode_basket(items)
    elif URL_BASKET in st.query_params:
        del st.query_params[URL_BASKET]


def add_to_basket(state: ViewState) -> None:
    items = [s for s in basket() if s != state]
    _save([*items, state])


def clear_basket() -> None:
    _save([])


def basket_cards(view: View) -> list[Card]:
    """Every card in the basket, rebuilt from its state on the loaded cohort (an item whose filter no longer
    matches anyone is skipped)."""
    from ..analyses import AnalysisError
    from .state import suppression_policy

    out: list[Card] = []
    policy = suppression_policy()
    for s in basket():
        try:
            out += cards_for(s, view.cohort, pf_all=view.pf_all, suppression=policy)
        except (AnalysisError, KeyError, ValueError):
            continue
    return out


# ------------------------------------------------------------------------------------------------ presentation
def presenting() -> bool:
    """Presentation mode: the toggle, kept in the address as ``?present=1`` (a link opens in presentation mode)."""
    if K_PRESENT not in st.session_state:
        st.session_state[K_PRESENT] = str(st.query_params.get(K_PRESENT, "")).lower() in ("1", "true", "yes")
    return bool(st.session_state[K_PRESENT])


def _present_changed() -> None:
    if st.session_state.get(K_PRESENT):
        st.query_params[K_PRESENT] = "1"
    elif K_PRESENT in st.query_params:
        del st.query_params[K_PRESENT]


# ------------------------------------------------------------------------------------------------ toolbar
def toolbar(view: View) -> None:
    """Copy link · Presentation mode · Report basket (count, download as HTML / PPTX, clear)."""
    presenting()
    c1, c2, c3 = st.columns([1.2, 1.6, 2.2], vertical_alignment="center")
    with c1:
        copy_link()
    c2.toggle(
        "Presentation mode",
        key=K_PRESENT,
        on_change=_present_changed,
        help="Projector view: one chart per slide; ← / → move through the charts of this page or of the report basket.",
    )
    items = basket()
    with c3.popover(f"Report basket ({len(items)})", icon=":material/shopping_basket:"):
        if not items:
            st.caption("Add views with “Add to report” under a chart or table; then download them as one report.")
        for s in items:
            st.caption(_plain(s.label()))
        if items:
            stamp = _dt.date.today().isoformat()
            st.download_button(
                "Download report (HTML, opens offline)", lambda: _report_html(view),
                file_name=f"misc_report_{stamp}.html", mime="text/html", on_click="ignore", key="dl_report_html",
            )  # fmt: skip
            st.download_button(
                "Download slides (PPTX)", lambda: _report_pptx(view), file_name=f"misc_slides_{stamp}.pptx",
                mime="application/vnd.openxmlformats-officedocument.presentationml.presentation", on_click="ignore",
                key="dl_report_pptx",
            )  # fmt: skip
            st.button("Empty the basket", on_click=clear_basket, key="basket_clear")


def _plain(text: str) -> str:
    from .elements import md_escape

    return md_escape(text)


def _report_state() -> dict:
    return {"basket": [s.to_dict() for s in basket()], "link": f"?{URL_BASKET}={encode_basket(basket())}"}


def _report_html(view: View) -> bytes:
    from ..exports import report_html
    from .ledger import entries

    cards = basket_cards(view)
    state = _report_state()
    title = "MIS-C Cohort Explorer — report"
    return report_html(cards, title, state=state, app_url=state["link"], ledger=entries()).encode("utf-8")


def _report_pptx(view: View) -> bytes:
    from ..exports import report_pptx

    return report_pptx(basket_cards(view), "MIS-C Cohort Explorer — report", state=_report_state())


# ------------------------------------------------------------------------------------------------ per card
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "view"


def card_tools(card: Card, view: View, view_name: str | None, options) -> None:
    """Under a card: its export menu (chart as PNG / 300 dpi PNG / SVG with the caption inside; tables as CSV and
    xlsx with the cohort in a header row) and "Add to report"."""
    has_figure = card.figure is not None
    tables = [t for t in card.tables if t.kind != "details"]
    if not has_figure and not tables:
        return
    name = _slug(card.title or card.key)
    c1, c2, _ = st.columns([1, 1, 4])
    with c1.popover("Export", icon=":material/download:"):
        if has_figure:
            for label, fmt, dpi in (("Chart (PNG)", "png", None), ("Chart (PNG, 300 dpi)", "png", 300),
                                    ("Chart (SVG)", "svg", None)):  # fmt: skip
                suffix = "_300dpi" if dpi else ""
                st.download_button(
                    label, lambda f=fmt, d=dpi: _image(card, f, d), file_name=f"{name}{suffix}.{fmt}",
                    mime="image/svg+xml" if fmt == "svg" else "image/png", on_click="ignore",
                    key=f"dl_{card.key}_{fmt}{suffix}",
                )  # fmt: skip
        for i, t in enumerate(tables):
            tname = f"{name}_{i + 1}" if len(tables) > 1 else name
            st.download_button(
                f"Table {i + 1} (CSV)" if len(tables) > 1 else "Table (CSV)", lambda t=t: _csv(card, t),
                file_name=f"{tname}.csv", mime="text/csv", on_click="ignore", key=f"dl_{card.key}_csv{i}",
            )  # fmt: skip
            st.download_button(
                f"Table {i + 1} (Excel)" if len(tables) > 1 else "Table (Excel)", lambda t=t: _xlsx(card, t),
                file_name=f"{tname}.xlsx", on_click="ignore", key=f"dl_{card.key}_xlsx{i}",
                mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )  # fmt: skip
    if view_name in VIEWS:
        state = ViewState.of(view_name, card.key, view.flt, view.grouping, options)
        c2.button(
            "Add to report", key=f"add_{card.key}", on_click=add_to_basket, args=(state,), icon=":material/add:",
            disabled=state in basket(),
        )  # fmt: skip


def _image(card: Card, fmt: str, dpi: int | None) -> bytes:
    from ..exports.images import ImageExportUnavailable, card_image

    try:
        return card_image(card, fmt, dpi=dpi)
    except ImageExportUnavailable as exc:  # the file says why instead of a broken download
        return str(exc).encode("utf-8")


def _csv(card: Card, table) -> bytes:
    from ..exports.tables import table_csv

    return table_csv(card, table)


def _xlsx(card: Card, table) -> bytes:
    from ..exports.tables import table_xlsx

    return table_xlsx(card, table)
