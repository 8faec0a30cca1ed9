"""The ``analyze`` report: every analysis in the registry that has a JSON key, as one JSON-safe dict (keys in
docs/ANALYZE.md), and its short text form."""

from __future__ import annotations

from typing import Any

from ..filters import CohortFilter, Grouping
from ..formatting import number, p_or
from ..loading import Cohort
from ..vocabulary import confounding_caution
from .context import AnalysisOptions, prepare
from .jsonable import json_clean
from .registry import ANALYSES, run


def analyze_to_dict(
    cohort: Cohort,
    flt: CohortFilter,
    group_by: str | Grouping = "treatment",
    opts: AnalysisOptions = AnalysisOptions(),
) -> dict:
    """Every analysis the dashboard shows, as a JSON-safe dict (keys documented in docs/ANALYZE.md).
    ``group_by``: a compare-by key, or a :class:`Grouping` (custom groups A / B)."""
    ctx = prepare(cohort, flt, group_by)
    group_by = ctx.grouping.by
    out: dict[str, Any] = {
        "cohort": {"name": cohort.name, "synthetic": cohort.synthetic},
        "n_patients": len(ctx.pf),
        "description": ctx.description,
        "group_by": group_by,
        "groups": list(ctx.groups),
        "group_sizes": ctx.group_sizes(),
        "filters": flt.to_query_params(),
        "notes": list(ctx.notes),
        "caution": confounding_caution(group_by),
    }
    if group_by == "custom":
        g = ctx.grouping
        out["custom_groups"] = {g.a_name: g.a.to_query_params(), g.b_name: g.b.to_query_params()}
    for spec in ANALYSES.values():
        if spec.json_key is not None and (spec.in_json is None or spec.in_json(opts)):
            out[spec.json_key] = spec.to_json(lambda _name=spec.name, **params: run(_name, ctx, opts, **params))
    return json_clean(out)


def format_summary(d: dict) -> str:
    """Short human-readable text of :func:`analyze_to_dict` output (``analyze`` without ``--json``)."""
    groups = ", ".join(f"{g} n={d['group_sizes'][g]}" for g in d["groups"])
    lines = [f"{d['description']}  (grouped by {d['group_by']}: {groups})"]
    if d.get("caution"):
        lines.append("CAUTION: " + d["caution"])
    lines.append("\nTable 1")
    for r in d["table1"]:
        cells = " | ".join(_cell_text(r["groups"][g]) for g in d["groups"])
        lines.append(f"  {r['variable']:<28} {cells} | {r['test'] or '-'} p={p_or(r['p_value'])}")
    f = d["fever"]
    lines.append(f"\nFever (origin {f['origin']}, < {f['threshold_c']} °C)")
    for g, c in f["curves"].items():
        lines.append(f"  {g}: n={c['n']} events={c['events']} median={c['median_days']}")
    if f["logrank"]:
        lines.append(f"  {f['logrank']['test']}: p={p_or(f['logrank']['p_value'])}")
    for key in ("lvef", "strain"):
        lines.append(f"\nEcho {key}")
        for g, v in d["echo"][key]["groups"].items():
            lines.append(
                f"  {g}: pairs={v['n_pairs']} {v['baseline_median']} → {v['followup_median']} ({v['test']}) "
                f"p={p_or(v['p_value'])}"
            )
    if "adjusted" in d:
        lines += _adjusted_summary(d["adjusted"])
    lines.append("\nCytokines")
    for c, v in d["cytokines"].items():
        medians = " | ".join(f"{g} {m}" for g, m in v["median"].items())
        lines.append(f"  {c}: {medians} p={p_or(v['p_value'])}")
    return "\n".join(lines)


def _cell_text(cell: dict) -> str:
    """A Table 1 cell: its text, or a categorical row's counts per level."""
    if "text" in cell:
        return cell["text"]
    return ", ".join(f"{level} {k}" for level, k in cell.get("counts", {}).items()) or "—"


def _hr_text(h: dict | None) -> str:
    if not h:
        return "not given"
    lo, hi = h["ci"]
    return f"HR {number(h['hr'], 2)} ({number(lo, 2)}–{number(hi, 2)}) p={p_or(h['p_value'])}"


def _adjusted_summary(a: dict) -> list[str]:
    """The ``adjusted`` key in a few lines (only when an adjustment was asked for)."""
    f = a["fever"]
    lines = [f"\nFever, adjusted ({', '.join(a['options']['adjust_for']) or 'no covariates'})"]
    s = f["stratified_logrank"]
    if s:
        lines.append(f"  stratified log-rank by {s['strata']}: chi-square {number(s['statistic'], 2)} on {s['df']} df, "
                     f"p={p_or(s['p_value'])}")  # fmt: skip
    if f["naive"]:
        lines.append(f"  naive: {_hr_text(f['naive'])}")
    for p in (f["positivity"] or {}).get("problems", []):
        lines.append(f"  POSITIVITY: {p}")
    if f["cox"]:
        lines.append(f"  adjusted Cox: {_hr_text(f['cox']['treatment'])}")
    if f["iptw"]:
        lines.append(f"  IPTW Cox: {_hr_text(f['iptw']['treatment'])}")
    if f["e_value"]:
        lines.append(f"  E-value {number(f['e_value']['point'], 2)} (CI {number(f['e_value']['ci'], 2)})")
    lines += [f"  note: {n}" for n in f["notes"]]
    for m, e in a["echo"].items():
        if e["estimate"] is not None:
            lo, hi = e["ci"]
            est = f"{number(e['estimate'], 2)} ({number(lo, 2)} to {number(hi, 2)}) p={p_or(e['p_value'])}"
            lines.append(f"  echo {m} follow-up difference adjusted for {', '.join(e['covariates'])}: {est}")
    return lines
