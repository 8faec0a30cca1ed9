"""Benchmark: every step of the app at growing cohort sizes, in one run, as a table for README.md.

    .venv/bin/python benchmarks/bench_scale.py --sizes 46,1000,10000,100000 [--markdown FILE]

For each size (46 = the shipped default cohort, data/default_cohort; any other size is a synthetic resample,
``python -m misc_dash synth --patients N``, kept in --out-dir and reused when present):

- **synth**: wall time of ``python -m misc_dash synth --patients N --out DIR`` (into a scratch folder when the
  cohort is reused; --skip-synth-time skips it);
- **load** (a subprocess per load, its own peak RSS): ``misc_dash.loading.load_cohort`` with ``MISC_DASH_CACHE=off``
  (CSV only), with a fresh empty cache folder (cold: CSV, then the cache is written) and again with that folder
  (cached);
- **analyses** (a subprocess per size): the patient frame, ``prepare`` and every analysis of
  ``misc_dash.analyses.ANALYSES`` (echo for both measures) on the whole cohort (``CohortFilter()``), compared by
  treatment (three groups) and by anakinra (two groups);
- **analyze**: wall time and peak RSS of ``python -m misc_dash analyze --json --data DIR``, cold (fresh cache
  folder) and warm (filled cache folder);
- **browser** (headless Chromium, /usr/bin/chromium): ``streamlit run app.py`` with ``MISC_DASH_COHORT=DIR``:
  first paint (navigation → the cohort line, → the first chart drawn) in a first browser context (the server has
  not opened the cohort yet; its MISC_DASH_CACHE is the folder the loads filled) and a second one (the server has
  it in memory); then each page opened from the sidebar (click →
  rerun finished and charts drawn), and ``--repeat`` filter changes per page, each a selection not seen before
  (the age slider's two thumbs walk a path that never returns to an earlier range): key press → rerun finished and
  charts redrawn. Per page also: browser long tasks (PerformanceObserver 'longtask'), exceptions shown
  (``stException`` or the app's "could not be drawn" box), uncaught page errors, the websocket bytes the browser
  received per filter change and the figure JSON the in-place charts hold (``ui/plot.py``'s spec).
- a trivial one-slider app (written to a temporary file, same server config) measured in the same browser: slider
  change → repaint, the floor a filter change on the default cohort is compared to.

"Repaint" is the later of the rerun's end and the last change inside a chart. Medians of --repeat where cheap: a
subprocess step whose first run takes longer than --cheap seconds (an analysis: the smaller of --cheap and 5) is
not repeated. The machine probe
(benchmarks/machine.py) is printed before, between sizes and after. Prints figures, a markdown table (steps as
rows, sizes as columns) and the ratio checks against the targets of issue 15; asserts nothing (exit 0).

Options: --sizes, --repeat, --skip-browser, --pages (names as in the sidebar's addresses, overview = the root),
--out-dir (synthetic cohorts, default /tmp/coh: sN per size), --markdown FILE, --timeout (seconds per wait),
--cheap, --skip-synth-time.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import probe_line

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_N = 46
DEFAULT_DIR = ROOT / "data" / "default_cohort"
CHROMIUM = "/usr/bin/chromium"
GROUPINGS = ("treatment", "anakinra")
CHART = '.misc-dash-plot, [data-testid="stPlotlyChart"]'
MB = 1024 * 1024


# ============================================================================================ small helpers
def med(values):
    v = [x for x in values if x is not None]
    return statistics.median(v) if v else None


def say(*parts) -> None:
    print(*parts, flush=True)


def fmt_n(n: int) -> str:
    return f"{n:,}"


def fmt(v, unit: str) -> str:
    """A figure for the table: seconds, milliseconds, MB, kB or a count; "—" when not measured."""
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if unit == "s":
        return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"
    if unit == "ms":
        return f"{v:.1f}" if v < 10 else f"{v:.0f}"
    if unit in ("MB", "kB"):
        return f"{v:.1f}" if v < 10 else f"{v:.0f}"
    return f"{v:g}"


class StepFailed(Exception):
    """A step could not be measured: reported, and the run goes on with the next one."""


@dataclass
class ChildResult:
    wall: float  # seconds, from start to exit (interpreter start and imports included)
    rss_mb: float  # the child's peak resident set size
    rc: int
    out: str
    err: str


def run_child(cmd: list[str], env: dict, timeout: float, cwd: Path = ROOT, on_line=None) -> ChildResult:
    """Run ``cmd`` and measure its wall time and its own peak RSS (``os.wait4``: this child only, not the
    maximum over every child so far as ``RUSAGE_CHILDREN`` would give). ``on_line`` gets stdout lines live."""
    with tempfile.TemporaryFile() as err_f, tempfile.TemporaryFile() as out_f:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=subprocess.PIPE if on_line else out_f, stderr=err_f, start_new_session=True
        )
        timer = threading.Timer(timeout, lambda: _kill_group(proc))
        timer.start()
        lines = []
        try:
            if on_line:
                for raw in proc.stdout:
                    line = raw.decode(errors="replace")
                    lines.append(line)
                    on_line(line)
                proc.stdout.close()
            _, status, ru = os.wait4(proc.pid, 0)
        except BaseException:  # interrupted (Ctrl-C): the child is in its own session, end it too
            _kill_group(proc)
            raise
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_f.seek(0)
        err_f.seek(0)
        out = "".join(lines) if on_line else out_f.read().decode(errors="replace")
        return ChildResult(wall, ru.ru_maxrss / 1024, proc.returncode, out, err_f.read().decode(errors="replace"))


def _kill_group(proc) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def child_env(**extra) -> dict:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / MB if path.exists() else 0.0


# ============================================================================================ analyses
def analysis_steps() -> list[tuple[str, str, dict]]:
    """(label, registry name, parameters) for every registered analysis and every value of its parameters."""
    from misc_dash.analyses import ANALYSES

    out = []
    for name, spec in ANALYSES.items():
        keys = list(spec.params)
        for values in itertools.product(*(spec.params[k] for k in keys)):
            params = dict(zip(keys, values))
            out.append((" ".join([name, *map(str, values)]), name, params))
    return out


def _timed(fn, repeat: int, cheap: float):
    """fn's result and the median of up to ``repeat`` runs (one run when the first takes over ``cheap`` s)."""
    t0 = time.perf_counter()
    out = fn()
    ts = [time.perf_counter() - t0]
    while len(ts) < repeat and ts[0] <= cheap:
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return out, statistics.median(ts), len(ts)


