"""What every analysis starts from: the filtered cohort split into compare-by groups (:class:`Context`), the
options a page or the command line can set (:class:`AnalysisOptions`), and the two default between-group tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import derive, stats
from ..filters import CohortFilter, Grouping, assign_groups
from ..loading import Cohort

if TYPE_CHECKING:
    from .adjusted import AdjustOptions


class AnalysisError(Exception):
    """The analysis cannot run (e.g. the filter leaves no patient); the message says what to relax."""


@dataclass(frozen=True)
class AnalysisOptions:
    """Every option an analysis reads. The analysis registry says which fields each analysis uses, so a cache
    keyed on the options does not recompute Table 1 when only the fever threshold changed."""

    fever_origin: str = "admission"
    fever_threshold: float = 38.0
    fever_sustained_hours: float | None = None
    echo_followup: str | int = "last"
    lvef_normal: float = 55.0
    strain_normal: float = -21.4
    cox: bool = False
    at_risk_days: tuple[float, ...] = (0, 2, 4, 6, 8, 10, 12, 14)
    survival_days: tuple[float, ...] = (3, 5, 7)  # still febrile at these days, with CIs (R summary.survfit)
    adjust: AdjustOptions | None = None  # strata / covariates / weights of the adjusted analysis (issue 17)


@dataclass(frozen=True, eq=False)
class Context:
    cohort: Cohort  # restricted to the filtered patients
    pf: pd.DataFrame  # patient frame of the filtered patients, with a "group" column (None = no group)
    groups: tuple[str, ...]  # display order, groups with 0 patients included
    grouping: Grouping
    flt: CohortFilter
    notes: tuple[str, ...]
    n_total: int  # patients in the unfiltered cohort

    @property
    def description(self) -> str:
        return self.flt.describe(len(self.pf))

    @property
    def grouped(self) -> pd.DataFrame:
        return self.pf[self.pf["group"].notna()]

    def group_sizes(self) -> dict[str, int]:
        vc = self.pf["group"].value_counts()
        return {g: int(vc.get(g, 0)) for g in self.groups}

    @property
    def present_groups(self) -> tuple[str, ...]:
        s = self.group_sizes()
        return tuple(g for g in self.groups if s[g] > 0)

    def ids(self, group: str | None = None) -> list[str]:
        df = self.pf if group is None else self.pf[self.pf["group"] == group]
        return df["patient_id"].tolist()


def prepare(
    cohort: Cohort,
    flt: CohortFilter = CohortFilter(),
    grouping: Grouping | str = "treatment",
    pf_all: pd.DataFrame | None = None,
) -> Context:
    """Filter the cohort and assign compare-by groups. Raises :class:`AnalysisError` if no patient is left."""
    if isinstance(grouping, str):
        grouping = Grouping(by=grouping)
    pf_all = derive.patient_frame(cohort) if pf_all is None else pf_all
    pf = flt.apply(pf_all).copy()
    if pf.empty:
        raise AnalysisError(
            f"No patient matches the filter ({flt.describe()}). Relax a criterion: " + ", ".join(flt.parts() or ["—"])
        )
    g = assign_groups(pf, grouping)
    pf["group"] = g.labels
    notes = list(g.notes)
    sizes = pf["group"].value_counts()
    empty = [x for x in g.order if int(sizes.get(x, 0)) == 0]
    if empty:
        notes.append(f"No patients in: {', '.join(empty)} (with the current filter).")
    sub = cohort.subset(pf["patient_id"], name=cohort.name)
    return Context(sub, pf.reset_index(drop=True), tuple(g.order), grouping, flt, tuple(notes), cohort.n_patients)


def compare_continuous(samples: dict[str, np.ndarray], order: tuple[str, ...]) -> stats.TestResult | None:
    """Mann–Whitney U (2 groups with data) or Kruskal–Wallis (3+); None with fewer than two groups."""
    present = [g for g in order if len(samples.get(g, ())) > 0]
    if len(present) < 2:
        return None
    if len(present) == 2:
        a, b = present
        return stats.mann_whitney(samples[a], samples[b], groups=(a, b))
    return stats.kruskal_wallis({g: samples[g] for g in present})


def compare_binary(events: dict[str, int], totals: dict[str, int], order: tuple[str, ...]) -> stats.TestResult | None:
    """Fisher's exact test (2 groups with patients) or Freeman–Halton (3+); None with fewer than two groups."""
    present = [g for g in order if totals.get(g, 0) > 0]
    if len(present) < 2:
        return None
    return stats.fisher_counts([events[g] for g in present], [totals[g] for g in present], groups=present)


def binary_effects(
    events: dict[str, int], totals: dict[str, int], order: tuple[str, ...], res: stats.TestResult | None
) -> dict | None:
    """For exactly two groups with patients: the risk difference (first − second, Newcombe hybrid score CI) and the
    odds ratio (first vs second: R fisher.test's conditional MLE with its exact CI, from ``res``); else None."""
    present = [g for g in order if totals.get(g, 0) > 0]
    if len(present) != 2:
        return None
    a, b = present
    rd = stats.risk_difference(events[a], totals[a], events[b], totals[b], what=f"risk difference ({a} − {b})")
    odds = stats.Effect.of(res)
    return {
        "risk_difference": rd.to_dict(),
        "odds_ratio": None
        if odds is None or odds.estimate is None
        else {**odds.to_dict(), "what": f"odds ratio ({a} vs {b})"},
    }
