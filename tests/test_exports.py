"""Exports that carry their context (issue 14), opened the way a user would open them: the HTML report from disk in
headless Chromium with networking off, the PPTX read back with python-pptx, the SVG parsed, the PNG's size and
resolution read, the CSV/xlsx read back; the presentation style checked on every view's figure; the headless
``report`` command. Image tests need Chromium (kaleido's server is started once for the module)."""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from html import escape as html_escape
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from misc_dash import analyses as A
from misc_dash import views
from misc_dash.__main__ import build_parser, main
from misc_dash.cards import Card, CardTable, TestLine
from misc_dash.exports import (
    ImageExportUnavailable,
    build_report_cards,
    card_caption,
    card_image,
    figure_image,
    report_html,
    report_pptx,
    table_csv,
    table_xlsx,
)
from misc_dash.exports import images as IM
from misc_dash.exports.report import PLOTLY_JS_ID, STATE_ID, check_app_url
from misc_dash.figures.present import (
    CAPTION_NAME,
    MIN_FONT,
    MIN_LINE_WIDTH,
    MIN_MARKER_SIZE,
    PRESENTATION_FONT,
    for_presentation,
    with_caption,
)
from misc_dash.filters import CohortFilter
from misc_dash.loading import load_default_cohort
from misc_dash.stats import TestResult

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [  # as tests/test_browser.py
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium not installed (apt-get install chromium)"
)
ORANGE = (0xE6, 0x9F, 0x00)
EVIL = "<script>alert('x')</script>"


# ------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def cohort():
    return load_default_cohort()


@pytest.fixture(scope="module")
def cards(cohort):
    """Every page's cards for the whole default cohort by treatment group."""
    return build_report_cards(cohort, CohortFilter(), "treatment")


@pytest.fixture(scope="module")
def by_key(cards):
    return {c.key: c for c in cards}


