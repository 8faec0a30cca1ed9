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
each reads "< 5" or "≥ 5" (:func:`suppress_text`), and the models count them as hidden.

Pure: no streamlit. The UI reads the deployer's setting (:func:`misc_dash.ui.state.suppression_policy`) and passes
the policy down; :func:`misc_dash.views.build_cards` applies it to every card of a cohort that is not synthetic.
"""

from __future__ import annotations

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
        hidden = f"1–{self.threshold - 1}" if self.threshold > 2 else "1"
        txt = (
            f"Small-cell suppression (real patients): counts of {hidden} patients are shown as “{self.label}”, "
            f"a count that would give one back from a total as “{self.high_label}”"
        )
        if self.rounding > 1:
            txt += f", and every other count is rounded to the nearest {self.rounding}"
        return txt + "; no patient-level list or line is drawn for fewer patients."

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


# ------------------------------------------------------------------------------------------------ the rule
@dataclass(frozen=True)
class Shown:
    """The decision of :meth:`Counts.protect`: each count's state and how it reads. A key that is not one of the
    protected counts gets the primary rule (:meth:`text` with a value)."""

    policy: SuppressionPolicy
    values: Mapping[Hashable, int] = field(default_factory=dict)
    states: Mapping[Hashable, str] = field(default_factory=dict)

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

    def percent(self, k_key, n_key, decimals: int = 0, also: Sequence[Hashable] = ()) -> str | None:
        """The percentage k / n (rounded counts when the policy rounds), or None when k, n or any of ``also``
        (cells the percentage would give back) is hidden."""
        if any(self.hidden(x) for x in (k_key, n_key, *also)):
            return None
        k, n = (self.policy.value(self.value(x)) for x in (k_key, n_key))
        return fmt.percent(k, n, decimals) if n else None

    def count_percent(self, k_key, n_key, decimals: int = 0, also: Sequence[Hashable] = (), empty: str = fmt.NA):
        """ "12 (26%)"; "12" when the percentage is hidden; "< 5" / "≥ 5" when the count is."""
        if not self.value(n_key) and self.shown(n_key):
            return empty
        k = self.text(k_key)
        if self.hidden(k_key):
            return k
        p = self.percent(k_key, n_key, decimals, also)
        return f"{k} ({p})" if p is not None else k


class Counts:
    """Named counts and the sums they obey (the module docstring's rule); :meth:`protect` decides which are hidden.

    ``add(key, value)``: a count the view shows (or that the reader can work out: mark what reveals it).
    ``fixed=``: the state decided by another, wider protection (the group sizes every page shows); the rule never
    changes it. ``text=True``: a count written in free text, always hidden. ``line(parts, total)``: the parts add
    up to the total (every key added first)."""

    def __init__(self, policy: SuppressionPolicy):
        self.policy = policy
        self._keys: list[Hashable] = []
        self._index: dict[Hashable, int] = {}
        self._values: list[int] = []
        self._fixed: dict[int, str] = {}
        self._text: set[int] = set()
        self._lines: list[tuple[tuple[int, ...], int]] = []

    def add(self, key: Hashable, value, fixed: str | None = None, text: bool = False) -> Counts:
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
        if text:
            self._text.add(i)
        return self

    def __contains__(self, key) -> bool:
        return key in self._index

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
            elif v == 0:
                state.append(SHOWN)
            elif pol.hides(v):
                state.append(LOW)
            else:
                state.append(HIGH if i in self._text else SHOWN)
        while True:
            self._complete(state)
            determined = self._determined(state, vals)
            if not determined or not self._hide_near(determined, state):
                break
        return Shown(
            pol,
            MappingProxyType(dict(zip(self._keys, self._values))),
            MappingProxyType(dict(zip(self._keys, state))),
        )

    def _candidate(self, cells: Iterable[int], state: list[str]) -> int | None:
        """The smallest non-zero shown cell the rule may hide (not fixed), first in order on ties."""
        best = None
        for c in cells:
            ok = state[c] == SHOWN and self._values[c] > 0 and c not in self._fixed
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
        """Hide one more cell next to the first determined hidden cell that has one (in one of its lines, else in
        the lines connected to them); the audit then runs again. False when nothing can be hidden."""
        for d in determined:
            seen, frontier = {d}, [d]
            while frontier:
                lines = [(*p, t) for p, t in self._lines if any(c in frontier for c in (*p, t))]
                near = [c for ln in lines for c in ln]
                c = self._candidate(near, state)
                if c is not None:
                    state[c] = HIGH
                    return True
                frontier = [c for c in near if c not in seen]
                seen.update(frontier)
        return False

    def _determined(self, state: list[str], vals: np.ndarray) -> list[int]:
        """Hidden cells whose value the lines and the shown values fix (at most one whole number is possible)."""
        hidden = [i for i, s in enumerate(state) if s != SHOWN]
        if not hidden or not self._lines:
            return []
        t = self.policy.threshold
        hset = set(hidden)
        out: list[int] = []
        for comp in _components(hidden, self._lines):
            lines = [(p, tot) for p, tot in self._lines if any(c in comp for c in (*p, tot))]
            cols = {c: j for j, c in enumerate(sorted(comp))}
            a = np.zeros((len(lines), len(cols)))
            b = np.zeros(len(lines))
            for r, (parts, total) in enumerate(lines):
                for c, sign in [(p, 1.0) for p in parts] + [(total, -1.0)]:
                    if c in hset:
                        a[r, cols[c]] += sign
                    else:
                        b[r] -= sign * vals[c]
            lo = np.array([1.0 if state[c] == LOW else float(t) for c in cols])
            hi = np.array([float(t - 1) if state[c] == LOW else np.inf for c in cols])
            for c, (mn, mx) in zip(cols, _ranges(a, b, lo, hi)):
                if mn is None:  # infeasible: the shown values contradict the lines (never for real counts)
                    continue
                if np.floor(mx + 1e-9) - np.ceil(mn - 1e-9) < 1:
                    out.append(c)
        return out


def _components(hidden: list[int], lines) -> list[set[int]]:
    """Hidden cells connected through lines (two hidden cells in one line are connected)."""
    parent = {h: h for h in hidden}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for parts, total in lines:
        hs = [c for c in (*parts, total) if c in parent]
        for x in hs[1:]:
            parent[find(x)] = find(hs[0])
    comps: dict[int, set[int]] = {}
    for h in hidden:
        comps.setdefault(find(h), set()).add(h)
    return list(comps.values())


def _ranges(a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[tuple[float | None, float]]:
    """The exact range of each variable of {a x = b, lo ≤ x ≤ hi}: from the null space when it has at most one
    dimension (the usual case: an interval in one parameter), else by linear programming."""
    n = a.shape[1]
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
    if dof == 1:
        v = null[:, 0]
        tl, th = -np.inf, np.inf
        for xi, vi, low, h in zip(x0, v, lo, hi):
            if abs(vi) < 1e-12:
                if xi < low - 1e-6 or xi > h + 1e-6:
                    return [(None, 0.0)] * n
                continue
            a1, a2 = (low - xi) / vi, (h - xi) / vi
            tl, th = max(tl, min(a1, a2)), min(th, max(a1, a2))
        if tl > th + 1e-9:
            return [(None, 0.0)] * n
        out = []
        for xi, vi in zip(x0, v):
            if abs(vi) < 1e-12:
                out.append((float(xi), float(xi)))
                continue
            e1, e2 = xi + vi * tl, xi + vi * th
            out.append((float(min(e1, e2)), float(max(e1, e2))))
        return out
    from scipy.optimize import linprog

    bounds = [(float(low), None if not np.isfinite(h) else float(h)) for low, h in zip(lo, hi)]
    out = []
    for j in range(n):
        c = np.zeros(n)
        c[j] = 1.0
        r1 = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        if r1.status != 0:
            out.append((None, 0.0))
            continue
        r2 = linprog(-c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        mx = -r2.fun if r2.status == 0 else np.inf
        out.append((float(r1.fun), float(mx)))
    return out


# ------------------------------------------------------------------------------------------------ common models
def protect_sizes(
    policy: SuppressionPolicy,
    n_cohort: int,
    n_selection: int,
    group_sizes: Mapping[str, int],
    noted: Sequence[int] = (),
) -> Shown:
    """The counts every page shows: the loaded cohort's size ("cohort"), the selection's ("selection"), each
    group's (("group", g)) and the patients the notes say are left out of the groups (("noted", i): free text).
    Lines: the selection and the patients the filter leaves out make the cohort; the groups, the noted and the
    other ungrouped patients make the selection."""
    c = Counts(policy)
    c.add("cohort", n_cohort).add("selection", n_selection).add("outside", n_cohort - n_selection)
    c.line(["selection", "outside"], "cohort")
    parts = []
    for g, n in group_sizes.items():
        c.add(("group", g), n)
        parts.append(("group", g))
    for i, k in enumerate(noted):
        c.add(("noted", i), k, text=True)
        parts.append(("noted", i))
    rest = n_selection - sum(group_sizes.values()) - sum(noted)
    if rest >= 0:
        c.add("ungrouped", rest)
        c.line([*parts, "ungrouped"], "selection")
    return c.protect()


def fixed_from(shown: Shown, keys: Iterable[Hashable]) -> dict[Hashable, tuple[int, str]]:
    """(value, state) of ``keys`` in an earlier decision, to add as fixed cells to a narrower one."""
    return {k: (shown.value(k), shown.state(k)) for k in keys}


def add_fixed(c: Counts, fixed: Mapping[Hashable, tuple[int, str]]) -> None:
    for k, (v, s) in fixed.items():
        c.add(k, v, fixed=s)


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
            c.add(("k", i, col), k).add(("rest", i, col), n - k)
            if nk not in c:
                c.add(nk, n)
            c.line([("k", i, col), ("rest", i, col)], nk)
    return c.protect()


# ------------------------------------------------------------------------------------------------ free text
_NOUNS = (
    r"patients?(?:\(s\))?|pairs?(?:\(s\))?|events?(?:\(s\))?|values?(?:\(s\))?|missing values?(?:\(s\))?|"
    r"incomplete pairs?(?:\(s\))?|readings?|rows?"
)
_COUNT_PHRASE = re.compile(rf"(?<![\w.,−-])(\d[\d,]*)(\s+(?:{_NOUNS})\b)")
_N_EQUALS = re.compile(r"\bn = (\d[\d,]*)((?:\s+vs\s+\d[\d,]*)*)")
_ONLY = re.compile(r"\bOnly (\d[\d,]*)\b")
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

    out = _N_EQUALS.sub(n_eq, text)
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
