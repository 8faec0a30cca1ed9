"""Small-cell suppression for cohorts of real patients: the policy, the presets, and the rule that decides which
counts a view may show.

A real (not synthetic) cohort never shows a count of 1 to ``threshold − 1`` patients (default 5: counts 1–4 read
"< 5"); 0 is always shown. The deployer chooses the policy (``[privacy]`` in ``.streamlit/secrets.toml``, see
:func:`policy_from_config`); the viewer cannot change it. The synthetic default cohort is exempt.

**The rule** (:meth:`Counts.protect`), applied to every table of counts a view shows, with the sums the reader can
form from what is shown:

1. *Primary*: a count ``k`` with ``1 ≤ k < threshold`` is hidden and reads :attr:`SuppressionPolicy.label`
   ("< 5"). Suppression is decided on the true counts, before any rounding.
2. *Complementary*: every sum the reader can form is a *line* — parts that add up to a total (the groups of a
   row and its "All" cell, the levels of a variable and their n, a group's patients with and without a
   characteristic and the group's n, a table's rows and its Total row, a box of the cohort flow and the boxes it
   splits into). A line with exactly one hidden cell would give it back (total minus the others): the smallest
   non-zero shown cell of that line is hidden too, and reads :attr:`SuppressionPolicy.high_label` ("≥ 5" —
   honest: such a cell is never below the threshold). Repeated until no line has exactly one hidden cell.
3. *Audit*: then every hidden cell's possible values are worked out exactly from all the lines at once and what
   the reader knows of each cell (a shown value; "< 5" = 1..4; "≥ 5" = at least 5; 0 is shown). A hidden cell
   whose value is then certain (e.g. two "< 5" cells adding up to 8, or a box split into a hidden part and a
   part hidden as a complement whose other line fixes it) gets another cell of one of its lines hidden, and the
   rule runs again.

Counts a reader can only work out (a group's patients *without* a characteristic, given the group's n and the
count with it; missing values, given a percentage) are cells too: hiding one hides what reveals it (the
percentage). A percentage is shown only when its count and its denominator are shown. In the rounding preset
("≤ 7, then round to 5") every shown count is rounded to the nearest 5 after suppression (percentages from the
rounded counts); the rule still treats shown values as known exactly (conservative).

Counts in free text (test notes, caveats: "3 patient(s) … left out") are never written out for a real cohort:
each reads "< 5" or "≥ 5" (:func:`suppress_text`); the rule treats them as shown (as if the reader knew them).

Pure: no streamlit. The UI reads the deployer's setting (:func:`misc_dash.ui.state.suppression_policy`) and passes
the policy down; :func:`misc_dash.views.build_cards` applies it to every card of a cohort that is not synthetic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType

import numpy as np

from . import formatting as fmt

# ------------------------------------------------------------------------------------------------ the policy
SHOWN, LOW, HIGH = "shown", "low", "high"  # a cell's state: shown; hidden (< threshold); hidden as a complement


@dataclass(frozen=True)
class SuppressionPolicy:
    """Counts ``1 .. threshold − 1`` are hidden; every shown count is rounded to the nearest ``rounding``
    (1 = exact). ``name`` is the preset's name (or "custom")."""

    threshold: int = 5
    rounding: int = 1
    name: str = "5"

    def __post_init__(self):
        if not isinstance(self.threshold, int) or isinstance(self.threshold, bool) or self.threshold < 3:
            raise ValueError(f"small-cell threshold {self.threshold!r}: a whole number, at least 3")
        if not isinstance(self.rounding, int) or isinstance(self.rounding, bool) or self.rounding < 1:
            raise ValueError(f"small-cell rounding {self.rounding!r}: a whole number, at least 1")

    @property
    def label(self) -> str:
        """What a hidden count reads: "< 5"; with rounding "≤ 7" (the largest hidden count)."""
        return f"≤ {self.threshold - 1}" if self.rounding > 1 else f"< {self.threshold}"

    @property
    def high_label(self) -> str:
        """What a count hidden as a complement reads ("≥ 5"; with rounding "> 7"): true, and nothing more."""
        return f"> {self.threshold - 1}" if self.rounding > 1 else f"≥ {self.threshold}"

    def hides(self, k) -> bool:
        return 0 < int(k) < self.threshold

    def value(self, k) -> int:
        """A shown count after rounding (half up to the nearest ``rounding``; exact when ``rounding`` is 1)."""
        k = int(k)
        if self.rounding <= 1:
            return k
        return int((k + self.rounding // 2) // self.rounding * self.rounding)

    def count(self, k) -> str:
        """A count on its own (no sum to protect): the label when hidden, else the (rounded) number."""
        return self.label if self.hides(k) else str(self.value(k))

    def text_count(self, k) -> str:
        """A count in free text: never the number (0 stays 0)."""
        k = int(k)
        return "0" if k == 0 else (self.label if self.hides(k) else self.high_label)

    def n(self, k) -> str:
        return f"n {self.label}" if self.hides(k) else f"n = {self.value(k)}"

    def describe(self) -> str:
        """The rule in one plain sentence (page caption, exports)."""
        txt = (
            f"Small-cell suppression (real patients): any count from 1 to {self.threshold - 1} is shown as "
            f"“{self.label}”, and a count that would give one back from a total as “{self.high_label}”"
        )
        if self.rounding > 1:
            txt += f"; every other count is rounded to the nearest {self.rounding}"
        return txt + f". Nothing is drawn patient by patient for fewer than {self.threshold} patients."

    def small_notice(self, what: str) -> str:
        """The one notice when a selection or a group has fewer patients than the threshold."""
        return (
            f"{what} fewer than {self.threshold} patients: their counts are shown as “{self.label}” and no "
            "patient-level list or per-patient line is drawn for them."
        )


#: the presets a deployer can name (``small_cell_preset``)
PRESETS: Mapping[str, SuppressionPolicy] = MappingProxyType(
    {
        "5": SuppressionPolicy(5, 1, "5"),
        "11": SuppressionPolicy(11, 1, "11"),
        "round5": SuppressionPolicy(8, 5, "round5"),  # 1–7 hidden, every other count rounded to the nearest 5
    }
)
DEFAULT_POLICY = PRESETS["5"]
STRICTEST_POLICY = PRESETS["11"]  # used when the deployer's setting cannot be read
CONFIG_SECTION = "privacy"
CONFIG_KEYS = ("small_cell_preset", "small_cell_threshold")


def policy_from_config(mapping: Mapping | None) -> SuppressionPolicy:
    """The policy a ``[privacy]`` section names (its keys: ``small_cell_preset`` = "5", "11" or "round5";
    ``small_cell_threshold`` = a whole number ≥ 3, which replaces the preset's threshold). An empty or missing
    section gives :data:`DEFAULT_POLICY`; anything else raises ValueError naming what is wrong."""
    if not mapping:
        return DEFAULT_POLICY
    if not isinstance(mapping, Mapping):
        raise ValueError(f"[{CONFIG_SECTION}] must be a table of settings")
    unknown = sorted(str(k) for k in mapping if k not in CONFIG_KEYS)
    if unknown:
        known = ", ".join(CONFIG_KEYS)
        raise ValueError(f"[{CONFIG_SECTION}]: unknown setting(s) {', '.join(unknown)}; known: {known}")
    preset = mapping.get("small_cell_preset", DEFAULT_POLICY.name)
    preset = str(preset) if isinstance(preset, (str, int)) and not isinstance(preset, bool) else preset
    if preset not in PRESETS:
        raise ValueError(f"small_cell_preset {preset!r}: one of {', '.join(PRESETS)}")
    policy = PRESETS[preset]
    if "small_cell_threshold" in mapping:
        t = mapping["small_cell_threshold"]
        if t == policy.threshold and isinstance(t, int) and not isinstance(t, bool):
            return policy
        policy = SuppressionPolicy(t, policy.rounding, "custom")
    return policy


def secrets_paths(cwd: Path | None = None) -> list[Path]:
    """Where Streamlit looks for ``secrets.toml`` by default: the user's, then the project's (which wins)."""
    return [Path.home() / ".streamlit" / "secrets.toml", (cwd or Path.cwd()) / ".streamlit" / "secrets.toml"]


def policy_from_files(paths: Iterable[Path | str]) -> SuppressionPolicy:
    """The policy of the ``[privacy]`` section in the first of ``paths`` that has one, read with tomllib
    (for the command line, which has no ``st.secrets``; later files win, as in Streamlit). ValueError when a file
    cannot be parsed or its section is wrong."""
    import tomllib

    section = None
    for p in paths:
        p = Path(p)
        if not p.is_file():
            continue
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{p}: cannot be read as TOML ({type(exc).__name__})") from None
        if CONFIG_SECTION in data:
            section = data[CONFIG_SECTION]
    return policy_from_config(section)


def command_line_policy(preset: str | None = None, cwd: Path | None = None) -> SuppressionPolicy:
    """The policy of ``python -m misc_dash report``: the named preset (``--small-cells``), else the deployer's
    ``[privacy]`` section in the secrets files Streamlit reads by default (:func:`secrets_paths`), else
    :data:`DEFAULT_POLICY`. ValueError when a preset or a file is wrong."""
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"--small-cells {preset!r}: one of {', '.join(PRESETS)}")
        return PRESETS[preset]
    return policy_from_files(secrets_paths(cwd))


# ------------------------------------------------------------------------------------------------ the rule
@dataclass(frozen=True)
class Shown:
    """The decision of :meth:`Counts.protect`: each count's state and how it reads. A key that is not one of the
    protected counts gets the primary rule (:meth:`text` with a value)."""

    policy: SuppressionPolicy
    values: Mapping[Hashable, int] = field(default_factory=dict)
    states: Mapping[Hashable, str] = field(default_factory=dict)
    derived: frozenset = frozenset()  # the counts no table shows (the reader could work them out)

    def state(self, key, value=None) -> str:
        if key in self.states:
            return self.states[key]
        v = self.values.get(key, value)
        if v is None:
            raise KeyError(key)
        return LOW if self.policy.hides(v) else SHOWN

    def hidden(self, key, value=None) -> bool:
        return self.state(key, value) != SHOWN

    def shown(self, key, value=None) -> bool:
        return self.state(key, value) == SHOWN

    def value(self, key, value=None) -> int:
        return int(self.values.get(key, value))

    def text(self, key, value=None) -> str:
        s = self.state(key, value)
        if s == LOW:
            return self.policy.label
        if s == HIGH:
            return self.policy.high_label
        return str(self.policy.value(self.value(key, value)))

    __call__ = text

    def n(self, key, value=None) -> str:
        """ "n = 12", "n < 5", "n ≥ 5"."""
        s = self.state(key, value)
        if s == SHOWN:
            return f"n = {self.policy.value(self.value(key, value))}"
        return f"n {self.policy.label if s == LOW else self.policy.high_label}"

    def percent(
        self, k_key, n_key, decimals: int = 0, also: Sequence[Hashable] = (), n: int | None = None
    ) -> str | None:
        """The percentage k / n (rounded counts when the policy rounds), or None when k, n or any of ``also``
        (cells the percentage would give back) is hidden. ``n_key`` None: the denominator ``n`` is no cell (it is
        k plus cells in ``also``)."""
        keys = (k_key, *also) if n_key is None else (k_key, n_key, *also)
        if any(self.hidden(x) for x in keys):
            return None
        k = self.policy.value(self.value(k_key))
        d = self.policy.value(n if n_key is None else self.value(n_key))
        return fmt.percent(k, d, decimals) if d else None

    def count_percent(
        self,
        k_key,
        n_key,
        decimals: int = 0,
        also: Sequence[Hashable] = (),
        empty: str = fmt.NA,
        n: int | None = None,
    ) -> str:
        """ "12 (26%)"; "12" when the percentage is hidden; "< 5" / "≥ 5" when the count is; ``empty`` when the
        denominator is 0 (``n_key`` None: the denominator is ``n``, see :meth:`percent`)."""
        if (self.value(n_key) if n_key is not None else n) == 0:
            return empty
        k = self.text(k_key)
        if self.hidden(k_key):
            return k
        p = self.percent(k_key, n_key, decimals, also, n)
        return f"{k} ({p})" if p is not None else k


class Counts:
    """Named counts and the sums they obey (the module docstring's rule); :meth:`protect` decides which are hidden.

    ``add(key, value)``: a count the view shows. ``derived=True``: a count the view does not show but the reader
    can work out (the patients without a characteristic, from a percentage); hiding it means hiding what reveals
    it, and a hidden one tells the reader nothing (its range is 0 and up). ``primary=False``: a derived count the
    rule does not protect for itself (patients without a measurement: data availability, not a characteristic),
    only so that it gives no hidden count back. A count written in free text (which always reads "< 5" / "≥ 5")
    is added as a shown one: the rule then assumes the reader knows it (conservative). ``fixed=``: the state
    decided by another, wider protection (the group sizes every page shows); the rule never changes it.
    ``line(parts, total)``: the parts add up to the total (every key added first)."""

    def __init__(self, policy: SuppressionPolicy):
        self.policy = policy
        self._keys: list[Hashable] = []
        self._index: dict[Hashable, int] = {}
        self._values: list[int] = []
        self._fixed: dict[int, str] = {}
        self._derived: set[int] = set()
        self._no_primary: set[int] = set()
        self._lines: list[tuple[tuple[int, ...], int]] = []

    def add(
        self,
        key: Hashable,
        value,
        fixed: str | None = None,
        derived: bool = False,
        primary: bool = True,
    ) -> Counts:
        v = int(value)
        if v < 0:
            raise ValueError(f"count {key!r} is negative ({v})")
        if key in self._index:
            i = self._index[key]
            if self._values[i] != v:
                raise ValueError(f"count {key!r} added twice with different values ({self._values[i]}, {v})")
        else:
            i = len(self._keys)
            self._index[key] = i
            self._keys.append(key)
            self._values.append(v)
        if fixed is not None:
            self._fixed[i] = fixed
        if derived:
            self._derived.add(i)
        if not primary:
            self._no_primary.add(i)
        return self

    def is_derived(self, key) -> bool:
        return self._index[key] in self._derived

    def __contains__(self, key) -> bool:
        return key in self._index

    def value(self, key) -> int:
        return self._values[self._index[key]]

    def line(self, parts: Iterable[Hashable], total: Hashable) -> Counts:
        idx = tuple(self._index[p] for p in parts)
        t = self._index[total]
        if sum(self._values[i] for i in idx) != self._values[t]:
            raise ValueError(f"line to {total!r}: the parts do not add up to the total")
        self._lines.append((idx, t))
        return self

    # ------------------------------------------------------------------ the decision
    def protect(self) -> Shown:
        vals = np.asarray(self._values, dtype=np.int64)
        pol = self.policy
        state = []
        for i, v in enumerate(self._values):
            if i in self._fixed:
                state.append(self._fixed[i])
            elif pol.hides(v) and i not in self._no_primary:
                state.append(LOW)
            else:
                state.append(SHOWN)
        self._memo: dict = {}
        self._pinned = self._pinned_cells()
        while True:
            self._complete(state)
            determined = self._determined(state, vals)
            if not determined or not self._hide_near(determined, state):
                break
        return Shown(
            pol,
            MappingProxyType(dict(zip(self._keys, self._values))),
            MappingProxyType(dict(zip(self._keys, state))),
            frozenset(self._keys[i] for i in self._derived),
        )

    def _pinned_cells(self) -> set[int]:
        """Cells whose value the lines, the fixed shown cells and the zeros (never hidden) give, whatever else is
        hidden (a crosstab total that is also a group size in the page header; a group's count when nobody in it
        lacks the characteristic): hiding one protects nothing, so the rule never picks it and the audit does not
        ask for more around it."""
        const = {i for i, st in self._fixed.items() if st == SHOWN} | {i for i, v in enumerate(self._values) if v == 0}
        free = [i for i in range(len(self._values)) if i not in const]
        out: set[int] = set()
        for group in _line_groups(set(free), self._lines, set()):
            cells = sorted({c for r in group for c in (*self._lines[r][0], self._lines[r][1]) if c not in const})
            cols = {c: j for j, c in enumerate(cells)}
            a = np.zeros((len(group), len(cells)))
            for k, r in enumerate(group):
                parts, total = self._lines[r]
                for c, sign in [(p, 1.0) for p in parts] + [(total, -1.0)]:
                    if c in cols:
                        a[k, cols[c]] += sign
            _, sv, vt = np.linalg.svd(a)
            rank = int((sv > 1e-9 * max(1.0, sv.max(initial=0))).sum())
            null = vt[rank:].T
            out |= {c for c in cells if not null.size or np.abs(null[cols[c]]).max() < 1e-9}
        return out

    def _candidate(self, cells: Iterable[int], state: list[str]) -> int | None:
        """The smallest non-zero shown cell the rule may hide (not fixed, not pinned by shown cells), first in
        order on ties."""
        best = None
        for c in cells:
            ok = state[c] == SHOWN and self._values[c] > 0 and c not in self._fixed and c not in self._pinned
            if ok and (best is None or self._values[c] < self._values[best]):
                best = c
        return best

    def _complete(self, state: list[str]) -> None:
        changed = True
        while changed:
            changed = False
            for parts, total in self._lines:
                cells = (*parts, total)
                if sum(state[c] != SHOWN for c in cells) == 1:
                    c = self._candidate(cells, state)
                    if c is not None:
                        state[c] = HIGH
                        changed = True

    def _hide_near(self, determined: list[int], state: list[str]) -> bool:
        """Hide one more cell next to the first determined hidden cell that has one: in one of its lines, else in
        the lines its hidden neighbours share (never across a shown or fixed cell: hiding there changes nothing
        about it); the audit then runs again. False when nothing can be hidden."""
        for d in determined:
            seen, frontier = {d}, [d]
            while frontier:
                lines = [(*p, t) for p, t in self._lines if any(c in frontier for c in (*p, t))]
                near = [c for ln in lines for c in ln]
                c = self._candidate(near, state)
                if c is not None:
                    state[c] = HIGH
                    return True
                frontier = [c for c in near if c not in seen and state[c] != SHOWN and c not in self._fixed]
                seen.update(frontier)
        return False

    def _determined(self, state: list[str], vals: np.ndarray) -> list[int]:
        """Hidden cells whose value the lines and the shown values fix (at most one whole number is possible).

        The hidden cells are split into the groups the lines connect; a fixed hidden cell (a group size every
        row of a table sums to) is a variable of each group it touches, and its ranges from all of them are
        intersected (given its value, those groups are independent, so this is exact when it is the only cell
        they share)."""
        hidden = [i for i, s in enumerate(state) if s != SHOWN]
        if not hidden or not self._lines:
            return []
        big = 10.0 * float(max(vals.max(initial=0), self.policy.threshold)) + 10.0  # above any count
        hset = set(hidden)
        shared = {i for i in hidden if i in self._fixed}
        out: list[int] = []
        shared_range: dict[int, list[float]] = {}
        memo = self._memo
        for group in _line_groups(hset, self._lines, shared):
            lines = [self._lines[r] for r in group]
            cells = sorted({c for p, tot in lines for c in (*p, tot) if c in hset})
            memo_key = (tuple(group), tuple((c, state[c]) for c in cells))
            if memo_key not in memo:
                memo[memo_key] = self._group_ranges(lines, cells, hset, state, vals, shared, big)
            for c, (mn, mx) in memo[memo_key]:
                if mn is None:  # infeasible: the shown values contradict the lines (never for real counts)
                    continue
                if c in shared:
                    r = shared_range.setdefault(c, [mn, mx])
                    r[0], r[1] = max(r[0], mn), min(r[1], mx)
                elif _one_integer(mn, mx):
                    out.append(c)
        out += [c for c, (mn, mx) in shared_range.items() if _one_integer(mn, mx)]
        return [c for c in out if c not in self._pinned]  # nothing hidden around a pinned cell would help

    def _group_ranges(self, lines, cells, hset, state, vals, shared, big) -> list[tuple[int, tuple]]:
        """(cell, (min, max)) of a group's hidden cells (:func:`_ranges`): the lines as equations in the hidden
        cells, the shown ones moved to the right-hand side; "< 5" is 1..4, "≥ 5" is 5..``big``."""
        t = self.policy.threshold
        cols = {c: j for j, c in enumerate(cells)}
        a = np.zeros((len(lines), len(cols)))
        b = np.zeros(len(lines))
        for r, (parts, total) in enumerate(lines):
            for c, sign in [(p, 1.0) for p in parts] + [(total, -1.0)]:
                if c in hset:
                    a[r, cols[c]] += sign
                else:
                    b[r] -= sign * vals[c]
        # what the reader knows of a hidden cell: "< 5" = 1..4, "≥ 5" = 5 and up; a derived one: nothing
        lo = np.array([0.0 if c in self._derived else 1.0 if state[c] == LOW else float(t) for c in cells])
        hi = np.array([big if c in self._derived else float(t - 1) if state[c] == LOW else big for c in cells])
        exact = [cols[c] for c in cells if c in shared]
        return list(zip(cells, _ranges(a, b, lo, hi, exact)))


def _one_integer(mn: float, mx: float) -> bool:
    """At most one whole number in [mn, mx]: the value is certain."""
    return np.floor(mx + 1e-9) - np.ceil(mn - 1e-9) < 1


def _line_groups(hidden: set[int], lines, shared: set[int]) -> list[list[int]]:
    """The lines with a hidden cell, in groups connected through their hidden cells (a cell in ``shared`` connects
    nothing: each group that touches one gets it as its own variable)."""
    with_hidden = [r for r, (p, t) in enumerate(lines) if any(c in hidden for c in (*p, t))]
    parent = {r: r for r in with_hidden}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first: dict[int, int] = {}
    for r in with_hidden:
        p, t = lines[r]
        for c in (*p, t):
            if c in hidden and c not in shared:
                if c in first:
                    parent[find(r)] = find(first[c])
                else:
                    first[c] = r
    groups: dict[int, list[int]] = {}
    for r in with_hidden:
        groups.setdefault(find(r), []).append(r)
    return list(groups.values())


def _ranges(
    a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, exact: Sequence[int] = ()
) -> list[tuple[float | None, float]]:
    """The range of each variable of {a x = b, lo ≤ x ≤ hi} (``hi`` finite), exact: from the null space — one
    parameter: an interval; two or three: the vertices of the polygon / polyhedron, enumerated — else by linear
    programming (:func:`_lp_ranges`: exact for a variable with a certain value and for those in ``exact``; for
    the others an inner range at least one wide, enough to know they are not certain)."""
    n = a.shape[1]
    if n == 0:
        return []
    if a.shape[0] == 0 or not a.any():
        return list(zip(lo.tolist(), hi.tolist()))
    _, s, vt = np.linalg.svd(a)
    rank = int((s > 1e-9 * max(1.0, s.max())).sum())
    x0 = np.linalg.lstsq(a, b, rcond=None)[0]
    if not np.allclose(a @ x0, b, atol=1e-6):
        return [(None, 0.0)] * n
    null = vt[rank:].T  # n × dof
    dof = null.shape[1]
    if dof == 0:
        ok = np.all(x0 >= lo - 1e-6) and np.all(x0 <= hi + 1e-6)
        return [(float(x), float(x)) if ok else (None, 0.0) for x in x0]
    if dof <= 3 and math.comb(2 * n, dof) <= 5000:
        return _vertex_ranges(x0, null, lo, hi)
    return _lp_ranges(a, b, lo, hi, exact, null)


def _lp_ranges(
    a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, exact: Sequence[int] = (), null=None
) -> list[tuple[float, float] | tuple[None, float]]:
    """Ranges by linear programming, economically. A few vertices first (random objectives; their mean is a
    feasible point inside), then for each variable the segment through that point along the direction that moves
    it most (its unit vector projected on the null space of ``a``), cut by the bounds: a variable that moves a
    whole number or more along it is not determined, and that segment is its range (an inner bound, enough to say
    so). The others, and those in ``exact``, get their exact minimum and maximum."""
    from scipy.optimize import linprog

    n = a.shape[1]
    bounds = list(zip(lo.tolist(), hi.tolist()))

    def solve(c):
        r = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs", options={"presolve": False})
        return r.x if r.status == 0 else None

    rng = np.random.default_rng(0)
    pts = [solve(rng.standard_normal(n)) for _ in range(3)]
    if any(p is None for p in pts):
        return [(None, 0.0)] * n
    mn, mx = np.min(pts, axis=0), np.max(pts, axis=0)
    centre = np.mean(pts, axis=0)
    if null is not None:
        for j in range(n):
            v = null @ null[j]  # e_j projected on the null space: the feasible direction that moves x_j most
            if abs(v[j]) < 1e-12:
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                up = np.where(v > 1e-12, (hi - centre) / v, np.where(v < -1e-12, (lo - centre) / v, np.inf))
                down = np.where(v > 1e-12, (lo - centre) / v, np.where(v < -1e-12, (hi - centre) / v, -np.inf))
            t_hi, t_lo = float(np.min(up)), float(np.max(down))
            if t_hi >= t_lo:
                e1, e2 = centre[j] + t_lo * v[j], centre[j] + t_hi * v[j]
                mn[j], mx[j] = min(mn[j], e1, e2), max(mx[j], e1, e2)
    want = set(exact)
    for j in range(n):
        if mx[j] - mn[j] >= 1 - 1e-9 and j not in want:
            continue
        for sign in (1.0, -1.0):
            c = np.zeros(n)
            c[j] = sign
            x = solve(c)
            if x is None:
                return [(None, 0.0)] * n
            mn, mx = np.minimum(mn, x), np.maximum(mx, x)
    return list(zip(mn.tolist(), mx.tolist()))


def _vertex_ranges(x0: np.ndarray, null: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """Ranges of x = x0 + null·u over lo ≤ x ≤ hi, u in 1–3 dimensions: the box is bounded, so every range is
    reached at a vertex; the vertices are the feasible points where ``dof`` of the bounds meet."""
    from itertools import combinations

    n, dof = null.shape
    g = np.vstack([null, -null])  # g u ≤ h
    h = np.concatenate([hi - x0, x0 - lo])
    keep = np.abs(g).sum(axis=1) > 1e-12
    const_ok = np.all(h[~keep] >= -1e-6)
    if not const_ok:
        return [(None, 0.0)] * n
    gi, hi_ = g[keep], h[keep]
    combos = np.array(list(combinations(range(len(gi)), dof)), dtype=np.int64)
    if combos.size == 0:
        return [(None, 0.0)] * n
    mats = gi[combos]  # k × dof × dof
    rhs = hi_[combos]
    det = np.linalg.det(mats)
    ok = np.abs(det) > 1e-9
    if not ok.any():
        return [(None, 0.0)] * n
    u = np.linalg.solve(mats[ok], rhs[ok][..., None])[..., 0]  # vertices candidates × dof
    feasible = np.all(u @ gi.T <= hi_ + 1e-6, axis=1)
    if not feasible.any():
        return [(None, 0.0)] * n
    xs = x0[None, :] + u[feasible] @ null.T
    return list(zip(xs.min(axis=0).tolist(), xs.max(axis=0).tolist()))


# ------------------------------------------------------------------------------------------------ common models
def protect_selection(policy: SuppressionPolicy, n_cohort: int, n_selection: int) -> Shown:
    """The loaded cohort's size ("cohort") and the selection's ("selection"): with the patients the filters leave
    out (derived) they make a line. Decided before the groups (:func:`protect_sizes`), so the sidebar, which has
    no groups, shows the selection as every page does."""
    c = Counts(policy)
    c.add("cohort", n_cohort).add("selection", n_selection).add("outside", n_cohort - n_selection, derived=True)
    return c.line(["selection", "outside"], "cohort").protect()


def protect_sizes(
    policy: SuppressionPolicy,
    n_cohort: int,
    n_selection: int,
    group_sizes: Mapping[str, int],
    noted: Sequence[int] = (),
) -> Shown:
    """The counts every page shows: the loaded cohort's size ("cohort"), the selection's ("selection", both
    from :func:`protect_selection`), each group's (("group", g)) and the patients the notes say are left out of
    the groups (("noted", i); "ung_total": every patient in no group). The groups, the noted and the other
    ungrouped patients make the selection."""
    c = Counts(policy)
    add_fixed(c, fixed_from(protect_selection(policy, n_cohort, n_selection), ["cohort", "selection", "outside"]))
    parts = []
    for g, n in group_sizes.items():
        c.add(("group", g), n)
        parts.append(("group", g))
    for i, k in enumerate(noted):
        c.add(("noted", i), k)
        parts.append(("noted", i))
    # every patient in no group (a table's column of them is implicit: All minus the groups)
    c.add("ung_total", max(n_selection - sum(group_sizes.values()), 0), derived=True)
    rest = n_selection - sum(group_sizes.values()) - sum(noted)
    if rest >= 0:
        c.add("ungrouped", rest, derived=True)
        c.line([*parts, "ungrouped"], "selection")
        c.line(["ungrouped", *[("noted", i) for i in range(len(noted))]], "ung_total")
    return c.protect()


def protect_options(
    policy: SuppressionPolicy, counts: Mapping[str, int], total: tuple[int, str] | None = None
) -> dict[str, str]:
    """A filter's live counts (the sidebar: patients per option, given the other filters) as the rule shows them.
    ``total``: (value, state) of the patients they are counted among when the page shows that number (the
    selection's n, while this filter is not set); the options then add up to it with the patients who have no
    value (derived, not protected for themselves)."""
    c = Counts(policy)
    for o, k in counts.items():
        c.add(("option", o), k)
    if total is not None and total[0] >= sum(counts.values()):
        c.add("total", total[0], fixed=total[1]).add(
            "no value", total[0] - sum(counts.values()), derived=True, primary=False
        )
        c.line([*(("option", o) for o in counts), "no value"], "total")
    s = c.protect()
    return {o: s.text(("option", o)) for o in counts}


def fixed_from(shown: Shown, keys: Iterable[Hashable]) -> dict[Hashable, tuple[int, str, bool]]:
    """(value, state, derived) of ``keys`` in an earlier decision, to add as fixed cells to a narrower one."""
    return {k: (shown.value(k), shown.state(k), k in shown.derived) for k in keys}


def add_fixed(c: Counts, fixed: Mapping[Hashable, tuple]) -> None:
    for k, (v, s, *d) in fixed.items():
        c.add(k, v, fixed=s, derived=bool(d and d[0]))


def protect_binary_rows(
    policy: SuppressionPolicy,
    rows: Sequence[Mapping[str, tuple[int, int]]],
    sizes: Mapping[Hashable, tuple[int, str]] | None = None,
) -> Shown:
    """Rows of "k of n" per column (Table 2, Table 3: ``rows[i][col] = (k, n)``): per row and column the count k
    (("k", i, col)), its complement n − k (("rest", i, col)) and the denominator n (("n", i, col)); the line
    k + rest = n. A denominator equal to a column's size in ``sizes`` (key ("group", col) → (value, state)) is
    that cell (the column header shows it)."""
    c = Counts(policy)
    if sizes:
        add_fixed(c, sizes)
    for i, row in enumerate(rows):
        for col, (k, n) in row.items():
            header = ("group", col)
            nk = header if sizes and header in sizes and sizes[header][0] == n else ("n", i, col)
            c.add(("k", i, col), k).add(("rest", i, col), n - k, derived=True)
            if nk not in c:
                c.add(nk, n)
            c.line([("k", i, col), ("rest", i, col)], nk)
    return c.protect()


# ------------------------------------------------------------------------------------------------ free text
_NOUNS = (
    r"patients?(?:\(s\))?|pairs?(?:\(s\))?|events?(?:\(s\))?|values?(?:\(s\))?|missing values?(?:\(s\))?|"
    r"incomplete pairs?(?:\(s\))?|readings?|rows?|(?:zero )?differences?(?:\(s\))?"
)
# a number before a count noun, not a bound ("fewer than 5 patients", "≥ 5 patients", "at least 5 patients")
_COUNT_PHRASE = re.compile(rf"(?<![\w.,−-])(?<!than )(?<!least )(?<![<>≤≥] )(\d[\d,]*)(\s+(?:{_NOUNS})\b)")
_N_EQUALS = re.compile(r"\bn = (\d[\d,]*)((?:\s+vs\s+\d[\d,]*)*)")
_ONLY = re.compile(r"\bOnly (\d[\d,]*)\b")
_FEWER = re.compile(r"\bfewer than (\d[\d,]*)(?= patients)")
_IN_GROUP = re.compile(r"(left out: |, )(\d[\d,]*)( in )")


def suppress_text(text: str, policy: SuppressionPolicy | None) -> str:
    """Free text with every count in it hidden (:meth:`SuppressionPolicy.text_count`: "< 5", "≥ 5", 0 kept):
    "3 patient(s) …", "n = 12 vs 3", "Only 4 pairs", "Missing values left out: 2 in A, 0 in B"."""
    if policy is None or not text:
        return text

    def num(s: str) -> int:
        return int(s.replace(",", ""))

    def n_eq(m: re.Match) -> str:
        first = num(m.group(1))
        rest = re.findall(r"\d[\d,]*", m.group(2) or "")
        head = f"n {policy.text_count(first)}" if first else "n = 0"
        return head + "".join(f" vs {policy.text_count(num(x))}" for x in rest)

    out = _FEWER.sub(lambda m: f"fewer than {max(num(m.group(1)), policy.threshold)}", text)  # never finer
    out = _N_EQUALS.sub(n_eq, out)
    out = _COUNT_PHRASE.sub(lambda m: policy.text_count(num(m.group(1))) + m.group(2), out)
    out = _ONLY.sub(lambda m: f"Only {policy.text_count(num(m.group(1)))}", out)
    return _IN_GROUP.sub(lambda m: m.group(1) + policy.text_count(num(m.group(2))) + m.group(3), out)


# ------------------------------------------------------------------------------------------------ test results
_SHOWN_TEST: list = []


def shown_test_class() -> type:
    """:class:`~misc_dash.stats.TestResult` whose group sizes read as suppressed text (made on first use: the
    statistics module loads scipy, which the figures never need)."""
    if not _SHOWN_TEST:
        from .stats import TestResult

        @dataclass(frozen=True)
        class ShownTest(TestResult):
            """A test result of a suppressed card (:func:`shown_test`): ``n`` is empty, ``n_text`` says it."""

            __test__ = False
            n_text: tuple[str, ...] = ()

            def label(self) -> str:
                n_part = " vs ".join(self.n_text)
                head = f"n {n_part}" if n_part[:1] in "<≤>≥" else f"n = {n_part}"
                return f"{self.test}, {head}: {fmt.p_phrase(self.p_value)}"

        _SHOWN_TEST.append(ShownTest)
    return _SHOWN_TEST[0]


def shown_test(res, policy: SuppressionPolicy, n_text: Sequence[str] | None = None):
    """A copy of a :class:`~misc_dash.stats.TestResult` for a suppressed card: its n as text (``n_text``, else
    each n by the primary rule), the counts in its notes hidden (:func:`suppress_text`), the per-group counts
    among its extras (observed events) dropped. None and an already suppressed result are returned as they are."""
    cls = shown_test_class()
    if res is None or isinstance(res, cls):
        return res
    texts = tuple(n_text) if n_text is not None else tuple(policy.count(k) for k in res.n)
    kw = {f.name: getattr(res, f.name) for f in fields(res)}
    kw["notes"] = tuple(suppress_text(n, policy) for n in res.notes)
    kw["extras"] = tuple((k, v) for k, v in res.extras if not str(k).startswith(("observed", "events")))
    kw["n"] = ()
    return cls(**kw, n_text=texts)


# ------------------------------------------------------------------------------------------------ figures
@dataclass(frozen=True)
class GroupCounts:
    """What a figure needs under suppression: each group's count as text (``text``: "12", "< 5", "≥ 5", from the
    view's :class:`Shown`) and whether its patients may be drawn one by one (``drawn``: groups whose count is
    shown; a line per patient would give a hidden count back). Counts a figure computes itself (patients per day)
    are not written out; group medians need :attr:`min_n` patients."""

    policy: SuppressionPolicy
    text: Mapping[str, str] = field(default_factory=dict)
    drawn: frozenset = frozenset()

    @classmethod
    def of(cls, shown: Shown, groups: Mapping[str, Hashable]) -> GroupCounts:
        """From a decision: ``groups`` maps a group to its count's key in ``shown``."""
        return cls(
            shown.policy,
            MappingProxyType({g: shown.text(k) for g, k in groups.items()}),
            frozenset(g for g, k in groups.items() if shown.shown(k)),
        )

    @classmethod
    def primary(cls, policy: SuppressionPolicy, counts: Mapping[str, int]) -> GroupCounts:
        """Counts that are in no sum the reader sees (patients with a measurement): the primary rule only."""
        return cls(
            policy,
            MappingProxyType({g: policy.count(n) for g, n in counts.items()}),
            frozenset(g for g, n in counts.items() if not policy.hides(n)),
        )

    def count(self, g: str, n: int) -> str:
        return self.text.get(g) or self.policy.count(n)

    def n(self, g: str, n: int) -> str:
        t = self.count(g, n)
        return f"n {t}" if t[:1] in "<≤>≥" else f"n = {t}"

    def draws(self, g: str) -> bool:
        return g in self.drawn

    @property
    def min_n(self) -> int:
        """Group medians per day are drawn on days with at least this many patients."""
        return self.policy.threshold


# ------------------------------------------------------------------------------------------------ cards
_LEGEND_N = re.compile(r"\(n = (\d[\d,]*)\)$")


def _hidden_pattern(policy: SuppressionPolicy) -> re.Pattern:
    """A hidden count in text ("< 5", "≥ 5"; not "< 55 %")."""
    labels = "|".join(re.escape(x) for x in (policy.label, policy.high_label))
    return re.compile(rf"(?:{labels})(?![\d.])")


def suppress_card(card, policy: SuppressionPolicy | None, drop_details: bool = False):
    """The card as a real cohort may show it, whatever its builder already did (the builders suppress at the
    source, where the sums are known; this pass catches the rest): test lines with their n as text and the counts
    in their notes hidden (:func:`shown_test`), free text (caveats, notices, warnings, a details list's label)
    through :func:`suppress_text`, a whole-number metric or integer "count" column by the primary rule, a legend
    entry "… (n = 3)" by the primary rule; patient-level lists ("details" tables) dropped when ``drop_details``
    or when they list fewer patients than the threshold. ``policy`` None: the card unchanged."""
    from dataclasses import replace

    if policy is None:
        return card
    tests = tuple(replace(t, result=shown_test(t.result, policy)) for t in card.tests)
    tables = []
    for t in card.tables:
        if t.kind == "details":
            if drop_details or len(t.df) < policy.threshold:
                continue
            tables.append(replace(t, label=suppress_text(t.label, policy)))
            continue
        counts = [c for c, f in t.formats.items() if f == "count" and c in t.df.columns]
        ints = [c for c in counts if str(t.df[c].dtype).lower().startswith(("int", "uint"))]
        if ints:
            df = t.df.copy()
            for c in ints:
                df[c] = [policy.count(v) for v in df[c]]
            t = replace(t, df=df)
        tables.append(t)
    metrics = tuple(
        replace(m, value=policy.count(int(m.value)) if m.value.isdigit() else m.value, help=_help(m.help, policy))
        for m in card.metrics
    )
    fig = card.figure
    if fig is not None:
        fig = _legend_counts(fig, policy)
    return replace(
        card,
        tests=tests,
        tables=tuple(tables),
        metrics=metrics,
        caveats=tuple(suppress_text(c, policy) for c in card.caveats),
        notices=tuple(suppress_text(c, policy) for c in card.notices),
        warnings=tuple(suppress_text(c, policy) for c in card.warnings),
        figure=fig,
    )


def _help(s: str | None, policy: SuppressionPolicy) -> str | None:
    return None if s is None else suppress_text(s, policy)


def _legend_counts(fig, policy: SuppressionPolicy):
    """Legend entries ending "(n = k)" by the primary rule ("(n < 5)"; rounded under the rounding preset): a copy of
    the figure when any changes."""
    hits = {}
    for i, tr in enumerate(fig.data):
        name = str(tr.name or "")
        m = _LEGEND_N.search(name)
        if m:
            new = _LEGEND_N.sub(f"({policy.n(int(m.group(1).replace(',', '')))})", name)
            if new != name:
                hits[i] = new
    if not hits:
        return fig
    import plotly.graph_objects as go

    out = go.Figure(fig)
    for i, name in hits.items():
        out.data[i].name = name
    return out


def reveals_hidden(cards: Sequence, policy: SuppressionPolicy) -> bool:
    """Whether any count of these cards is hidden (a table cell, a metric, a test's n, a notice reads "< 5" or
    "≥ 5"): a patient-level list next to them would give it back by counting its rows."""
    pattern = _hidden_pattern(policy)

    def has(s) -> bool:
        return isinstance(s, str) and pattern.search(s) is not None

    for c in cards:
        if any(has(m.value) for m in c.metrics) or any(has(n) for n in (*c.notices, *c.caveats)):
            return True
        if any(has(t.result.label()) for t in c.tests if t.result is not None):
            return True
        for t in c.tables:
            if t.kind == "details":
                continue
            if any(has(str(col)) for col in t.df.columns):
                return True
            obj = t.df.select_dtypes(include="object")
            if obj.size and obj.apply(lambda col: col.map(has)).to_numpy().any():
                return True
    return False


def suppress_cards(cards: Sequence, policy: SuppressionPolicy | None, small: bool = False) -> list:
    """Every card of one view through :func:`suppress_card`; their patient-level lists are dropped when the
    selection or a group is small (``small``) or when any count of the view is hidden (:func:`reveals_hidden`)."""
    if policy is None:
        return list(cards)
    out = [suppress_card(c, policy) for c in cards]
    if any(t.kind == "details" for c in out for t in c.tables) and (small or reveals_hidden(out, policy)):
        out = [suppress_card(c, policy, drop_details=True) for c in out]
    return out
