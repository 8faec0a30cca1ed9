"""The session's ledger of tests looked at (misc_dash.ledger): recorded when a page's cards are drawn, counted in
the page header, listed on the "Tests viewed" page. Kept in session_state (bounded by ledger.MAX_ENTRIES)."""

from __future__ import annotations

import streamlit as st

from .. import compat, ledger, views

K_LEDGER = "_test_ledger"
K_SLOT = "_test_ledger_slot"


def entries() -> list[ledger.LedgerEntry]:
    return list(st.session_state.get(K_LEDGER, []))


def clear() -> None:
    st.session_state[K_LEDGER] = []


def page_title(name: str | None) -> str:
    spec = views.VIEWS.get(name) if name else None
    return spec.title if spec is not None else (name or "")


def record(name: str | None, cards) -> None:
    """Log the tests with a p-value on the cards just drawn, then refresh the header's counter."""
    st.session_state[K_LEDGER] = ledger.add(entries(), ledger.entries_from_cards(page_title(name), cards))
    slot, run = st.session_state.get(K_SLOT, (None, None))
    # only this run's header: an earlier run's element is gone (no token: the internal changed, update anyway)
    if slot is not None and (run is None or run is compat.script_run_token()):
        slot.caption(ledger.counter_text(len(entries())))


def counter() -> None:
    """The header's small counter (a placeholder: the cards drawn below update it in the same run)."""
    slot = st.empty()
    slot.caption(ledger.counter_text(len(entries())))
    st.session_state[K_SLOT] = (slot, compat.script_run_token())
