"""Numbers as text: one rule for every screen, table, export and the ``analyze`` text output.

* Decimals round **half up** on the shortest repr of the float (3.25 → "3.3", 12.5 % → "13 %"), as GraphPad
  Prism and Excel do; Python's ``round``/printf round half to even on the binary value (3.25 → "3.2").
* p-values as the index paper prints them (:func:`format_p`).
* Missing values are "n/a"; no "-0.0".
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

NA = "n/a"


def round_half_up(x: float, decimals: int) -> str:
    """Fixed-point text rounded half up on the shortest repr (3.25 → "3.3", as Prism/Excel; printf gives 3.2)."""
    q = Decimal(1).scaleb(-decimals)
    return str(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))


def _missing(x) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(x)
    except TypeError:
        return False


def number(x: float | None, decimals: int) -> str:
    """``x`` with ``decimals`` decimals, half up; "n/a" for None/NaN; "∞"/"−∞"; never "-0.0"."""
    if _missing(x):
        return NA
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    txt = round_half_up(x, decimals)
    return txt[1:] if txt.startswith("-") and float(txt) == 0 else txt


def format_p(p: float | None) -> str:
    """A p-value like the index paper: "0.02", "0.0006", "> 0.99", "< 0.0001"; "n/a" if missing.

    Two decimals from 0.01 up, one significant digit below, "< 0.0001" and "> 0.99"."""
    if _missing(p) or not math.isfinite(p):
        return NA
    p = float(p)
    if p < 0.0001:
        return "< 0.0001"
    if p >= 0.01:
        txt = round_half_up(p, 2)
        return "> 0.99" if float(txt) > 0.99 else txt
    # one significant digit between 0.0001 and 0.01
    decimals = -math.floor(math.log10(p))
    txt = round_half_up(p, decimals)
    if float(txt) >= 10.0 ** (1 - decimals):  # rounding carried to the next power (0.00096 → 0.001)
        txt = round_half_up(float(txt), decimals - 1)
    return txt


def p_phrase(p: float | None) -> str:
    """ "p = 0.02", "p < 0.0001", "p > 0.99"; "p = n/a" when missing."""
    txt = format_p(p)
    return f"p {txt}" if txt[0] in "<>" else f"p = {txt}"


def p_or(p: float | None, missing: str = NA) -> str:
    """:func:`format_p`, or ``missing`` (e.g. "N/A" in the paper's Tables 2 and 3) when there is no p-value."""
    return missing if p is None else format_p(p)


def median_iqr(median: float | None, q1: float | None, q3: float | None, decimals: int = 1, sep: str = ", ") -> str:
    """ "8.0 [4.0, 13.0]" (median [Q1, Q3]); ``sep="–"`` gives "8.0 [4.0–13.0]"; "n/a" without a median."""
    if _missing(median):
        return NA
    return f"{number(median, decimals)} [{number(q1, decimals)}{sep}{number(q3, decimals)}]"


def summary_text(d: dict, decimals: int = 1, sep: str = ", ") -> str:
    """:func:`median_iqr` of a summary dict (``n``, ``median``, ``q1``, ``q3``); "n/a" when ``n`` is 0."""
    if not d.get("n"):
        return NA
    return median_iqr(d["median"], d["q1"], d["q3"], decimals, sep)


def percent(k: int, n: int, decimals: int = 0) -> str:
    """ "21%" for 3 of 14; "n/a" when ``n`` is 0."""
    if not n:
        return NA
    return f"{number(100 * k / n, decimals)}%"


def count_percent(k: int, n: int, decimals: int = 0, empty: str = NA) -> str:
    """ "3 (21%)"; ``empty`` when ``n`` is 0."""
    if not n:
        return empty
    return f"{k} ({percent(k, n, decimals)})"


def significant(x: float | None, digits: int = 3) -> str:
    """Lab values: 3 significant digits below 1000 ("0.25", "12.3", "145"), whole numbers above ("23450")."""
    if _missing(x):
        return NA
    return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:.0f}"


def proportion(x: float | None, decimals: int = 0) -> str:
    """A proportion 0–1 as a percentage ("0.625" → "63%"); "n/a" when missing."""
    if _missing(x):
        return NA
    return f"{number(100 * x, decimals)}%"