@pytest.fixture(scope="module")
def kaleido_server():
    """kaleido's persistent server, started once for the module (the first image pays Chromium's start)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed")
    IM.start_server()
    return True


def _evil_card() -> Card:
    """A card whose every data text tries to be markup or a formula."""
    res = TestResult(
        test=f"Test {EVIL}",
        statistic=2.5,
        statistic_name="z",
        p_value=0.04,
        groups=("a", "b"),
        n=(3, 4),
        notes=(f"note {EVIL}",),
    )
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2], name=f"group {EVIL}"))
    df = pd.DataFrame(
        {
            "Group": [EVIL, '=HYPERLINK("http://x")', "+1", "-x", "@SUM(A1)", "\tx", "ok"],
            "n": [1, 2, 3, -3, 5, 6, 7],
            "share": [0.5, -0.25, None, 1.0, 2.0, 3.0, 4.0],
        }
    )
    return Card(
        "fever.evil",
        title=f"Title {EVIL}",
        lead=f"lead {EVIL}",
        figure=fig,
        tables=(CardTable(df, title=f"table {EVIL}"),),
        tests=(TestLine(f"what {EVIL}", res),),
        caveats=(f"caveat {EVIL}",),
        warnings=(f"warning {EVIL}",),
        caption=f"caption {EVIL} & more",
        methods=f"methods {EVIL}",
        reproduce=f"python -m misc_dash analyze --json # {EVIL}",
        cohort="=cmd|' /C calc'!A0",
        source="Data: test — synthetic, 7 reconstructed patients, not real patients",
        synthetic=True,
    )


# ------------------------------------------------------------------------------------------------ helpers
def _font_sizes(obj, path=""):
    """(path, size) of every font size below a figure dict (template excluded), inline <span> sizes too."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "template":
                continue
            if k.endswith("font") and isinstance(v, dict) and "size" in v:
                sizes = v["size"] if isinstance(v["size"], list) else [v["size"]]
                yield from ((f"{path}.{k}", s) for s in sizes)
            yield from _font_sizes(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _font_sizes(v, f"{path}[{i}]")
    elif isinstance(obj, str):
        for m in re.finditer(r"font-size\s*:\s*(\d+(?:\.\d+)?)px", obj):
            yield (f"{path} (inline)", float(m.group(1)))


def _rgb(c: str) -> tuple[int, int, int]:
    c = c.strip()
    if c.startswith("#"):
        return tuple(int(c[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(round(float(x)) for x in re.findall(r"[\d.]+", c)[:3])


def _figures(cards):
    return [c for c in cards if c.figure is not None]


def _png_info(png: bytes) -> tuple[int, int, float | None]:
    """(width, height, dpi from pHYs or None) of a PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", png[16:24])
    pos, dpi = 8, None
    while pos < len(png):
        (n,) = struct.unpack(">I", png[pos : pos + 4])
        if png[pos + 4 : pos + 8] == b"pHYs":
            ppm_x, _, unit = struct.unpack(">IIB", png[pos + 8 : pos + 17])
            dpi = ppm_x * 0.0254 if unit == 1 else None
        pos += 12 + n
    return w, h, dpi


def _outside_plotly_js(doc: str) -> str:
    i = doc.index(f'id="{PLOTLY_JS_ID}">')
    j = doc.index("</script>", i)
    return doc[:i] + doc[j:]


# ------------------------------------------------------------------------------------------------ presentation
@pytest.fixture(scope="module")
def every_chart(cohort, cards):
    """Every view's figure, plus the other chart of each page with a chart switch (temperature, paired slope,
    cytokine heatmap)."""
    from dataclasses import fields, replace

    vc = views.ViewContext(A.prepare(cohort, CohortFilter(), "treatment"), cohort.n_patients)
    out = _figures(cards)
    for name, view in views.VIEWS.items():
        if view.options is None or "chart" not in {f.name for f in fields(view.options)}:
            continue
        for chart in sys.modules[view.build.__module__].CHARTS[1:]:
            out += _figures(views.build_cards(name, vc, replace(view.options(), chart=chart)))
    return out


def test_presentation_fonts_at_least_20_px_everywhere(every_chart):
    """Every view's figure (and each page's other chart) in presentation style: the layout font is
    PRESENTATION_FONT and every font anywhere in the figure (title, subtitle, axis titles and ticks of every axis,
    legend, annotations, hover labels, trace text, inline <span> sizes) is >= 20 px; the caption is burned in at
    that size too."""
    assert PRESENTATION_FONT >= MIN_FONT >= 20
    assert len(every_chart) >= 12  # 9 figures of the pages + 3 other charts
    for card in every_chart:
        fig = for_presentation(card.figure, card_caption(card)).to_dict()
        lay = fig["layout"]
        assert lay["font"]["size"] == PRESENTATION_FONT, card.key
        small = [(p, s) for p, s in _font_sizes(fig) if s < MIN_FONT]
        assert not small, (card.key, small[:5])
        for k in [k for k in lay if re.fullmatch(r"[xy]axis\d*", k)]:
            assert lay[k]["tickfont"]["size"] >= MIN_FONT and lay[k]["title"]["font"]["size"] >= MIN_FONT, k
        assert lay["legend"]["font"]["size"] >= MIN_FONT
        caps = [a for a in lay["annotations"] if a.get("name") == CAPTION_NAME]
        assert len(caps) == 1 and caps[0]["font"]["size"] >= MIN_FONT, card.key


def test_presentation_lines_and_markers_are_thick(every_chart):
    """Every drawn trace line is >= MIN_LINE_WIDTH (4) px, invisible CI band edges (width 0) stay invisible, and
    every drawn marker is >= MIN_MARKER_SIZE (10) px (every view's figure and each page's other chart)."""
    for card in every_chart:
        orig = card.figure.to_dict()["data"]
        pres = for_presentation(card.figure).to_dict()["data"]
        for before, tr in zip(orig, pres):
            w0 = (before.get("line") or {}).get("width")
            w = (tr.get("line") or {}).get("width")
            if w0 == 0:
                assert w == 0, card.key
            elif "line" in tr:
                assert w >= MIN_LINE_WIDTH, (card.key, tr.get("name"), w)
            mode = tr.get("mode") or ""
            if "markers" in mode or tr.get("type") == "box":
                sizes = tr["marker"]["size"]
                sizes = sizes if isinstance(sizes, list) else [sizes]
                assert min(sizes) >= MIN_MARKER_SIZE, (card.key, tr.get("name"))


@pytest.mark.parametrize("by", ["treatment", "phenotype", "sex", "sars_cov2_pcr"])
def test_presentation_palette_every_group_distinct(cohort, by):
    """Kaplan–Meier by treatment, phenotype, sex and PCR: in presentation style every group has its own colour
    (no two the same; the anakinra groups are no longer two oranges: no orange at all), and each group keeps one
    colour across its traces (curve, CI band with its transparency kept, median line, at-risk text)."""
    vc = views.ViewContext(A.prepare(cohort, CohortFilter(), by), cohort.n_patients)
    km = next(c for c in views.build_cards("fever", vc) if c.key == "fever.km")
    fig = for_presentation(km.figure).to_dict()
    per_group: dict[str, set] = {}
    for tr in fig["data"]:
        g = tr.get("legendgroup")
        col = (tr.get("line") or {}).get("color") or (tr.get("marker") or {}).get("color")
        if g and isinstance(col, str):
            per_group.setdefault(g, set()).add(_rgb(col))
        if tr.get("fillcolor"):
            assert tr["fillcolor"].startswith("rgba(") and tr["fillcolor"].endswith(",0.15)")
            assert _rgb(tr["fillcolor"]) in per_group[g]
    assert len(per_group) == len([g for g in vc.groups if g in vc.ctx.present_groups]) >= 2
    for g, cols in per_group.items():
        assert len(cols) == 1, (g, cols)  # one colour per group across its traces
    colours = [next(iter(c)) for c in per_group.values()]
    assert len(set(colours)) == len(colours), colours
    assert ORANGE not in colours


def test_presentation_and_caption_leave_the_input_untouched(by_key):
    """for_presentation and with_caption return new figures; the card's figure (shared by the page's cache) is
    byte-for-byte what it was."""
    fig = by_key["fever.km"].figure
    before = fig.to_json()
    p = for_presentation(fig, "caption")
    c = with_caption(fig, "caption")
    assert fig.to_json() == before
    assert p is not fig and c is not fig and p.to_json() != before and c.to_json() != before


def test_caption_is_burned_in_wrapped_and_escaped(by_key):
    """with_caption adds one annotation under the plot area (paper coordinates, below y = 0) whose text is the
    caption wrapped to the width, HTML-escaped for plotly (no <b>, <script> or raw & from data), and grows the
    height and bottom margin by the caption's height."""
    fig = by_key["fever.km"].figure
    long = "word " * 120
    out = with_caption(fig, f"<b>bold</b> & {EVIL}\n{long}", width=1200)
    cap = [a for a in out.layout.annotations if a.name == CAPTION_NAME]
    assert len(cap) == 1
    a = cap[0]
    assert a.xref == "paper" and a.yref == "paper" and a.y < 0 and a.yanchor == "top"
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in a.text
    assert "<b>" not in a.text and "<script" not in a.text
    assert a.text.count("<br>") >= 3  # the paragraph break plus the wrapped long line
    grown = out.layout.height - fig.layout.height
    assert grown > 0 and out.layout.margin.b - fig.layout.margin.b == grown
    assert json.loads(with_caption(fig, "").to_json()) == json.loads(fig.to_json())


def test_presentation_min_height_keeps_the_caption_inside(by_key):
    """for_presentation(min_height=...) grows a short figure before the caption goes in: the caption (paper
    coordinates, so its place scales with the plot area) still ends inside the bottom margin. Growing the height
    after the caption had pushed it off the bottom of the Adjusted page's slides."""
    from misc_dash.figures.present import PRESENTATION_FONT

    fig = by_key["fever.km"].figure
    for min_h in (None, 1400):
        out = for_presentation(fig, "word " * 80, min_height=min_h)
        lay = out.layout
        assert lay.height >= (min_h or 0)
        plot_h = lay.height - lay.margin.t - lay.margin.b
        (cap,) = [a for a in lay.annotations if a.name == CAPTION_NAME]
        below_plot_px = -cap.y * plot_h  # from the plot area's bottom down to the caption's top
        lines = cap.text.count("<br>") + 1
        assert below_plot_px + lines * PRESENTATION_FONT * 1.3 <= lay.margin.b, (min_h, below_plot_px, lay.margin.b)


def test_forest_rows_get_a_left_margin_that_fits_them():
    """A forest plot's rows are the categories of its y axis (categoryarray, not ticktext): the left margin is sized
    for the longest, so plotly's automargin has nothing to push (a push moved the plot right of the margin that the
    burned-in caption is wrapped to, and the caption ran off the right edge)."""
    from misc_dash.figures.adjusted import build_hr_comparison_figure
    from misc_dash.figures.style import BASE_FONT, CHAR_PX

    label = "Age band: 5–11 years (n = 4 vs 16) ⚠ small"
    fig = build_hr_comparison_figure([{"label": label, "hr": 0.5, "ci": (0.2, 1.1)}, {"label": "x", "hr": 1.0,
                                      "ci": (0.5, 2.0)}])  # fmt: skip
    assert fig.layout.margin.l >= CHAR_PX * (BASE_FONT - 1) * len(label)


# ------------------------------------------------------------------------------------------------ images
@needs_chromium
def test_svg_carries_the_caption(by_key, kaleido_server):
    """A card's SVG parses as XML, and its text holds the cohort, the data source's "synthetic", the first test and
    the caption; data markup in a caption arrives as literal text, not as SVG/HTML elements."""
    card = by_key["fever.km"]
    svg = card_image(card, "svg")
    root = ET.fromstring(svg)
    text = " ".join(" ".join(t.itertext()) for t in root.iter() if t.tag.endswith("text"))
    assert card.cohort in text
    assert "synthetic" in text and "not real" in text
    assert "Log-rank (3 groups)" in text
    assert card.caption.split(" ")[0] in text  # "Kaplan–Meier"
    evil = with_caption(card.figure, f"cap <b>x</b> & {EVIL}")
    root = ET.fromstring(figure_image(evil, "svg"))
    text = " ".join(" ".join(t.itertext()) for t in root.iter() if t.tag.endswith("text"))
    assert "cap <b>x</b> & <script>" in text
    assert not any(t.tag.endswith("script") for t in root.iter())


@needs_chromium
def test_png_print_resolution(by_key, kaleido_server):
    """PNG at 300 dpi: 300/96 times the pixels of the screen PNG in each direction, marked 300 dpi (pHYs), so both
    have the same physical size; the file is larger. Screen PNGs are 1 px per CSS px, marked 96 dpi."""
    card = by_key["cardiac.trajectories"]
    screen = card_image(card, "png")
    t0 = time.perf_counter()
    screen2 = card_image(card, "png")
    warm = time.perf_counter() - t0
    printed = card_image(card, "png", dpi=300)
    w1, h1, dpi1 = _png_info(screen)
    w3, h3, dpi3 = _png_info(printed)
    assert w1 == 1200 and round(dpi1) == 96
    assert abs(w3 - 1200 * 300 / 96) <= 2 and abs(h3 - h1 * 300 / 96) <= 2 and round(dpi3) == 300
    assert len(printed) > len(screen)
    assert len(screen2) > 0 and warm < 10  # the persistent server: no Chromium start per image


def test_image_export_unavailable_is_a_message(monkeypatch, by_key):
    """Without Chromium, image export raises ImageExportUnavailable with a message a user can act on (it names
    Chromium), and the slide deck says so on the slide instead of failing."""
    monkeypatch.setattr(IM, "_server", {"started": False, "rendered": False, "broken": None})
    monkeypatch.setattr(IM, "chromium_path", lambda: None)
    with pytest.raises(ImageExportUnavailable, match="Chromium"):
        card_image(by_key["fever.km"], "png")
    assert not IM.available()
    from pptx import Presentation

    prs = Presentation(io.BytesIO(report_pptx([by_key["fever.km"]], "t")))
    slide = prs.slides[1]
    text = " ".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
    assert "Chart not included" in text and "Chromium" in text
    assert not any(sh.shape_type == 13 for sh in slide.shapes)  # no picture


# ------------------------------------------------------------------------------------------------ tables
def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_and_xlsx_headers_name_the_cohort_and_say_synthetic(by_key):
    """The fever table as CSV and xlsx: header rows name the table, the cohort (the selection), the data source
    (which says "synthetic"), a synthetic-data row, the reproduce command and today's date; then a blank row, the
    columns and the rows, counts as numbers."""
    import datetime as dt

    from openpyxl import load_workbook

    card = by_key["fever.km"]
    t = card.tables[0]
    rows = _csv_rows(table_csv(card, t))
    head = {r[0]: r[1] for r in rows[:7] if r}
    assert head["Cohort"] == card.cohort == "All patients — n = 46"
    assert "synthetic" in head["Data source"]
    assert head["Synthetic data"].startswith("yes")
    assert head["Reproduce"] == card.reproduce
    assert head["Exported"] == dt.date.today().isoformat()
    i = rows.index([])
    assert rows[i + 1] == list(t.df.columns) and len(rows) - i - 2 == len(t.df)
    assert rows[i + 2][1] == str(t.df.iloc[0, 1])

    ws = load_workbook(io.BytesIO(table_xlsx(card, t))).active
    vals = [[c.value for c in r] for r in ws.iter_rows()]
    head = {r[0]: r[1] for r in vals[:7] if r[0]}
    assert head["Cohort"] == card.cohort and "synthetic" in head["Data source"]
    assert head["Reproduce"] == card.reproduce
    j = next(k for k, r in enumerate(vals) if r[0] == t.df.columns[0])
    assert vals[j][: len(t.df.columns)] == list(t.df.columns)
    assert isinstance(vals[j + 1][1], int)  # "Patients" is a count: a number cell


def test_formula_like_text_is_written_as_text(tmp_path):
    """Text starting with =, +, -, @ or a tab (cells, column names and header values) is never a formula: in CSV
    it gets a leading single quote; in xlsx it is a string cell (type "s", quote prefix) and the sheet XML has no
    formula element; numbers (negative ones too) stay numbers."""
    from openpyxl import load_workbook

    card = _evil_card()
    t = card.tables[0]
    rows = _csv_rows(table_csv(card, t))
    flat = [c for r in rows for c in r]
    assert '\'=HYPERLINK("http://x")' in flat and '=HYPERLINK("http://x")' not in flat
    assert {"'+1", "'-x", "'@SUM(A1)", "'\tx"} <= set(flat)
    assert "'=cmd|' /C calc'!A0" in flat  # the cohort header value
    assert "-3" in flat and "-0.25" in flat  # numbers are not quoted

    data = table_xlsx(card, t)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    ws = load_workbook(io.BytesIO(data)).active
    cells = {c.value: c for r in ws.iter_rows() for c in r if c.value is not None}
    for text in ('=HYPERLINK("http://x")', "+1", "-x", "@SUM(A1)", "=cmd|' /C calc'!A0"):
        c = cells.get(text) or cells.get("'" + text)
        assert c is not None, text
        assert isinstance(c.value, str) and c.data_type == "s", text
    assert cells['=HYPERLINK("http://x")'].quotePrefix
    neg = [c for c in cells.values() if c.value == -3]
    assert neg and neg[0].data_type == "n"


# ------------------------------------------------------------------------------------------------ HTML report
@pytest.fixture(scope="module")
def report_file(cards, tmp_path_factory):
    state = {"pages": list(views.VIEWS), "filters": {}, "group_by": "treatment", "options": {"x": "</script>"}}
    doc = report_html(cards, "Rounds — all pages", state, app_url="http://localhost:8501/fever?present=1")
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(doc, encoding="utf-8")
    return path, state


@needs_chromium
def test_html_report_renders_offline(cards, report_file):
    """The HTML report opened from disk in headless Chromium with the network off (offline context, and every
    non-file request aborted and recorded): every chart renders (one .js-plotly-plot with an svg .main-svg per card
    figure), every table is there, the state JSON parses to the state given, the "Reopen in the app" link is the
    given loopback URL, no page error, and no request left the file."""
    from playwright.sync_api import sync_playwright

    path, state = report_file
    n_figs = len(_figures(cards))
    n_tables = sum(len(c.tables) for c in cards)
    requests, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)

        def route(r):
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                requests.append(r.request.url)
                r.abort()

        ctx.route("**/*", route)
        pg = ctx.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        local = ("file://", "data:", "blob:", "about:")
        pg.on("request", lambda r: None if r.url.startswith(local) else requests.append(r.url))
        pg.goto(path.as_uri())
        pg.wait_for_function(
            f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {n_figs}", timeout=30_000
        )
        plots = pg.evaluate(
            "[...document.querySelectorAll('.js-plotly-plot')].map(d => d.querySelectorAll('svg.main-svg').length)"
        )
        traces = pg.evaluate("[...document.querySelectorAll('.js-plotly-plot')].map(d => d.data.length)")
        n_html_tables = pg.evaluate("document.querySelectorAll('table.data').length")
        state_text = pg.evaluate(f"document.getElementById('{STATE_ID}').textContent")
        link = pg.evaluate("document.getElementById('reopen-link').getAttribute('href')")
        synthetic = pg.evaluate("document.getElementById('synthetic-label').innerText")
        browser.close()
    assert len(plots) == n_figs and all(k >= 1 for k in plots)
    assert traces == [len(c.figure.data) for c in _figures(cards)]
    assert n_html_tables == n_tables
    assert json.loads(state_text) == state
    assert link == "http://localhost:8501/fever?present=1"
    assert "SYNTHETIC" in synthetic
    assert not errors, errors
    assert not requests, requests


