"""A report of cards as a PPTX slide deck (python-pptx), 16:9.

A title slide (title, cohort, data source, the synthetic label, the small-cell rule, date, app version), then one
slide per card that has a figure or a table: the card's title, the chart as a PNG at 2× (:func:`~.images.card_image`,
caption burned in) — or, when the card has no figure, its first table as a native table (at most :data:`MAX_ROWS`
rows and :data:`MAX_COLS` columns, with a note saying what was left out) —, the caption (context line and caption)
in a text box on the slide, and the methods, test lines, caveats and the reproduce command in the slide's notes.
Where static images cannot be made (no Chromium), the slide says so in words instead of failing.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

import pandas as pd

from ..cards import Card, CardTable
from .images import ImageExportUnavailable, card_caption, card_image

MAX_ROWS = 14  # table rows on one slide (plus the header)
MAX_COLS = 8
IMAGE_DPI = 192  # 2× the CSS pixel (images.py's rule)
SLIDE_W_IN, SLIDE_H_IN = 13.333, 7.5


def _text(s) -> str:
    """Plain text for a slide: control characters other than newline and tab dropped (invalid in the XML)."""
    return "".join(ch for ch in str(s) if ch in "\n\t" or ord(ch) >= 32)


def _cell_text(v) -> str:
    if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
        return "—"
    return _text(v)


def _add_textbox(slide, left, top, width, height, text: str, size: int, bold: bool = False, color=None):
    from pptx.enum.text import MSO_AUTO_SIZE
    from pptx.util import Pt

    box = slide.shapes.add_textbox(left, top, width, height)
    tf = box.text_frame
    tf.word_wrap = True
    tf.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE  # a long caption shrinks to its box when the deck is opened
    for i, para in enumerate(_text(text).split("\n")):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.text = para
        for r in p.runs:
            r.font.size = Pt(size)
            r.font.bold = bold
            if color is not None:
                r.font.color.rgb = color
    return box


def _first_table(card: Card) -> CardTable | None:
    non_details = [t for t in card.tables if t.kind != "details"]
    return (non_details or list(card.tables) or [None])[0]


def _notes(card: Card) -> str:
    parts = []
    if card.methods:
        parts.append("Methods: " + card.methods)
    tests = []
    for line in card.tests:
        if line.result is None:
            tests.append(f"{line.what}: {line.missing}" if line.what else line.missing)
            continue
        txt = (f"{line.what} — " if line.what else "") + line.result.label()
        est = line.result.estimate_text() if line.result.estimate is not None else ""
        if est:
            txt += f"; {line.result.effect or 'estimate'} {est}"
        stat = line.result.statistic_text()
        if stat:
            txt += f" ({stat})"
        tests.append(txt)
    if tests:
        parts.append("Tests:\n" + "\n".join(tests))
    if card.warnings:
        parts.append("Warnings:\n" + "\n".join(card.warnings))
    if card.caveats:
        parts.append("Caveats:\n" + "\n".join(card.caveats))
    if card.notices:
        parts.append("\n".join(card.notices))
    if card.reproduce:
        parts.append("Reproduce: " + card.reproduce)
    return _text("\n\n".join(parts))


def _add_table(slide, t: CardTable, left, top, width, height) -> str | None:
    """A native table (capped); returns the truncation note, if any."""
    from pptx.util import Pt

    df = t.df
    n_rows, n_cols = min(len(df), MAX_ROWS), min(len(df.columns), MAX_COLS)
    shape = slide.shapes.add_table(n_rows + 1, max(n_cols, 1), left, top, width, height)
    tbl = shape.table
    size = 12 if n_cols <= 5 and n_rows <= 10 else 10
    for j, c in enumerate(df.columns[:n_cols]):
        tbl.cell(0, j).text = _text(c)
    for i, row in enumerate(df.head(n_rows).itertuples(index=False, name=None), start=1):
        for j, v in enumerate(row[:n_cols]):
            tbl.cell(i, j).text = _cell_text(v)
    for r in range(n_rows + 1):
        for j in range(max(n_cols, 1)):
            for p in tbl.cell(r, j).text_frame.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(size)
    left_out = []
    if len(df) > n_rows:
        left_out.append(f"first {n_rows} of {len(df)} rows")
    if len(df.columns) > n_cols:
        left_out.append(f"first {n_cols} of {len(df.columns)} columns")
    if left_out:
        full = "the full table is in the HTML report and the CSV/xlsx export"
        return "Showing the " + " and ".join(left_out) + "; " + full + "."
    return None


def _picture(slide, png: bytes, left, top, max_w, max_h):
    from pptx.util import Emu

    pic = slide.shapes.add_picture(io.BytesIO(png), left, top)
    w, h = pic.width, pic.height
    k = min(max_w / w, max_h / h)
    pic.width, pic.height = Emu(int(w * k)), Emu(int(h * k))
    pic.left = Emu(int(left + (max_w - pic.width) / 2))
    return pic


def report_pptx(cards: Sequence[Card], title: str, state: dict | None = None) -> bytes:
    """The deck (module docstring) as bytes. ``state`` (the report's state) goes in the title slide's notes."""
    import json

    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Inches, Pt

    from .report import app_version

    cards = list(cards)
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_W_IN), Inches(SLIDE_H_IN)
    sw, sh = prs.slide_width, prs.slide_height
    margin = Inches(0.4)

    # title slide
    s0 = prs.slides.add_slide(prs.slide_layouts[0])
    s0.shapes.title.text = _text(title)
    cohorts = list(dict.fromkeys(c.cohort for c in cards if c.cohort))
    sources = list(dict.fromkeys(c.source for c in cards if c.source))
    lines = [f"Cohort: {c}" for c in cohorts] + sources
    if any(c.synthetic for c in cards):
        resampled = any("resampled" in (c.source or "") for c in cards if c.synthetic)
        kind = "patients resampled from the reconstructed cohort" if resampled else "reconstructed patients"
        lines.append(f"SYNTHETIC DATA — {kind}, not real patients")
    lines += list(dict.fromkeys(c.privacy for c in cards if c.privacy))
    lines.append(f"{dt.date.today().isoformat()} · MIS-C Cohort Explorer {app_version()}")
    sub = s0.placeholders[1]
    sub.text = _text("\n".join(lines))
    # the default template's placeholders are placed for 4:3: centre them on the 16:9 slide
    s0.shapes.title.left, s0.shapes.title.width = Inches(0.9), sw - Inches(1.8)
    s0.shapes.title.top, s0.shapes.title.height = Inches(1.6), Inches(1.9)
    sub.left, sub.width, sub.top, sub.height = Inches(0.9), sw - Inches(1.8), Inches(3.7), Inches(2.8)
    for p in sub.text_frame.paragraphs:
        for r in p.runs:
            r.font.size = Pt(18)
    if state:
        s0.notes_slide.notes_text_frame.text = _text("Report state: " + json.dumps(state, ensure_ascii=False))

    image_problem: str | None = None
    for card in cards:
        table = _first_table(card)
        if card.figure is None and table is None:
            continue
        slide = prs.slides.add_slide(prs.slide_layouts[5])  # title only
        slide.shapes.title.text = _text(card.title or card.key)
        ttl = slide.shapes.title
        ttl.left, ttl.top, ttl.width, ttl.height = margin, Inches(0.2), sw - 2 * margin, Inches(0.9)
        for p in ttl.text_frame.paragraphs:
            for r in p.runs:
                r.font.size = Pt(28)
        caption = (
            card_caption(card)
            if card.figure is not None
            else "\n".join(x for x in (card.cohort, card.caption, card.source) if x)
        )
        cap_h = Inches(0.9)
        body_top = Inches(1.15)
        body_h = sh - body_top - cap_h - Inches(0.25)
        body_w = sw - 2 * margin
        note = None
        if card.figure is not None:
            png = None
            if image_problem is None:
                try:
                    png = card_image(card, "png", dpi=IMAGE_DPI)
                except ImageExportUnavailable as exc:
                    image_problem = str(exc)
            if png is not None:
                _picture(slide, png, margin, body_top, body_w, body_h)
            else:
                _add_textbox(
                    slide,
                    margin,
                    body_top,
                    body_w,
                    Inches(1.5),
                    f"Chart not included: {image_problem}\nThe HTML report has this chart, interactive.",
                    18,
                    color=RGBColor(0x82, 0x07, 0x1E),
                )
        else:
            rows = min(len(table.df), MAX_ROWS) + 1
            h = min(body_h, Inches(0.32) * rows)
            note = _add_table(slide, table, margin, body_top, body_w, h)
        text = caption + (f"\n{note}" if note else "")
        _add_textbox(slide, margin, sh - cap_h - Inches(0.15), body_w, cap_h, text, 11)
        slide.notes_slide.notes_text_frame.text = _notes(card)

    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()
