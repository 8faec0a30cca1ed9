"""The ledger of every test looked at in a session: each p-value shown on screen, with BH q over all of them.

Dedup rule: the same test on the same selection is counted once. An entry's key is (page, card key, comparison,
cohort/filter description, p): looking at a page again with the same filters adds nothing; a re-run with other
filters (another cohort description or another p) is a new test looked at. Tests without a p-value are not
counted. ``n`` is the text the card shows (card tests are already small-cell suppressed by views.build_cards).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from .stats import benjamini_hochberg

MAX_ENTRIES = 2000  # a session keeps at most this many entries (the oldest are dropped first)
ALPHA = 0.05
COLUMNS = ["Page", "Comparison", "Test", "p", "q (BH, whole session)", "n", "Selection"]


@dataclass(frozen=True)
class LedgerEntry:
    page: str
    card: str
    comparison: str
    test: str
    p: float
    n: str
    selection: str

    @property
    def key(self) -> tuple:
        return (self.page, self.card, self.comparison, self.selection, self.p)


def entries_from_cards(page: str, cards: Iterable) -> list[LedgerEntry]:
    """The tests with a p-value on a page's cards, in order (none for a test that could not be computed): the test
    lines, then the p-values shown in tables (``Card.table_p_values``)."""
    out = []
    for card in cards:
        for line in card.tests:
            res = line.result
            if res is None or res.p_value is None or res.p_value != res.p_value:
                continue
            # a suppressed card's test (privacy.shown_test) has its n only as text ("< 5")
            n = " vs ".join(str(v) for v in (getattr(res, "n_text", ()) or res.n))
            out.append(
                LedgerEntry(page, card.key, line.what or card.title, res.test, float(res.p_value), n, card.cohort)
            )
        for tp in getattr(card, "table_p_values", ()):
            if tp.p == tp.p:
                out.append(LedgerEntry(page, card.key, tp.what, tp.test, float(tp.p), tp.n, card.cohort))
    return out


def add(ledger: Sequence[LedgerEntry], new: Iterable[LedgerEntry], limit: int = MAX_ENTRIES) -> list[LedgerEntry]:
    """``ledger`` with the entries of ``new`` not yet in it appended (dedup rule above), bounded to ``limit``."""
    out = list(ledger)
    seen = {e.key for e in out}
    for e in new:
        if e.key not in seen:
            out.append(e)
            seen.add(e.key)
    return out[-limit:] if limit else out


def ledger_table(entries: Sequence[LedgerEntry]) -> pd.DataFrame:
    """One row per entry with the BH q over the whole ledger (R ``p.adjust(p, "BH")``)."""
    q = benjamini_hochberg([e.p for e in entries]) if entries else ()
    rows = [[e.page, e.comparison, e.test, e.p, qi, e.n, e.selection] for e, qi in zip(entries, q, strict=True)]
    return pd.DataFrame(rows, columns=COLUMNS)


def expected_false_positives(entries: Sequence[LedgerEntry], alpha: float = ALPHA) -> float:
    return alpha * len(entries)


def summary_sentence(entries: Sequence[LedgerEntry], alpha: float = ALPHA) -> str:
    """The expected false positives, said plainly."""
    m = len(entries)
    k = sum(e.p < alpha for e in entries)
    return (
        f"{m} test{'s' if m != 1 else ''} viewed; {k} with p < {alpha:g}. If every null hypothesis were true, about "
        f"{alpha:g} × {m} = {expected_false_positives(entries, alpha):.1f} of them would have p < {alpha:g} by chance "
        "alone."
    )


def counter_text(n: int) -> str:
    return f"{n} test{'s' if n != 1 else ''} viewed this session"