def analysis_timings(cohort, groupings=GROUPINGS, repeat: int = 3, cheap: float = 5.0) -> Iterator[dict]:
    """Time the patient frame, ``prepare`` and every registered analysis of the whole (unfiltered) cohort under
    each grouping; yields one record per step (``s`` = median seconds, ``runs``, ``error`` if it raised)."""
    from misc_dash import analyses as A
    from misc_dash import derive
    from misc_dash.filters import CohortFilter

    pf, t, k = _timed(lambda: derive.patient_frame(cohort), repeat, cheap)
    yield {"step": "patient_frame", "grouping": None, "s": t, "runs": k}
    for grouping in groupings:
        try:
            ctx, t, k = _timed(lambda g=grouping: A.prepare(cohort, CohortFilter(), g, pf_all=pf), repeat, cheap)
        except A.AnalysisError as exc:
            yield {"step": "prepare", "grouping": grouping, "s": None, "runs": 0, "error": str(exc)}
            continue
        sizes = ctx.group_sizes()
        yield {"step": "prepare", "grouping": grouping, "s": t, "runs": k, "groups": sizes}
        for label, name, params in analysis_steps():
            try:
                _, t, k = _timed(lambda n=name, p=params, c=ctx: A.run(n, c, A.AnalysisOptions(), **p), repeat, cheap)
                yield {"step": label, "grouping": grouping, "s": t, "runs": k}
            except Exception as exc:  # a benchmark reports a failing analysis and goes on
                yield {"step": label, "grouping": grouping, "s": None, "runs": 0, "error": f"{type(exc).__name__}"}


def _child_load(path: str) -> None:
    t0 = time.perf_counter()
    from misc_dash.loading import load_cohort

    t1 = time.perf_counter()
    cohort = load_cohort(path)
    t2 = time.perf_counter()
    print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "n": cohort.n_patients, "fp": cohort.fingerprint}))


def _child_analyses(path: str, repeat: int, cheap: float) -> None:
    from misc_dash.loading import load_cohort

    t0 = time.perf_counter()
    cohort = load_cohort(path)
    print(json.dumps({"step": "load", "s": time.perf_counter() - t0, "n": cohort.n_patients}), flush=True)
    for rec in analysis_timings(cohort, GROUPINGS, repeat, cheap):
        print(json.dumps(rec), flush=True)


# ============================================================================================ command-line steps
@dataclass
class Ctx:
    args: argparse.Namespace
    tmp: Path
    results: dict = field(default_factory=dict)  # size → {row key: value}
    probes: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def put(self, n: int, key: str, value) -> None:
        self.results.setdefault(n, {})[key] = value

    def fresh_cache(self, tag: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"cache-{tag}-", dir=self.tmp))


def attempt(c: Ctx, label: str, fn, *args):
    """fn(*args), or None when it fails (reported as a note; the run goes on)."""
    try:
        return fn(*args)
    except Exception as exc:
        msg = f"{label}: not measured: {type(exc).__name__}: {str(exc)[:1500]}"
        c.notes.append(msg)
        say(msg)
        return None


def probe(c: Ctx, when: str) -> None:
    line = probe_line(when)
    c.probes.append(line)
    say(line)


def cohort_dir(c: Ctx, n: int) -> Path:
    """The cohort folder of size n: the shipped default for 46, else a synthetic one (made if missing)."""
    if n == DEFAULT_N:
        c.put(n, "synth", "—")
        return DEFAULT_DIR
    out = Path(c.args.out_dir) / f"s{n}"
    meta = out / "metadata.json"
    made = json.loads(meta.read_text(encoding="utf-8")).get("name", "") if meta.is_file() else ""
    present = (out / "patients.csv").is_file() and f"N={n}," in made
    if present and c.args.skip_synth_time:
        say(f"[{fmt_n(n)}] synth: reusing {out}, {made!r} (not timed)")
        return out
    target = Path(tempfile.mkdtemp(prefix=f"synth-{n}-", dir=c.tmp)) if present else out
    cmd = [sys.executable, "-m", "misc_dash", "synth", "--patients", str(n), "--out", str(target)]
    r = run_child(cmd, child_env(), c.args.timeout)
    if r.rc != 0:
        raise StepFailed(f"synth {n} failed ({r.rc}): {r.err[-2000:]}")
    c.put(n, "synth", r.wall)
    c.put(n, "synth_rss", r.rss_mb)
    say(
        f"[{fmt_n(n)}] synth: {r.wall:.2f} s, peak RSS {r.rss_mb:.0f} MB"
        + (f" (reusing {out}, {made!r})" if present else "")
    )
    if present:
        shutil.rmtree(target, ignore_errors=True)
    return out


