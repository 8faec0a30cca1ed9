"""Renderers that turn :class:`~misc_dash.cards.Card` values into files, and the cards of a headless report.

- :mod:`.images` — a figure / a card's figure (caption burned in) as PNG (screen or print dpi) or SVG, with
  kaleido and the machine's Chromium (:class:`ImageExportUnavailable` when there is none);
- :mod:`.tables` — a card's table as CSV or xlsx with header rows naming the cohort, the data source, the
  reproduce command and the date (formula-safe);
- :mod:`.report` — cards as one self-contained, offline HTML report (plotly.js inlined, state embedded);
- :mod:`.deck` — cards as a PPTX deck (one card per slide, caption on the slide, methods in the notes).

No streamlit here: the page offers these files, ``python -m misc_dash report`` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .deck import report_pptx
from .images import ImageExportUnavailable, card_caption, card_image, figure_image
from .report import report_html
from .tables import table_csv, table_xlsx

#: the app's version in exports when the package has no ``__version__``
APP_VERSION = "0.14.0"

if TYPE_CHECKING:
    from ..cards import Card
    from ..filters import CohortFilter, Grouping
    from ..loading import Cohort
    from ..privacy import SuppressionPolicy


def build_report_cards(
    cohort: Cohort,
    flt: CohortFilter,
    grouping: Grouping | str = "treatment",
    pages: Sequence[str] | None = None,
    options: Mapping[str, object] | None = None,
    data_path: str | None = None,
    suppression: SuppressionPolicy | None = None,
) -> list[Card]:
    """The cards of each page in ``pages`` (default: every view), in :data:`misc_dash.views.VIEWS` order, for the
    selection ``flt`` / ``grouping``: exactly what the pages show for the same state (the same
    :func:`misc_dash.views.build_cards` with the same option values; ``options`` maps a view name to its options
    value, a view not named gets its defaults). ``data_path`` is the cohort's folder/file for the reproduce
    commands (None: the default cohort, or a placeholder for a loaded one, as the app writes it). ``suppression``:
    the small-cell policy for a cohort that is not synthetic (None: :data:`misc_dash.privacy.DEFAULT_POLICY`).

    Raises KeyError naming an unknown page and :class:`~misc_dash.analyses.AnalysisError` when no patient matches.
    """
    from .. import analyses as A
    from .. import views

    wanted = list(views.VIEWS) if pages is None else list(dict.fromkeys(pages))
    unknown = [p for p in wanted if p not in views.VIEWS]
    if unknown:
        raise KeyError(f"unknown page(s): {', '.join(unknown)}; pages: {', '.join(views.VIEWS)}")
    options = dict(options or {})
    bad = [k for k in options if k not in views.VIEWS]
    if bad:
        raise KeyError(f"options for unknown page(s): {', '.join(bad)}")
    if data_path is None and not _is_default(cohort):
        data_path = "PATH/TO/THIS/COHORT"  # as the app's reproduce commands say for a loaded cohort
    ctx = A.prepare(cohort, flt, grouping)
    from ..privacy import DEFAULT_POLICY

    vc = views.ViewContext(
        ctx,
        cohort.n_patients,
        data_path=data_path,
        cohort_name=cohort.name,
        is_synthetic=cohort.synthetic,
        suppression=suppression or DEFAULT_POLICY,
    )
    cards: list[Card] = []
    for name in views.VIEWS:  # VIEWS order, whatever order the pages were given in
        if name in wanted:
            cards += views.build_cards(name, vc, options.get(name))
    return cards


def _is_default(cohort: Cohort) -> bool:
    return bool(cohort.source) and "default_cohort" in str(cohort.source)


__all__ = [
    "APP_VERSION",
    "ImageExportUnavailable",
    "build_report_cards",
    "card_caption",
    "card_image",
    "figure_image",
    "report_html",
    "report_pptx",
    "table_csv",
    "table_xlsx",
]
