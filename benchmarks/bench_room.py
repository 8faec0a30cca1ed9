"""Benchmark: a teaching room — N browser sessions on one app server, on the default cohort (issue 18).

Starts one `streamlit run app.py` on a free port and one headless Debian Chromium with N contexts (each its own
Streamlit session, all on the same page), and reports:

1. **server memory per session**: the server's RSS (``/proc/<pid>/status`` VmRSS) with no session, then with 1, 10,
   20, … N sessions open — read once when the sessions are open and again after each new one has changed a filter
   (the sidebar's age slider, a random step) — and the slope of a least-squares line through the readings from 1
   session on (the first session imports pandas, scipy, plotly… and loads the cohort: that is not per session);
2. **the filter-change latency seen by one user**: from the key press on the age slider (the page's own keydown
   time) to the page showing the new cohort line (" — n = ") with Streamlit's run finished
   (``data-test-script-state="notRunning"``). The user steps between two selections (cached after the warm-up: the
   figure is the rerun, not the statistics) under three conditions, interleaved round by round so the VM's
   minute-to-minute speed changes hit each condition alike (the order reversed every other round: alone · idle ·
   busy, busy · idle · alone, …):

   - *alone*: the other N−1 pages navigated away (their sessions closed) — reopened after the round;
   - *idle*: the other N−1 sessions connected, doing nothing;
   - *busy*: the other N−1 sessions each changing a filter every ``--every`` seconds on average (uniform 0.5–1.5 ×),
     a random step of either slider thumb, so they hit fresh selections as well as cached ones.

Each round prints the load average and the CPU seconds used by the server and by Chromium during the round: here
the browser runs on the same 2 cores as the server, which a room of laptops would not (the busy figure is therefore
pessimistic). Asserts nothing.

    .venv/bin/python benchmarks/bench_room.py [--sessions 30] [--changes 15] [--rounds 3] [--every 5] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import probe_line
from test_browser import CHROMIUM, LAUNCH_ARGS

ROOT = Path(__file__).resolve().parents[1]

# bench_browser.py's observer, less what this benchmark does not read, and disconnecting the previous change's
# observer (thirty pages each piling up one observer per change would slow the browser down as the run goes on)
OBSERVER = """
(oldLine) => {
  if (window.__benchObs) window.__benchObs.disconnect();
  const b = window.__bench = {text: null, end: null, key: null};
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const line = () => {
    for (const e of main.querySelectorAll('strong')) { if (e.textContent.includes(' — n = ')) return e.textContent; }
    return null;
  };
  window.__benchObs = new MutationObserver((recs) => {
    const now = performance.now();
    if (b.text === null) { const l = line(); if (l !== null && l !== oldLine) b.text = now; }
    for (const r of recs) {
      if (r.type === 'attributes' && r.attributeName === 'data-test-script-state'
          && r.oldValue === 'running' && b.end === null) b.end = now;
    }
    // a fast rerun's "running" and "finished" can land in one React render: the attribute never shows "running"
    if (b.end === null && b.text !== null && app.getAttribute('data-test-script-state') === 'notRunning') b.end = now;
  });
  window.__benchObs.observe(document.body,
    {subtree: true, childList: true, characterData: true, attributes: true, attributeOldValue: true});
}
"""
THUMBS = '[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]'
LINE_JS = (
    "() => { for (const e of (document.querySelector('[data-testid=\"stMain\"]') || document.body)"
    ".querySelectorAll('strong')) { if (e.textContent.includes(' — n = ')) return e.textContent; } return null; }"
)
# the moment the key reaches the page (not when Python sent it: under load the CDP round trip is not the user's)
KEYDOWN_JS = (
    "() => { document.addEventListener('keydown', () => {"
    " if (window.__bench.key === null) window.__bench.key = performance.now(); }, {capture: true, once: true}); }"
)
TIMEOUT_MS = int(os.environ.get("BENCH_TIMEOUT", "90000"))
CLK = os.sysconf("SC_CLK_TCK")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes: memory and CPU from /proc


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds user + system) of a process, None if it is gone."""
    try:
        s = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    f = s[s.rindex(")") + 2 :].split()  # after "pid (comm) "
    return int(f[1]), (int(f[11]) + int(f[12])) / CLK


