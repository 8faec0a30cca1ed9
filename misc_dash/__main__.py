"""Command line: ``python -m misc_dash {validate,propose-mapping,fidelity,synth,analyze,report,dictionary}``.

Never prints a traceback for bad input: problems are reported as text and the exit code says what happened
(0 ok, 1 invalid cohort / failed fidelity / analysis impossible, 2 usage error).
"""

from __future__ import annotations

import argparse
import json
import sys


def _print_problems(label: str, problems) -> None:
    errors = [p for p in problems if p.severity == "error"]
    print(f"{label}: INVALID — {len(errors)} problem(s):")
    for p in problems:
        print("  " + p.text())


def _validated(args):
    """(cohort or None, problems, label) for ``validate``: a contract-shaped cohort, or an export and a mapping."""
    if not args.mapping:
        from .loading import validate

        cohort, problems = validate(args.path)
        return cohort, problems
    from .mapping import load_mapping, read_sources, validate_mapped

    mapping, problems = load_mapping(args.mapping)
    if mapping is None:
        return None, problems
    sources, problems = read_sources(args.path)
    if any(p.severity == "error" for p in problems):
        return None, problems
    cohort, more = validate_mapped(sources, mapping, source=str(args.path))
    return cohort, problems + more


def _write_folder(cohort, out) -> None:
    from .loading import export_metadata, write_cohort_folder

    tables = dict(cohort.tables)
    meta = export_metadata(cohort, tables, cohort.name, cohort.description)
    if cohort.metadata.get("mapping"):
        meta["mapping"] = cohort.metadata["mapping"]
    write_cohort_folder(tables, meta, out)
    print(f"wrote the cohort in the data contract to {out}")


def _cmd_validate(args) -> int:
    cohort, problems = _validated(args)
    if cohort is None:
        _print_problems(args.path, problems)
        return 1
    t = cohort.tables
    counts = ", ".join(f"{len(df)} {name}" for name, df in t.items() if name != "patients" and len(df))
    warn = f"; {len(problems)} warning(s)" if problems else ""
    print(f"{args.path}: valid — {cohort.n_patients} patients" + (f", {counts}" if counts else "") + warn)
    for p in problems:
        print("  " + p.text())
    if args.out:
        _write_folder(cohort, args.out)
    return 0


def _cmd_propose_mapping(args) -> int:
    from pathlib import Path

    from .mapping import propose_mapping, read_sources

    sources, problems = read_sources(args.path)
    if not sources:
        _print_problems(args.path, problems)
        return 1
    mapping = propose_mapping(sources)
    Path(args.out).write_text(mapping.to_json(), encoding="utf-8")
    for p in problems:
        print("  " + p.text())
    found = ", ".join(f"{t} ← {m.source} ({len(m.columns)} columns)" for t, m in mapping.tables.items())
    print(f"wrote a proposed mapping to {args.out}: {found or 'nothing recognised'}")
    print(f"check it, then: python -m misc_dash validate {args.path} --mapping {args.out}")
    return 0


