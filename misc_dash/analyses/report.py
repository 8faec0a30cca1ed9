"""The ``analyze`` report: every analysis in the registry that has a JSON key, as one JSON-safe dict (keys in
docs/ANALYZE.md), and its short text form."""

from __future__ import annotations

from typing import Any

from ..filters import CohortFilter, Grouping
from ..formatting import p_or
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
        cells = " | ".join(r["groups"][g]["text"] for g in d["groups"])
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
    lines.append("\nCytokines")
    for c, v in d["cytokines"].items():
        medians = " | ".join(f"{g} {m}" for g, m in v["median"].items())
        lines.append(f"  {c}: {medians} p={p_or(v['p_value'])}")
    return "\n".join(lines)
