"""Effects with their confidence intervals as table cells (one wording for every view)."""

from __future__ import annotations

from .. import formatting as fmt


def ci_text(e: dict | None, decimals: int | None = 2, scale: float = 1.0, unit: str = "") -> str:
    """ "1.17 (0.28 to 5.14)" from an effect dict (estimate, ci); "—" without one. ``decimals=None``: three
    significant digits (lab values of any magnitude). ``scale`` 100 with ``unit`` " pp" writes a risk difference
    in percentage points."""
    if not e or e.get("estimate") is None:
        return "—"

    def num(x):
        return fmt.significant(x * scale) if decimals is None else fmt.number(x * scale, decimals)

    lo, hi = e.get("ci") or (None, None)
    if lo is None or hi is None:
        return f"{num(e['estimate'])}{unit}"
    return f"{num(e['estimate'])}{unit} ({num(lo)} to {num(hi)})"


def difference_text(effects: dict | None) -> str:
    """The difference column: Hodges–Lehmann shift (continuous) or risk difference in percentage points (binary)."""
    if not effects:
        return "—"
    if effects.get("hodges_lehmann_shift"):
        return ci_text(effects["hodges_lehmann_shift"], 1)
    if effects.get("risk_difference"):
        return ci_text(effects["risk_difference"], 0, scale=100, unit=" pp")
    return "—"


def odds_ratio_text(effects: dict | None) -> str:
    return ci_text((effects or {}).get("odds_ratio"), 2)


def smd_text(smd: float | None) -> str:
    return "—" if smd is None else fmt.number(smd, 2)
