"""Benchmark: time of each cached analysis for the default cohort and larger resampled cohorts.

Prints figures (median of repeats); never asserts a time. Usage:
    .venv/bin/python benchmarks/bench_analyses.py [--sizes 46,1000,10000,100000] [--repeat 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import statistics
import time

from misc_dash import analyses as A
from misc_dash import derive
from misc_dash.filters import CohortFilter
from misc_dash.loading import _make_cohort, load_default_cohort
from misc_dash.synth import synthesize


def timed(fn, repeat):
    out, ts = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return out, statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="46,1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--group-by", default="treatment")
    args = ap.parse_args()
    base = load_default_cohort()
    print(f"{'patients':>9} {'step':<22} {'seconds':>9}")
    for n in [int(x) for x in args.sizes.split(",")]:
        cohort = (
            base
            if n == base.n_patients
            else _make_cohort(synthesize(n, seed=1, base=base), f"synth {n}", True, "", "", ())
        )
        pf, t = timed(lambda cohort=cohort: derive.patient_frame(cohort), args.repeat)
        print(f"{n:>9} {'patient_frame':<22} {t:>9.3f}")
        flt = CohortFilter(phenotype=("CV shock", "KDSS-like"))
        ctx, t = timed(
            lambda cohort=cohort, flt=flt, pf=pf: A.prepare(cohort, flt, args.group_by, pf_all=pf), args.repeat
        )
        print(f"{n:>9} {'prepare (filter)':<22} {t:>9.3f}")
        total = t
        for name, fn in [
            ("table1", lambda ctx=ctx: A.table1(ctx)),
            ("fever", lambda ctx=ctx: A.fever(ctx)),
            ("echo lvef", lambda ctx=ctx: A.echo(ctx, "lvef")),
            ("echo strain", lambda ctx=ctx: A.echo(ctx, "strain")),
            ("cytokines", lambda ctx=ctx: A.cytokines(ctx)),
            ("adverse_events", lambda ctx=ctx: A.adverse_events(ctx)),
            ("dosing", lambda ctx=ctx: A.dosing(ctx)),
            ("labs", lambda ctx=ctx: A.labs(ctx)),
        ]:
            _, t = timed(fn, args.repeat)
            total += t
            print(f"{n:>9} {name:<22} {t:>9.3f}")
        print(f"{n:>9} {'TOTAL (all pages)':<22} {total:>9.3f}")


if __name__ == "__main__":
    main()
