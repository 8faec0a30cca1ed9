"""Playwright: start `streamlit run app.py` on a free port, visit every page in Debian's Chromium, change a
filter, and check that no exception is shown and the charts rendered. Screenshots go to artifacts/screens/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "artifacts" / "screens"
PAGES = {
    "": "Overview",
    "table1": "Table 1",
    "cardiac": "Cardiac",
    "fever": "Fever",
    "cytokines": "Cytokines",
    "labs": "Laboratory",
    "adjusted": "Adjusted & sensitivity",
    "anakinra": "Anakinra",
    "safety": "Safety",
    "literature": "Literature",
    "data": "Data",
    "ledger": "Tests viewed",
}
CHARTS = {"": 1, "cardiac": 1, "fever": 1, "cytokines": 1, "labs": 1, "anakinra": 1, "safety": 1, "literature": 2}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (apt-get install chromium)"),
]
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(extra: tuple[str, ...] = (), port: int | None = None):
    """Start the app on loopback (``extra``: more ``streamlit run`` options) and yield its address."""
    port = port or _free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        *extra,
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read().decode().strip() == "ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("streamlit did not become healthy in 60 s:\n" + proc.stdout.read().decode(errors="replace")[-3000:])
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server():
    yield from _serve()


def _browser():
    """Yield Debian's Chromium, headless, launched by Playwright (for a module-scoped fixture)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(server):
    for browser in _browser():
        yield browser.new_page(viewport={"width": 1600, "height": 1100})