def _repeat_child(c: Ctx, make, repeat: int) -> list[ChildResult]:
    """Run make() → (cmd, env) up to repeat times (once when the first run is over --cheap s)."""
    runs = []
    while len(runs) < repeat and (not runs or runs[0].wall <= c.args.cheap):
        cmd, env = make(len(runs))
        r = run_child(cmd, env, c.args.timeout)
        if r.rc != 0:
            raise StepFailed(f"{' '.join(cmd)} failed ({r.rc}):\n{r.err[-3000:]}")
        runs.append(r)
    return runs


def load_steps(c: Ctx, n: int, path: Path) -> Path:
    """CSV only, cold cache, cached; returns the filled (warm) cache folder of this cohort."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child-load", str(path)]
    rep = c.args.repeat
    warm = c.fresh_cache(f"warm-{n}")

    def row(key, runs):
        loads = [json.loads(r.out.strip().splitlines()[-1]) for r in runs]
        t, wall, rss = med(x["load_s"] for x in loads), med(r.wall for r in runs), max(r.rss_mb for r in runs)
        c.put(n, f"{key}", t)
        c.put(n, f"{key}_rss", rss)
        say(
            f"[{fmt_n(n)}] {key}: load_cohort {t:.3f} s (process {wall:.2f} s), peak RSS {rss:.0f} MB, "
            f"{len(runs)} run(s), n = {loads[0]['n']}"
        )
        return loads

    row("load_off", _repeat_child(c, lambda i: (cmd, child_env(MISC_DASH_CACHE="off")), rep))
    colds = []

    def cold(i):
        d = warm if i == 0 else c.fresh_cache(f"cold-{n}")
        colds.append(d)
        return cmd, child_env(MISC_DASH_CACHE=d)

    row("load_cold", _repeat_child(c, cold, rep))
    written = dir_mb(warm)
    c.put(n, "cache_mb", written)
    for d in colds[1:]:
        shutil.rmtree(d, ignore_errors=True)
    row("load_cached", _repeat_child(c, lambda i: (cmd, child_env(MISC_DASH_CACHE=warm)), rep))
    if written == 0:
        c.notes.append(f"{fmt_n(n)}: a cold load wrote nothing to MISC_DASH_CACHE (no cache for this cohort)")
    say(f"[{fmt_n(n)}] cache folder after a cold load: {written:.1f} MB")
    return warm


def analyses_step(c: Ctx, n: int, path: Path, warm: Path) -> None:
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--child-analyses", str(path),
        "--repeat", str(c.args.repeat), "--cheap", str(c.args.cheap),
    ]  # fmt: skip
    totals = dict.fromkeys(GROUPINGS, 0.0)

    def on_line(line: str) -> None:
        try:
            rec = json.loads(line)
        except ValueError:
            return
        g, step, t = rec.get("grouping"), rec["step"], rec.get("s")
        if step == "load":
            return
        key = f"an:{step}" + (f":{g}" if g else "")
        c.put(n, key, None if t is None else t * 1000)
        if g and t is not None:
            totals[g] += t
        extra = f" groups {rec['groups']}" if "groups" in rec else ""
        extra += f" ERROR {rec['error']}" if rec.get("error") else ""
        shown = "—" if t is None else f"{t * 1000:.1f} ms"
        say(f"[{fmt_n(n)}] analysis {step:<22} {g or '':<10} {shown:>10} ({rec['runs']} run(s)){extra}")

    r = run_child(cmd, child_env(MISC_DASH_CACHE=warm), c.args.timeout, on_line=on_line)
    if r.rc != 0:
        say(f"[{fmt_n(n)}] analyses child failed ({r.rc}): {r.err[-2000:]}")
    for g, t in totals.items():
        c.put(n, f"an_total:{g}", t * 1000)
    c.put(n, "an_rss", r.rss_mb)
    say(f"[{fmt_n(n)}] analyses: all of them {totals} s; child peak RSS {r.rss_mb:.0f} MB")


def analyze_step(c: Ctx, n: int, path: Path, warm: Path) -> None:
    cmd = [sys.executable, "-m", "misc_dash", "analyze", "--json", "--data", str(path)]
    made = []

    def cold(i):
        made.append(c.fresh_cache(f"analyze-{n}"))
        return cmd, child_env(MISC_DASH_CACHE=made[-1])

    for key, runs in (
        ("analyze_cold", _repeat_child(c, cold, c.args.repeat)),
        ("analyze_warm", _repeat_child(c, lambda i: (cmd, child_env(MISC_DASH_CACHE=warm)), c.args.repeat)),
    ):
        t, rss = med(r.wall for r in runs), max(r.rss_mb for r in runs)
        c.put(n, key, t)
        c.put(n, f"{key}_rss", rss)
        c.put(n, "analyze_kb", len(runs[0].out.encode()) / 1024)
        say(
            f"[{fmt_n(n)}] {key}: {t:.2f} s, peak RSS {rss:.0f} MB, {len(runs)} run(s), "
            f"{len(runs[0].out) / 1024:.0f} kB of JSON"
        )
    for d in made:
        shutil.rmtree(d, ignore_errors=True)


# ============================================================================================ browser
INIT_SCRIPT = """
(() => {
  const w = window;
  w.__lt = [];
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) w.__lt.push([e.startTime, e.duration]); })
      .observe({type: 'longtask', buffered: true});
  } catch (e) { w.__ltError = String(e); }
  // the cohort line's first appearance; the first chart's first drawing (.main-svg) and the last change inside
  // any chart until they have been quiet for 3 s (plotly draws in several tasks)
  const p = w.__paint = {line: null, chart: null, chartLast: null, text: null};
  const mo = new MutationObserver((recs) => {
    const now = performance.now();
    if (p.line === null) {
      for (const e of document.querySelectorAll('strong')) {
        if (e.textContent.includes(' — n = ')) { p.line = now; p.text = e.textContent; break; }
      }
    }
    if (p.chart === null && document.querySelector(
        '.misc-dash-plot .main-svg, [data-testid="stPlotlyChart"] .main-svg')) p.chart = now;
    if (p.chart !== null) {
      for (const r of recs) {
        const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
        if (el && el.closest && el.closest('__CHART__')) { p.chartLast = now; break; }
      }
    }
    if ((p.line !== null && p.chartLast !== null && now - p.chartLast > 3000) || now > 900000) mo.disconnect();
  });
  mo.observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
})();
""".replace("__CHART__", CHART)

# after a key press or a sidebar click: when the cohort line changed, the last change in a chart, the rerun's end
OBSERVER = """
([oldLine, targetPath]) => {
  const b = window.__bench = {text: null, charts: null, end: null, last: null, running: null};
  const app = document.querySelector('[data-testid="stApp"]');
  const main = () => document.querySelector('[data-testid="stMain"]') || document.body;
  const line = () => {
    for (const e of main().querySelectorAll('strong')) { if (e.textContent.includes(' — n = ')) return e.textContent; }
    return null;
  };
  const onTarget = () => targetPath === null || location.pathname.replace(/\\/+$/, '') === targetPath;
  new MutationObserver((recs) => {
    const now = performance.now();
    b.last = now;
    const state = app.getAttribute('data-test-script-state');
    if (state === 'running' && b.running === null) b.running = now;
    if (b.text === null) { const l = line(); if (l !== null && l !== oldLine) b.text = now; }
    for (const r of recs) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (el && el.closest && el.closest('__CHART__')) b.charts = now;
      if (r.type === 'attributes' && r.attributeName === 'data-test-script-state'
          && r.oldValue === 'running' && b.end === null && onTarget()) b.end = now;
    }
    // a fast rerun's "running" and "finished" can land in one React render: the attribute never shows "running";
    // a page switch changes the address when the new page's run starts
    if (b.end === null && state === 'notRunning' && onTarget()
        && (b.running !== null || (targetPath !== null ? location.pathname !== b.from : b.text !== null))) b.end = now;
  }).observe(document.body,
             {subtree: true, childList: true, characterData: true, attributes: true, attributeOldValue: true});
  b.from = location.pathname;
}
""".replace("__CHART__", CHART)

READY = """
(quiet) => {
  const b = window.__bench;
  if (b.end === null) return false;
  for (const d of document.querySelectorAll('.misc-dash-plot')) {
    if (d.__miscSpec && !d.querySelector('.main-svg') && !d.textContent) return false;
  }
  if (document.querySelectorAll('[data-testid="stSkeleton"]').length) return false;
  return performance.now() - Math.max(b.last, b.end) >= quiet;
}
"""

PAGE_STATE = """
() => {
  const specs = [...document.querySelectorAll('.misc-dash-plot')].map(
    (d) => (d.__miscSpec ? new TextEncoder().encode(d.__miscSpec).length : 0));
  const failed = [...document.querySelectorAll('[data-testid="stAlert"]')].filter(
    (e) => e.textContent.includes('could not be drawn')).length;
  let line = null;
  for (const e of (document.querySelector('[data-testid="stMain"]') || document.body).querySelectorAll('strong')) {
    if (e.textContent.includes(' — n = ')) { line = e.textContent; break; }
  }
  return {specs, charts: document.querySelectorAll('__CHART__').length,
          exceptions: document.querySelectorAll('[data-testid="stException"]').length + failed,
          line, now: performance.now()};
}
""".replace("__CHART__", CHART)

TRIVIAL_APP = """import streamlit as st

