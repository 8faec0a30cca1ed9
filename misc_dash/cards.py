"""Cards: what one view shows, as a value.

A :class:`Card` holds everything a renderer needs and nothing it must compute: the title, the figure, the tables
(DataFrames with how to read each column), the test lines with their :class:`~misc_dash.stats.TestResult`, the
metrics, the caveats, the caption (what is shown, for which patients, from which data, synthetic or not), a
methods paragraph, the exact ``python -m misc_dash analyze …`` command that reproduces its numbers, and what the
small-cell rule did (``privacy``: real patients' counts below the threshold are hidden, :mod:`misc_dash.privacy`).

The page draws cards (:func:`misc_dash.ui.show`); a report, a slide deck, CSV/PNG/SVG exports and a
presentation mode render the same values. Cards are built by the pure functions in :mod:`misc_dash.views`.
Data text in a card is plain text: each renderer escapes it for its medium (markdown, HTML, plotly labels).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd
import plotly.graph_objects as go

from .stats import TestResult

#: how a table is meant to be drawn
TABLE_KINDS = ("summary", "grid", "details")
#: how a column reads (for exports and renderers that align or format): text, count, number, p, q, ci
COLUMN_FORMATS = ("text", "count", "number", "p", "q")


@dataclass(frozen=True, eq=False)
class CardTable:
    """One table of a card.

    ``kind``: "summary" (a few rows, drawn as one static table), "grid" (a sortable data grid, downloadable),
    "details" (a patient-level list, drawn collapsed and only on request). ``formats`` maps a column to one of
    :data:`COLUMN_FORMATS` (columns not named are text). ``label`` is the collapsed list's title."""

    df: pd.DataFrame
    kind: str = "summary"
    title: str = ""
    label: str = ""
    key: str = ""
    formats: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    download: str | None = None  # file name offered for download (grid tables), None = no download

    def __post_init__(self):
        if self.kind not in TABLE_KINDS:
            raise ValueError(f"table kind {self.kind!r}: one of {TABLE_KINDS}")
        bad = {f for f in self.formats.values() if f not in COLUMN_FORMATS}
        if bad:
            raise ValueError(f"column formats {sorted(bad)}: each one of {COLUMN_FORMATS}")


@dataclass(frozen=True)
class TestLine:
    """One p-value line: what is compared and the test result (None: no test, with ``missing`` saying why)."""

    __test__ = False  # not a pytest test class

    what: str
    result: TestResult | None
    missing: str = "no test (fewer than two groups with data)"


@dataclass(frozen=True)
class Metric:
    label: str
    value: str
    help: str | None = None


@dataclass(frozen=True)
class TableP:
    """One p-value shown in a table cell: what it compares, the test, p, and the groups' n as the table shows it."""

    what: str
    test: str
    p: float
    n: str


@dataclass(frozen=True, eq=False)
class Card:
    """What one view shows (see the module docstring). ``key`` is stable ("fever.km"); ``figure_key`` names the
    chart's element so it is redrawn in place across reruns."""

    key: str
    title: str = ""
    heading: bool = True  # draw the title above the content (False: the figure's own title says it)
    lead: str = ""  # a sentence above the content (what the reader must know first)
    figure: go.Figure | None = None
    figure_key: str = ""
    tables: tuple[CardTable, ...] = ()
    tests: tuple[TestLine, ...] = ()
    tests_heading: str = ""
    metrics: tuple[Metric, ...] = ()
    caveats: tuple[str, ...] = ()  # engine notes next to the numbers (small, with a warning sign)
    notices: tuple[str, ...] = ()  # plain notes about who is in the view (e.g. patients left out)
    warnings: tuple[str, ...] = ()  # things the reader must not miss (fragile summaries)
    caption: str = ""  # what the figure / table shows and for which patients
    methods: str = ""  # how the numbers were computed
    reproduce: str = ""  # the analyze command that gives the same numbers
    snippet: str = ""  # a short Python program that rebuilds this card and prints its tests
    cohort: str = ""  # the cohort description ("CV shock, age 5–12 — n = 14")
    source: str = ""  # the data source ("Reconstructed synthetic cohort (46 patients) — not real patients")
    synthetic: bool = False
    privacy: str = ""  # small-cell suppression: the rule applied (real patients) or the exemption (synthetic)
    # p-values shown inside a table rather than as test lines (Table 1's p column), for the tests-viewed ledger
    table_p_values: tuple[TableP, ...] = ()

    @property
    def test_results(self) -> tuple[TestResult, ...]:
        return tuple(t.result for t in self.tests if t.result is not None)

    def context_line(self) -> str:
        """Cohort, the first test and the data source in one line: the caption burned into exported images."""
        parts = [self.cohort] if self.cohort else []
        first = next((t for t in self.tests if t.result is not None), None)
        if first is not None:
            parts.append(first.result.label())
        if self.source:
            parts.append(self.source)
        return " · ".join(parts)