def test_html_report_content_and_no_external_url(cards, report_file):
    """The report holds, per card, its title, caption, methods, test lines (label, effect with CI, statistic) and
    the reproduce command (when it has one) in a <pre>; the header names the cohort, the data source, the app
    version and the date; plotly.js is inlined once; outside the plotly.js library no http(s) URL appears except
    the caller's loopback link (and none at all without it)."""
    import html as H

    from misc_dash.exports.report import app_version

    path, _ = report_file
    doc = path.read_text(encoding="utf-8")
    assert doc.count(f'id="{PLOTLY_JS_ID}"') == 1 and "<script src=" not in doc
    for card in cards:
        assert H.escape(card.title) in doc, card.key
        for part in (card.caption, card.methods):
            assert not part or H.escape(part) in doc, card.key
        for r in card.test_results:
            assert H.escape(r.label()) in doc
            if r.estimate is not None:
                assert H.escape(r.estimate_text()) in doc
            if r.statistic_text():
                assert H.escape(r.statistic_text()) in doc
        if card.reproduce:  # literature cards have no analyze command
            assert f'<pre class="reproduce"><code>{H.escape(card.reproduce)}</code></pre>' in doc
    assert H.escape(cards[0].cohort) in doc and H.escape(cards[0].source) in doc
    assert f"MIS-C Cohort Explorer {app_version()}" in doc
    assert re.findall(r"https?://[^\s\"'<>]*", _outside_plotly_js(doc)) == ["http://localhost:8501/fever?present=1"]
    bare = report_html(cards[:3], "t", {"pages": ["overview"]}, app_url="?page=fever&present=1")
    assert re.findall(r"https?://", _outside_plotly_js(bare)) == []
    assert 'href="?page=fever&amp;present=1"' in bare


