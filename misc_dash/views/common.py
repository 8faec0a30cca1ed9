"""What every view needs: the :class:`ViewContext` card builders work from, the page header as a value, the
data-source line and the ``analyze`` command that reproduces a view's numbers."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

from .. import analyses as A
from .. import privacy, stats
from ..vocabulary import confounding_caution

SYNTHETIC_EXEMPT = (
    "Synthetic patients: small counts are shown as they are (small-cell suppression applies to cohorts of real "
    "patients)."
)
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
    its cached runner; headless callers get :func:`misc_dash.analyses.run`).

    ``suppression``: the small-cell policy for a cohort that is not synthetic (the deployer's, from the UI or the
    command line; headless callers get :data:`misc_dash.privacy.DEFAULT_POLICY`); :attr:`policy` is None for a
    synthetic cohort, which is exempt."""

    ctx: A.Context
    n_cohort: int  # patients in the loaded (unfiltered) cohort
    data_path: str | None = None  # the cohort's folder/file for the reproduce command (None: the default cohort)
    runner: Callable[..., Any] | None = None
    cohort_name: str | None = None  # the loaded cohort's name and label (default: the context's cohort)
    is_synthetic: bool | None = None
    suppression: privacy.SuppressionPolicy = privacy.DEFAULT_POLICY

    @property
    def policy(self) -> privacy.SuppressionPolicy | None:
        """The small-cell policy to apply: None for a synthetic cohort."""
        return None if self.synthetic else self.suppression

    @cached_property
    def sizes(self) -> privacy.Shown | None:
        """How the cohort's, the selection's and each group's size read (:func:`misc_dash.privacy.protect_sizes`;
        keys "cohort", "selection", ("group", g)); None without suppression."""
        if self.policy is None:
            return None
        noted = [int(m.group(1)) for m in (_NOTED.match(n) for n in self.ctx.notes) if m]
        return privacy.protect_sizes(self.policy, self.n_cohort, len(self.ctx.pf), self.ctx.group_sizes(), noted)

    def group_n(self, g: str) -> str:
        """ "n = 14" (or "n < 5" / "n ≥ 5" under suppression) for group ``g``."""
        n = self.ctx.group_sizes().get(g, 0)
        return f"n = {n}" if self.sizes is None else self.sizes.n(("group", g), n)

    def count(self, k: int) -> str:
        """A count on its own (no sum to protect): the number, or the policy's text for it."""
        return str(int(k)) if self.policy is None else self.policy.count(k)

    def text(self, s: str) -> str:
        """Free text (notes, caveats) with its counts hidden under suppression (:func:`.privacy.suppress_text`)."""
        return privacy.suppress_text(s, self.policy)

    @property
    def small(self) -> tuple[str, ...]:
        """Under suppression, what has fewer patients than the threshold: "selection" and/or the groups (those
        with patients)."""
        if self.policy is None:
            return ()
        out = ("selection",) if self.policy.hides(len(self.ctx.pf)) else ()
        return out + tuple(g for g, n in self.ctx.group_sizes().items() if self.policy.hides(n))

    def draws_patients(self, g: str | None = None) -> bool:
        """Whether per-patient lists and lines may be drawn (for group ``g``, else for the selection): always
        without suppression; under it only when the size is shown (not below the threshold, nor hidden)."""
        if self.sizes is None:
            return True
        if self.sizes.hidden("selection"):
            return False
        return g is None or self.sizes.shown(("group", g))

    def run(self, name: str, opts: A.AnalysisOptions = A.AnalysisOptions(), **params):
        if self.runner is not None:
            return self.runner(name, opts, **params)
        return A.run(name, self.ctx, opts, **params)

    @property
    def groups(self) -> tuple[str, ...]:
        return self.ctx.groups

    @property
    def description(self) -> str:
        if self.sizes is None:
            return self.ctx.description
        return f"{self.ctx.flt.describe()} — {self.sizes.n('selection')}"

    @property
    def synthetic(self) -> bool:
        return bool(self.ctx.cohort.synthetic if self.is_synthetic is None else self.is_synthetic)

    @property
    def source(self) -> str:
        name = self.ctx.cohort.name if self.cohort_name is None else self.cohort_name
        n = self.n_cohort if self.sizes is None else self.sizes.text("cohort")
        return source_text(name, self.synthetic, n, resampled=getattr(self.ctx.cohort, "resampled", False))

    @property
    def privacy_note(self) -> str:
        """What the exports say about small cells: the rule (and the small-selection notice), or the exemption."""
        if self.policy is None:
            return SYNTHETIC_EXEMPT
        parts = [self.policy.describe()]
        parts += [self.small_notice] if self.small_notice else []
        return " ".join(parts)

    @property
    def small_notice(self) -> str | None:
        """The one plain notice when the selection or a group has fewer patients than the threshold."""
        small = self.small
        if not small:
            return None
        if "selection" in small:
            return self.policy.small_notice("This selection has")
        one = len(small) == 1
        return self.policy.small_notice(f"{'Group' if one else 'Groups'} {', '.join(small)} {'has' if one else 'have'}")

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
            "privacy": self.privacy_note,
        }


_NOTED = re.compile(r"^(\d+) patient\(s\)")  # the notes of filters.assign_groups: patients left out of the groups


def source_text(name: str, synthetic: bool, n: int | str, resampled: bool = False) -> str:
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
        elif f.name == "adjust":
            out += v.cli_args()
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
    group_sizes: tuple[tuple[str, int | str], ...]  # a size as text ("< 5") under small-cell suppression
    caption: str | None
    notes: tuple[str, ...]
    warnings: tuple[str, ...]
    caution: str | None
    privacy: str | None = None  # the small-cell rule, or that a synthetic cohort is exempt (one short caption)


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
    # under suppression the warning uses at least the policy's threshold (it must not say more than "< 11" does)
    limit = stats.SMALL_GROUP if vc.policy is None else max(stats.SMALL_GROUP, vc.policy.threshold)
    small = [g for g, n in sizes.items() if 0 < n < limit]
    if small:
        warnings.append(
            f"Small group(s): {', '.join(small)} (fewer than {limit} patients). "
            "p-values from groups this small are fragile; a non-significant result is not evidence of no difference."
        )
    shown = vc.sizes
    group_sizes = tuple(sizes.items()) if shown is None else tuple((g, shown.text(("group", g))) for g in sizes)
    notes = tuple(vc.text(n) for n in ctx.notes)
    if vc.small_notice:
        notes += (vc.small_notice,)
    return PageHeader(
        title=title,
        banner_md=synthetic_banner(ctx.cohort, vc.n_cohort) if vc.synthetic else None,
        description=vc.description,
        grouping_title=ctx.grouping.title,
        group_sizes=group_sizes,
        caption=caption,
        notes=notes,
        warnings=tuple(warnings),
        caution=confounding_caution(ctx.grouping.by) if caution else None,
        privacy=SYNTHETIC_EXEMPT if vc.policy is None else vc.policy.describe(),
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
