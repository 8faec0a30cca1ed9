"""A report of cards as ONE self-contained HTML file that opens offline.

plotly.js is inlined once (the copy installed with plotly), each card's figure is an interactive chart, its tables
are HTML tables, and the test lines, caveats, warnings, caption, methods and the reproduce command follow, under a
header with the cohort, the data source (SYNTHETIC when it is), the small-cell rule applied (a real cohort's counts
are suppressed in the cards already), the app version and the date. The report embeds
its own state as JSON (``<script type="application/json" id="misc-dash-state">``) and, when the caller gives one,
a loopback or relative "Reopen in the app" link.

Every piece of data text is HTML-escaped; figure and state JSON have ``<``, ``>`` and ``&`` as JSON escapes, so
no data can close a tag. Nothing in the file points off the machine: no CDN, no web fonts, no remote images. (The
inlined plotly.js library carries URL strings of its own — map tile servers, the Chart Studio upload address —
used only by map traces and "send to cloud", which no figure here has and the chart config turns off.)
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ..cards import Card, CardTable, TestLine
from ..formatting import format_p

#: the plotly.js config of every chart in a report: no plotly logo, no "send to cloud" (plotly.js 3 has no
#: "showLink" edit link any more, and plotly.py warns about the option)
CHART_CONFIG = {"displaylogo": False, "showSendToCloud": False, "responsive": True}
STATE_ID = "misc-dash-state"
PLOTLY_JS_ID = "plotly-js"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")

_CSS = """
:root { --ink: #1f2328; --muted: #57606a; --rule: #d0d7de; --warn-bg: #fff8c5; --warn: #7d4e00;
  --syn-bg: #ffebe9; --syn: #82071e; }
* { box-sizing: border-box; }
body { font-family: Arial, Helvetica, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1180px;
  padding: 24px 28px 64px; line-height: 1.45; font-size: 15px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2.page { font-size: 22px; margin: 40px 0 4px; padding-top: 12px; border-top: 3px solid var(--ink); }
h3 { font-size: 18px; margin: 28px 0 8px; }
header dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; }
header dt { font-weight: bold; color: var(--muted); }
header dd { margin: 0; }
.synthetic { background: var(--syn-bg); color: var(--syn); border: 2px solid var(--syn); padding: 8px 12px;
  font-weight: bold; border-radius: 4px; margin: 12px 0; }
.warning { background: var(--warn-bg); color: var(--warn); padding: 6px 10px; border-radius: 4px; margin: 6px 0; }
.notice { border-left: 4px solid #0969da; padding: 4px 10px; margin: 6px 0; }
.caveats, .tests { padding-left: 20px; }
.caveats li { color: var(--muted); font-size: 14px; }
.tests li { margin: 3px 0; }
.tests .detail, .tests .note, .caption, .methods { color: var(--muted); }
.tests .note { font-size: 14px; }
.caption, .methods { font-size: 14px; }
.lead { font-size: 16px; }
.metrics { display: flex; flex-wrap: wrap; gap: 12px 28px; margin: 8px 0; }
.metric .value { font-size: 22px; font-weight: bold; display: block; }
.metric .label { color: var(--muted); font-size: 14px; }
table { border-collapse: collapse; margin: 10px 0; font-size: 14px; }
th, td { border: 1px solid var(--rule); padding: 4px 8px; vertical-align: top; text-align: left; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; }
.chart { width: 100%; }
pre { background: #f6f8fa; padding: 8px 12px; overflow-x: auto; white-space: pre-wrap; word-break: break-all;
  font-size: 13px; }
nav ol { columns: 2; font-size: 14px; }
footer { margin-top: 48px; color: var(--muted); font-size: 13px; border-top: 1px solid var(--rule); }
@media print {
  body { max-width: none; padding: 0; }
  nav, .reopen { display: none; }
  section.card { break-inside: avoid-page; }
  h2.page { break-before: page; }
}
"""


def _e(s: Any) -> str:
    return html.escape(str(s), quote=True)


def _json_for_script(obj: Any) -> str:
    """JSON safe inside a <script> element: ``<``, ``>`` and ``&`` as JSON escapes (so ``</script>`` can't
    appear), U+2028/2029 escaped."""
    s = json.dumps(obj, ensure_ascii=False, allow_nan=False, default=str)
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        s = s.replace(a, b)
    return s


def check_app_url(url: str) -> str:
    """``url`` if it is relative (no scheme, no host) or an http(s) URL on a loopback host; ValueError else (a
    report must not link off the machine)."""
    u = str(url).strip()
    if any(ch in u for ch in "\r\n\t") or u.startswith("//"):
        raise ValueError(f"app_url {url!r}: must be a relative or loopback URL")
    parts = urlsplit(u)
    if not parts.scheme and not parts.netloc:
        return u
    host = (parts.hostname or "").lower()
    loop = host in LOOPBACK_HOSTS or re.fullmatch(r"127(\.\d{1,3}){3}", host) is not None
    if parts.scheme in ("http", "https") and loop:
        return u
    raise ValueError(f"app_url {url!r}: must be a relative or loopback (localhost / 127.0.0.1) URL")


def app_version() -> str:
    import misc_dash

    from . import APP_VERSION

    return str(getattr(misc_dash, "__version__", None) or APP_VERSION)


# ------------------------------------------------------------------------------------------------ pieces
def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return not isinstance(v, str) and pd.api.types.is_scalar(v) and bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def table_html(t: CardTable) -> str:
    """One table, every cell escaped; numeric columns right-aligned, missing values as "—"."""
    df = t.df
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]
    fmts = dict(t.formats)
    num_fmt = {"count", "number", "p", "q"}
    right = [n or fmts.get(str(c)) in num_fmt for c, n in zip(df.columns, numeric)]
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in df.columns)
    rows = []
    for row in df.itertuples(index=False, name=None):
        cells = []
        for v, r in zip(row, right):
            txt = "—" if _is_missing(v) else str(v)
            cells.append(f'<td class="num">{_e(txt)}</td>' if r else f"<td>{_e(txt)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    title = f"<caption>{_e(t.title)}</caption>" if t.title else ""
    table = (
        f'<div class="table-wrap"><table class="data" data-kind="{_e(t.kind)}">{title}'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    if t.kind == "details":
        label = t.label or t.title or "Patient-level list"
        return f"<details><summary>{_e(label)} ({len(df)} rows)</summary>{table}</details>"
    return table


def test_line_html(line: TestLine) -> str:
    """One p-value line: what, the test's label (test, n, p), the effect with its CI, the statistic, the
    unadjusted p, the method, then the test's notes."""
    res = line.result
    if res is None:
        return f"<li>{_e(line.what)}: {_e(line.missing)}.</li>"
    parts = [f"{_e(line.what)} — " if line.what else "", f"<strong>{_e(res.label())}</strong>"]
    est = res.estimate_text() if res.estimate is not None else ""
    if est:
        parts.append(f"; {_e(res.effect or 'estimate')} {_e(est)}")
    detail = []
    stat = res.statistic_text()
    if stat:
        detail.append(stat)
    raw = res.extra("raw p")
    if raw is not None:
        detail.append(f"unadjusted p = {format_p(raw)}")
    if res.method:
        detail.append(res.method)
    if detail:
        parts.append(f' <span class="detail">({_e("; ".join(detail))})</span>')
    notes = "".join(f'<br><span class="note">⚠ {_e(n)}</span>' for n in res.notes)
    return f"<li>{''.join(parts)}{notes}</li>"


def chart_html(card: Card, index: int) -> str:
    """The card's figure as an interactive plotly chart (plotly.js must be on the page already)."""
    import plotly.io as pio

    div = pio.to_html(
        card.figure,
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        config=dict(CHART_CONFIG),
        div_id=f"chart-{index}",
        default_width="100%",
    )
    return f'<div class="chart" data-card="{_e(card.key)}">{div}</div>'


def card_html(card: Card, index: int) -> str:
    out = [f'<section class="card" id="card-{index}" data-key="{_e(card.key)}">']
    if card.title:
        out.append(f"<h3>{_e(card.title)}</h3>")
    if card.lead:
        out.append(f'<p class="lead">{_e(card.lead)}</p>')
    out += [f'<p class="warning">⚠ {_e(w)}</p>' for w in card.warnings]
    if card.metrics:
        out.append('<div class="metrics">')
        for m in card.metrics:
            helptext = f' title="{_e(m.help)}"' if m.help else ""
            out.append(
                f'<div class="metric"{helptext}><span class="value">{_e(m.value)}</span>'
                f'<span class="label">{_e(m.label)}</span></div>'
            )
        out.append("</div>")
    if card.figure is not None:
        out.append(chart_html(card, index))
        if card.caption:
            out.append(f'<p class="caption">{_e(card.caption)}</p>')
    out += [table_html(t) for t in card.tables if t.kind != "details"]
    if card.caption and card.figure is None:
        out.append(f'<p class="caption">{_e(card.caption)}</p>')
    if card.tests:
        items = [test_line_html(t) for t in card.tests]
        if card.tests_heading and len(items) > 1:
            out.append(f'<ul class="tests">{items[0]}</ul><p><strong>{_e(card.tests_heading)}</strong></p>')
            out.append(f'<ul class="tests">{"".join(items[1:])}</ul>')
        else:
            out.append(f'<ul class="tests">{"".join(items)}</ul>')
    if card.caveats:
        out.append('<ul class="caveats">' + "".join(f"<li>⚠ {_e(c)}</li>" for c in card.caveats) + "</ul>")
    out += [f'<p class="notice">{_e(n)}</p>' for n in card.notices]
    if card.methods:
        out.append(f'<p class="methods"><strong>Methods.</strong> {_e(card.methods)}</p>')
    out += [table_html(t) for t in card.tables if t.kind == "details"]
    if card.reproduce:
        out.append(f'<p class="methods">Reproduce:</p><pre class="reproduce"><code>{_e(card.reproduce)}</code></pre>')
    out.append("</section>")
    return "\n".join(out)


def _page_of(card: Card) -> str:
    return card.key.split(".", 1)[0]


def _page_title(page: str) -> str:
    from ..views import VIEWS

    if page == "overview":
        return "Overview"
    v = VIEWS.get(page)
    return v.title if v is not None else page


def _distinct(values: Sequence[str]) -> list[str]:
    return [v for v in dict.fromkeys(values) if v]


def ledger_html(entries: Sequence) -> str:
    """The "Tests viewed" section: the session's ledger (misc_dash.ledger) with BH q over all of it."""
    from .. import ledger

    df = ledger.ledger_table(entries)
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    rows = []
    for r in df.itertuples(index=False, name=None):
        page, comparison, test, p, q, n, selection = r
        cells = [page, comparison, test, format_p(p), format_p(q), n, selection]
        rows.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    return (
        '<section class="card" id="tests-viewed"><h2>Tests viewed this session</h2>'
        f"<p>{_e(ledger.summary_sentence(entries))}</p>"
        '<p class="caption">Only tests shown on screen in the browser session that made this report; q is the '
        "Benjamini–Hochberg adjustment over all of them.</p>"
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></section>'
    )


def report_html(
    cards: Sequence[Card],
    title: str,
    state: dict | None = None,
    app_url: str | None = None,
    ledger: Sequence | None = None,
) -> str:
    """The report (module docstring) as a string; ``app_url`` must be relative or loopback (:func:`check_app_url`).
    ``ledger``: the session's tests viewed (misc_dash.ledger entries); when non-empty, a section lists them."""
    from plotly.offline import get_plotlyjs

    url = check_app_url(app_url) if app_url else None
    cards = list(cards)
    now = dt.datetime.now().astimezone()
    synthetic = any(c.synthetic for c in cards)
    cohorts = _distinct([c.cohort for c in cards])
    sources = _distinct([c.source for c in cards])
    head = [
        "<header>",
        f"<h1>{_e(title)}</h1>",
    ]
    if synthetic:
        head.append(
            '<p class="synthetic" id="synthetic-label">SYNTHETIC DATA — these patients were reconstructed from '
            "published summaries; they are not real patients. Do not use for clinical decisions.</p>"
        )
    head.append("<dl>")
    head.append(f"<dt>Cohort</dt><dd>{'<br>'.join(_e(c) for c in cohorts) or '—'}</dd>")
    head.append(f"<dt>Data source</dt><dd>{'<br>'.join(_e(s) for s in sources) or '—'}</dd>")
    privacy = _distinct([c.privacy for c in cards])
    if privacy:
        head.append(f"<dt>Small cells</dt><dd>{'<br>'.join(_e(p) for p in privacy)}</dd>")
    head.append(f"<dt>App</dt><dd>MIS-C Cohort Explorer {_e(app_version())}</dd>")
    head.append(f"<dt>Date</dt><dd>{_e(now.strftime('%Y-%m-%d %H:%M %Z').strip())}</dd>")
    head.append("</dl>")
    if url:
        head.append(f'<p class="reopen"><a id="reopen-link" href="{_e(url)}">Reopen in the app</a></p>')
    head.append("</header>")

    toc, body = [], []
    page = None
    for i, card in enumerate(cards):
        p = _page_of(card)
        if p != page:
            page = p
            body.append(f'<h2 class="page" id="page-{_e(p)}">{_e(_page_title(p))}</h2>')
        toc.append(f'<li><a href="#card-{i}">{_e(card.title or card.key)}</a></li>')
        body.append(card_html(card, i))
    if ledger:
        toc.append('<li><a href="#tests-viewed">Tests viewed this session</a></li>')
        body.append(ledger_html(ledger))
    nav = f"<nav><h2>Contents</h2><ol>{''.join(toc)}</ol></nav>" if len(cards) > 1 else ""
    plotly_js = get_plotlyjs().replace("</script", "<\\/script")
    state_json = _json_for_script(state or {})
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="generator" content="MIS-C Cohort Explorer {_e(app_version())}">',
            f"<title>{_e(title)}</title>",
            f"<style>{_CSS}</style>",
            "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>",
            f'<script type="text/javascript" id="{PLOTLY_JS_ID}">{plotly_js}</script>',
            "</head>",
            "<body>",
            *head,
            nav,
            "<main>",
            *body,
            "</main>",
            f"<footer><p>Generated by MIS-C Cohort Explorer {_e(app_version())} on "
            f"{_e(now.strftime('%Y-%m-%d'))}. Each section ends with the command that reproduces its numbers.</p>"
            "</footer>",
            f'<script type="application/json" id="{STATE_ID}">{state_json}</script>',
            "</body>",
            "</html>",
        ]
    )