@pytest.mark.parametrize(
    "url", ["https://example.org/x", "http://10.0.0.5:8501/", "javascript:alert(1)", "//evil.example/x", "data:,x"]
)
def test_report_refuses_a_link_off_the_machine(url):
    """The "Reopen in the app" link must be relative or loopback: anything else is refused (ValueError)."""
    with pytest.raises(ValueError):
        check_app_url(url)
    with pytest.raises(ValueError):
        report_html([], "t", app_url=url)
    assert check_app_url("http://127.0.0.1:8501/?a=1") and check_app_url("http://[::1]:8501/")


def test_html_report_escapes_data_text():
    """A data string containing <script> (in the title, lead, warnings, table cells and title, test line and
    notes, caveats, caption, methods, reproduce, cohort, trace name, state) appears only escaped: the only
    <script> elements are the report's own (plotly.js, its config, one per chart, the state)."""
    card = _evil_card()
    state = {"note": "</script><script>alert(1)</script>", "amp": "a & b <!--"}
    doc = report_html([card], f"Report {EVIL}", state)
    assert "alert('x')</script>" not in doc and "<script>alert" not in doc
    assert doc.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") >= 10
    opened = re.findall(r"<script\b[^>]*>", doc)
    assert len(opened) == 4, opened  # PlotlyConfig, plotly.js, the chart, the state
    m = re.search(rf'<script type="application/json" id="{STATE_ID}">(.*?)</script>', doc, re.S)
    assert json.loads(m.group(1)) == state


