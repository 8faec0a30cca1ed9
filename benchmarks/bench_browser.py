"""Benchmark: filter change → repaint time in headless Chromium, per page, on the default cohort.

Starts `streamlit run app.py` on a free port, opens each page, then moves the sidebar's age slider by one step
with the keyboard, N times, and records in the page (MutationObservers, performance.now()):

- **text**: the page's cohort line ("… — n = 43") shows the new selection (first new content on screen);
- **charts**: the last change inside a plotly chart (the charts are redrawn; "—" on pages without charts);
- **rerun end**: Streamlit marks the run finished (stApp's data-test-script-state leaves "running");
- **settled**: the last DOM change of any kind within 1.5 s (includes the data grids' lazy accessibility layer).

Two kinds of step: *fresh* (the slider walks up 2 → 3 → 4 …: a selection not seen before, nothing cached) and
*cached* (back and forth between two selections: analyses come from the cache). Prints medians; asserts nothing.
    .venv/bin/python benchmarks/bench_browser.py [--repeat 5] [--pages overview,cardiac]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import probe_line

OBSERVER = """
(oldLine) => {
  const b = window.__bench = {text: null, charts: null, end: null, last: null};
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const line = () => {
    for (const e of main.querySelectorAll('strong')) { if (e.textContent.includes(' — n = ')) return e.textContent; }
    return null;
  };
  new MutationObserver((recs) => {
    const now = performance.now();
    b.last = now;
    if (b.text === null) { const l = line(); if (l !== null && l !== oldLine) b.text = now; }
    for (const r of recs) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (el && el.closest && el.closest('[data-testid="stPlotlyChart"], .misc-dash-plot')) b.charts = now;
      if (r.type === 'attributes' && r.attributeName === 'data-test-script-state'
          && r.oldValue === 'running' && b.end === null) b.end = now;
    }
    // a fast rerun's "running" and "finished" can land in one React render:
    // the attribute never shows "running"
    if (b.end === null && b.text !== null && app.getAttribute('data-test-script-state') === 'notRunning') b.end = now;
  }).observe(document.body,
             {subtree: true, childList: true, characterData: true, attributes: true, attributeOldValue: true});
}
"""


def _step(pg, thumb, key: str) -> dict:
    old_line = pg.evaluate(
        "() => { for (const e of (document.querySelector('[data-testid=\"stMain\"]') || document.body)"
        ".querySelectorAll('strong'))"
        " { if (e.textContent.includes(' — n = ')) return e.textContent; } return null; }"
    )
    pg.evaluate(OBSERVER, old_line)
    thumb.focus()
    t0 = pg.evaluate("() => performance.now()")
    pg.keyboard.press(key)
    pg.wait_for_function(
        "() => window.__bench.end !== null", timeout=int(__import__("os").environ.get("BENCH_TIMEOUT", "60000"))
    )
    pg.wait_for_timeout(1500)  # let late DOM updates (plotly, data grids) land
    r = pg.evaluate("() => window.__bench")
    return {k: (None if r[k] is None else r[k] - t0) for k in ("text", "charts", "end", "last")}


def _med(rows: list[dict], k: str) -> str:
    v = [r[k] for r in rows if r[k] is not None]
    return f"{statistics.median(v):.0f}" if v else "—"


def main():
    import test_browser as tb
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pages", default=",".join(p or "overview" for p in tb.PAGES))
    args = ap.parse_args()
    gen = tb._serve()
    url = next(gen)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=tb.CHROMIUM, args=tb.LAUNCH_ARGS)
            pg = b.new_page(viewport={"width": 1600, "height": 1100})
            print(probe_line("before"))
            print(f"milliseconds from the key press, median of {args.repeat} steps")
            print(
                f"{'page':<11} | {'fresh: text':>11} {'charts':>7} {'rerun end':>9} {'settled':>8} | "
                f"{'cached: text':>12} {'charts':>7} {'rerun end':>9} {'settled':>8}"
            )
            for name in args.pages.split(","):
                path = "" if name == "overview" else name
                pg.goto(f"{url}/{path}")
                tb.wait_idle(pg)
                thumb = pg.locator('[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]').first
                fresh = [_step(pg, thumb, "ArrowRight") for _ in range(args.repeat)]
                cached = [
                    _step(pg, thumb, "ArrowLeft" if i % 2 == 0 else "ArrowRight") for i in range(args.repeat + 1)
                ][1:]
                print(
                    f"{name:<11} | {_med(fresh, 'text'):>11} {_med(fresh, 'charts'):>7} "
                    f"{_med(fresh, 'end'):>9} {_med(fresh, 'last'):>8} | "
                    f"{_med(cached, 'text'):>12} {_med(cached, 'charts'):>7} "
                    f"{_med(cached, 'end'):>9} {_med(cached, 'last'):>8}"
                )
            b.close()
            print(probe_line("after"))
    finally:
        gen.close()


if __name__ == "__main__":
    main()