def _cmd_import_redcap(args) -> int:
    """A REDCap data dictionary and records export as a cohort folder in the data contract (or, with
    ``--propose-mapping``, the mapping it would use, to edit)."""
    from pathlib import Path

    from .mapping import load_mapping
    from .redcap import import_export, read_export, resolve_mapping

    if bool(args.out) == bool(args.propose_mapping):
        print(
            "usage: import-redcap needs --out DIR (the cohort folder to write) or --propose-mapping FILE (the "
            "mapping to write instead of importing), not both",
            file=sys.stderr,
        )
        return 2
    mapping = None
    if args.mapping:
        mapping, problems = load_mapping(args.mapping)
        if mapping is None:
            _print_problems(args.mapping, problems)
            return 1
    export, problems = read_export(args.dictionary, args.records)
    if export is None:
        records = Path(args.records).name
        _print_problems(args.records if any(p.file == records for p in problems) else args.dictionary, problems)
        return 1
    print(export.summary())
    if args.propose_mapping:
        used = resolve_mapping(export, mapping)
        try:
            Path(args.propose_mapping).write_text(used.to_json(), encoding="utf-8")
        except OSError as exc:
            print(f"cannot write {args.propose_mapping}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        found = ", ".join(f"{t} ← {m.source} ({len(m.columns)} columns)" for t, m in used.tables.items())
        print(f"wrote the mapping to {args.propose_mapping}: {found or 'nothing recognised'}")
        print(
            f"check it, then: python -m misc_dash import-redcap {args.dictionary} {args.records} "
            f"--mapping {args.propose_mapping} --out DIR"
        )
        return 0
    cohort, problems, used = import_export(export, mapping, name=args.name or "", synthetic=args.synthetic)
    if mapping is not None:
        own = [t for t in used.tables if t in mapping.tables]
        rest = [t for t in used.tables if t not in mapping.tables]
        print(f"mapping: {args.mapping} for {', '.join(own) or 'no table'}; proposed for {', '.join(rest) or 'none'}")
    if cohort is None:
        _print_problems(args.records, problems)
        return 1
    counts = ", ".join(f"{len(df)} {n}" for n, df in cohort.tables.items() if n != "patients" and len(df))
    warn = f"; {len(problems)} warning(s)" if problems else ""
    print(f"{args.records}: valid — {cohort.n_patients} patients" + (f", {counts}" if counts else "") + warn)
    for p in problems:
        print("  " + p.text())
    from .loading import export_metadata, write_cohort_folder

    tables = dict(cohort.tables)
    meta = export_metadata(cohort, tables, cohort.name, cohort.description)
    meta["mapping"], meta["redcap"] = cohort.metadata["mapping"], cohort.metadata["redcap"]
    try:
        write_cohort_folder(tables, meta, args.out)
    except OSError as exc:
        print(f"cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    kind = "synthetic" if cohort.synthetic else "real"
    print(f"wrote the cohort in the data contract to {args.out} ({kind} patients)")
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


def _echo_followup(args) -> str | int:
    v = str(args.echo_followup).strip()
    if v == "last":
        return "last"
    try:
        return int(v)
    except ValueError:
        raise _UsageError(f"--echo-followup {v!r}: 'last' or a day number (e.g. 10)") from None


def _adjust_from_args(args):
    """The AdjustOptions of --strata / --adjust-for / --weights / --trim / --firth (None when none is given)."""
    from .analyses import AdjustOptions

    given = (args.strata, args.adjust_for, args.weights, args.trim, args.firth or None)
    if all(v is None for v in given):
        return None
    try:
        return AdjustOptions.parse(
            args.adjust_for, strata=args.strata, weights=args.weights, trim=args.trim, firth=args.firth
        )
    except ValueError as exc:
        flag = "--strata" if "stratum" in str(exc) else "--weights" if "weights" in str(exc) else "--adjust-for"
        flag = "--trim" if str(exc).startswith("trim") else flag
        raise _UsageError(f"{flag}: {exc}") from None


def _options_from_args(args):
    """The AnalysisOptions the option flags select (shared by analyze and report)."""
    from .analyses import AnalysisOptions

    return AnalysisOptions(
        fever_origin=args.fever_origin,
        fever_threshold=args.fever_threshold,
        fever_sustained_hours=args.fever_sustained_hours,
        echo_followup=_echo_followup(args),
        lvef_normal=args.lvef_normal,
        strain_normal=args.strain_normal,
        cox=args.cox,
        adjust=_adjust_from_args(args),
    )


def _cmd_analyze(args) -> int:
    from .analyses import AnalysisError, analyze_to_dict
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
    try:
        opts = _options_from_args(args)
    except _UsageError as exc:
        print(f"usage: {exc}", file=sys.stderr)
        return 2
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


REPORT_FORMATS = ("html", "pptx")


def _view_options_from_args(args) -> dict:
    """The pages' options values the option flags select (the same values the pages' controls would hold)."""
    from .views import AdjustedOptions, CardiacOptions, FeverOptions

    sustained = args.fever_sustained_hours
    if sustained is not None and sustained != 24:
        raise _UsageError("report: the Fever page's 'sustained' rule is 24 hours; use --fever-sustained-hours 24")
    followup = _echo_followup(args)
    adj = _adjust_from_args(args)
    out = {
        "fever": FeverOptions(
            origin=args.fever_origin,
            threshold=args.fever_threshold,
            sustained=sustained is not None,
            cox=args.cox,
            adjust_for=adj.adjust_for if adj else (),
        ),
        "cardiac": CardiacOptions(
            followup="last" if followup == "last" else "nearest",
            followup_day=10 if followup == "last" else int(followup),
            lvef_normal=args.lvef_normal,
            strain_normal=args.strain_normal,
            adjust_for=adj.adjust_for if adj else (),
        ),
    }
    if adj is not None:  # else the Adjusted page's own defaults (adjust for CV shock, weighted)
        out["adjusted"] = AdjustedOptions(
            strata=adj.strata, adjust_for=adj.adjust_for, weights=bool(adj.weights), trim=adj.trim, firth=adj.firth
        )
    return out


def _cmd_report(args) -> int:
    from dataclasses import asdict
    from pathlib import Path

    from .analyses import AnalysisError
    from .loading import CohortInvalid, load_cohort
    from .views import VIEWS

    fmt = args.format or Path(args.out).suffix.lower().lstrip(".")
    if fmt not in REPORT_FORMATS:
        print(f"usage: --format html or pptx (or an --out file ending in .html / .pptx), not {fmt!r}", file=sys.stderr)
        return 2
    try:
        grouping = _grouping_from_args(args)
        view_options = _view_options_from_args(args)
    except _UsageError as exc:
        print(f"usage: {exc}", file=sys.stderr)
        return 2
    pages = list(VIEWS) if not args.pages else [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = [p for p in pages if p not in VIEWS]
    if unknown or not pages:
        print(f"unknown page(s): {', '.join(unknown) or '(none given)'}; pages: {', '.join(VIEWS)}", file=sys.stderr)
        return 1
    pages = [p for p in VIEWS if p in pages]  # the report follows the app's page order
    try:
        cohort = load_cohort(args.data)
    except CohortInvalid as exc:
        print(f"{args.data}: INVALID — cannot report:", file=sys.stderr)
        print(exc.report(), file=sys.stderr)
        return 1
    flt = _filter_from_args(args)
    options = {p: o for p, o in view_options.items() if p in pages}
    from .exports import build_report_cards
    from .privacy import command_line_policy

    try:  # a cohort that is not synthetic: small counts suppressed as in the app (docs/CONVENTIONS.md)
        policy = command_line_policy(args.small_cells)
    except ValueError as exc:
        print(f"small cells: {exc}", file=sys.stderr)
        return 2
    try:
        cards = build_report_cards(cohort, flt, grouping, pages, options, data_path=args.data, suppression=policy)
    except AnalysisError as exc:
        print(f"cannot build the report: {exc}", file=sys.stderr)
        return 1
    state = {
        "pages": pages,
        "filters": flt.to_query_params(),
        "group_by": args.group_by,
        "options": {p: asdict(o) for p, o in options.items()},
    }
    if args.group_by == "custom":
        state["group_a"], state["group_b"] = args.group_a, args.group_b
    description = cards[0].cohort if cards and cards[0].cohort else flt.describe()
    title = args.title or f"MIS-C Cohort Explorer — {description}"
    out = Path(args.out)
    try:
        if fmt == "html":
            from .exports import report_html

            out.write_text(report_html(cards, title, state), encoding="utf-8")
        else:
            from .exports import images, report_pptx

            if any(c.figure is not None for c in cards) and not images.available():
                print("note: no Chromium for static images here; the slides say so instead of a chart", file=sys.stderr)
            out.write_bytes(report_pptx(cards, title, state))
    except OSError as exc:
        print(f"cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({fmt}: {len(cards)} sections from {', '.join(pages)})")
    return 0


def _cmd_dictionary(args) -> int:
    from .template import write_dictionary_and_template

    paths = write_dictionary_and_template()
    for p in paths:
        print(f"wrote {p}")
    return 0


def _add_selection_flags(a: argparse.ArgumentParser) -> None:
    """The cohort, compare-by, filter and option flags ``analyze`` and ``report`` share (filter flags generated
    from the filter-field registry)."""
    from .filters import FILTER_FIELDS
    from .vocabulary import GROUP_BY_CHOICES

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
    a.add_argument(
        "--strata", metavar="FIELD",
        help="stratified log-rank by cv_shock, icu, kd_like, sex, age_band or phenotype (JSON key adjusted)",
    )  # fmt: skip
    a.add_argument(
        "--adjust-for", metavar="FIELD[,FIELD…]",
        help="adjusted Cox HR, E-value and echo difference for: cv_shock, icu, kd_like, sex, age_years, phenotype",
    )  # fmt: skip
    a.add_argument("--weights", choices=["iptw"], help="IPTW Cox HR and balance (propensity on --adjust-for)")
    a.add_argument("--trim", type=float, metavar="Q", help="with --weights iptw: truncate weights at quantile Q")
    a.add_argument("--firth", action="store_true", help="Firth's penalised Cox for the adjusted HR (R coxphf)")


def build_parser() -> argparse.ArgumentParser:

    ap = argparse.ArgumentParser(prog="python -m misc_dash", description="MIS-C Cohort Explorer command line")
    sub = ap.add_subparsers(dest="cmd", required=True)

    v = sub.add_parser("validate", help="check a cohort folder (CSV) or .xlsx workbook against the data contract")
    v.add_argument("path")
    v.add_argument("--mapping", help="a saved column mapping (*.mapping.json): PATH is then the hospital's own export")
    v.add_argument("--out", help="if valid, write the cohort in the data contract to this folder (CSV files)")
    v.set_defaults(func=_cmd_validate)

    pm = sub.add_parser(
        "propose-mapping", help="propose a column mapping for an export (folder, .xlsx, .zip) to check and edit"
    )
    pm.add_argument("path")
    pm.add_argument("--out", required=True, help="the mapping file to write (e.g. hospital.mapping.json)")
    pm.set_defaults(func=_cmd_propose_mapping)

    rc = sub.add_parser(
        "import-redcap", help="a REDCap data dictionary and records export (raw or labelled) as a cohort folder"
    )
    rc.add_argument("dictionary", help="the project's data dictionary CSV (Project Setup → Data Dictionary)")
    rc.add_argument("records", help="the records export CSV (raw data or labels; variable names as headers)")
    rc.add_argument("--out", help="the cohort folder to write (CSV files in the data contract)")
    rc.add_argument("--mapping", help="a saved mapping (*.mapping.json) for the tables a non-contract project needs")
    rc.add_argument("--propose-mapping", metavar="FILE", help="write the mapping it would use to FILE, to edit")
    rc.add_argument("--name", help="the cohort's name (default: from the records file's name)")
    rc.add_argument("--synthetic", action="store_true", help="the records are made-up patients, not real ones")
    rc.set_defaults(func=_cmd_import_redcap)

    f = sub.add_parser("fidelity", help="published vs reconstructed numbers for the default cohort")
    f.add_argument("--json", action="store_true", help="machine-readable output")
    f.set_defaults(func=_cmd_fidelity)

    s = sub.add_parser("synth", help="write a larger synthetic cohort resampled from the reconstruction")
    s.add_argument("--patients", type=int, required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True)
    s.set_defaults(func=_cmd_synth)

    a = sub.add_parser("analyze", help="every analysis the dashboard shows, headless")
    _add_selection_flags(a)
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=_cmd_analyze)

    r = sub.add_parser(
        "report", help="the pages' cards as one offline HTML report or a PPTX deck (the same flags as analyze)"
    )
    r.add_argument("--format", choices=list(REPORT_FORMATS), help="html or pptx (default: from --out's suffix)")
    r.add_argument("--out", required=True, help="the file to write")
    r.add_argument("--pages", help="comma-separated pages (default: every page), e.g. fever,cardiac")
    r.add_argument("--title", help="the report's title (default: the cohort description)")
    r.add_argument(
        "--small-cells", choices=["5", "11", "round5"],
        help="small-cell preset for a real cohort (default: [privacy] in .streamlit/secrets.toml, else 5)",
    )  # fmt: skip
    _add_selection_flags(r)
    r.set_defaults(func=_cmd_report)

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