# ------------------------------------------------------------------------------------------------ PPTX
@needs_chromium
def test_pptx_reads_back(by_key, kaleido_server):
    """The deck read back with python-pptx: a title slide (title, cohort, source, SYNTHETIC), then one slide per
    card with a figure or a table, titled with the card's title; figure cards carry a picture, table-only cards a
    native table (capped, with a note when rows were left out); every slide has the caption (cohort + caption)
    as text; the notes hold the methods, the test lines and the reproduce command."""
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    keys = ["fever.km", "cardiac.trajectories", "table1.table", "safety.grades", "overview.key_figures"]
    chosen = [by_key[k] for k in keys]
    prs = Presentation(io.BytesIO(report_pptx(chosen, "Rounds deck", {"pages": ["fever"]})))
    slides = list(prs.slides)
    shown = [c for c in chosen if c.figure is not None or c.tables]
    assert len(slides) == 1 + len(shown)  # key figures (metrics only) has no slide
    title_text = " ".join(sh.text_frame.text for sh in slides[0].shapes if sh.has_text_frame)
    assert "Rounds deck" in title_text and "SYNTHETIC" in title_text and chosen[0].cohort in title_text
    for slide, card in zip(slides[1:], shown):
        assert slide.shapes.title.text == card.title
        text = " ".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
        assert card.cohort in text and card.caption[:40] in text, card.key
        kinds = [sh.shape_type for sh in slide.shapes]
        if card.figure is not None:
            assert MSO_SHAPE_TYPE.PICTURE in kinds, card.key
        else:
            tables = [sh for sh in slide.shapes if sh.has_table]
            assert len(tables) == 1
            t = tables[0].table
            assert t.cell(0, 0).text == str(card.tables[0].df.columns[0])
            if len(card.tables[0].df) > len(t.rows) - 1:
                assert "Showing the first" in text
        notes = slide.notes_slide.notes_text_frame.text
        assert card.methods[:60] in notes and card.reproduce in notes, card.key
        for r in card.test_results:
            assert r.label() in notes