def wait_idle(pg, timeout=45_000):
    # the app has run at least once: st.navigation replaced the legacy page list, the header is drawn
    # (case-sensitive: the legacy pages-directory list would say "overview", and "app")
    pg.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stSidebarNavLink"]')]"""
        """.some(a => a.innerText.trim().endsWith('Overview'))""",
        timeout=timeout,
    )
    pg.wait_for_function("() => document.body.innerText.includes(' — n = ')", timeout=timeout)
    pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    pg.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0", timeout=timeout
    )
    pg.wait_for_timeout(300)
    pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders(page, server, path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{server}/{path}")
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    body = page.inner_text("body")
    assert "SYNTHETIC COHORT" in body
    assert "n = 46" in body
    want = CHARTS.get(path, 0)
    if want:
        page.wait_for_function(
            f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {want}", timeout=30_000
        )
        assert page.locator(".js-plotly-plot").count() >= want
    page.screenshot(path=str(SHOTS / f"{path or 'overview'}.png"), full_page=True)


def test_filter_change_updates_the_page(page, server):
    page.goto(f"{server}/fever")
    wait_idle(page)
    assert "All patients — n = 46" in page.inner_text("body")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    # remember the KM chart's element and what it draws
    before = page.evaluate(
        "() => { const d = document.querySelector('.js-plotly-plot'); window.__km = d;"
        " return JSON.stringify(d.data.map(t => t.y)); }"
    )
    thumb = page.locator('[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]').first
    thumb.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    wait_idle(page)
    page.wait_for_function("() => !document.body.innerText.includes('All patients — n = 46')", timeout=30_000)
    body = page.inner_text("body")
    assert "Age ≥ 6 — n = " in body
    assert page.locator('[data-testid="stException"]').count() == 0
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    # the chart was redrawn in place (ui.plot: same element, Plotly.react), not mounted anew, and shows the new cohort
    page.wait_for_function(
        "(before) => JSON.stringify(window.__km.data.map(t => t.y)) !== before", arg=before, timeout=30_000
    )
    assert page.evaluate(
        "() => document.contains(window.__km) && document.querySelectorAll('.js-plotly-plot').length === 1"
    )
    page.screenshot(path=str(SHOTS / "fever_filtered.png"), full_page=True)
    # the filter persists when moving to another page through the navigation
    page.locator('[data-testid="stSidebarNavLink"]', has_text="Table 1").first.click()
    wait_idle(page)
    page.wait_for_function(
        "() => document.body.innerText.includes('Baseline characteristics')"
        " || document.body.innerText.includes('baseline characteristics')",
        timeout=30_000,
    )
    assert "Age ≥ 6 — n = " in page.inner_text("body")
    assert page.locator('[data-testid="stException"]').count() == 0


def test_shared_link_reproduces_the_view(page, server):
    """Filters live in the URL as plain category values (no counts, no patient ids): opening the link in a new
    session gives the same cohort."""
    page.goto(f"{server}/fever?f_phenotype=KD-like&f_age=2&f_age=17")
    wait_idle(page)
    body = page.inner_text("body")
    assert "KD-like, age ≥ 2 — n = " in body
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "patient_id" not in page.url and "SYN-" not in page.url


def test_first_visit_after_start_can_be_a_shared_link(page):
    """Streamlit quirk: with a pages/ folder next to app.py, a fresh server whose first visitor opens a page link
    ran that page without app.py (file-name navigation, no router) until app.py ran once. The page now reroutes
    through app.py: the navigation shows the page titles and the link's filter applies. (A second, fresh server.)"""
    gen = _serve()
    url = next(gen)
    pg = page.context.browser.new_page(viewport={"width": 1600, "height": 1100})
    try:
        pg.goto(f"{url}/cardiac?f_phenotype=CV+shock")
        wait_idle(pg)
        links = [t.strip() for t in pg.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()]
        assert any(t.endswith("Cardiac (LVEF, strain)") for t in links), links
        assert not any(t in ("app", "cardiac", "overview") for t in links), links
        assert "CV shock — n = " in pg.inner_text("body")
        assert pg.locator('[data-testid="stException"]').count() == 0
    finally:
        pg.close()
        gen.close()


def test_chart_full_screen_for_presenting(page, server):
    """The in-place chart's modebar has a full-screen button (st.plotly_chart had one in Streamlit's toolbar):
    the chart fills the screen, and is back at the page's width after leaving full screen."""
    page.goto(f"{server}/fever")
    wait_idle(page)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    page.locator(".js-plotly-plot").first.hover()
    page.locator('.js-plotly-plot .modebar-btn[data-title="Full screen (Esc to leave)"]').first.click()
    page.wait_for_function(
        "() => document.fullscreenElement && document.fullscreenElement.classList.contains('js-plotly-plot')"
        " && document.fullscreenElement._fullLayout.height === window.innerHeight",
        timeout=10_000,
    )
    page.evaluate("() => document.exitFullscreen()")
    page.wait_for_function(
        "() => !document.fullscreenElement"
        " && document.querySelector('.js-plotly-plot')._fullLayout.width < window.innerWidth",
        timeout=10_000,
    )
    assert page.locator('[data-testid="stException"]').count() == 0


def test_patient_list_opens_on_click(page, server):
    """Patient-level lists are drawn only when their expander is opened (ui.details_table): clicking the closed
    expander on the Cardiac page reruns it and shows the list of patients without a pair."""
    page.goto(f"{server}/cardiac")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    grids = main.locator('[data-testid="stDataFrame"]').count()
    main.locator('[data-testid="stExpander"] summary', has_text="without a pair").click()
    wait_idle(page)
    page.wait_for_function(
        '() => document.querySelectorAll(\'[data-testid="stMain"] [data-testid="stDataFrame"]\')'
        f".length === {grids + 1}",
        timeout=30_000,
    )
    assert page.locator('[data-testid="stException"]').count() == 0
    grid = main.locator('[data-testid="stExpander"]', has_text="without a pair").locator('[data-testid="stDataFrame"]')
    assert grid.count() == 1 and grid.first.is_visible()
    page.screenshot(path=str(SHOTS / "cardiac_unpaired_open.png"), full_page=True)


def test_cardiac_view_switch_draws_the_other_chart(page, server):
    """The Cardiac charts are views of one selector (ui.view_switch): one chart on screen; clicking the second view
    reruns the page, draws the paired before/after chart in place of the trajectories, and puts the view in the
    URL (shareable)."""
    page.goto(f"{server}/cardiac")
    wait_idle(page)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    title = (
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".filter(e => e.offsetParent !== null).map(e => e._fullLayout.title.text)"
    )
    assert page.evaluate(title) == ["<b>LVEF over time</b>"]
    page.locator('[data-testid="stMain"] button', has_text="Before and after (paired)").click()
    wait_idle(page)
    page.wait_for_function(f"() => ({title})().join() === '<b>LVEF: first vs follow-up echo</b>'", timeout=30_000)
    assert "cardiac_chart=" in page.url
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(SHOTS / "cardiac_before_after_view.png"), full_page=True)


@pytest.mark.parametrize("value", ["abc", "3", "1~2~3", "5~abc"])
def test_a_malformed_age_range_in_a_link_does_not_break_the_page(page, server, value):
    """Issue 16 (hostile input): a hand-edited or truncated link (`?f_age=abc`, one value, three values) opens the
    page on every patient instead of an error, and the page keeps working."""
    page.goto(f"{server}/cardiac?f_age={value}")
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "— n = 46" in page.inner_text("body")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
