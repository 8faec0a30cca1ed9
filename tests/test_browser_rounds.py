"""Teaching rounds in the real app (headless Debian Chromium): a shared link reopens the same numbers and charts on
every page, presentation mode gives the chart the projector's first screen with large text, and no request ever
leaves the machine."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from tests.test_browser import CHROMIUM, PAGES, _browser, _serve, wait_idle

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="Debian chromium not installed"),
]


@pytest.fixture(scope="module")
def server():
    yield from _serve()


@pytest.fixture(scope="module")
def browser():
    yield from _browser()


def _settle(pg):
    """The run is over, every chart (the in-place chart component's ``.misc-dash-plot``, or ``st.plotly_chart``'s
    when plotly.js is not served) has been plotted, and what the test compares (the main area's numbers, the
    charts' data) has stopped changing (charts are plotted after the run finishes; a slow machine shows the gap)."""
    wait_idle(pg)
    pg.wait_for_function(
        """() => [...document.querySelectorAll('.misc-dash-plot, [data-testid="stPlotlyChart"]')]"""
        """.every(c => c.querySelector('.main-svg'))""",
        timeout=45_000,
    )
    last = (_main_numbers(pg), _chart_data(pg))
    for _ in range(60):
        pg.wait_for_timeout(250)
        now = (_main_numbers(pg), _chart_data(pg))
        if now == last:
            return
        last = now
    raise AssertionError("the page kept changing for 15 s")


def _recorded_context(browser, seen: list[str], **kw):
    """A browser context that appends the URL of every request it makes to ``seen``."""
    ctx = browser.new_context(**kw)
    ctx.on("request", lambda req: seen.append(req.url))
    return ctx


def _assert_local(seen: list[str]) -> None:
    """Every request went to the app on loopback (no CDN, no telemetry, no Plotly Cloud)."""
    assert seen, "no request recorded"
    hosts = {urlparse(u).hostname for u in seen if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert hosts <= {"127.0.0.1", "localhost"}, sorted(hosts)


def _main_numbers(pg) -> list[str]:
    """Every text of the main area outside the charts that carries a number (the cohort line, tables, test lines,
    metrics), in page order; not the ledger's counter, which counts this browser session's tests (a fresh session
    starts it again). The charts are compared by their data and layout (:func:`_chart_data`), not by the text they
    have drawn so far."""
    texts = pg.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stMain"]');
            const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT, {acceptNode: n =>
                n.parentElement.closest('.js-plotly-plot, style, script') ? NodeFilter.FILTER_REJECT
                : NodeFilter.FILTER_ACCEPT});
            const out = [];
            for (let n = walker.nextNode(); n; n = walker.nextNode()) out.push(n.textContent.trim());
            return out;
        }"""
    )
    skip = ("Link copied", "tests viewed this session")
    return [t for t in texts if re.search(r"\d", t) and not any(k in t for k in skip)]


def _chart_data(pg) -> str:
    return pg.evaluate(
        """() => JSON.stringify([...document.querySelectorAll('.js-plotly-plot')].map(d => ({
            data: (d.data || []).map(t => ({type: t.type, name: t.name, x: t.x, y: t.y, z: t.z, text: t.text})),
            title: d.layout && d.layout.title,
            annotations: ((d.layout && d.layout.annotations) || []).map(a => a.text)})))"""
    )


# Per page: the sidebar filter and grouping put in the first address (the sidebar's own controls are bound
# already), then every page control changed by hand as a user would.
def _radio(label):
    return lambda pg: pg.get_by_text(label, exact=True).first.click()


def _toggle(label):
    return lambda pg: pg.get_by_text(label, exact=True).first.click()


def _number(label, value):
    def act(pg):
        box = pg.get_by_label(label, exact=True)
        box.fill(str(value))
        box.press("Enter")

    return act


def _segment(label):
    return lambda pg: pg.get_by_text(label, exact=True).first.click()


def _open_expander(label):
    def act(pg):
        pg.get_by_text(label).first.click()

    act.changes_url = False  # opening an expander runs nothing
    return act


def _do(pg, act) -> None:
    """Change one control and wait for the app to show the result: the control is bound to the page's address, so
    the address changes when the app has taken the new value (a fixed sleep would race the rerun on a slow machine)."""
    before = pg.url
    act(pg)
    if getattr(act, "changes_url", True):
        pg.wait_for_function("(u) => window.location.href !== u", arg=before, timeout=45_000)
    _settle(pg)


CONTROLS = {
    "": [],
    "table1": [_toggle("Show the 95% CI of each proportion")],
    "cardiac": [
        _radio("Ap4 strain (%)"),
        _radio("Days since treatment start"),
        _radio("Nearest to a day"),
        _number("Day (for 'nearest')", 7),
        _open_expander("Normal thresholds"),
        _number("Strain normal ≤ (%)", -20),
        _segment("Before and after (paired)"),
    ],
    "fever": [
        _radio("Treatment start"),
        _number("Fever threshold (°C): defervescence = first reading below", 37.8),
        _toggle("Sustained: no fever in the next 24 h"),
        _toggle("Show Cox hazard ratio"),
    ],
    "cytokines": [_segment("Panel heatmap (medians)")],
    "labs": [_radio("Days since admission"), _toggle("Log scale")],
    "anakinra": [_radio("Days since admission")],
    "safety": [],
    "literature": [],
    "adjusted": [_toggle("Firth's penalised Cox (small samples)")],
}
START = "f_phenotype=CV+shock&f_phenotype=KDSS-like&compare_by=Anakinra+%28any%29+vs+none"


# the pages with controls of their own (the others' addresses hold only the sidebar's filter and grouping, which
# tests/test_browser.py::test_shared_link_reproduces_the_view covers); not the ledger, which is per session
SHARED_LINK_PAGES = [p for p, acts in CONTROLS.items() if acts]


@pytest.mark.parametrize("path", SHARED_LINK_PAGES)
def test_shared_link_reopens_the_same_numbers_and_chart(browser, server, path):
    """Set non-default values for every control of the page (after a non-default filter and grouping), close the
    tab and open the page's address in a new one (a new Streamlit session, whose view comes from the address alone:
    the app keeps its state in the session and the URL, nothing in cookies or browser storage): the same numbers in
    the main area and the same chart data. Every request stays on the machine."""
    seen: list[str] = []
    ctx = _recorded_context(browser, seen, viewport={"width": 1400, "height": 1000})
    try:
        pg = ctx.new_page()
        pg.goto(f"{server}/{path}?{START}")
        _settle(pg)
        for act in CONTROLS[path]:
            _do(pg, act)
        assert pg.locator('[data-testid="stException"]').count() == 0
        numbers, charts, url = _main_numbers(pg), _chart_data(pg), pg.url
        pg.close()
        pg2 = ctx.new_page()
        pg2.goto(url)
        _settle(pg2)
        assert _main_numbers(pg2) == numbers, url
        assert _chart_data(pg2) == charts, url
        assert "SYN-" not in url and "patient" not in url.lower()
    finally:
        ctx.close()
    _assert_local(seen)


def test_presentation_mode_fills_the_projector_screen(browser, server):
    """At 1280 × 720 with ?present=1: no sidebar, the first chart covers at least half of the first screen, no
    chart text is smaller than 20 px, and none is cut off (on Fever, and on each of the Adjusted page's slides)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = ctx.new_page()
    try:
        pg.goto(f"{server}/fever?present=1")
        _settle(pg)
        assert not pg.locator('[data-testid="stSidebar"]').is_visible()
        box = pg.locator(".js-plotly-plot").first.bounding_box()
        visible_h = max(0.0, min(box["y"] + box["height"], 720) - max(box["y"], 0))
        visible_w = max(0.0, min(box["x"] + box["width"], 1280) - max(box["x"], 0))
        share = visible_w * visible_h / (1280 * 720)
        sizes = pg.evaluate(
            """() => [...document.querySelector('.js-plotly-plot').querySelectorAll('text')]
                .filter(t => t.textContent.trim() && t.getBBox().width > 0)
                .map(t => parseFloat(getComputedStyle(t).fontSize))"""
        )
        assert share >= 0.5, f"chart covers {share:.0%} of the first screen"
        assert sizes and min(sizes) >= 20, f"smallest chart text {min(sizes)} px"
        pg.screenshot(path=str(__import__("tests.test_browser", fromlist=["SHOTS"]).SHOTS / "present_fever_1280.png"))
        # keyboard: → moves to the next slide (the only chart here wraps around to itself: the slide counter says so)
        assert "Slide 1 of" in pg.locator('[data-testid="stMain"]').inner_text()
        assert not _text_outside_the_chart(pg)
        # the Adjusted page's six slides (forest plots with long row labels; short figures grown to the projector's
        # height): every text of every chart, its burned-in caption included, inside the chart
        pg.goto(f"{server}/adjusted?present=1&compare_by=Anakinra+%28any%29+vs+none")
        _settle(pg)
        n = int(re.search(r"Slide 1 of (\d+)", pg.locator('[data-testid="stMain"]').inner_text())[1])
        assert n >= 6
        for k in range(1, n + 1):
            if k > 1:
                pg.get_by_role("button", name="Next").click()
                pg.wait_for_function("(k) => document.body.innerText.includes(`Slide ${k} of`)", arg=k)
                _settle(pg)
            assert not _text_outside_the_chart(pg), f"slide {k}"
    finally:
        ctx.close()


def _text_outside_the_chart(pg) -> list[dict]:
    """Every text of a chart that is drawn (partly) outside its SVG, i.e. cut off on screen."""
    return pg.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(c => {
            const svg = c.querySelector('svg.main-svg');
            if (!svg) return [];
            const r = svg.getBoundingClientRect();
            return [...c.querySelectorAll('svg.main-svg text')]
                .filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0)
                .map(t => [t, t.getBoundingClientRect()])
                .filter(([, b]) => b.left < r.left - 1 || b.right > r.right + 1 || b.top < r.top - 1
                                   || b.bottom > r.bottom + 1)
                .map(([t, b]) => ({text: t.textContent.slice(0, 60), left: b.left - r.left, right: r.right - b.right,
                                   top: b.top - r.top, bottom: r.bottom - b.bottom}));
        })"""
    )


def test_no_request_leaves_the_machine(browser, server):
    """The pages the shared-link test does not open (Overview, Safety, Literature, Data, Tests viewed) and
    presentation mode, recording every request the browser makes: all go to the app on loopback (no CDN, no
    telemetry, no Plotly Cloud). The other pages are checked by the shared-link test, in both of its tabs."""
    seen: list[str] = []
    ctx = _recorded_context(browser, seen, viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    try:
        for path in [p for p in PAGES if p not in SHARED_LINK_PAGES]:
            pg.goto(f"{server}/{path}")
            _settle(pg)
        pg.goto(f"{server}/cardiac?present=1")
        _settle(pg)
    finally:
        ctx.close()
    _assert_local(seen)
