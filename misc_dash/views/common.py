"""What every view needs: the :class:`ViewContext` card builders work from, the page header as a value, the
data-source line and the ``analyze`` command that reproduces a view's numbers."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from .. import analyses as A
from .. import stats
from ..vocabulary import confounding_caution

SYNTHETIC_BANNER = (
    "**SYNTHETIC COHORT — not real patients.** These {n} patients were reconstructed from the published summary "
    "tables and figures of the index study (46-patient single-centre MIS-C cohort); no patient-level data were "
    "published. Use it to explore the methods, not to make clinical decisions."
)
RESAMPLED_BANNER = (
    "**SYNTHETIC COHORT — not real patients.** Synthetic cohort resampled from the reconstructed index cohort "
    "({n} patients): each patient is a copy, under a new id, of one of the reconstruction's 46 patients drawn "
    "with replacement — and the reconstruction itself was rebuilt from the published summary tables and figures "
    "of the index study; no patient-level data were published. Copies of the same patients make p-values small "
    "without adding information. Use it to try the dashboard at scale, not to make clinical decisions."
)


def synthetic_banner(cohort, n: int) -> str:
    """The synthetic-data banner that says truthfully what the cohort is: the reconstruction, or a resample of
    it (``python -m misc_dash synth``; :attr:`misc_dash.loading.Cohort.resampled`)."""
    return (RESAMPLED_BANNER if getattr(cohort, "resampled", False) else SYNTHETIC_BANNER).format(n=n)


@dataclass(frozen=True, eq=False)
class ViewContext:
    """The analysis context of the current selection, plus how to run a registered analysis on it (the UI passes
    its cached runner; headless callers get :func:`misc_dash.analyses.run`)."""

    ctx: A.Context
    n_cohort: int  # patients in the loaded (unfiltered) cohort
    data_path: str | None = None  # the cohort's folder/file for the reproduce command (None: the default cohort)
    runner: Callable[..., Any] | None = None
    cohort_name: str | None = None  # the loaded cohort's name and label (default: the context's cohort)
    is_synthetic: bool | None = None

    def run(self, name: str, opts: A.AnalysisOptions = A.AnalysisOptions(), **params):
        if self.runner is not None:
            return self.runner(name, opts, **params)
        return A.run(name, self.ctx, opts, **params)

    @property
    def groups(self) -> tuple[str, ...]:
        return self.ctx.groups

    @property
    def description(self) -> str:
        return self.ctx.description

    @property
    def synthetic(self) -> bool:
        return bool(self.ctx.cohort.synthetic if self.is_synthetic is None else self.is_synthetic)

    @property
    def source(self) -> str:
        name = self.ctx.cohort.name if self.cohort_name is None else self.cohort_name
        return source_text(name, self.synthetic, self.n_cohort, resampled=getattr(self.ctx.cohort, "resampled", False))

    def colors(self) -> dict[str, str]:
        from ..figures import group_colors

        return group_colors(self.ctx.groups)

    def reproduce(self, opts: A.AnalysisOptions = A.AnalysisOptions()) -> str:
        return reproduce_command(self.ctx, opts, self.data_path)

    def card_fields(self, opts: A.AnalysisOptions = A.AnalysisOptions()) -> dict[str, Any]:
        """The card fields every card of this view shares (cohort, source, synthetic, reproduce)."""
        return {
            "cohort": self.description,
            "source": self.source,
            "synthetic": self.synthetic,
            "reproduce": self.reproduce(opts),
        }


def source_text(name: str, synthetic: bool, n: int, resampled: bool = False) -> str:
    if synthetic and resampled:
        return f"Data: {name} — synthetic, {n} patients resampled from the reconstructed cohort, not real patients"
    if synthetic:
        return f"Data: {name} — synthetic, {n} reconstructed patients, not real patients"
    return f"Data: {name} ({n} patients)"


# ------------------------------------------------------------------------------------------------ reproduce
_OPTION_FLAGS = {
    "fever_origin": "--fever-origin",
    "fever_threshold": "--fever-threshold",
    "fever_sustained_hours": "--fever-sustained-hours",
    "echo_followup": "--echo-followup",
    "lvef_normal": "--lvef-normal",
    "strain_normal": "--strain-normal",
}


def _num(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def option_args(opts: A.AnalysisOptions) -> list[str]:
    """The ``analyze`` flags for the options that differ from the defaults."""
    default = A.AnalysisOptions()
    out: list[str] = []
    for f in fields(A.AnalysisOptions):
        v = getattr(opts, f.name)
        if v == getattr(default, f.name):
            continue
        if f.name == "cox":
            out.append("--cox")
        elif f.name in _OPTION_FLAGS:
            out += [_OPTION_FLAGS[f.name], _num(v)]
    return out


def reproduce_command(ctx: A.Context, opts: A.AnalysisOptions = A.AnalysisOptions(), data: str | None = None) -> str:
    """The exact ``python -m misc_dash analyze …`` command whose JSON holds this view's numbers."""
    args = ["python", "-m", "misc_dash", "analyze"]
    if data:
        args += ["--data", data]
    g = ctx.grouping
    args += ["--group-by", g.by]
    if g.by == "custom":
        args += ["--group-a", _query(g.a.to_query_params()), "--group-b", _query(g.b.to_query_params())]
    args += ctx.flt.to_cli_args() + option_args(opts) + ["--json"]
    return shlex.join(args)


