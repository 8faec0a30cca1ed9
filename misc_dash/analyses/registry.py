"""The analysis registry: every analysis the app offers, declared once.

An entry names the function, the :class:`AnalysisOptions` fields it reads, its parameters, and its key in the
``analyze`` JSON with the function that writes that key (and, for ``adjusted``, when it is written: only when an
adjustment is asked for). The UI's cache, ``python -m misc_dash analyze`` and the fidelity report all go through
:func:`run`; adding an analysis is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from . import (
    adjusted,
    anakinra,
    baseline,
    cardiac,
    cytokine_panel,
    defervescence,
    laboratory,
    literature,
    overview,
    safety,
    temperature,
)
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
    in_json: Callable[[AnalysisOptions], bool] | None = None  # when its JSON key is written (None: always)

    def narrow(self, opts: AnalysisOptions) -> AnalysisOptions:
        """``opts`` with every field this analysis does not read set to its default (a tighter cache key)."""
        default = AnalysisOptions()
        unused = {f.name: getattr(default, f.name) for f in fields(AnalysisOptions) if f.name not in self.options}
        return replace(opts, **unused)


def _of_context(fn: Callable, title: str, module=None, json_key: str | None = None) -> Analysis:
    """An analysis of the context alone (no options); ``module.to_json`` writes its JSON key, if any."""
    to_json = (lambda run: module.to_json(run())) if json_key else None
    return Analysis(fn.__name__, lambda ctx, o: fn(ctx), title, json_key=json_key, to_json=to_json)


_FEVER_OPTIONS = ("fever_origin", "fever_threshold", "fever_sustained_hours", "cox", "at_risk_days", "survival_days")
_ECHO_OPTIONS = ("echo_followup", "lvef_normal", "strain_normal")

_ENTRIES = (
    _of_context(overview.key_figures, "Key figures"),
    Analysis("flow", lambda ctx, o: overview.cohort_flow(ctx), "Cohort flow"),
    _of_context(overview.crosstab, "Phenotype × treatment group"),
    _of_context(baseline.table1, "Table 1 — baseline characteristics", baseline, "table1"),
    Analysis(
        "fever",
        lambda ctx, o: defervescence.fever(ctx, o),
        "Time to defervescence",
        options=_FEVER_OPTIONS,
        json_key="fever",
        to_json=lambda run: defervescence.to_json(run()),
    ),
    Analysis(
        "temperature",
        lambda ctx, o: temperature.daily_max_temperature(ctx, o),
        "Daily maximum temperature",
        options=("fever_origin",),
    ),
    Analysis(
        "echo",
        lambda ctx, o, measure="lvef": cardiac.echo(ctx, measure, o),
        "LVEF and Ap4 strain, first vs follow-up echo",
        options=_ECHO_OPTIONS,
        params={"measure": ECHO_MEASURES},
        json_key="echo",
        to_json=lambda run: {m: cardiac.to_json(run(measure=m)) for m in ECHO_MEASURES},
    ),
    _of_context(cytokine_panel.cytokines, "Cytokines", cytokine_panel, "cytokines"),
    _of_context(safety.adverse_events, "Adverse events (Table 3)", safety, "adverse_events"),
    _of_context(anakinra.dosing, "Anakinra dosing (Table 2)", anakinra, "anakinra"),
    _of_context(laboratory.labs, "Laboratory values", laboratory, "labs_first_value"),
    _of_context(literature.lvef_since_anakinra, "LVEF since anakinra start"),
    Analysis(
        "adjusted",
        lambda ctx, o: adjusted.adjusted_analysis(ctx, o),
        "Adjusted & sensitivity — stratified, adjusted and weighted comparisons",
        options=(*_FEVER_OPTIONS, *_ECHO_OPTIONS, "adjust"),
        json_key="adjusted",
        to_json=lambda run: adjusted.to_json(run()),
        in_json=lambda o: o.adjust is not None and o.adjust.active,
    ),
)
ANALYSES: Mapping[str, Analysis] = MappingProxyType({a.name: a for a in _ENTRIES})


def run(name: str, ctx: Context, opts: AnalysisOptions = AnalysisOptions(), **params):
    """Run the registered analysis ``name`` on ``ctx`` (unknown names and parameters raise ``KeyError``)."""
    spec = ANALYSES[name]
    unknown = set(params) - set(spec.params)
    if unknown:
        raise KeyError(f"{name}: unknown parameter(s) {sorted(unknown)}; it takes {sorted(spec.params)}")
    return spec.compute(ctx, spec.narrow(opts), **params)