# ------------------------------------------------------------------------------------------------ report cards
def test_report_cards_are_the_pages_cards(cohort):
    """build_report_cards gives exactly the cards the pages build for the same state (same keys, titles, captions,
    tests, reproduce commands and figures), in VIEWS order whatever order the pages are given in; an unknown
    page is a KeyError."""
    flt = CohortFilter(phenotype=("CV shock", "KDSS-like"))
    opts = {"fever": views.FeverOptions(threshold=37.5), "cardiac": views.CardiacOptions(lvef_normal=50.0)}
    got = build_report_cards(cohort, flt, "treatment", pages=["fever", "cardiac"], options=opts)
    vc = views.ViewContext(
        A.prepare(cohort, flt, "treatment"), cohort.n_patients, cohort_name=cohort.name, is_synthetic=cohort.synthetic
    )
    want = views.build_cards("cardiac", vc, opts["cardiac"]) + views.build_cards("fever", vc, opts["fever"])
    assert [c.key for c in got] == [c.key for c in want]
    for a, b in zip(got, want):
        assert (a.title, a.caption, a.reproduce, a.cohort, a.source) == (
            b.title,
            b.caption,
            b.reproduce,
            b.cohort,
            b.source,
        )
        assert [r.to_dict() for r in a.test_results] == [r.to_dict() for r in b.test_results]
        assert (a.figure is None) == (b.figure is None)
        if a.figure is not None:
            assert a.figure.to_json() == b.figure.to_json()
    assert "--fever-threshold 37.5" in got[-1].reproduce
    with pytest.raises(KeyError, match="nope"):
        build_report_cards(cohort, flt, pages=["fever", "nope"])


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_report_html_matches_the_state(tmp_path, capsys):
    """python -m misc_dash report --format html with analyze's filter and option flags writes the report of the
    requested pages (in the app's order) with the state embedded: pages, filters (URL form), group_by, options."""
    out = tmp_path / "r.html"
    rc = main(
        ["report", "--format", "html", "--out", str(out), "--pages", "fever,cardiac"]
        + ["--phenotype", "CV shock", "--fever-threshold", "37.5", "--echo-followup", "7", "--lvef-normal", "50"]
    )
    assert rc == 0, capsys.readouterr().err
    doc = out.read_text(encoding="utf-8")
    m = re.search(rf'<script type="application/json" id="{STATE_ID}">(.*?)</script>', doc, re.S)
    state = json.loads(m.group(1))
    assert state["pages"] == ["cardiac", "fever"]
    assert state["filters"] == CohortFilter(phenotype=("CV shock",)).to_query_params()
    assert state["group_by"] == "treatment"
    assert state["options"]["fever"]["threshold"] == 37.5
    cardiac = state["options"]["cardiac"]
    assert (cardiac["followup"], cardiac["followup_day"], cardiac["lvef_normal"]) == ("nearest", 7, 50.0)
    assert "--fever-threshold 37.5" in doc and "--echo-followup 7 --lvef-normal 50" in doc
    cards = build_report_cards(
        load_default_cohort(),
        CohortFilter(phenotype=("CV shock",)),
        pages=["fever", "cardiac"],
        options={
            "fever": views.FeverOptions(threshold=37.5),
            "cardiac": views.CardiacOptions(followup="nearest", followup_day=7, lvef_normal=50.0),
        },
    )
    assert doc.count('class="plotly-graph-div"') == len(_figures(cards)) >= 2
    for c in cards:
        assert c.reproduce and html_escape(c.reproduce) in doc


