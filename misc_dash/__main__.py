"""Command line: ``python -m misc_dash {validate,fidelity,synth,analyze,dictionary}``.

Never prints a traceback for bad input: problems are reported as text and the exit code says what happened
(0 ok, 1 invalid cohort / failed fidelity / analysis impossible, 2 usage error).
"""

from __future__ import annotations

import argparse
import json
import sys


def _cmd_validate(args) -> int:
    from .loading import validate

    cohort, problems = validate(args.path)
    errors = [p for p in problems if p.severity == "error"]
    if cohort is None:
        print(f"{args.path}: INVALID — {len(errors)} problem(s):")
        for p in problems:
            print("  " + p.text())
        return 1
    t = cohort.tables
    counts = ", ".join(f"{len(df)} {name}" for name, df in t.items() if name != "patients" and len(df))
    warn = f"; {len(problems)} warning(s)" if problems else ""
    print(f"{args.path}: valid — {cohort.n_patients} patients" + (f", {counts}" if counts else "") + warn)
    for p in problems:
        print("  " + p.text())
    return 0


def _cmd_fidelity(args) -> int:
    from .fidelity import fidelity_report, format_report

    report = fidelity_report()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_report(report))
    return 0 if report.passed else 1


def _cmd_synth(args) -> int:
    from .synth import synthesize, write_cohort

    if args.patients < 1 or args.patients > 1_000_000:
        print("--patients must be between 1 and 1,000,000", file=sys.stderr)
        return 2
    tables = synthesize(args.patients, args.seed)
    write_cohort(tables, args.out, name=f"Synthetic resample (N={args.patients}, seed={args.seed})")
    counts = ", ".join(f"{len(v)} {k}" for k, v in tables.items())
    print(f"wrote {args.patients} synthetic patients to {args.out} ({counts})")
    return 0


def _filter_from_args(args):
    """The CohortFilter the analyze flags select (flags generated from the filter-field registry)."""
    from .filters import FILTER_FIELDS, CohortFilter

    kw = {}
    for f in FILTER_FIELDS:
        for attr in f.attrs:
            v = getattr(args, attr)
            if f.kind == "range":
                kw[attr] = v
            else:
                kw[attr] = tuple(v or ())
    return CohortFilter(**kw)


def _grouping_from_args(args):
    from urllib.parse import parse_qsl

    from .filters import CohortFilter, Grouping

    if args.group_by != "custom":
        if args.group_a or args.group_b:
            raise _UsageError("--group-a / --group-b go with --group-by custom")
        return args.group_by
    if not (args.group_a and args.group_b):
        raise _UsageError("--group-by custom needs --group-a and --group-b (e.g. --group-a 'phenotype=CV+shock')")
    a, b = (CohortFilter.from_query_params(dict(parse_qsl(x))) for x in (args.group_a, args.group_b))
    return Grouping(by="custom", a=a, b=b)


class _UsageError(Exception):
    pass


def _cmd_analyze(args) -> int:
    from .analyses import AnalysisError, AnalysisOptions, analyze_to_dict
    from .loading import CohortInvalid, load_cohort

    try:
        grouping = _grouping_from_args(args)
    except _UsageError as exc:
        print(f"usage: {exc}", file=sys.stderr)
        return 2
    try:
        cohort = load_cohort(args.data)
    except CohortInvalid as exc:
        print(f"{args.data}: INVALID — cannot analyse:", file=sys.stderr)
        print(exc.report(), file=sys.stderr)
        return 1
    flt = _filter_from_args(args)
    opts = AnalysisOptions(
        fever_origin=args.fever_origin,
        fever_threshold=args.fever_threshold,
        fever_sustained_hours=args.fever_sustained_hours,
        echo_followup="last" if args.echo_followup == "last" else int(args.echo_followup),
        lvef_normal=args.lvef_normal,
        strain_normal=args.strain_normal,
        cox=args.cox,
    )
    try:
        out = analyze_to_dict(cohort, flt, grouping, opts)
    except AnalysisError as exc:
        print(f"cannot analyse: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        from .analyses import format_summary

        print(format_summary(out))
    return 0


def _cmd_dictionary(args) -> int:
    from .template import write_dictionary_and_template

    paths = write_dictionary_and_template()
    for p in paths:
        print(f"wrote {p}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .filters import FILTER_FIELDS
    from .vocabulary import GROUP_BY_CHOICES

    ap = argparse.ArgumentParser(prog="python -m misc_dash", description="MIS-C Cohort Explorer command line")
    sub = ap.add_subparsers(dest="cmd", required=True)

    v = sub.add_parser("validate", help="check a cohort folder (CSV) or .xlsx workbook against the data contract")
    v.add_argument("path")
    v.set_defaults(func=_cmd_validate)

    f = sub.add_parser("fidelity", help="published vs reconstructed numbers for the default cohort")
    f.add_argument("--json", action="store_true", help="machine-readable output")
    f.set_defaults(func=_cmd_fidelity)

    s = sub.add_parser("synth", help="write a larger synthetic cohort resampled from the reconstruction")
    s.add_argument("--patients", type=int, required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True)
    s.set_defaults(func=_cmd_synth)

    a = sub.add_parser("analyze", help="every analysis the dashboard shows, headless")
    a.add_argument("--data", default=None, help="cohort folder or .xlsx (default: the reconstructed cohort)")
    a.add_argument("--group-by", default="treatment", choices=list(GROUP_BY_CHOICES))
    a.add_argument(
        "--group-a", help="with --group-by custom: group A's filter as a query string ('phenotype=CV+shock')"
    )
    a.add_argument("--group-b", help="with --group-by custom: group B's filter as a query string")
    for f in FILTER_FIELDS:  # one flag per filter field (the sidebar's filters)
        if f.kind == "range":
            for flag, side in zip(f.cli_flags, ("lowest", "highest")):
                a.add_argument(flag, type=float, help=f"{f.label}: {side} value kept")
        else:
            choices = list(f.cli_choices) if f.cli_choices else None
            a.add_argument(f.cli_flags[0], action="append", choices=choices, help=f"keep this {f.label} (repeatable)")
    a.add_argument("--fever-origin", default="admission", choices=["admission", "treatment"])
    a.add_argument("--fever-threshold", type=float, default=38.0)
    a.add_argument("--fever-sustained-hours", type=float, default=None)
    a.add_argument("--echo-followup", default="last", help="'last' or a day number (echo nearest that day)")
    a.add_argument("--lvef-normal", type=float, default=55.0, help="LVEF normal at or above this (%%)")
    a.add_argument("--strain-normal", type=float, default=-21.4, help="Ap4 strain normal at or below this (%%)")
    a.add_argument("--cox", action="store_true", help="add a Cox hazard ratio for defervescence")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=_cmd_analyze)

    d = sub.add_parser("dictionary", help="regenerate docs/DATA_DICTIONARY.md and the empty template")
    d.set_defaults(func=_cmd_dictionary)
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last line of defence: a message, never a traceback
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
