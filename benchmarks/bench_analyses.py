"""Benchmark: every registered analysis on the whole (unfiltered) default cohort and larger resampled cohorts.

The cohorts are resampled in memory (``misc_dash.synth.synthesize``, the command line's default seed); each
analysis of ``misc_dash.analyses.ANALYSES`` (echo for both measures) runs on ``CohortFilter()`` under each
grouping (default: treatment, three groups, and anakinra, two groups). The timing loop is
``bench_scale.analysis_timings``, which benchmarks/bench_scale.py also runs (with loading, the command line and
the browser). Prints figures (median of repeats); never asserts a time. Usage:
    .venv/bin/python benchmarks/bench_analyses.py [--sizes 46,1000,10000,100000] [--repeat 3]
        [--group-by treatment,anakinra]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse

from bench_scale import analysis_timings
from machine import probe_line

from misc_dash.loading import _make_cohort, load_default_cohort
from misc_dash.synth import synthesize


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="46,1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--group-by", default="treatment,anakinra", help="groupings, comma-separated")
    args = ap.parse_args()
    groupings = tuple(g.strip() for g in args.group_by.split(",") if g.strip())
    base = load_default_cohort()
    print(probe_line("before"))
    print(f"{'patients':>9} {'step':<22} {'grouping':<10} {'ms':>9}  runs")
    for n in [int(x) for x in args.sizes.split(",")]:
        cohort = (
            base
            if n == base.n_patients
            else _make_cohort(synthesize(n, seed=0, base=base), f"synth {n}", True, "", "", ())
        )
        totals = dict.fromkeys(groupings, 0.0)
        for rec in analysis_timings(cohort, groupings, args.repeat):
            g, t = rec["grouping"], rec["s"]
            if g and t is not None:
                totals[g] += t
            extra = f"  groups {rec['groups']}" if "groups" in rec else ""
            extra += f"  ERROR {rec['error']}" if rec.get("error") else ""
            shown = "—" if t is None else f"{t * 1000:.1f}"
            print(f"{n:>9} {rec['step']:<22} {g or '':<10} {shown:>9}  {rec['runs']}{extra}", flush=True)
        for g, t in totals.items():
            print(f"{n:>9} {'TOTAL (prepare + all)':<22} {g:<10} {t * 1000:>9.1f}")
    print(probe_line("after"))


if __name__ == "__main__":
    main()
