"""The only package of misc_dash that imports streamlit.

:mod:`.state` (session keys, the loaded cohort, cached analyses and cards), :mod:`.sidebar` (the shared filters,
drawn from the filter-field registry), :mod:`.elements` (header, cards, tables, test lines, controls),
:mod:`.plot` (the in-place chart component) and :mod:`.page` (routing and a page's frame).

A page reads its controls, builds its cards (``view.cards(name, options)``) and shows them (:func:`show_cards`).
"""

from .auth import LoginGate, login_gate, show_sign_in, show_signed_in, upload_allowed
from .elements import (
    details_table,
    markdown_table,
    md_escape,
    show,
    show_header,
    show_table,
    summary_table,
    table,
    test_line,
    view_switch,
)
from .mapping_editor import export_upload as mapping_upload
from .mapping_editor import redcap_upload
from .page import bound_value, controls, get_view, page_failed, page_header, reproduce_panel, show_cards
from .plot import PLOT_CONFIG, STATIC_DIR, plot, plotly_js_url
from .report import basket, card_tools, presenting
from .sidebar import COMPARE_LABELS, sidebar
from .state import (
    FILTER_KEYS,
    K_COMPARE,
    K_UPLOAD_COHORT,
    K_UPLOAD_PROBLEMS,
    K_VIEW,
    View,
    current_cohort,
    default_cohort,
    fidelity,
    literature,
    load_upload,
    reset_filters,
    upload_failed,
    use_default_cohort,
)

__all__ = [
    "COMPARE_LABELS",
    "FILTER_KEYS",
    "K_COMPARE",
    "K_UPLOAD_COHORT",
    "K_UPLOAD_PROBLEMS",
    "K_VIEW",
    "PLOT_CONFIG",
    "STATIC_DIR",
    "LoginGate",
    "View",
    "basket",
    "bound_value",
    "card_tools",
    "controls",
    "current_cohort",
    "default_cohort",
    "details_table",
    "fidelity",
    "get_view",
    "literature",
    "load_upload",
    "login_gate",
    "mapping_upload",
    "markdown_table",
    "md_escape",
    "page_failed",
    "page_header",
    "plot",
    "plotly_js_url",
    "presenting",
    "redcap_upload",
    "reproduce_panel",
    "reset_filters",
    "show",
    "show_cards",
    "show_header",
    "show_sign_in",
    "show_signed_in",
    "show_table",
    "sidebar",
    "summary_table",
    "table",
    "test_line",
    "upload_allowed",
    "upload_failed",
    "use_default_cohort",
    "view_switch",
]