def _descendants(root: int) -> set[int]:
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit() and (st := _stat(int(d))) is not None:
            parent[int(d)] = st[0]
    out, todo = set(), [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out.update(kids)
        todo.extend(kids)
    return out


def cpu_seconds(server_pid: int) -> tuple[float, float]:
    """CPU seconds so far of the server and of everything else this script started (Playwright's driver and
    Chromium). Only live processes count: read before and after a round, within which nothing exits."""
    server = {server_pid} | _descendants(server_pid)
    others = _descendants(os.getpid()) - server
    s = sum((_stat(p) or (0, 0.0))[1] for p in server)
    o = sum((_stat(p) or (0, 0.0))[1] for p in others)
    return s, o


def browser_rss_mb(server_pid: int) -> float:
    """Sum of the RSS of this script's other descendants (Chromium's processes; shared pages counted repeatedly)."""
    tot = 0.0
    for p in _descendants(os.getpid()) - ({server_pid} | _descendants(server_pid)):
        with contextlib.suppress(OSError):
            tot += rss_mb(p)
    return tot


# ---------------------------------------------------------------- the server


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(logfile) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true"]
    cmd += ["--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    # a log file, not a pipe: nobody reads a pipe during the run, and a full pipe would stall the server
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=logfile, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read().decode().strip() == "ok":
                return proc, url
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    logfile.seek(0)
    raise RuntimeError("streamlit did not become healthy in 90 s:\n" + logfile.read().decode(errors="replace")[-3000:])


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# ---------------------------------------------------------------- one session in the browser


async def wait_idle(pg, timeout=TIMEOUT_MS):
    """tests/test_browser.py's wait_idle, async: the app ran once, the cohort line is drawn, the run finished."""
    await pg.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stSidebarNavLink"]')]"""
        """.some(a => a.innerText.trim().endsWith('Overview'))""",
        timeout=timeout,
    )
    await pg.wait_for_function("() => document.body.innerText.includes(' — n = ')", timeout=timeout)
    await pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    await pg.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0", timeout=timeout
    )
    await pg.wait_for_timeout(300)
    await pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