lo, hi = st.sidebar.slider("Age (years)", 1, 17, (1, 17))
st.markdown(f"**Ages {lo} to {hi} — n = {hi - lo + 1}**")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(script: Path, env: dict, log: Path, timeout: float):
    """``streamlit run script`` on a free port (the repository's .streamlit/config.toml applies); yields
    (url, process)."""
    port = _free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with open(log, "wb") as log_f:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log_f, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + min(timeout, 120)
            while True:
                try:
                    if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read().decode().strip() == "ok":
                        break
                except OSError:
                    pass
                if time.time() > deadline or proc.poll() is not None:
                    raise StepFailed(f"streamlit did not start:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.3)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                proc.wait()


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Browser:
    """One Chromium for the whole run; counts websocket bytes received and uncaught page errors per page."""

    def __init__(self, pw, timeout: float):
        import test_browser as tb

        self.timeout_ms = int(timeout * 1000)
        self.browser = pw.chromium.launch(executable_path=CHROMIUM, args=tb.LAUNCH_ARGS)
        self.ws_bytes = 0
        self.page_errors = 0

    def new_page(self, paint: bool = True):
        ctx = self.browser.new_context(viewport={"width": 1600, "height": 1100})
        if paint:
            ctx.add_init_script(INIT_SCRIPT)
        pg = ctx.new_page()
        pg.set_default_timeout(self.timeout_ms)
        pg.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        pg.on("pageerror", lambda exc: self._error())
        return pg

    def _frame(self, payload) -> None:
        self.ws_bytes += len(payload.encode() if isinstance(payload, str) else payload)

    def _error(self) -> None:
        self.page_errors += 1

    def close(self) -> None:
        self.browser.close()


def first_paint(br: Browser, url: str) -> tuple[dict, object]:
    """Navigation → cohort line and → first chart drawn, in ms from the navigation's start (a new context)."""
    pg = br.new_page()
    pg.goto(url + "/", wait_until="commit", timeout=br.timeout_ms)
    pg.wait_for_function(
        "() => { const p = window.__paint; return p && p.line !== null && p.chartLast !== null"
        " && performance.now() - p.chartLast > 1000; }",
        timeout=br.timeout_ms,
        polling=100,
    )
    p = pg.evaluate("() => window.__paint")
    p["chart_first"], p["chart"] = p["chart"], max(p["chart"], p["chartLast"])
    lt = pg.evaluate("() => window.__lt")
    p["longtask_max"] = max((d for _, d in lt), default=0)
    m = re.search(r"n = ([\d,]+)", p.get("text") or "")
    p["shown_n"] = int(m.group(1).replace(",", "")) if m else None
    return p, pg


def _thumbs(pg):
    return pg.locator('[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]')


def slider_path(lo0: int, hi0: int, steps: int) -> list[tuple[int, int]]:
    """Key presses (thumb 0 = start / 1 = end, +1 / -1) from the range (lo0, hi0) through a rectangle of ranges,
    row by row (the start thumb walks up, the end thumb steps down one, the start thumb walks back, …), so no
    range is visited twice while the rectangle lasts; past it, the start thumb goes back and forth."""
    span = hi0 - lo0
    cols = max(2, min(span // 2 + 1, math.ceil(math.sqrt(steps + 1))))  # start values lo0 … lo0 + cols - 1
    rows = max(1, min(math.ceil((steps + 1) / cols), span - cols + 1))  # end values hi0, hi0 - 1, …
    moves: list[tuple[int, int]] = []
    for r in range(rows):
        moves += [(0, 1 if r % 2 == 0 else -1)] * (cols - 1)
        if r < rows - 1:
            moves.append((1, -1))
    last = 1 if rows % 2 == 1 else -1  # the start thumb's direction on the last row
    while len(moves) < steps:
        last = -last
        moves.append((0, last))
    return moves[:steps]


@dataclass
class StepResult:
    text: float | None
    charts: float | None
    end: float | None
    last: float | None
    ws_bytes: int
    state: dict

    @property
    def repaint(self) -> float | None:
        v = [x for x in (self.charts, self.end) if x is not None]
        return max(v) if v else None


def _measure(br: Browser, pg, action, target_path: str | None, quiet_ms: int = 1000) -> StepResult:
    old = pg.evaluate(PAGE_STATE)["line"]
    pg.evaluate(OBSERVER, [old, target_path])
    ws0 = br.ws_bytes
    t0 = pg.evaluate("() => performance.now()")
    action()
    pg.wait_for_function(READY, arg=quiet_ms, timeout=br.timeout_ms, polling=100)
    r = pg.evaluate("() => window.__bench")
    state = pg.evaluate(PAGE_STATE)
    vals = {k: (None if r[k] is None else r[k] - t0) for k in ("text", "charts", "end", "last")}
    return StepResult(**vals, ws_bytes=br.ws_bytes - ws0, state=state)


def filter_step(br: Browser, pg, move: tuple[int, int]) -> StepResult:
    thumb = _thumbs(pg).nth(move[0])

    def press():
        thumb.focus()
        pg.keyboard.press("ArrowRight" if move[1] > 0 else "ArrowLeft")

    return _measure(br, pg, press, None)


def nav_links(pg) -> list[tuple[str, str, int]]:
    """(name, path) of every page in the sidebar navigation, the root page named 'overview'."""
    links = pg.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stSidebarNavLink"]')]"""
        """.map(a => new URL(a.href).pathname.replace(/\\/+$/, ''))"""
    )
    return [(p.rsplit("/", 1)[-1] or "overview", p, i) for i, p in enumerate(links)]


def open_page(br: Browser, pg, index: int, path: str) -> StepResult:
    """Click the sidebar's link number ``index`` (the page at ``path``): click → rerun finished, charts drawn."""
    link = pg.locator('[data-testid="stSidebarNavLink"]').nth(index)
    return _measure(br, pg, lambda: link.click(), path)


def trivial_app(c: Ctx, br: Browser, steps: int) -> list[float]:
    script = c.tmp / "trivial_app.py"
    script.write_text(TRIVIAL_APP, encoding="utf-8")
    with serve(script, child_env(), c.tmp / "trivial.log", c.args.timeout) as (url, _):
        pg = br.new_page(paint=False)
        pg.goto(url + "/")
        pg.wait_for_function("() => document.body.innerText.includes(' — n = ')")
        pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
        pg.wait_for_timeout(500)
        lo, hi = (int(_thumbs(pg).nth(i).get_attribute(a)) for i, a in ((0, "min"), (0, "max")))
        rows = [filter_step(br, pg, m) for m in slider_path(lo, hi, steps + 1)][1:]  # the first warms up
        pg.context.close()
    return [r.repaint for r in rows]


def browser_size(c: Ctx, br: Browser, n: int, path: Path, warm: Path) -> None:
    env = child_env(MISC_DASH_COHORT=path, MISC_DASH_CACHE=warm)
    wanted = None if c.args.pages == "all" else [p.strip() for p in c.args.pages.split(",") if p.strip()]
    errors0 = br.page_errors
    with serve(ROOT / "app.py", env, c.tmp / f"app-{n}.log", c.args.timeout) as (url, proc):
        p1, pg1 = first_paint(br, url)
        pg1.context.close()
        p2, pg = first_paint(br, url)
        for key, p in (("fp_new", p1), ("fp_warm", p2)):
            c.put(n, f"{key}_line", p["line"])
            c.put(n, f"{key}_chart", p["chart"])
            c.put(n, f"{key}_lt", p["longtask_max"])
            say(
                f"[{fmt_n(n)}] first paint ({'the server opens the cohort' if key == 'fp_new' else 'server warm'}): "
                f"cohort line {p['line']:.0f} ms, first chart drawn {p['chart']:.0f} ms "
                f"(begun {p['chart_first']:.0f}); "
                f"longest task {p['longtask_max']:.0f} ms; the app shows {p['text']!r}"
            )
        c.put(n, "shown_n", p2["shown_n"])
        if p2["shown_n"] != n:
            c.notes.append(
                f"{fmt_n(n)}: the app showed n = {p2['shown_n']}, not {fmt_n(n)} (MISC_DASH_COHORT not honoured?): "
                "its browser figures are for that cohort"
            )
        pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
        pg.wait_for_timeout(500)
        pages = nav_links(pg)
        if wanted is not None:
            unknown = sorted(set(wanted) - {name for name, _, _ in pages})
            if unknown:
                c.notes.append(f"{fmt_n(n)}: --pages {unknown} not in the sidebar ({[x for x, _, _ in pages]})")
            pages = [p for p in pages if p[0] in wanted]
        here = pg.evaluate("() => location.pathname.replace(/\\/+$/, '')")
        pages = [p for p in pages if p[1] != here] + [p for p in pages if p[1] == here]  # the open page last
        lo, hi = (int(_thumbs(pg).nth(0).get_attribute(a)) for a in ("min", "max"))
        moves = iter(slider_path(lo, hi, len(pages) * c.args.repeat))
        for name, p, index in pages:
            lt0 = pg.evaluate("() => window.__lt.length")
            err0 = br.page_errors
            try:
                opened = open_page(br, pg, index, p)
                steps = [filter_step(br, pg, next(moves)) for _ in range(c.args.repeat)]
            except Exception as exc:  # a timeout on one page: report it, go on with the next
                c.notes.append(f"{fmt_n(n)}: page {name} not measured: {type(exc).__name__}: {str(exc)[:300]}")
                say(f"[{fmt_n(n)}] page {name}: not measured ({type(exc).__name__})")
                continue
            lt = pg.evaluate("(i) => window.__lt.slice(i)", lt0)
            specs = [sum(s.state["specs"]) for s in steps] + [sum(opened.state["specs"])]
            biggest = max([max(s.state["specs"], default=0) for s in [*steps, opened]], default=0)
            exc = max(s.state["exceptions"] for s in [*steps, opened])
            long1 = [d for _, d in lt if d > 1000]
            rec = {
                "open": opened.repaint,
                "repaint": med(s.repaint for s in steps),
                "text": med(s.text for s in steps),
                "charts_ms": med(s.charts for s in steps),
                "end": med(s.end for s in steps),
                "sent": med(s.ws_bytes for s in steps) / 1024,
                "sent_open": opened.ws_bytes / 1024,
                "chart_kb": max(specs) / 1024,
                "chart_max_kb": biggest / 1024,
                "charts": opened.state["charts"],
                "lt_count": len(long1),
                "lt_max": max((d for _, d in lt), default=0),
                "exceptions": exc,
                "page_errors": br.page_errors - err0,
            }
            for k, v in rec.items():
                c.put(n, f"{k}:{name}", v)
            say(
                f"[{fmt_n(n)}] page {name:<11} open {fmt(rec['open'], 'ms'):>6} ms (run end {fmt(opened.end, 'ms')}, "
                f"{fmt(opened.ws_bytes / 1024, 'kB')} kB received) | filter change, median of {len(steps)}: repaint "
                f"{fmt(rec['repaint'], 'ms'):>6} ms (cohort line {fmt(rec['text'], 'ms')}, charts "
                f"{fmt(rec['charts_ms'], 'ms')}, run end {fmt(rec['end'], 'ms')}), {rec['sent']:.1f} kB received"
            )
            say(
                f"[{fmt_n(n)}]      {name:<11} {rec['charts']} chart(s), {rec['chart_kb']:.1f} kB figure JSON (largest "
                f"{rec['chart_max_kb']:.1f}) | long tasks: max {rec['lt_max']:.0f} ms, {rec['lt_count']} over 1 s | "
                f"exceptions {exc}, page errors {rec['page_errors']}"
            )
        pg.context.close()
        rss = peak_rss_mb(proc.pid)
        c.put(n, "server_rss", rss)
        log = (c.tmp / f"app-{n}.log").read_text(errors="replace")
        c.put(n, "server_errors", len(re.findall(r"page failed|Traceback", log)))
        c.put(n, "page_errors", br.page_errors - errors0)
        say(
            f"[{fmt_n(n)}] streamlit server peak RSS {fmt(rss, 'MB')} MB; "
            f"'page failed' / tracebacks in its log: {c.results[n]['server_errors']}"
        )


# ============================================================================================ report
def table_rows(c: Ctx, sizes: list[int]) -> list[tuple[str, list[str]]]:
    R = {n: c.results.get(n, {}) for n in sizes}

    def row(label, key, unit):
        return label, [fmt(R[n].get(key), unit) for n in sizes]

    def pair(label, k1, k2, u1, u2=None):
        return label, [f"{fmt(R[n].get(k1), u1)} / {fmt(R[n].get(k2), u2 or u1)}" for n in sizes]

    rows = [
        row("synth (s)", "synth", "s"),
        pair("load, CSV only (s) / peak RSS (MB)", "load_off", "load_off_rss", "s", "MB"),
        pair("load, cold cache (s) / peak RSS (MB)", "load_cold", "load_cold_rss", "s", "MB"),
        pair("load, cached (s) / peak RSS (MB)", "load_cached", "load_cached_rss", "s", "MB"),
        row("cache written (MB)", "cache_mb", "MB"),
        row("patient frame (ms)", "an:patient_frame", "ms"),
        pair("prepare, treatment / anakinra (ms)", "an:prepare:treatment", "an:prepare:anakinra", "ms"),
    ]
    for label, _, _ in analysis_steps():
        rows.append(pair(f"{label}, treatment / anakinra (ms)", f"an:{label}:treatment", f"an:{label}:anakinra", "ms"))
    rows += [
        pair("all analyses, treatment / anakinra (ms)", "an_total:treatment", "an_total:anakinra", "ms"),
        pair("analyze --json, cold cache (s) / peak RSS (MB)", "analyze_cold", "analyze_cold_rss", "s", "MB"),
        pair("analyze --json, warm cache (s) / peak RSS (MB)", "analyze_warm", "analyze_warm_rss", "s", "MB"),
    ]
    if not any("fp_warm_chart" in R[n] for n in sizes):
        return rows
    rows += [
        row("cohort shown in the app (n)", "shown_n", ""),
        pair("first paint, server opens the cohort: line / chart (ms)", "fp_new_line", "fp_new_chart", "ms"),
        pair("first paint, server warm: line / chart (ms)", "fp_warm_line", "fp_warm_chart", "ms"),
        pair("first paint: longest browser task, new / warm (ms)", "fp_new_lt", "fp_warm_lt", "ms"),
    ]
    names = list(dict.fromkeys(k.split(":", 1)[1] for n in sizes for k in R[n] if k.startswith("open:")))
    for name in names:
        rows.append(pair(f"{name}: open / filter change → repaint (ms)", f"open:{name}", f"repaint:{name}", "ms"))
    for name in names:
        rows.append(pair(f"{name}: figure JSON / received per change (kB)", f"chart_kb:{name}", f"sent:{name}", "kB"))
    lt = {n: max((R[n].get(f"lt_max:{p}") or 0 for p in names), default=0) for n in sizes}
    lt1 = {n: sum(R[n].get(f"lt_count:{p}") or 0 for p in names) for n in sizes}
    exc = {n: sum(R[n].get(f"exceptions:{p}") or 0 for p in names) for n in sizes}
    rows += [
        ("longest browser task, any page (ms) / tasks over 1 s", [f"{lt[n]:.0f} / {lt1[n]}" for n in sizes]),
        (
            "exceptions shown / page errors / server log errors",
            [f"{exc[n]} / {R[n].get('page_errors', '—')} / {R[n].get('server_errors', '—')}" for n in sizes],
        ),
        row("streamlit server peak RSS (MB)", "server_rss", "MB"),
    ]
    return rows


def markdown_table(c: Ctx, sizes: list[int]) -> str:
    head = ["step"] + [f"{fmt_n(n)}" + (" (default)" if n == DEFAULT_N else "") for n in sizes]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, vals in table_rows(c, sizes):
        lines.append("| " + " | ".join([label, *vals]) + " |")
    return "\n".join(lines)


def checks(c: Ctx, sizes: list[int], trivial: list[float]) -> list[str]:
    """The targets of issue 15, for the largest size against the default cohort (the targets are stated at
    100,000 patients)."""
    out = []
    if DEFAULT_N not in c.results:
        return ["(no ratio checks: the sizes do not include 46, the default cohort)"]
    base = c.results[DEFAULT_N]
    big_n = max(sizes)
    big = c.results.get(big_n, {})
    at = f"at {fmt_n(big_n)}"

    def verdict(ok):
        return "—" if ok is None else "ok" if ok else "OVER"

    def ratio_line(label, k, limit, unit):
        a, b = big.get(k), base.get(k)
        if a is None or not b:
            return f"[—] {label}: not measured"
        r = a / b
        return f"[{verdict(r <= limit)}] {label}: {r:.2f}× (target ≤ {limit}×; {fmt(a, unit)} vs {fmt(b, unit)} {unit})"

    if big_n != DEFAULT_N:
        out.append(ratio_line(f"analyze --json (warm cache) {at} vs 46", "analyze_warm", 10, "s"))
        out.append(ratio_line(f"analyze --json (cold cache) {at} vs 46", "analyze_cold", 10, "s"))
    rss = max(big.get("analyze_cold_rss") or 0, big.get("analyze_warm_rss") or 0)
    out.append(f"[{verdict(rss < 3072)}] analyze --json peak RSS {at}: {rss:.0f} MB (target < 3 GB)")
    names = [k.split(":", 1)[1] for k in big if k.startswith("open:")]
    if names:
        for what, key in (("page open", "open"), ("fresh filter change → repaint", "repaint")):
            rs = {p: big[f"{key}:{p}"] / base[f"{key}:{p}"] for p in names
                  if big.get(f"{key}:{p}") and base.get(f"{key}:{p}")}  # fmt: skip
            if big_n != DEFAULT_N and rs:
                worst = max(rs, key=rs.get)
                out.append(
                    f"[{verdict(max(rs.values()) <= 4)}] every {what} {at} ≤ 4× at 46: worst {worst} {rs[worst]:.2f}× "
                    f"({', '.join(f'{p} {r:.2f}' for p, r in rs.items())})"
                )
        exc = sum(big.get(f"exceptions:{p}") or 0 for p in names)
        errs = (big.get("page_errors") or 0) + (big.get("server_errors") or 0)
        out.append(f"[{verdict(exc == 0)}] no exception shown {at}: {exc} (page errors + server log errors: {errs})")
        lt1 = {p: big.get(f"lt_count:{p}") or 0 for p in names}
        ltmax = max((big.get(f"lt_max:{p}") or 0 for p in names), default=0)
        fp = max(big.get("fp_new_lt") or 0, big.get("fp_warm_lt") or 0)
        out.append(
            f"[{verdict(sum(lt1.values()) == 0)}] no browser long task > 1 s {at} (page opens, filter changes): "
            f"{sum(lt1.values())} (longest {ltmax:.0f} ms; first paint, not counted: longest {fp:.0f} ms)"
        )
        if big_n != DEFAULT_N:
            out.append(ratio_line(f"first paint, first chart, server warm, {at} vs 46", "fp_warm_chart", 3, "ms"))
            out.append(ratio_line(f"first paint, cohort line, server warm, {at} vs 46", "fp_warm_line", 3, "ms"))
        t = med(trivial)
        rs = {p: base[f"repaint:{p}"] / t for p in names if base.get(f"repaint:{p}") and t}
        if rs:
            worst = max(rs, key=rs.get)
            out.append(
                f"[{verdict(rs[worst] <= 1.3)}] default cohort filter change → repaint ≤ 1.3× the trivial app "
                f"({t:.0f} ms): worst {worst} {rs[worst]:.2f}×, median over pages {statistics.median(rs.values()):.2f}×"
                f" ({', '.join(f'{p} {r:.2f}' for p, r in rs.items())})"
            )
    return out


# ============================================================================================ main
def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="46,1000,10000,100000", help="patients per cohort, comma-separated")
    ap.add_argument("--repeat", type=int, default=3, help="runs per cheap step; filter changes per page")
    ap.add_argument("--cheap", type=float, default=20.0, help="a step whose first run takes longer is not repeated")
    ap.add_argument("--skip-browser", action="store_true")
    ap.add_argument("--pages", default="all", help="comma-separated page names (overview,table1,cardiac,…)")
    ap.add_argument("--out-dir", default="/tmp/coh", help="synthetic cohorts, one folder sN per size (reused)")
    ap.add_argument("--skip-synth-time", action="store_true", help="reuse a present cohort without timing synth")
    ap.add_argument("--markdown", default=None, help="also write the table and the checks to this file")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds for any one step or browser wait")
    ap.add_argument("--child-load", help=argparse.SUPPRESS)
    ap.add_argument("--child-analyses", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_load:
        return _child_load(args.child_load)
    if args.child_analyses:
        return _child_analyses(args.child_analyses, args.repeat, min(args.cheap, 5.0))
    sizes = [int(x.replace("_", "")) for x in args.sizes.split(",") if x.strip()]
    known = {f.stem for f in (ROOT / "pages").glob("*.py")}
    unknown = set() if args.pages == "all" else {p.strip() for p in args.pages.split(",") if p.strip()} - known
    if unknown:
        ap.error(f"--pages: unknown {sorted(unknown)}; pages: {','.join(sorted(known))}")
    browser_ok = not args.skip_browser and Path(CHROMIUM).exists()
    if not args.skip_browser and not browser_ok:
        say(f"no Chromium at {CHROMIUM}: browser steps skipped")
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_scale-") as tmp:
        c = Ctx(args, Path(tmp))
        probe(c, "before")
        say(f"sizes {sizes}, repeat {args.repeat}, python {sys.version.split()[0]}, {os.cpu_count()} cores")
        dirs, warm, trivial = {}, {}, []
        try:
            for n in sizes:
                dirs[n] = attempt(c, f"{fmt_n(n)} synth", cohort_dir, c, n)
                if dirs[n] is None:
                    continue
                warm[n] = attempt(c, f"{fmt_n(n)} load", load_steps, c, n, dirs[n]) or c.fresh_cache(f"warm-{n}")
                attempt(c, f"{fmt_n(n)} analyses", analyses_step, c, n, dirs[n], warm[n])
                attempt(c, f"{fmt_n(n)} analyze", analyze_step, c, n, dirs[n], warm[n])
                probe(c, f"after the command-line steps at {fmt_n(n)}")
            if browser_ok:
                from playwright.sync_api import sync_playwright

                with sync_playwright() as pw:
                    br = Browser(pw, args.timeout)
                    try:
                        trivial += attempt(c, "trivial app", trivial_app, c, br, max(args.repeat, 5)) or []
                        say(f"trivial app: slider change → repaint {fmt(med(trivial), 'ms')} ms ({len(trivial)} steps)")
                        for n in sizes:
                            if dirs.get(n) is not None:
                                attempt(c, f"{fmt_n(n)} browser", browser_size, c, br, n, dirs[n], warm[n])
                                probe(c, f"after the browser at {fmt_n(n)}")
                        more = attempt(c, "trivial app", trivial_app, c, br, max(args.repeat, 5)) or []
                        say(f"trivial app again: {fmt(med(more), 'ms')} ms ({len(more)} steps)")
                        trivial += more
                    finally:
                        br.close()
        except KeyboardInterrupt:
            c.notes.append("interrupted: the figures so far")
        probe(c, "after")
        table = markdown_table(c, sizes)
        trivial_line = f"trivial one-slider app, slider change → repaint: {fmt(med(trivial), 'ms')} ms"
        check_lines = checks(c, sizes, trivial)
        say("\n" + table + "\n")
        if browser_ok:
            say(trivial_line)
        for line in check_lines:
            say(line)
        for note in c.notes:
            say("note: " + note)
        say(f"total time of this run: {time.perf_counter() - t_start:.0f} s")
        if args.markdown:
            command = "benchmarks/bench_scale.py " + " ".join(sys.argv[1:] if argv is None else argv)
            body = [f"`{command}`", "", table, "", trivial_line if browser_ok else "", ""]
            body += [f"- {x}" for x in check_lines] + ["", *[f"- {x}" for x in c.probes]]
            body += ["", *[f"- note: {x}" for x in c.notes]]
            Path(args.markdown).write_text("\n".join(body).strip() + "\n", encoding="utf-8")
            say(f"wrote {args.markdown}")


if __name__ == "__main__":
    main()
