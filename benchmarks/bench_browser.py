"""Benchmark: filter change → repaint time in headless Chromium, per page, on the default cohort.

Starts `streamlit run app.py` on a free port, opens each page, then moves the age slider one step N times and
records, with a MutationObserver on stApp's data-test-script-state, the time from the key press to the rerun's
end (running → notRunning) and to the last DOM change after it. Prints figures; asserts nothing.
    .venv/bin/python benchmarks/bench_browser.py [--repeat 6]
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

OBSERVER = """
() => {
  window.__bench = {runningAt: null, doneAt: null, lastMutation: null};
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    const s = app.getAttribute('data-test-script-state');
    if (s === 'running' && window.__bench.runningAt === null) window.__bench.runningAt = performance.now();
    if (s === 'notRunning' && window.__bench.runningAt !== null && window.__bench.doneAt === null) window.__bench.doneAt = performance.now();
  }).observe(app, {attributes: true});
  new MutationObserver(() => { window.__bench.lastMutation = performance.now(); })
    .observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}
"""


def main():
    import test_browser as tb
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=6)
    ap.add_argument("--pages", default=",".join(p or "overview" for p in tb.PAGES))
    args = ap.parse_args()
    gen = tb.server.__wrapped__()
    url = next(gen)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=tb.CHROMIUM, args=tb.LAUNCH_ARGS)
            pg = b.new_page(viewport={"width": 1600, "height": 1100})
            print(f"{'page':<12} {'rerun start (ms)':>17} {'rerun end (ms)':>16} {'last DOM change (ms)':>22}   (median of {args.repeat} slider steps)")
            for name in args.pages.split(","):
                path = "" if name == "overview" else name
                pg.goto(f"{url}/{path}")
                tb.wait_idle(pg)
                thumb = pg.locator('[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]').first
                starts, ends, lasts = [], [], []
                for i in range(args.repeat):
                    pg.evaluate(OBSERVER)
                    thumb.focus()
                    t0 = pg.evaluate("() => performance.now()")
                    pg.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
                    pg.wait_for_function("() => window.__bench.doneAt !== null", timeout=60_000)
                    pg.wait_for_timeout(400)  # let late DOM updates (plotly) land
                    r = pg.evaluate("() => window.__bench")
                    starts.append(r["runningAt"] - t0)
                    ends.append(r["doneAt"] - t0)
                    lasts.append((r["lastMutation"] or r["doneAt"]) - t0)
                print(f"{name:<12} {statistics.median(starts):>17.0f} {statistics.median(ends):>16.0f} {statistics.median(lasts):>22.0f}")
            b.close()
    finally:
        try:
            next(gen)
        except StopIteration:
            pass


if __name__ == "__main__":
    main()
