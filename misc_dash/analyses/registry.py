"""The analysis registry: every analysis the app offers, declared once.

An entry names the function, the :class:`AnalysisOptions` fields it reads, its parameters, and its key in the
``analyze`` JSON with the function that writes that key. The UI's cache, ``python -m misc_dash analyze`` and
the fidelity report all go through :func:`run`; adding an analysis is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from . import anakinra, baseline, cardiac, cytokine_panel, defervescence, laboratory, literature, overview, safety
from .context import AnalysisOptions, Context

ECHO_MEASURES = ("lvef", "strain")


@dataclass(frozen=True)
class Analysis:
    name: str
    compute: Callable[..., Any]  # compute(ctx, opts, **params)
    title: str
    options: tuple[str, ...] = ()  # the AnalysisOptions fields it reads
    params: Mapping[str, tuple] = field(default_factory=dict)  # parameter → allowed values (first = default)
    json_key: str | None = None  # its key in the analyze JSON (None: not in the JSON)
    to_json: Callable[[Callable[..., Any]], Any] | None = None  # to_json(run) with run(**params) -> result

    def narrow(self, opts: AnalysisOptions) -> AnalysisOptions:
        """``opts`` with every field this analysis does not read set to its default (a tighter cache key)."""
        default = AnalysisOptions()
        unused = {f.name: getattr(default, f.name) for f in fields(AnalysisOptions) if f.name not in self.options}
        return replace(opts, **unused)


def _entry(name, compute, title, **kw) -> tuple[str, Analysis]:
    return name, Analysis(name, compute, title, **kw)


_FEVER_OPTIONS = ("fever_origin", "fever_threshold", "fever_sustained_hours", "cox", "at_risk_days")
_ECHO_OPTIONS = ("echo_followup", "lvef_normal", "strain_normal")

ANALYSES: Mapping[str, Analysis] = MappingProxyType(
    dict(
        [
            _entry("key_figures", lambda ctx, o: overview.key_figures(ctx), "Key figures"),
            _entry("flow", lambda ctx, o: overview.cohort_flow(ctx), "Cohort flow"),
            _entry("crosstab", lambda ctx, o: overview.crosstab(ctx), "Phenotype × treatment group"),
            _entry(
                "table1",
                lambda ctx, o: baseline.table1(ctx),
                "Table 1 — baseline characteristics",
                json_key="table1",
                to_json=lambda run: baseline.to_json(run()),
            ),
            _entry(
                "fever",
                lambda ctx, o: defervescence.fever(ctx, o),
                "Time to defervescence",
                options=_FEVER_OPTIONS,
                json_key="fever",
                to_json=lambda run: defervescence.to_json(run()),
            ),
            _entry(
                "echo",
                lambda ctx, o, measure="lvef": cardiac.echo(ctx, measure, o),
                "LVEF and Ap4 strain, first vs follow-up echo",
                options=_ECHO_OPTIONS,
                params={"measure": ECHO_MEASURES},
                json_key="echo",
                to_json=lambda run: {m: cardiac.to_json(run(measure=m)) for m in ECHO_MEASURES},
            ),
            _entry(
                "cytokines",
                lambda ctx, o: cytokine_panel.cytokines(ctx),
                "Cytokines",
                json_key="cytokines",
                to_json=lambda run: cytokine_panel.to_json(run()),
            ),
            _entry(
                "adverse_events",
                lambda ctx, o: safety.adverse_events(ctx),
                "Adverse events (Table 3)",
                json_key="adverse_events",
                to_json=lambda run: safety.to_json(run()),
            ),
            _entry(
                "dosing",
                lambda ctx, o: anakinra.dosing(ctx),
                "Anakinra dosing (Table 2)",
                json_key="anakinra",
                to_json=lambda run: anakinra.to_json(run()),
            ),
            _entry(
                "labs",
                lambda ctx, o: laboratory.labs(ctx),
                "Laboratory values",
                json_key="labs_first_value",
                to_json=lambda run: laboratory.to_json(run()),
            ),
            _entry(
                "lvef_since_anakinra",
                lambda ctx, o: literature.lvef_since_anakinra(ctx),
                "LVEF since anakinra start",
            ),
        ]
    )
)


def run(name: str, ctx: Context, opts: AnalysisOptions = AnalysisOptions(), **params):
    """Run the registered analysis ``name`` on ``ctx`` (unknown names and parameters raise ``KeyError``)."""
    spec = ANALYSES[name]
    unknown = set(params) - set(spec.params)
    if unknown:
        raise KeyError(f"{name}: unknown parameter(s) {sorted(unknown)}; it takes {sorted(spec.params)}")
    return spec.compute(ctx, spec.narrow(opts), **params)