def test_cli_report_shows_the_adjustment(tmp_path, capsys):
    """report --adjust-for / --strata: the Fever and Cardiac pages' between-group lines are the adjusted ones and
    the Adjusted page uses the flags (as the pages' "adjust for …" controls would), each card's reproduce command
    carrying them."""
    out = tmp_path / "r.html"
    flags = ["--group-by", "anakinra", "--adjust-for", "cv_shock,age_years", "--strata", "cv_shock"]
    rc = main(["report", "--format", "html", "--out", str(out), "--pages", "fever,cardiac,adjusted", *flags])
    assert rc == 0, capsys.readouterr().err
    doc = out.read_text(encoding="utf-8")
    m = re.search(rf'<script type="application/json" id="{STATE_ID}">(.*?)</script>', doc, re.S)
    options = json.loads(m.group(1))["options"]
    assert options["fever"]["adjust_for"] == options["cardiac"]["adjust_for"] == ["cv_shock", "age_years"]
    assert options["adjusted"]["strata"] == "cv_shock" and options["adjusted"]["weights"] is False
    assert "Cox adjusted for CV shock, age" in doc and "adjusted for baseline LVEF, CV shock, age" in doc
    assert "Stratified log-rank (by CV shock)" in doc
    assert "--adjust-for cv_shock,age_years" in doc


