"""Frozen result dataclasses: :class:`TestResult` (every test) and the descriptive summaries
(:class:`ContinuousSummary`, :class:`CategoricalSummary`, :class:`ProportionSummary`). The Kaplan–Meier curve,
:class:`~misc_dash.stats.survival.KMCurve`, lives with the survival functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..formatting import format_p, number, p_phrase
from ._common import _dc_to_dict


@dataclass(frozen=True)
class TestResult:
    """Outcome of one statistical test (frozen, JSON-serialisable with :meth:`to_dict`).

    ``statistic``/``statistic_name``: e.g. U, V (W+), chi-square, z (Wald), conditional-MLE odds ratio.
    ``p_value`` is None when the test could not be computed (empty group, no events, all values tied…);
    ``notes`` then says why. ``n``: group sizes actually used (pairs for the paired test).
    ``effect``/``estimate``/``ci_low``/``ci_high``/``conf_level``: effect size with its CI, if any.
    ``method``: "exact", "asymptotic (…)", "Monte Carlo (…)"; ``notes``: caveats meant for the screen;
    ``extras``: further named numbers (observed/expected events, raw p before adjustment, median change…).
    """

    __test__ = False  # not a pytest test class

    test: str
    statistic: float | None
    statistic_name: str
    p_value: float | None
    groups: tuple[str, ...]
    n: tuple[int, ...]
    df: int | None = None
    effect: str | None = None
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    conf_level: float | None = None
    method: str = ""
    notes: tuple[str, ...] = ()
    extras: tuple[tuple[str, float | None], ...] = ()  # further numbers, e.g. observed/expected events

    def p_text(self) -> str:
        return format_p(self.p_value)

    def label(self) -> str:
        """e.g. "Mann–Whitney U (exact), n = 14 vs 32: p = 0.57"."""
        p_part = p_phrase(self.p_value)
        n_part = " vs ".join(str(n) for n in self.n)
        return f"{self.test}, n = {n_part}: {p_part}"

    def statistic_text(self) -> str:
        """The test statistic with its df, e.g. "χ² = 9.00, df = 1", "V = 45", "z = 2.86"; "" when there is none
        (or when the statistic is the effect itself, as Fisher's odds ratio, shown with the effect)."""
        if self.statistic is None or self.statistic_name in ("odds ratio (conditional MLE)", "table probability"):
            return ""
        name = {"chi-square": "χ²", "V (W+)": "V", "z (Wald)": "z"}.get(self.statistic_name, self.statistic_name)
        txt = f"{name} = {number(self.statistic, 2)}"
        return f"{txt}, df = {self.df}" if self.df is not None else txt

    def estimate_text(self, decimals: int = 2) -> str:
        """e.g. "0.17 (95% CI 0.03–0.82)"; "" when there is no estimate."""
        if self.estimate is None:
            return ""
        txt = number(self.estimate, decimals)
        if self.ci_low is not None and self.ci_high is not None:
            lvl = f"{round(100 * self.conf_level)}% " if self.conf_level else ""
            txt += f" ({lvl}CI {number(self.ci_low, decimals)}–{number(self.ci_high, decimals)})"
        return txt

    def extra(self, name: str) -> float | None:
        return dict(self.extras).get(name)

    def to_dict(self) -> dict:
        """JSON-safe dict (tuples → lists, NaN/±inf → None)."""
        d = _dc_to_dict(self)
        d["p_text"] = self.p_text()
        return d


@dataclass(frozen=True)
class ContinuousSummary:
    n: int
    missing: int
    median: float | None
    q1: float | None
    q3: float | None
    min: float | None
    max: float | None

    def text(self, decimals: int = 1) -> str:
        """ "8.0 [4.0, 13.0]" (median [Q1, Q3]); "n/a" without data."""
        if self.n == 0:
            return "n/a"
        return f"{number(self.median, decimals)} [{number(self.q1, decimals)}, {number(self.q3, decimals)}]"

    def range_text(self, decimals: int = 1) -> str:
        if self.n == 0:
            return "n/a"
        return f"{number(self.min, decimals)}–{number(self.max, decimals)}"

    def to_dict(self) -> dict:
        return _dc_to_dict(self)


@dataclass(frozen=True)
class CategoricalSummary:
    """Counts per level; percentages use the non-missing total ``n`` (which includes ``other``)."""

    levels: tuple[str, ...]
    counts: tuple[int, ...]
    n: int
    missing: int
    other: int = 0  # non-missing values that are not one of ``levels``

    def count(self, level: Any) -> int:
        return self.counts[self.levels.index(str(level))]

    def percent(self, level: Any) -> float | None:
        return 100.0 * self.count(level) / self.n if self.n else None

    def text(self, level: Any, decimals: int = 0) -> str:
        """ "3 (21%)"."""
        pct = self.percent(level)
        return f"{self.count(level)} ({number(pct, decimals)}%)" if pct is not None else f"{self.count(level)} (n/a)"

    def to_dict(self) -> dict:
        return _dc_to_dict(self)


@dataclass(frozen=True)
class ProportionSummary:
    """k of n meeting a criterion with an exact Clopper–Pearson CI (= R ``binom.test``)."""

    k: int
    n: int
    missing: int
    proportion: float | None
    ci_low: float | None
    ci_high: float | None
    criterion: str = ""

    def text(self, decimals: int = 0) -> str:
        """ "9/12 (75%)"."""
        if not self.n:
            return "0/0 (n/a)"
        return f"{self.k}/{self.n} ({number(100 * self.proportion, decimals)}%)"

    def to_dict(self) -> dict:
        return _dc_to_dict(self)


@dataclass(frozen=True)
class Effect:
    """An effect size with its confidence interval: what it is, the estimate, the CI, the level and the method
    (e.g. risk difference 0.20, 95% CI 0.05 to 0.33, Newcombe hybrid score)."""

    what: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    conf_level: float = 0.95
    method: str = ""

    def text(self, decimals: int = 2) -> str:
        """ "0.20 (95% CI 0.05 to 0.33)"; "n/a" without an estimate."""
        if self.estimate is None:
            return "n/a"
        txt = number(self.estimate, decimals)
        if self.ci_low is not None and self.ci_high is not None:
            lo, hi = number(self.ci_low, decimals), number(self.ci_high, decimals)
            txt += f" ({round(100 * self.conf_level)}% CI {lo} to {hi})"
        return txt

    def to_dict(self) -> dict:
        return {
            "what": self.what,
            "estimate": self.estimate,
            "ci": [self.ci_low, self.ci_high],
            "conf_level": self.conf_level,
            "method": self.method,
        }

    @classmethod
    def of(cls, res: TestResult | None) -> Effect | None:
        """The effect a test result carries (Hodges–Lehmann shift, odds ratio, hazard ratio…), or None."""
        if res is None or res.effect is None:
            return None
        return cls(res.effect, res.estimate, res.ci_low, res.ci_high, res.conf_level or 0.95, res.method)
