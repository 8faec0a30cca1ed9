"""Benchmark: the cost of small-cell suppression when cards are built (``views.build_cards`` for every view and chart,
the analyses cached as the app caches them, so only the cards are timed).

Three runs of the same loop: the default (synthetic, exempt) cohort; the same patients uploaded as a real cohort and
marked synthetic (no suppression); and uploaded as real (suppressed, preset "5"). Each for the whole cohort and one
phenotype. Prints the median and the fastest loop per view (ms); never asserts a time. Usage:
    .venv/bin/python benchmarks/bench_suppression.py [--repeat 15]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import statistics
import time

from machine import probe_line

from misc_dash import analyses as A
from misc_dash import views
from misc_dash.filters import CohortFilter, Grouping
from misc_dash.loading import DEFAULT_COHORT_DIR, load_cohort, validate_files


def view_context(cohort, flt, synthetic: bool) -> views.ViewContext:
    ctx = A.prepare(cohort, flt, Grouping("treatment"))
    cache: dict = {}

    def runner(name, opts=A.AnalysisOptions(), **params):
        key = (name, repr(opts), tuple(sorted(params.items())))
        if key not in cache:
            cache[key] = A.run(name, ctx, opts, **params)
        return cache[key]

    return views.ViewContext(ctx, cohort.n_patients, runner=runner, cohort_name=cohort.name, is_synthetic=synthetic)


def timings(cohort, flt, synthetic: bool, repeat: int) -> dict[str, tuple[float, float]]:
    """(median, fastest) ms per view: a fresh ViewContext each time (its group sizes are decided once per context)."""
    proto = view_context(cohort, flt, synthetic)
    out = {}
    for name, view in views.VIEWS.items():
        opts = view.options() if view.options is not None else None
        ts = []
        for i in range(repeat + 1):
            vc = views.ViewContext(
                proto.ctx, proto.n_cohort, runner=proto.runner, cohort_name=proto.cohort_name, is_synthetic=synthetic
            )
            t = time.perf_counter()
            for o in view.all_chart_options(opts):
                views.build_cards(name, vc, o)
            if i:  # the first loop fills the analysis cache
                ts.append((time.perf_counter() - t) * 1000)
        out[name] = (statistics.median(ts), min(ts))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    print(probe_line("before"))
    default = load_cohort(DEFAULT_COHORT_DIR)
    real, _ = validate_files([(p.name, p.read_bytes()) for p in sorted(DEFAULT_COHORT_DIR.glob("*.csv"))])
    runs = [
        ("default cohort (synthetic, exempt)", default, True),
        ("uploaded, marked synthetic (no suppression)", real, True),
        ("uploaded as real (suppressed, preset 5)", real, False),
    ]
    for flt in (CohortFilter(), CohortFilter(phenotype=("KD-like",))):
        print(f"\n{flt.describe()}: median / fastest ms per view (every chart of the view)")
        for label, cohort, synthetic in runs:
            t = timings(cohort, flt, synthetic, args.repeat)
            total = sum(m for m, _ in t.values()), sum(f for _, f in t.values())
            cells = ", ".join(f"{k} {m:.0f}/{f:.0f}" for k, (m, f) in t.items())
            print(f"  {label}: total {total[0]:.0f}/{total[1]:.0f} — {cells}")
    print(probe_line("after"))


if __name__ == "__main__":
    main()