@needs_chromium
def test_cli_report_pptx(tmp_path, capsys, kaleido_server):
    """python -m misc_dash report --out deck.pptx (format from the suffix) writes a deck python-pptx opens."""
    from pptx import Presentation

    out = tmp_path / "deck.pptx"
    assert main(["report", "--out", str(out), "--pages", "fever"]) == 0, capsys.readouterr().err
    prs = Presentation(str(out))
    assert len(prs.slides) == 2 and prs.slides[1].shapes.title.text == "Time to defervescence"


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--pages", "fever,nope"], 1, "unknown page(s): nope"),
        (["--age-min", "90"], 1, "No patient matches"),
        (["--echo-followup", "soon"], 2, "--echo-followup"),
        (["--fever-sustained-hours", "12"], 2, "24 hours"),
        (["--group-by", "custom"], 2, "--group-a"),
        (["--format", "pdf"], 2, "invalid choice"),
    ],
)
def test_cli_report_errors_are_plain_messages(tmp_path, capsys, args, code, says):
    """Unknown page or impossible selection: exit 1; usage errors: exit 2; always a plain message, never a
    traceback, and no file written."""
    out = tmp_path / "r.html"
    try:
        rc = main(["report", "--out", str(out), *args])
    except SystemExit as exc:  # argparse's own usage errors
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == code and says in err and "Traceback" not in err
    assert not out.exists()


def test_report_takes_analyze_flags():
    """report accepts every analyze flag (filters, grouping, options) and reads them the same way."""
    from misc_dash.__main__ import _filter_from_args, _grouping_from_args, _options_from_args

    flt = CohortFilter(phenotype=("CV shock",), sex=("F",), age_min=2.0, age_max=12.0, icu=("Yes",))
    flags = flt.to_cli_args() + ["--group-by", "sex", "--fever-origin", "treatment", "--fever-threshold", "37.8"]
    flags += ["--echo-followup", "5", "--lvef-normal", "50", "--strain-normal", "-20", "--cox", "--data", "x"]
    a = build_parser().parse_args(["analyze", *flags])
    r = build_parser().parse_args(["report", "--out", "x.html", *flags])
    assert _filter_from_args(r) == _filter_from_args(a) == flt
    assert _grouping_from_args(r) == _grouping_from_args(a) == "sex"
    assert _options_from_args(r) == _options_from_args(a)
    analyze_dests = {k for k in vars(a) if k not in ("json", "func")}
    assert analyze_dests <= set(vars(r))


def test_exports_do_not_import_streamlit():
    """The renderers are core code: importing them (and rendering a report) pulls in no streamlit."""
    code = (
        "import sys; import misc_dash.exports, misc_dash.figures.present, misc_dash.exports.deck; "
        "print('streamlit' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
