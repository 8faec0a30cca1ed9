"""Benchmark for A/B work: Chromium main-thread CPU per filter change, from a DevTools trace.

Wall-clock repaint times (bench_browser.py) move by ±20–30 % between runs on a shared 2-core VM. The browser's
main-thread *thread time* per step is steadier, so compare variants with this, interleaved (A B A B).
Starts `streamlit run app.py`, opens the page, moves the sidebar's age slider back and forth N times and prints
the median main-thread CPU per step and when the last long task (> 2 ms) ended. Prints; asserts nothing.
With --fresh the slider walks one way (2 → 3 → 4 …): every step is a selection not seen before, so the server
recomputes the analyses while the browser works (the common case for a user; the default is cached steps).
    .venv/bin/python benchmarks/bench_cpu.py cardiac [steps=8] [--fresh]
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import probe_line


def main(page: str, steps: int = 8, fresh: bool = False) -> None:
    import test_browser as tb
    from playwright.sync_api import sync_playwright

    gen = tb._serve()
    url = next(gen)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=tb.CHROMIUM, args=tb.LAUNCH_ARGS)
            pg = b.new_page(viewport={"width": 1600, "height": 1100})
            pg.goto(f"{url}/{page}")
            tb.wait_idle(pg)
            thumb = pg.locator('[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]').first
            for i in range(2):  # warm up: plotly.js loaded, both selections cached
                thumb.focus()
                pg.keyboard.press("ArrowRight" if fresh or i % 2 == 0 else "ArrowLeft")
                pg.wait_for_timeout(1200)
            busy, ends = [], []
            for i in range(steps):
                thumb.focus()
                b.start_tracing(page=pg, categories=["devtools.timeline", "disabled-by-default-devtools.timeline"])
                pg.wait_for_timeout(100)
                pg.evaluate("() => console.timeStamp('key')")
                pg.keyboard.press("ArrowRight" if fresh or i % 2 == 0 else "ArrowLeft")
                pg.wait_for_timeout(1300)
                data = json.loads(b.stop_tracing())
                evs = data["traceEvents"] if isinstance(data, dict) else data
                names = {(e["pid"], e["tid"]): e["args"]["name"] for e in evs if e.get("name") == "thread_name"}
                main_thread = {k for k, v in names.items() if v == "CrRendererMain"}
                t0 = next(
                    e["ts"]
                    for e in evs
                    if e.get("name") == "TimeStamp"
                    and (e["pid"], e["tid"]) in main_thread
                    and e["args"]["data"]["message"] == "key"
                )
                tasks = [
                    e
                    for e in evs
                    if (e.get("pid"), e.get("tid")) in main_thread
                    and e.get("name") == "RunTask"
                    and e.get("ph") == "X"
                    and e["ts"] >= t0
                ]
                busy.append(sum(e.get("tdur", e["dur"]) for e in tasks) / 1000)
                ends.append(max([e["ts"] + e["dur"] - t0 for e in tasks if e["dur"] > 2000] or [0]) / 1000)
            print(probe_line("after"))
            print(
                f"{page} ({'fresh' if fresh else 'cached'} steps): main-thread CPU per step median "
                f"{statistics.median(busy):.0f} ms (min {min(busy):.0f}); "
                f"last long task ends {statistics.median(ends):.0f} ms"
            )
            b.close()
    finally:
        gen.close()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(args[0] if args else "cardiac", int(args[1]) if len(args) > 1 else 8, fresh="--fresh" in sys.argv)