def _query(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


# ------------------------------------------------------------------------------------------------ page header
@dataclass(frozen=True)
class PageHeader:
    """The top of every page: title, the synthetic-data banner, the cohort line, the group sizes, and the notes
    and warnings that apply to the whole page (each said once)."""

    title: str
    banner_md: str | None  # markdown (our own text, no data in it); every other field is plain text
    description: str
    grouping_title: str
    group_sizes: tuple[tuple[str, int], ...]
    caption: str | None
    notes: tuple[str, ...]
    warnings: tuple[str, ...]
    caution: str | None


def build_header(
    vc: ViewContext, title: str, caption: str | None = None, need_groups: bool = True, caution: bool = True
) -> PageHeader:
    ctx = vc.ctx
    sizes = ctx.group_sizes()
    warnings = []
    if need_groups and len(ctx.present_groups) < 2:
        warnings.append(
            "Fewer than two groups have patients in this selection, so no between-group test can be computed. "
            "Relax a filter or choose another “Compare by”."
        )
    small = [g for g, n in sizes.items() if 0 < n < stats.SMALL_GROUP]
    if small:
        warnings.append(
            f"Small group(s): {', '.join(small)} (fewer than {stats.SMALL_GROUP} patients). "
            "p-values from groups this small are fragile; a non-significant result is not evidence of no difference."
        )
    return PageHeader(
        title=title,
        banner_md=synthetic_banner(ctx.cohort, vc.n_cohort) if vc.synthetic else None,
        description=vc.description,
        grouping_title=ctx.grouping.title,
        group_sizes=tuple(sizes.items()),
        caption=caption,
        notes=tuple(ctx.notes),
        warnings=tuple(warnings),
        caution=confounding_caution(ctx.grouping.by) if caution else None,
    )


def merge_notes(items, what_all: str = "every row") -> tuple[str, ...]:
    """Caveats of several rows (``(row, note)`` pairs) said once each: a note shared by several rows becomes one
    line naming them (or ``what_all``), instead of the same warning repeated on every row."""
    rows_of: dict[str, list[str]] = {}
    every = []
    for row, note in items:
        rows_of.setdefault(note, [])
        if row not in rows_of[note]:
            rows_of[note].append(row)
        if row not in every:
            every.append(row)
    out = []
    for note, rows in rows_of.items():
        if len(rows) == 1:
            out.append(f"{rows[0]}: {note}")
        elif len(rows) == len(every) and len(every) > 2:
            out.append(f"{note} ({what_all})")
        else:
            out.append(f"{note} ({', '.join(rows)})")
    return tuple(out)
