"""A view's whole state as a small JSON-able value — which view and card, the filter, the grouping and the page's
options — so that a report basket can be kept, written into a report, put in a link and rebuilt into the same
cards later. Only categories, numbers and the user's own group names: never a patient identifier."""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import asdict, dataclass, field, fields

from .. import analyses as A
from ..cards import Card
from ..filters import CohortFilter, Grouping
from ..loading import Cohort
from . import VIEWS, ViewContext, build_cards

MAX_ITEMS = 40  # a basket is a handful of slides; a link that claims more is cut


@dataclass(frozen=True)
class ViewState:
    view: str
    card: str = ""  # the card key within the view ("" = every card of the view)
    filters: dict = field(default_factory=dict)  # CohortFilter.to_query_params()
    grouping: dict = field(default_factory=lambda: {"by": "treatment"})
    options: dict = field(default_factory=dict)  # the view's options value, as a dict

    # ------------------------------------------------------------------ from and to the app's values
    @classmethod
    def of(cls, view: str, card: str, flt: CohortFilter, grouping: Grouping, options=None) -> ViewState:
        g = {"by": grouping.by}
        if grouping.by == "custom":
            g.update(
                a=grouping.a.to_query_params(), b=grouping.b.to_query_params(), a_name=grouping.a_name,
                b_name=grouping.b_name,
            )  # fmt: skip
        return cls(view, card, flt.to_query_params(), g, asdict(options) if options is not None else {})

    def filter(self) -> CohortFilter:
        return CohortFilter.from_query_params(self.filters)

    def grouping_value(self) -> Grouping:
        g = self.grouping
        if g.get("by") != "custom":
            return Grouping(by=str(g.get("by", "treatment")))
        return Grouping(
            by="custom",
            a=CohortFilter.from_query_params(g.get("a") or {}),
            b=CohortFilter.from_query_params(g.get("b") or {}),
            a_name=str(g.get("a_name") or "Group A")[:40],
            b_name=str(g.get("b_name") or "Group B")[:40],
        )

    def options_value(self):
        """The view's options dataclass from the stored dict (unknown keys ignored, values coerced to the
        defaults' types; a value that does not fit keeps the default)."""
        cls = VIEWS[self.view].options
        if cls is None:
            return None
        default = cls()
        kw = {}
        for f in fields(cls):
            if f.name not in self.options:
                continue
            want, got = getattr(default, f.name), self.options[f.name]
            try:
                if isinstance(want, bool):
                    kw[f.name] = bool(got)
                elif isinstance(want, int):
                    kw[f.name] = int(got)
                elif isinstance(want, float):
                    kw[f.name] = float(got)
                elif want is None or isinstance(want, str):
                    kw[f.name] = None if got is None else str(got)
            except (TypeError, ValueError):
                continue
        return cls(**kw)

    def label(self) -> str:
        return f"{VIEWS[self.view].title} — {self.filter().describe()}"

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        return {"view": self.view, "card": self.card, "filters": self.filters, "grouping": self.grouping,
                "options": self.options}  # fmt: skip

    @classmethod
    def from_dict(cls, d) -> ViewState:
        """A validated state (ValueError when it is not one: unknown view, wrong shapes)."""
        if not isinstance(d, dict) or d.get("view") not in VIEWS:
            raise ValueError("not a view state")
        filters, grouping, options = (
            d.get("filters") or {},
            d.get("grouping") or {"by": "treatment"},
            d.get("options") or {},
        )
        if not all(isinstance(x, dict) for x in (filters, grouping, options)):
            raise ValueError("not a view state")
        filters = {str(k): str(v) for k, v in filters.items()}
        return cls(str(d["view"]), str(d.get("card") or ""), filters, grouping, options)


def cards_for(state: ViewState, cohort: Cohort, pf_all=None, suppression=None) -> list[Card]:
    """The cards this state shows (only its card when it names one). AnalysisError if the filter leaves nobody.
    ``suppression``: the small-cell policy for a cohort that is not synthetic (None: the default policy)."""
    from ..privacy import DEFAULT_POLICY

    ctx = A.prepare(cohort, state.filter(), state.grouping_value(), pf_all=pf_all)
    vc = ViewContext(ctx, cohort.n_patients, suppression=suppression or DEFAULT_POLICY)
    cards = build_cards(state.view, vc, state.options_value())
    return [c for c in cards if not state.card or c.key == state.card] or cards


# ------------------------------------------------------------------------------------------------ links
def encode_basket(items) -> str:
    """A basket in a URL parameter: compressed JSON, base64url (no patient data: see the module docstring)."""
    raw = json.dumps([s.to_dict() for s in items][:MAX_ITEMS], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(zlib.compress(raw.encode("utf-8"), 9)).decode("ascii").rstrip("=")


def decode_basket(text: str) -> list[ViewState]:
    """The basket a link carries; anything malformed is dropped item by item (never an exception)."""
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = zlib.decompressobj().decompress(packed, 1 << 20)  # at most 1 MB out, whatever the link holds
        items = json.loads(data.decode("utf-8"))
    except (ValueError, zlib.error, UnicodeDecodeError):
        return []
    out = []
    for d in items if isinstance(items, list) else []:
        try:
            out.append(ViewState.from_dict(d))
        except (ValueError, TypeError, AttributeError):
            continue
    return out[:MAX_ITEMS]


def python_snippet(state: ViewState, data_path: str | None = None) -> str:
    """A short Python program that rebuilds this view's cards and prints its test lines (the same numbers)."""
    load = "load_default_cohort()" if data_path is None else f"load_cohort({data_path!r})"
    loader = "load_default_cohort" if data_path is None else "load_cohort"
    state_literal = repr(state.to_dict())  # str, float, bool and dicts of them: a valid Python literal
    return (
        f"from misc_dash.loading import {loader}\n"
        "from misc_dash.views.state import ViewState, cards_for\n\n"
        f"state = ViewState.from_dict({state_literal})\n"
        f"for card in cards_for(state, {load}):\n"
        "    for line in card.tests:\n"
        "        print(line.what, '—', line.result.label() if line.result else line.missing)\n"
    )