class Session:
    def __init__(self, browser, url: str, idx: int, rng: random.Random, draw: bool = True):
        self.browser, self.url, self.idx, self.rng, self.draw = browser, url, idx, rng, draw
        self.ctx = self.pg = None
        self.changes: list[float] = []  # this session's own change latencies (ms)
        self.failures = 0

    async def open(self, url: str | None = None):
        if self.ctx is None:
            self.ctx = await self.browser.new_context(viewport={"width": 1280, "height": 800})
            if not self.draw:  # no plotly.js: the server's work for this page is the same, its drawing is not done
                await self.ctx.route("**/static/plotly*", lambda route: route.abort())
            self.pg = await self.ctx.new_page()
        await self.pg.goto(url or self.url, timeout=TIMEOUT_MS)
        await wait_idle(self.pg)

    async def leave(self) -> str:
        """Navigate away (the websocket closes, the server ends the session); returns the address to come back to
        (the filters live in it)."""
        here = self.pg.url
        await self.pg.goto("about:blank")
        return here

    async def close(self):
        if self.ctx is not None:
            await self.ctx.close()
            self.ctx = self.pg = None

    async def change(self, thumb: int, key: str) -> float:
        """Press ``key`` on slider thumb ``thumb``; ms from the keydown to the new cohort line with the run
        finished."""
        pg = self.pg
        await pg.evaluate(OBSERVER, await pg.evaluate(LINE_JS))
        await pg.evaluate(KEYDOWN_JS)
        loc = pg.locator(THUMBS).nth(thumb)
        await loc.focus()
        t0 = await pg.evaluate("() => performance.now()")
        await pg.keyboard.press(key)
        await pg.wait_for_function(
            "() => window.__bench.text !== null && window.__bench.end !== null", timeout=TIMEOUT_MS
        )
        r = await pg.evaluate("() => window.__bench")
        start = r["key"] if r.get("key") is not None else t0
        return max(r["text"], r["end"]) - start

    async def random_change(self) -> float | None:
        """A step of either thumb of the age slider in a direction that changes the selection."""
        vals = await self.pg.evaluate(
            f"() => [...document.querySelectorAll('{THUMBS}')].slice(0, 2).map(e => [+e.value, +e.min, +e.max])"
        )
        (lo, mn, mx), (hi, _, _) = vals
        moves = []
        if lo > mn:
            moves.append((0, "ArrowLeft"))
        if lo + 1 < hi:
            moves += [(0, "ArrowRight"), (1, "ArrowLeft")]
        if hi < mx:
            moves.append((1, "ArrowRight"))
        thumb, key = self.rng.choice(moves)
        try:
            ms = await self.change(thumb, key)
        except Exception as e:  # a timeout under load: counted, the room goes on
            self.failures += 1
            log(f"  session {self.idx}: change failed ({type(e).__name__}: {str(e)[:120]})")
            return None
        self.changes.append(ms)
        return ms

    async def busy(self, every: float, stop: asyncio.Event):
        """Change a filter every ``every`` s on average until ``stop``."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.rng.uniform(0.5, 1.5) * every)
                return
            except TimeoutError:
                pass
            await self.random_change()


async def gather_limited(coros, limit: int):
    sem = asyncio.Semaphore(limit)

    async def one(c):
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


# ---------------------------------------------------------------- the run


def fit_slope(xs: list[float], ys: list[float]) -> float:
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else float("nan")


def pct(v: list[float], q: float) -> float:
    """Percentile, linear between order statistics (numpy's default)."""
    s = sorted(v)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    f = math.floor(k)
    return s[f] + (s[min(f + 1, len(s) - 1)] - s[f]) * (k - f)


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def run(args, server_pid: int, url: str) -> dict:
    from playwright.async_api import async_playwright

    rng = random.Random(args.seed)
    out: dict = {"sessions": args.sessions, "changes": args.changes, "rounds": args.rounds, "every_s": args.every}
    out["others_draw"] = args.others_draw
    out["probe_before"] = probe_line("before")
    log(out["probe_before"])
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            return await _room(args, browser, server_pid, url, rng, out)
        finally:
            await browser.close()


async def _room(args, browser, server_pid, url, rng, out) -> dict:
    n = args.sessions
    mem = [{"sessions": 0, "state": "server started, no session yet", "rss_mb": rss_mb(server_pid)}]
    log(f"server RSS, no session: {mem[0]['rss_mb']:.0f} MB")
    me = Session(browser, url, 0, random.Random(rng.random()))
    t = time.perf_counter()
    await me.open()
    log(f"first session open in {time.perf_counter() - t:.1f} s")
    # warm-up: both of the measured user's selections computed and cached
    for key in ("ArrowRight", "ArrowLeft", "ArrowRight", "ArrowLeft"):
        await me.change(0, key)
    mem.append({"sessions": 1, "state": "opened, changed a filter", "rss_mb": rss_mb(server_pid)})
    others = [Session(browser, url, i, random.Random(rng.random()), draw=args.others_draw) for i in range(1, n)]
    marks = [m for m in (10, 20, 30, 40, 50, 60, 80, 100) if m < n] + [n]
    opened = 1
    t_open = time.perf_counter()
    for m in marks:
        if m <= opened:
            continue
        batch = others[opened - 1 : m - 1]
        t = time.perf_counter()
        await gather_limited([s.open() for s in batch], args.open_parallel)
        log(f"{m} sessions open (+{len(batch)} in {time.perf_counter() - t:.1f} s), load {loadavg()}")
        await asyncio.sleep(2)
        mem.append({"sessions": m, "state": "opened", "rss_mb": rss_mb(server_pid)})
        await gather_limited([s.random_change() for s in batch], args.open_parallel)
        await asyncio.sleep(2)
        mem.append({"sessions": m, "state": "opened, changed a filter", "rss_mb": rss_mb(server_pid)})
        log(f"  server RSS {mem[-2]['rss_mb']:.0f} MB opened, {mem[-1]['rss_mb']:.0f} MB after a change each")
        opened = m
    out["open_all_s"] = time.perf_counter() - t_open
    out["browser_rss_mb"] = browser_rss_mb(server_pid)
    after = [r for r in mem if r["state"] == "opened, changed a filter"]
    out["mb_per_session"] = fit_slope([r["sessions"] for r in after], [r["rss_mb"] for r in after])
    out["memory"] = mem

    per_round = math.ceil(args.changes / args.rounds)
    rounds, lat = [], {"alone": [], "idle": [], "busy": []}

    async def measure(cond: str):
        s0, b0 = cpu_seconds(server_pid)
        la0, t0 = loadavg(), time.perf_counter()
        ms = []
        for i in range(per_round):
            await asyncio.sleep(rng.uniform(0.8, 1.6))  # a user's pause; off the others' rhythm
            try:
                ms.append(await me.change(0, "ArrowRight" if i % 2 == 0 else "ArrowLeft"))
            except Exception as e:
                log(f"  measured change failed ({type(e).__name__}: {str(e)[:120]})")
                me.failures += 1
                # whatever happened, back to the two selections' rhythm from a settled page
                with contextlib.suppress(Exception):
                    await wait_idle(me.pg)
        if per_round % 2:  # leave the slider where it started
            await me.change(0, "ArrowLeft")
        s1, b1 = cpu_seconds(server_pid)
        wall = time.perf_counter() - t0
        r = {
            "condition": cond,
            "ms": ms,
            "median_ms": statistics.median(ms) if ms else None,
            "load_start": la0,
            "load_end": loadavg(),
            "wall_s": wall,
            "server_cpu_s": s1 - s0,
            "browser_cpu_s": b1 - b0,
        }
        lat[cond] += ms
        rounds.append(r)
        log(
            f"round {len(rounds):>2} {cond:<5}: median {r['median_ms'] or float('nan'):.0f} ms of {len(ms)}, "
            f"load {la0} → {r['load_end']}, CPU server {r['server_cpu_s']:.1f} s / browser {r['browser_cpu_s']:.1f} s "
            f"in {wall:.0f} s"
        )

    present, where = True, []

    async def others_leave():
        nonlocal present, where
        if others and present:  # the others leave (the websocket closes, their sessions end)
            where = await asyncio.gather(*(s.leave() for s in others))
            await asyncio.sleep(3)
        present = False

    async def others_back():
        nonlocal present
        if others and not present:  # back to the same addresses (their filters live in them)
            t = time.perf_counter()
            await gather_limited([s.open(u) for s, u in zip(others, where)], args.open_parallel)
            log(f"  {len(others)} sessions back in {time.perf_counter() - t:.1f} s, load {loadavg()}")
            await asyncio.sleep(5)  # their pages drawn, the browser quiet again
        present = True

    async def busy_round():
        stop = asyncio.Event()
        before = sum(len(s.changes) for s in others)
        tasks = [asyncio.create_task(s.busy(args.every, stop)) for s in others]
        try:
            await asyncio.sleep(args.every)  # the room is up to speed
            await measure("busy")
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
        rounds[-1]["others_changes"] = sum(len(s.changes) for s in others) - before

    # interleaved, the order reversed every other round (alone · idle · busy, busy · idle · alone, …): alone rounds
    # come before and after the crowded ones, and a slow or fast minute of the VM does not fall on one condition
    for r in range(args.rounds):
        for cond in ("alone", "idle", "busy") if r % 2 == 0 else ("busy", "idle", "alone"):
            if cond == "alone":
                await others_leave()
                await measure("alone")
            else:
                await others_back()
                await (busy_round() if cond == "busy" else measure("idle"))
    await others_back()
    out["memory_end"] = {"sessions": n, "rss_mb": rss_mb(server_pid), "peak_rss_mb": peak_rss_mb(server_pid)}
    out["rounds"] = rounds
    out["latency"] = {
        c: {"n": len(v), "median_ms": statistics.median(v) if v else None, "p90_ms": pct(v, 0.9) if v else None}
        for c, v in lat.items()
    }
    a = out["latency"]["alone"]["median_ms"]
    for c in ("idle", "busy"):
        m = out["latency"][c]["median_ms"]
        out["latency"][c]["ratio_to_alone"] = (m / a) if (a and m) else None
    oth = [ms for s in others for ms in s.changes]
    out["others"] = {
        "changes": len(oth),
        "failures": sum(s.failures for s in others),
        "median_ms": statistics.median(oth) if oth else None,
        "p90_ms": pct(oth, 0.9) if oth else None,
    }
    out["measured_failures"] = me.failures
    for s in [me, *others]:
        await s.close()
    out["probe_after"] = probe_line("after")
    log(out["probe_after"])
    return out


def report(out: dict) -> None:
    n = out["sessions"]
    print(out["probe_before"])
    draw = "draw their charts" if out["others_draw"] else "do not draw their charts (plotly.js blocked)"
    print(f"\nserver memory (RSS), {n} sessions on the default cohort, Overview page; the other pages {draw}:")
    for r in out["memory"]:
        print(f"  {r['sessions']:>3} sessions  {r['rss_mb']:7.0f} MB  ({r['state']})")
    e = out["memory_end"]
    print(f"  {n:>3} sessions  {e['rss_mb']:7.0f} MB  (after the latency rounds; peak {e['peak_rss_mb']:.0f} MB)")
    print(
        f"  → {out['mb_per_session']:.1f} MB per session (least-squares slope from 1 session on, after a change each);"
        f" Chromium: {out['browser_rss_mb'] / 1024:.1f} GB summed RSS for {n} pages"
    )
    print(
        "\nfilter change → new cohort line, run finished (ms), one user, rounds interleaved"
        f" (busy others: a change every ~{out['every_s']:g} s):"
    )
    print(
        f"  {'round':>5} {'condition':<6} {'median':>7} {'n':>3} {'load start → end':>32} {'CPU server':>11}"
        f" {'browser':>8} {'others':>7}"
    )
    for i, r in enumerate(out["rounds"], 1):
        med = f"{r['median_ms']:.0f}" if r["median_ms"] is not None else "—"
        oc = str(r.get("others_changes", "")) if r["condition"] == "busy" else ""
        print(
            f"  {i:>5} {r['condition']:<6} {med:>7} {len(r['ms']):>3} {r['load_start'] + ' → ' + r['load_end']:>32}"
            f" {r['server_cpu_s']:>10.1f}s {r['browser_cpu_s']:>7.1f}s {oc:>7}"
        )
    print(f"\n  {'condition':<44} {'n':>3} {'median':>7} {'p90':>7} {'× alone':>8}")
    names = {
        "alone": "alone (no other session)",
        "idle": f"{n - 1} others connected, idle",
        "busy": f"{n - 1} others changing a filter every ~{out['every_s']:g} s",
    }
    for c, name in names.items():
        L = out["latency"][c]
        ratio = L.get("ratio_to_alone")
        med = f"{L['median_ms']:.0f}" if L["median_ms"] is not None else "—"
        p90 = f"{L['p90_ms']:.0f}" if L["p90_ms"] is not None else "—"
        print(f"  {name:<44} {L['n']:>3} {med:>7} {p90:>7} {'' if ratio is None else f'{ratio:.2f}':>8}")
    o = out["others"]
    if o["changes"]:
        print(
            f"  (the others' own changes: {o['changes']}, median {o['median_ms']:.0f} ms, p90 {o['p90_ms']:.0f} ms,"
            f" {o['failures']} timed out; the measured user's: {out['measured_failures']} timed out)"
        )
    ncpu = os.cpu_count() or 1
    for c in ("alone", "idle", "busy"):
        rs = [r for r in out["rounds"] if r["condition"] == c]
        wall, srv, brw = (sum(r[k] for r in rs) for k in ("wall_s", "server_cpu_s", "browser_cpu_s"))
        print(
            f"  CPU in the {c} rounds: server {srv:.0f} s, browser (Chromium, Playwright) {brw:.0f} s,"
            f" of {wall * ncpu:.0f} s ({wall:.0f} s × {ncpu} cores)"
        )
    print(out["probe_after"])
    L = out["latency"]
    print(
        f"\nsummary: {out['mb_per_session']:.1f} MB of server memory per session; one user's filter change "
        f"{L['alone']['median_ms']:.0f} ms alone, {L['idle']['median_ms']:.0f} ms with {n - 1} others idle "
        f"({L['idle']['ratio_to_alone']:.2f} ×), {L['busy']['median_ms']:.0f} ms with {n - 1} others changing "
        f"filters ({L['busy']['ratio_to_alone']:.2f} ×), medians"
    )


def _interrupted(*_):
    raise KeyboardInterrupt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=30, help="browser sessions, the measured one included")
    ap.add_argument("--changes", type=int, default=15, help="measured filter changes per condition (at least)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of each condition")
    ap.add_argument("--every", type=float, default=5.0, help="busy others: seconds between changes, on average")
    ap.add_argument("--open-parallel", type=int, default=4, help="sessions opened at once")
    ap.add_argument(
        "--others-draw",
        action="store_true",
        help="the other pages draw their charts too (default: plotly.js blocked in their pages: in a room each "
        "laptop draws its own, here they would share the server's 2 cores)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON instead of the table")
    args = ap.parse_args()
    if args.sessions < 2:
        ap.error("--sessions must be at least 2")
    if not Path(CHROMIUM).exists():
        sys.exit(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    # `timeout` or a kill: stop the server and the browser on the way out, as for Ctrl-C
    signal.signal(signal.SIGTERM, _interrupted)
    t = time.perf_counter()
    with tempfile.TemporaryFile() as logfile:
        proc, url = start_server(logfile)
        try:
            out = asyncio.run(run(args, proc.pid, url))
        finally:
            stop_server(proc)
            logfile.seek(0)
            lines = logfile.read().decode(errors="replace").splitlines()
        out["server_log_lines"] = len(lines)
        out["server_log_tail"] = lines[-5:]
    out["run_s"] = time.perf_counter() - t
    out["command"] = " ".join(["benchmarks/bench_room.py", *sys.argv[1:]])
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        report(out)
        print(f"run took {out['run_s'] / 60:.1f} min; server log: {len(lines)} lines" + (":" if lines else ""))
        for ln in lines[-5:]:
            print("  " + ln)


if __name__ == "__main__":
    main()
