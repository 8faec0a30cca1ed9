"""Views: each page's content as :class:`~misc_dash.cards.Card` values, built by pure functions.

``build_<view>_cards(vc, options) -> list[Card]`` takes a :class:`ViewContext` (the analysis context of the
current selection and a way to run registered analyses) and the view's options value (what the page's controls
say), and returns the cards the page draws. The same cards feed every other renderer (report, slides, exports).
:data:`VIEWS` lists them: adding a view is one module and one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from .adjusted import AdjustedOptions, build_adjusted_cards
from .anakinra import AnakinraOptions, build_anakinra_cards
from .cardiac import CHARTS as CARDIAC_CHARTS
from .cardiac import CardiacOptions, build_cardiac_cards
from .common import (
    SYNTHETIC_BANNER,
    PageHeader,
    ViewContext,
    build_header,
    reproduce_command,
    source_text,
    synthetic_banner,
)
from .cytokines import CHARTS as CYTOKINE_CHARTS
from .cytokines import CytokineOptions, build_cytokine_cards
from .fever import CHARTS as FEVER_CHARTS
from .fever import FeverOptions, build_fever_cards
from .labs import LabsOptions, build_labs_cards
from .literature import build_literature_cards
from .overview import build_overview_cards
from .safety import build_safety_cards
from .table1 import Table1Options, build_table1_cards


@dataclass(frozen=True)
class View:
    name: str
    title: str
    build: Callable
    options: type | None  # the options value the builder takes (None: no options)
    need_groups: bool = True  # the page compares groups (warn when fewer than two have patients)
    caution: bool = True  # the page shows the confounding caution when groups are treatments
    charts: tuple[str, ...] = ()  # the values of the options' ``chart`` field: one chart is built at a time

    def all_chart_options(self, options) -> list:
        """``options`` once per chart of the view (for slides and reports that show every chart)."""
        from dataclasses import replace

        return [replace(options, chart=c) for c in self.charts] if self.charts and options is not None else [options]


VIEWS = MappingProxyType(
    {
        v.name: v
        for v in (
            View("overview", "MIS-C Cohort Explorer", build_overview_cards, None, need_groups=False, caution=False),
            View("table1", "Table 1 — baseline characteristics", build_table1_cards, Table1Options),
            View(
                "cardiac",
                "Cardiac function — LVEF and Ap4 strain",
                build_cardiac_cards,
                CardiacOptions,
                charts=CARDIAC_CHARTS,
            ),
            View("fever", "Fever — time to defervescence", build_fever_cards, FeverOptions, charts=FEVER_CHARTS),
            View(
                "cytokines",
                "Cytokines — fold difference over the upper limit of normal",
                build_cytokine_cards,
                CytokineOptions,
                charts=CYTOKINE_CHARTS,
            ),
            View("adjusted", "Adjusted & sensitivity", build_adjusted_cards, AdjustedOptions),
            View("labs", "Laboratory trajectories", build_labs_cards, LabsOptions),
            View(
                "anakinra", "Anakinra dosing", build_anakinra_cards, AnakinraOptions, need_groups=False, caution=False
            ),
            View("safety", "Safety — adverse events", build_safety_cards, None),
            View(
                "literature",
                "Literature — what else has been reported",
                build_literature_cards,
                None,
                need_groups=False,
                caution=False,
            ),
        )
    }
)


def build_cards(name: str, vc: ViewContext, options=None):
    """The cards of view ``name`` (options: the view's options value, or None for its defaults). For a cohort that
    is not synthetic every card goes through :func:`misc_dash.privacy.suppress_cards` with ``vc``'s policy (the
    builders already hide small counts where they know the sums; that pass catches the rest and drops
    patient-level lists that would give a hidden count back)."""
    from dataclasses import replace

    from ..privacy import suppress_cards
    from .state import ViewState, python_snippet  # state.py builds on this module

    view = VIEWS[name]
    if options is None and view.options is not None:
        options = view.options()
    cards = suppress_cards(view.build(vc, options), vc.policy, small=bool(vc.small))
    return [
        replace(
            c, snippet=python_snippet(ViewState.of(name, c.key, vc.ctx.flt, vc.ctx.grouping, options), vc.data_path)
        )
        if c.reproduce
        else c
        for c in cards
    ]


__all__ = [
    "SYNTHETIC_BANNER",
    "VIEWS",
    "AdjustedOptions",
    "AnakinraOptions",
    "CardiacOptions",
    "CytokineOptions",
    "FeverOptions",
    "LabsOptions",
    "PageHeader",
    "Table1Options",
    "View",
    "ViewContext",
    "build_adjusted_cards",
    "build_anakinra_cards",
    "build_cardiac_cards",
    "build_cards",
    "build_cytokine_cards",
    "build_fever_cards",
    "build_header",
    "build_labs_cards",
    "build_literature_cards",
    "build_overview_cards",
    "build_safety_cards",
    "build_table1_cards",
    "reproduce_command",
    "source_text",
    "synthetic_banner",
]
