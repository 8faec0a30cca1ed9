"""A card's table as CSV or xlsx that carries its context: header rows naming the table, the cohort (the
selection), the data source ("synthetic" for the reconstructed cohort), the small-cell rule applied (or that a
synthetic cohort is exempt), the command that reproduces the numbers and the export date, then a blank row and the
table (a real cohort's counts already suppressed in the card: :mod:`misc_dash.privacy`).

**Formula safety.** A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some read a
leading tab or carriage return the same way) as a formula: text from data must never do that. In CSV such text
gets a leading single quote (``'=HYPERLINK(…)``), the usual defence; in xlsx it is a string cell (type "s", with
Excel's "quote prefix" style so editing it keeps it text), never a formula. Numbers stay numbers (a negative
number is a number, not text starting with "-").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import numbers
from typing import Any

import pandas as pd

from ..cards import Card, CardTable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_ROWS = 1_048_576


def export_date() -> str:
    """Today's date (local), as the exports print it (ISO 8601)."""
    return dt.date.today().isoformat()


def table_name(card: Card, table: CardTable) -> str:
    """The table's name in the export: its own title, else the card's."""
    parts = [p for p in (card.title, table.title or table.label) if p]
    return " — ".join(dict.fromkeys(parts)) or card.key


def header_rows(card: Card, table: CardTable) -> list[tuple[str, str]]:
    """(label, value) rows above the table."""
    rows = [
        ("Table", table_name(card, table)),
        ("Cohort", card.cohort or "—"),
        ("Data source", card.source or "—"),
    ]
    if card.synthetic:
        rows.append(("Synthetic data", "yes — synthetic patients, not real patients"))
    if card.privacy:
        rows.append(("Small cells", card.privacy))
    rows += [
        ("Reproduce", card.reproduce or "—"),
        ("Exported", export_date()),
    ]
    return rows


def _missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v)) if pd.api.types.is_scalar(v) else False
    except (TypeError, ValueError):
        return False


def cell_value(v: Any) -> Any:
    """A table cell for a spreadsheet: None for a missing value, a Python int/float for a number (numpy scalars
    too), a bool as it is, anything else as text."""
    if _missing(v):
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        f = float(v)
        return f if math.isfinite(f) else None
    if hasattr(v, "item") and not isinstance(v, str):  # numpy bool etc.
        try:
            return cell_value(v.item())
        except (TypeError, ValueError):
            pass
    return str(v)


def is_formula_like(s: str) -> bool:
    return s.startswith(FORMULA_START)


def safe_text(s: str) -> str:
    """Text that no spreadsheet reads as a formula: a leading single quote when it starts like one."""
    return "'" + s if is_formula_like(s) else s


def _rows(card: Card, table: CardTable) -> tuple[list[tuple[str, str]], list[str], list[list[Any]]]:
    df = table.df
    columns = [str(c) for c in df.columns]
    body = [[cell_value(v) for v in row] for row in df.itertuples(index=False, name=None)]
    return header_rows(card, table), columns, body


def table_csv(card: Card, table: CardTable) -> bytes:
    """The table as CSV (UTF-8 with a byte-order mark, so spreadsheets read χ², – and ≥ right): the header rows,
    a blank row, the column names and the rows; formula-like text quoted (module docstring)."""
    head, columns, body = _rows(card, table)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for label, value in head:
        w.writerow([safe_text(label), safe_text(value)])
    w.writerow([])
    w.writerow([safe_text(c) for c in columns])
    for row in body:
        w.writerow(["" if v is None else (safe_text(v) if isinstance(v, str) else v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def _sheet_title(name: str) -> str:
    bad = "[]:*?/\\"
    t = "".join("-" if ch in bad else ch for ch in name).strip("'") or "Table"
    return t[:31]


def _text_cell(ws, row: int, col: int, text: str, bold: bool = False):
    """A string cell that stays text (never a formula), whatever it starts with."""
    from openpyxl.styles import Font

    cell = ws.cell(row=row, column=col)
    cell.value = text
    cell.data_type = "s"  # openpyxl types text starting with "=" as a formula: force a string
    if is_formula_like(text):
        cell.quotePrefix = True  # Excel shows it as text and keeps it text when edited
    if bold:
        cell.font = Font(bold=True)
    return cell


def table_xlsx(card: Card, table: CardTable) -> bytes:
    """The table as an xlsx workbook of one sheet: the header rows (labels bold), a blank row, the column names
    (bold, frozen) and the rows; text cells are strings, never formulas; numbers are numbers."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    head, columns, body = _rows(card, table)
    if len(head) + 2 + len(body) > EXCEL_MAX_ROWS:
        raise ValueError(f"{len(body)} rows do not fit in one xlsx sheet")
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(table_name(card, table))
    r = 1
    for label, value in head:
        _text_cell(ws, r, 1, label, bold=True)
        _text_cell(ws, r, 2, value)
        r += 1
    r += 1
    for j, c in enumerate(columns, start=1):
        _text_cell(ws, r, j, c, bold=True)
    ws.freeze_panes = ws.cell(row=r + 1, column=1)
    widths = [len(c) for c in columns]
    for row in body:
        r += 1
        for j, v in enumerate(row, start=1):
            if isinstance(v, str):
                _text_cell(ws, r, j, v)
            elif v is not None:
                ws.cell(row=r, column=j, value=v)
            widths[j - 1] = max(widths[j - 1], len(str(v)) if v is not None else 0)
    for j, wdt in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(10, wdt + 2), 60)
    ws.column_dimensions["A"].width = max(ws.column_dimensions["A"].width or 0, 16)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
