"""Drawing values with Streamlit: the page header, cards, tables, test lines and small controls.

Privacy: nothing from a cohort is ever rendered as raw HTML; every piece of text in a card or header is plain text
and is escaped here (:func:`md_escape`) before it reaches markdown.

Cost in the browser decides a few choices (see docs/PERFORMANCE.md): small tables are one markdown table, a test
line and its caveats are one markdown element, patient-level lists are drawn only while their expander is open,
and charts that need not be seen together are views of one selector.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from ..cards import Card, CardTable
from ..formatting import format_p
from ..stats import TestResult
from ..views import PageHeader
from .plot import plot

_AUTOLINK = re.compile(r"(://)|(@)|(www)(?=\\?\.)", re.IGNORECASE)


def md_escape(text: object) -> str:
    """Escape markdown/HTML-significant characters (and Streamlit's colour, emoji and icon codes) in untrusted
    (cohort-derived) text, and keep URLs, "www." names and e-mail addresses in it from becoming live links
    (GitHub-flavoured markdown links them even when escaped: a zero-width space breaks the pattern, the text reads
    the same)."""
    s = str(text)
    s = s.replace("<", "&lt;").replace(">", "&gt;")
    s = re.sub(r"([\\`*_{}\[\]()#+\-.!|~$:])", r"\\\1", s)  # ':' too: Streamlit's :red[…] and :smile:
    s = re.sub(r"(?i)(:)(material/)", "\\1\u200b\\2", s)  # :material/icon: is drawn even when escaped
    return _AUTOLINK.sub(
        lambda m: (
            ":\u200b//" if m.group(1) else "\u200b@" if m.group(2) else m.group(3)[:2] + "\u200b" + m.group(3)[2:]
        ),
        s,
    )


# ------------------------------------------------------------------------------------------------ header
def show_header(h: PageHeader) -> None:
    """Title, the synthetic-data banner, the cohort line with group sizes, page notes and warnings."""
    st.title(h.title)
    if h.banner_md:
        st.warning(h.banner_md, icon=":material/warning:")
    groups_txt = " · ".join(f"{md_escape(g)}: {md_escape(n)}" for g, n in h.group_sizes)
    st.markdown(f"**{md_escape(h.description)}**  \nCompared by *{md_escape(h.grouping_title)}* — {groups_txt}")
    if h.caption:
        st.caption(md_escape(h.caption))
    if h.privacy:
        st.caption(":material/shield: " + md_escape(h.privacy))
    for note in h.notes:
        st.info(md_escape(note), icon=":material/info:")
    for w in h.warnings:
        st.warning(md_escape(w), icon=":material/warning:")
    # the header said it once: the rows' own small-group notes would repeat it on every test
    st.session_state[K_SMALL_WARNED] = any(w.startswith("Small group") for w in h.warnings)
    if h.caution:
        st.warning(md_escape(h.caution), icon=":material/balance:")


K_SMALL_WARNED = "_small_group_warned"
_SMALL_PREFIXES = ("Small group:", "Small groups:")


def _said(note: str) -> bool:
    """A per-row note the page header already said (small groups)."""
    return st.session_state.get(K_SMALL_WARNED, False) and note.startswith(_SMALL_PREFIXES)


def show_compact_header(h: PageHeader) -> None:
    """Presentation mode: the title, the synthetic label and every caution in one short line that stays visible."""
    parts = [f"**{md_escape(h.title)}**", md_escape(h.description)]
    if h.banner_md:
        parts.append(":orange-badge[SYNTHETIC cohort — not real patients]")
    if h.caution:
        parts.append(":orange-badge[Confounding by indication: group differences are not treatment effects]")
    if h.warnings:
        parts.append(f":gray[{md_escape(' '.join(h.warnings))}]")
    st.markdown(" · ".join(parts))
    st.session_state[K_SMALL_WARNED] = any(w.startswith("Small group") for w in h.warnings)


# ------------------------------------------------------------------------------------------------ cards
def show(card: Card) -> None:
    """Draw one card: title, lead, warnings, metrics, chart, caption, tables, test lines, caveats, notices,
    methods, and its patient-level lists (collapsed)."""
    if card.title and card.heading:
        st.subheader(md_escape(card.title))
    if card.lead:
        st.markdown(md_escape(card.lead))
    for w in card.warnings:
        empty = not card.tables and card.figure is None
        st.warning(md_escape(w), icon=":material/search_off:" if empty else ":material/warning:")
    if card.metrics:
        for i in range(0, len(card.metrics), 4 if len(card.metrics) == 4 else 3):
            row = card.metrics[i : i + (4 if len(card.metrics) == 4 else 3)]
            for col, m in zip(st.columns(len(row)), row):
                col.metric(m.label, m.value, help=m.help)
    if card.figure is not None:
        plot(card.figure, key=card.figure_key or card.key)
    if card.caption and card.figure is not None:  # a caption follows what it describes: the chart, else the table
        st.caption(md_escape(card.caption))
    details = [t for t in card.tables if t.kind == "details"]
    for t in card.tables:
        if t.kind != "details":
            show_table(t, card.title)
    if card.caption and card.figure is None:
        st.caption(md_escape(card.caption))
    if card.tests:
        if card.tests_heading:
            first, rest = card.tests[:1], card.tests[1:]
            for line in first:
                test_line(line.result, line.what, missing=line.missing)
            st.markdown(f"**{md_escape(card.tests_heading)}**")
            for line in rest:
                test_line(line.result, line.what, missing=line.missing)
        else:
            for line in card.tests:
                test_line(line.result, line.what, missing=line.missing)
    caveats = [c for c in card.caveats if not _said(c)]
    if caveats:
        st.markdown("  \n".join(f":small[:gray[:material/warning: {md_escape(c)}]]" for c in caveats))
    for n in card.notices:
        st.info(md_escape(n), icon=":material/info:")
    if card.methods:
        st.caption(md_escape(card.methods))
    for t in details:
        details_table(t.label, t.df, key=t.key)


def show_table(t: CardTable, card_title: str = "") -> None:
    if t.title:
        st.markdown(f"**{md_escape(t.title)}**")
    if t.kind == "summary":
        summary_table(t.df)
    elif t.kind == "grid":  # downloads: the card's Export menu (CSV / Excel with the cohort in a header row)
        table(t.df, column_config=_grid_columns(t))
    else:
        details_table(t.label, t.df, key=t.key)


def test_line(
    res: TestResult | None, what: str = "", missing: str = "no test (fewer than two groups with data)"
) -> None:
    """One p-value with its test and n, plus its caveats next to it (one markdown element)."""
    if res is None:
        st.caption(f"{md_escape(what)}: {md_escape(missing)}.")
        return
    prefix = f"{md_escape(what)} — " if what else ""
    est = res.estimate_text() if res.estimate is not None else ""
    est_txt = f"; {md_escape(res.effect)} {md_escape(est)}" if est and res.effect else ""
    stat = res.statistic_text()
    raw = res.extra("raw p")
    detail = ([stat] if stat else []) + ([f"unadjusted p = {format_p(raw)}"] if raw is not None else [])
    if res.method:
        detail.append(res.method)
    detail_txt = f" :gray[({md_escape('; '.join(detail))})]" if detail else ""
    lines = [f"{prefix}**{md_escape(res.label())}**{est_txt}{detail_txt}"]
    lines += [f":small[:gray[:material/warning: {md_escape(note)}]]" for note in res.notes if not _said(note)]
    st.markdown("  \n".join(lines))


# ------------------------------------------------------------------------------------------------ tables
def summary_table(df: pd.DataFrame) -> None:
    """A small per-group summary (a few rows) as one markdown table (cells escaped: data stays text)."""
    st.markdown(markdown_table(df))


def markdown_table(df: pd.DataFrame) -> str:
    """GitHub-flavoured markdown for a small DataFrame (index dropped), every cell escaped; numbers right-aligned,
    missing values as "—"."""

    def cell(v) -> str:
        if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):  # None, NaN, NA, NaT
            return "—"
        return md_escape(str(v).replace("\n", " ").replace("\r", " "))

    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]
    head = "| " + " | ".join(cell(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---:" if n else ":---" for n in numeric) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False, name=None)]
    return "\n".join([head, rule, *body])


_NARROW_COLUMNS = {"p", "q (BH)", "SMD", "Missing"}


def _grid_columns(t: CardTable) -> dict:
    """Column widths (px) so a wide table (Table 1 with effects) fits its width with test and q visible: the first
    column pinned, p / q / SMD / counts narrow, effects and groups medium (a cut cell shows in full on hover)."""
    cols = list(t.df.columns)
    cfg = {}
    for i, c in enumerate(cols):
        if i == 0:
            cfg[c] = st.column_config.Column(width=200, pinned=True)
        elif c in _NARROW_COLUMNS or t.formats.get(c) in ("p", "q", "count"):
            cfg[c] = st.column_config.Column(width=58)
        elif "95% CI" in c:
            cfg[c] = st.column_config.Column(width=135)
        elif c == "Test":
            cfg[c] = st.column_config.Column(width=150)
        else:
            cfg[c] = st.column_config.Column(width=105)
    return cfg


def table(df: pd.DataFrame, max_rows: int = 30, **kw) -> None:
    """A data grid tall enough to show every row up to ``max_rows`` without an inner scrollbar."""
    kw.setdefault("height", 35 * (min(len(df), max_rows) + 1) + 3)
    st.dataframe(df, hide_index=True, **kw)


def details_table(label: str, df: pd.DataFrame, key: str) -> None:
    """A patient-level list in a collapsed expander, drawn only while the expander is open (the expander tracks
    its state, so opening it reruns the page, which then draws the table)."""
    exp = st.expander(label, key=f"details_{key}", on_change="rerun")
    if exp.open:
        with exp:
            table(df)


# ------------------------------------------------------------------------------------------------ controls
def view_switch(label: str, options: list[str], key: str) -> str:
    """A one-of-several view selector (segmented control) for charts that need not all be drawn at once; bound to
    the URL (``?{key}=…``) so a shared link opens the same view. Only the selected view is built and sent."""
    return st.segmented_control(label, options, default=options[0], required=True, key=key, bind="query-params")
