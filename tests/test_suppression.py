"""Small-cell suppression (issue 16): the policy and its presets, the complementary rule, and a sweep over every
view, chart, export and figure JSON of a cohort marked real (the reconstructed patients uploaded as CSVs, without
the synthetic label): no count of 1–4 appears anywhere, and no hidden cell can be worked out from what is shown."""

from __future__ import annotations

import html
import io
import json
import re
from dataclasses import replace
from functools import cache, lru_cache

import numpy as np
import pytest

from misc_dash import analyses as A
from misc_dash import privacy as P
from misc_dash import views
from misc_dash.filters import CohortFilter, Grouping
from misc_dash.loading import DEFAULT_COHORT_DIR, load_cohort, validate_files


# ------------------------------------------------------------------------------------------------ policy
def test_policy_labels_presets_and_rounding():
    five, eleven, round5 = (P.PRESETS[k] for k in ("5", "11", "round5"))
    assert P.DEFAULT_POLICY is five
    assert (five.label, five.high_label) == ("< 5", "≥ 5")
    assert (eleven.label, eleven.high_label) == ("< 11", "≥ 11")
    assert (round5.label, round5.high_label) == ("≤ 7", "> 7")
    assert [five.hides(k) for k in (0, 1, 4, 5)] == [False, True, True, False]
    assert [round5.hides(k) for k in (0, 1, 7, 8)] == [False, True, True, False]
    # suppression first (on the true count), then rounding to the nearest 5
    assert [round5.count(k) for k in (0, 3, 7, 8, 12, 13, 46)] == ["0", "≤ 7", "≤ 7", "10", "10", "15", "45"]
    assert [five.count(k) for k in (0, 2, 5, 46)] == ["0", "< 5", "5", "46"]
    assert (five.n(3), five.n(12), round5.n(12)) == ("n < 5", "n = 12", "n = 10")
    assert [five.text_count(k) for k in (0, 3, 40)] == ["0", "< 5", "≥ 5"]
    with pytest.raises(ValueError):
        P.SuppressionPolicy(2)  # "< 2" would say the count is 1


def test_policy_from_config():
    assert P.policy_from_config(None) is P.DEFAULT_POLICY
    assert P.policy_from_config({}) is P.DEFAULT_POLICY
    assert P.policy_from_config({"small_cell_preset": "11"}) is P.PRESETS["11"]
    assert P.policy_from_config({"small_cell_preset": 11}) is P.PRESETS["11"]
    assert P.policy_from_config({"small_cell_preset": "round5"}).rounding == 5
    assert P.policy_from_config({"small_cell_threshold": 5}) is P.DEFAULT_POLICY
    custom = P.policy_from_config({"small_cell_threshold": 7})
    assert (custom.threshold, custom.rounding, custom.label) == (7, 1, "< 7")
    for bad in ({"small_cell_preset": "3"}, {"small_cell_threshold": 2}, {"small_cell_threshold": "5"},
                {"small_cells": 5}, {"small_cell_threshold": True}):  # fmt: skip
        with pytest.raises(ValueError):
            P.policy_from_config(bad)


def test_policy_from_files_reads_the_privacy_section(tmp_path):
    (tmp_path / "a.toml").write_text("[other]\nx = 1\n", encoding="utf-8")
    (tmp_path / "b.toml").write_text('[privacy]\nsmall_cell_preset = "round5"\n', encoding="utf-8")
    assert P.policy_from_files([tmp_path / "missing.toml", tmp_path / "a.toml"]) is P.DEFAULT_POLICY
    assert P.policy_from_files([tmp_path / "a.toml", tmp_path / "b.toml"]).name == "round5"
    (tmp_path / "c.toml").write_text("[privacy\n", encoding="utf-8")
    with pytest.raises(ValueError):
        P.policy_from_files([tmp_path / "c.toml"])


# ------------------------------------------------------------------------------------------------ the rule
def _texts(shown: P.Shown) -> dict:
    return {k: shown.text(k) for k in shown.values if k not in shown.derived}


def test_primary_and_zero():
    """Rule 1 (primary): a count of 1..threshold−1 reads "< 5"; 0 is never hidden; a count on its own (in no
    sum) is not hidden otherwise."""
    c = P.Counts(P.DEFAULT_POLICY)
    for k, v in {"a": 0, "b": 1, "c": 4, "d": 5, "e": 40}.items():
        c.add(k, v)
    assert _texts(c.protect()) == {"a": "0", "b": "< 5", "c": "< 5", "d": "5", "e": "40"}


def test_binary_complement_hides_the_count_when_the_rest_is_small():
    """Rule 2 (complementary) on a binary row "k of n" with n shown: k + (n − k) = n is a line, so k is hidden
    ("≥ 5") when n − k is 1..4 (18 men of 20: the 2 women would be 20 − 18); and k is hidden ("< 5") when k is."""
    c = P.Counts(P.DEFAULT_POLICY)
    c.add("n", 20).add("men", 18).add("women", 2, derived=True).line(["men", "women"], "n")
    s = c.protect()
    assert (s.text("men"), s.text("n"), s.hidden("women")) == ("≥ 5", "20", True)
    assert s.count_percent("men", "n", also=("women",)) == "≥ 5"
    c = P.Counts(P.DEFAULT_POLICY)
    c.add("n", 20).add("k", 3).add("rest", 17, derived=True).line(["k", "rest"], "n")
    s = c.protect()
    assert s.count_percent("k", "n", also=("rest",)) == "< 5" and s.text("n") == "20"
    c = P.Counts(P.DEFAULT_POLICY)
    c.add("n", 20).add("k", 12).add("rest", 8, derived=True).line(["k", "rest"], "n")
    assert c.protect().count_percent("k", "n", also=("rest",)) == "12 (60%)"


def test_row_with_one_hidden_cell_hides_the_next_smallest():
    """Rule 2 on a row of groups with its total: one hidden group (3) would be the total minus the others, so
    the smallest other non-zero cell (9, not 0 and not 30) is hidden too, as "≥ 5"; the total stays."""
    c = P.Counts(P.DEFAULT_POLICY)
    for k, v in {"A": 3, "B": 9, "C": 30, "D": 0}.items():
        c.add(k, v)
    c.add("all", 42).line(["A", "B", "C", "D"], "all")
    assert _texts(c.protect()) == {"A": "< 5", "B": "≥ 5", "C": "30", "D": "0", "all": "42"}


def test_audit_hides_more_when_bounds_fix_a_hidden_cell():
    """Rule 3 (audit): two "< 5" cells adding up to 8 must both be 4; a "< 5" and a "≥ 5" adding up to 6 must be
    1 and 5. Another cell of the line is then hidden."""
    c = P.Counts(P.DEFAULT_POLICY)
    c.add("a", 4).add("b", 4).add("c", 30).add("t", 38).line(["a", "b", "c"], "t")
    assert _texts(c.protect()) == {"a": "< 5", "b": "< 5", "c": "≥ 5", "t": "38"}
    c = P.Counts(P.DEFAULT_POLICY)
    c.add("a", 1).add("b", 5).add("t", 6).line(["a", "b"], "t")
    assert _texts(c.protect()) == {"a": "< 5", "b": "≥ 5", "t": "≥ 5"}


def test_two_way_table_hides_a_rectangle():
    """Rules 2 and 3 on a table with row and column totals: one small cell takes three more with it (a
    rectangle), none of which the totals pin down."""
    g = [[3, 10], [12, 20]]
    c = P.Counts(P.DEFAULT_POLICY)
    for i in range(2):
        for j in range(2):
            c.add((i, j), g[i][j])
        c.add(("row", i), sum(g[i])).line([(i, 0), (i, 1)], ("row", i))
    for j in range(2):
        c.add(("col", j), g[0][j] + g[1][j]).line([(0, j), (1, j)], ("col", j))
    c.add("all", 45).line([("row", 0), ("row", 1)], "all").line([("col", 0), ("col", 1)], "all")
    s = c.protect()
    assert [s.text((i, j)) for i in range(2) for j in range(2)] == ["< 5", "≥ 5", "≥ 5", "≥ 5"]
    assert [s.text(k) for k in (("row", 0), ("row", 1), ("col", 0), ("col", 1), "all")] == [
        "13",
        "32",
        "15",
        "30",
        "45",
    ]
    assert not _recoverable(s, c)


def test_a_hidden_group_size_is_not_given_back_by_two_rows_together():
    """Rule 3 across rows: a group size hidden on the page (19, "≥ 5") is a sum in every row; one row says it is
    16–19 (4 hidden + 15), another 19–22 (18 + 1 hidden): together 19. The audit intersects them and hides more."""
    c = P.Counts(P.DEFAULT_POLICY)
    c.add("n", 19, fixed=P.HIGH)
    c.add("k1", 4).add("e1", 15).line(["k1", "e1"], "n").add("k2", 18).add("e2", 1).line(["k2", "e2"], "n")
    s = c.protect()
    assert s.hidden("e1") or s.hidden("k2")
    assert not _recoverable(s, c)


def test_round5_preset_rounds_after_suppressing():
    """The rounding preset: 1–7 hidden ("≤ 7"), every other shown count and percentage from rounded counts."""
    pol = P.PRESETS["round5"]
    c = P.Counts(pol)
    c.add("n", 46).add("k", 12).add("rest", 34, derived=True).line(["k", "rest"], "n")
    s = c.protect()
    assert (s.text("n"), s.text("k"), s.count_percent("k", "n", also=("rest",))) == ("45", "10", "10 (22%)")


def test_suppress_text_hides_every_count_in_free_text():
    pol = P.DEFAULT_POLICY
    out = P.suppress_text(
        "Missing values left out: 2 in A, 0 in B. 3 patient(s) without time left out. Only 4 pairs. "
        "Mann–Whitney U, n = 12 vs 3. 12 pair(s) with no change. Small group: A has fewer than 5 patients.",
        pol,
    )
    assert out == (
        "Missing values left out: < 5 in A, 0 in B. < 5 patient(s) without time left out. Only < 5 pairs. "
        "Mann–Whitney U, n ≥ 5 vs < 5. ≥ 5 pair(s) with no change. Small group: A has fewer than 5 patients."
    )
    assert "fewer than 11 patients" in P.suppress_text("A has fewer than 5 patients", P.PRESETS["11"])
    assert P.suppress_text("3 patient(s)", None) == "3 patient(s)"


def _recoverable(shown: P.Shown, c: P.Counts) -> list:
    """An independent check (linear programming over every line at once, not the rule's own solver): the hidden
    cells whose value the lines and what is shown pin to one whole number."""
    from scipy.optimize import linprog

    keys = list(shown.values)
    idx = {k: i for i, k in enumerate(keys)}
    t = shown.policy.threshold
    bounds = []
    for k in keys:
        v = shown.values[k]
        if shown.shown(k):
            bounds.append((v, v))
        elif k in shown.derived:
            bounds.append((0, None))
        else:
            bounds.append((1, t - 1) if shown.state(k) == P.LOW else (t, None))
    rows = []
    for parts, total in c._lines:
        r = np.zeros(len(keys))
        for p in parts:
            r[idx[c._keys[p]]] += 1
        r[idx[c._keys[total]]] -= 1
        rows.append(r)
    a = np.array(rows)
    out = []
    for k in keys:
        if shown.shown(k):
            continue
        obj = np.zeros(len(keys))
        obj[idx[k]] = 1
        lo = linprog(obj, A_eq=a, b_eq=np.zeros(len(rows)), bounds=bounds, method="highs").fun
        hi = -linprog(-obj, A_eq=a, b_eq=np.zeros(len(rows)), bounds=bounds, method="highs").fun
        if np.floor(hi + 1e-9) - np.ceil(lo - 1e-9) < 1:
            out.append(k)
    return out


def test_random_tables_leave_no_hidden_cell_recoverable():
    """The rule on 150 random tables with row and column totals (some small cells, some zeros): afterwards no
    hidden displayed cell is pinned down by the totals (checked by linear programming)."""
    rng = np.random.default_rng(16)
    for _ in range(150):
        r, k = rng.integers(2, 5), rng.integers(2, 5)
        g = rng.choice([0, 1, 2, 3, 4, 6, 9, 15, 30], size=(r, k), p=[0.1, 0.12, 0.1, 0.1, 0.08, 0.15, 0.15, 0.1, 0.1])
        c = P.Counts(P.DEFAULT_POLICY)
        for i in range(r):
            for j in range(k):
                c.add((i, j), g[i, j])
            c.add(("row", i), g[i].sum()).line([(i, j) for j in range(k)], ("row", i))
        for j in range(k):
            c.add(("col", j), g[:, j].sum()).line([(i, j) for i in range(r)], ("col", j))
        c.add("all", g.sum()).line([("row", i) for i in range(r)], "all").line([("col", j) for j in range(k)], "all")
        s = c.protect()
        assert all(not P.DEFAULT_POLICY.hides(v) or s.hidden(key) for key, v in s.values.items())
        assert not _recoverable(s, c), g


# ------------------------------------------------------------------------------------------------ a real cohort
@lru_cache(maxsize=1)
def real_cohort():
    """The reconstructed patients as an upload of their CSVs: no synthetic label (metadata.json not sent)."""
    cohort, problems = validate_files([(p.name, p.read_bytes()) for p in sorted(DEFAULT_COHORT_DIR.glob("*.csv"))])
    assert cohort is not None and not cohort.synthetic, problems
    return cohort


SCENARIOS = {
    "all, by treatment": (CohortFilter(), Grouping("treatment"), "5"),
    "KD-like, by treatment": (CohortFilter(phenotype=("KD-like",)), Grouping("treatment"), "5"),
    "KD-like boys (3 patients)": (CohortFilter(phenotype=("KD-like",), sex=("M",)), Grouping("treatment"), "5"),
    "all, by phenotype": (CohortFilter(), Grouping("phenotype"), "5"),
    "girls, by CV shock": (CohortFilter(sex=("F",)), Grouping("cv_shock"), "5"),
    "all, by sex, preset 11": (CohortFilter(), Grouping("sex"), "11"),
    "CV shock, preset round5": (CohortFilter(phenotype=("CV shock",)), Grouping("treatment"), "round5"),
    "all, by anakinra": (CohortFilter(), Grouping("anakinra"), "5"),
    "custom groups that overlap": (
        CohortFilter(),
        Grouping(
            "custom",
            a=CohortFilter(sex=("F",)),
            b=CohortFilter(phenotype=("KD-like",)),
            a_name="Girls",
            b_name="KD-like",
        ),
        "5",
    ),
}


def view_context(flt, grouping, preset: str = "5") -> views.ViewContext:
    c = real_cohort()
    ctx = A.prepare(c, flt, grouping)
    return views.ViewContext(ctx, c.n_patients, cohort_name=c.name, is_synthetic=False, suppression=P.PRESETS[preset])


@cache
def scenario_cards(name: str) -> tuple:
    flt, grouping, preset = SCENARIOS[name]
    vc = view_context(flt, grouping, preset)
    out = []
    for view_name, view in views.VIEWS.items():
        opts = view.options() if view.options is not None else None
        for o in view.all_chart_options(opts):
            for extra in _option_variants(view_name, o):
                out += views.build_cards(view_name, vc, extra)
    return vc, tuple(out)


def _option_variants(view_name: str, o):
    """Every chart of a view, and the options that change what a chart counts (the other measure, axis, CIs)."""
    yield o
    if view_name == "cardiac":
        yield replace(o, measure="strain")
        yield replace(o, xaxis="day_since_treatment")
    elif view_name == "fever":
        yield replace(o, cox=True)
        yield replace(o, origin="treatment", sustained=True)
    elif view_name == "table1":
        yield replace(o, proportion_ci=True)
    elif view_name == "labs":
        for analyte in ("ferritin", "bnp"):
            yield replace(o, analyte=analyte)


PUBLISHED = {"literature.evidence", "literature.case003"}  # transcribed from publications, not the cohort

_NOUN = (
    r"(?:patients?|patient\(s\)|pairs?|pair\(s\)|events?|values?|value\(s\)|at risk|random patients|"
    r"(?:zero )?differences?(?:\(s\))?)"
)
COUNT_PATTERNS = [
    re.compile(r"\bn = (\d+)"),  # "n = 3", "(n = 3)", "n = 3 vs 12"
    re.compile(r"\bn = \d+(?: vs \d+)* vs (\d+)"),
    re.compile(r"(?<![\d.,\w])(\d+) \((?:\d+%[;)]|n/a\))"),  # "3 (21%)", "3 (21%; 5–51%)"
    re.compile(r"(?<![\d.,\w])(\d+)/\d+(?![\d.])"),  # "3/14"
    re.compile(r"(?<![\d.,\w])\d+/(\d+)(?![\d.])"),
    re.compile(rf"(?<![\d.,\w−-])(\d+) {_NOUN}\b"),  # "3 patients", "3 pair(s)", "3 at risk"
    re.compile(r"(?<![\d.,\w])(\d+) of (\d+)\b"),
    re.compile(r"(?<![\d.,\w])\d+ of (\d+)\b"),
    re.compile(r"\bOnly (\d+)\b"),
    re.compile(r"(?:left out: |, )(\d+) in "),
]


def small_counts(text: str, small: range) -> list[str]:
    """Counts in ``small`` written in ``text`` (plotly and HTML entities read as the reader sees them; the rule's
    own labels, "< 5", "≤ 7", "≥ 11", are not counts)."""
    t = html.unescape(re.sub(r"<[^<>]*>", " ", html.unescape(str(text))))
    t = re.sub(r"[<>≤≥] \d+", "HIDDEN", t)
    return [m.group(0) for pat in COUNT_PATTERNS for m in pat.finditer(t) if int(m.group(1)) in small]


def card_texts(card) -> list[tuple[str, str]]:
    """(where, text) of everything a card shows or exports as text: its tables (cells and headers), metrics,
    test lines, notes, captions and every string of its figure's JSON."""
    out = [("title", card.title), ("lead", card.lead), ("caption", card.caption), ("cohort", card.cohort),
           ("source", card.source), ("privacy", card.privacy)]  # fmt: skip
    out += [("caveat", c) for c in card.caveats] + [("notice", c) for c in card.notices]
    out += [("warning", c) for c in card.warnings]
    for m in card.metrics:
        out += [("metric", f"{m.label}: {m.value}"), ("metric help", m.help or "")]
    for t in card.tests:
        if t.result is not None:
            out.append(("test", t.result.label()))
            out += [("test note", n) for n in t.result.notes]
    for t in card.tables:
        out += [("table header", str(c)) for c in t.df.columns] + [("table label", t.label)]
        for col in t.df.columns:
            for v in t.df[col]:
                out.append((f"table {col}", str(v)))
    if card.figure is not None:
        spec = json.loads(card.figure.to_json())
        for tr in spec.get("data", []):
            if card.key == "literature.lvef" and tr.get("legendgroup") != "cohort":
                continue  # the published reports' own numbers
            out += [("figure", s) for s in _strings(tr)]
        layout = {k: v for k, v in spec.get("layout", {}).items() if k != "template"}
        if card.key != "literature.lvef":  # its annotations are the published reports'
            out += [("figure layout", s) for s in _strings(layout)]
    return out


def _strings(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def _array(v):
    """A figure JSON array: a list, or plotly's typed array ({"dtype", "bdata", "shape"}, base64)."""
    if isinstance(v, dict) and "bdata" in v:
        import base64

        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        shape = v.get("shape")
        if shape:
            a = a.reshape([int(x) for x in str(shape).split(",")])
        return a.tolist()
    return v


def figure_counts(card) -> list[tuple[str, int]]:
    """Numbers a figure shows as counts without words next to them: the number-at-risk table's texts, and numeric
    customdata that a hover labels as patients, pairs or at risk."""
    if card.figure is None:
        return []
    out = []
    for tr in json.loads(card.figure.to_json()).get("data", []):
        if (tr.get("meta") or {}).get("role") == "at_risk":
            out += [("at risk", int(html.unescape(v))) for v in tr.get("text", []) if str(v).isdigit()]
        ht = str(tr.get("hovertemplate") or "")
        cd = tr.get("customdata")
        if cd is None or not re.search(r"%\{customdata(?:\[0\])?[^}]*\} (?:patients|pairs|at risk|of)", ht):
            continue
        flat = np.asarray(_array(cd), dtype=object)
        col = flat[:, 0] if flat.ndim == 2 else flat
        out += [("hover", int(v)) for v in col if isinstance(v, (int, float)) and v == v and float(v).is_integer()]
    return out


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_small_count_anywhere_in_any_view(name):
    """Every card of every view (each chart and the options that change the counts) of a real-marked cohort:
    no count of 1..threshold−1 in any table cell or header, metric, test line, note, caption or figure string
    (legends, hovers, annotations, the risk table), and none among a figure's bare counts. Under the rounding
    preset every count shown is a multiple of 5."""
    vc, cards = scenario_cards(name)
    small = range(1, vc.policy.threshold)
    bad = []
    for card in cards:
        if card.key in PUBLISHED:
            continue
        bad += [(card.key, where, hit) for where, text in card_texts(card) for hit in small_counts(text, small)]
        bad += [(card.key, where, v) for where, v in figure_counts(card) if v in small]
        for t in card.tables:
            for col, f in t.formats.items():
                if f == "count" and col in t.df:
                    bad += [(card.key, col, v) for v in t.df[col] if str(v).isdigit() and int(v) in small]
    assert not bad, bad[:20]
    if vc.policy.rounding > 1:
        table_counts = [
            int(m.group(1))
            for c in cards
            for t in c.tables
            if t.kind != "details"
            for col in t.df.columns
            for v in t.df[col]
            for m in [re.fullmatch(r"(\d+)(?: \(\d+%\))?", str(v))]
            if m and c.key not in PUBLISHED and col != "CTCAE grade"
        ]
        assert table_counts and all(v % 5 == 0 for v in table_counts), table_counts


def test_the_sweep_finds_small_counts_when_nothing_is_suppressed():
    """The same sweep on the same patients marked synthetic (exempt) finds small counts in tables, test lines,
    legends, hovers and the risk table: the checks above are not vacuous."""
    c = real_cohort()
    ctx = A.prepare(c, CohortFilter(phenotype=("KD-like",)), Grouping("treatment"))
    vc = views.ViewContext(ctx, c.n_patients, cohort_name=c.name, is_synthetic=True)
    found = set()
    for view_name, view in views.VIEWS.items():
        opts = view.options() if view.options is not None else None
        for o in view.all_chart_options(opts):
            for card in views.build_cards(view_name, vc, o):
                if card.key in PUBLISHED:
                    continue
                found |= {where.split()[0] for where, text in card_texts(card) if small_counts(text, range(1, 5))}
                found |= {where for where, v in figure_counts(card) if 0 < v < 5}
    assert {"table", "test", "figure", "at risk", "hover"} <= found, found


def test_small_selection_says_so_once_and_draws_no_patient():
    """3 patients: the page header says it in one notice; no patient-level list, no per-patient line, no curve."""
    vc, cards = scenario_cards("KD-like boys (3 patients)")
    header = views.build_header(vc, "T")
    notices = [n for n in header.notes if "fewer than 5 patients" in n]
    assert len(notices) == 1 and "patient-level list" in notices[0]
    assert header.description.endswith("n < 5")
    assert not [t for c in cards for t in c.tables if t.kind == "details"]
    for c in cards:
        if c.figure is None or c.key in PUBLISHED:
            continue
        for tr in json.loads(c.figure.to_json())["data"]:
            per_patient = "patient %{customdata}" in str(tr.get("hovertemplate", "")) or "patient " in " ".join(
                map(str, tr.get("hovertext") or [])
            )
            xs = _array(tr.get("x")) or []
            assert not per_patient or not [x for x in xs if x is not None and x == x], (c.key, tr.get("name"))


def test_patient_lists_dropped_wherever_a_count_of_the_view_is_hidden():
    """A patient-level list would give a hidden count back by counting its rows: under suppression a view with
    any hidden count keeps none (here the whole cohort: small adverse-event and route counts)."""
    _, cards = scenario_cards("all, by treatment")
    for c in cards:
        if c.key.startswith(("safety.", "anakinra.", "cardiac.", "fever.")):
            assert not [t for t in c.tables if t.kind == "details"], c.key


# ------------------------------------------------------------------------------------------------ nothing recomputable
def _num(s: str) -> int | None:
    m = re.fullmatch(r"(?:n = )?(\d+)(?: \(.*\))?", str(s).strip())
    return int(m.group(1)) if m else None


def _hidden(s: str, pol) -> bool:
    return any(str(s).strip().startswith(x) or str(s).strip().startswith(f"n {x}") for x in (pol.label, pol.high_label))


def _check_line(parts: list[str], total: str, pol, what) -> None:
    """A line of shown texts: when the total and all parts but one hidden part are shown, that part would be the
    total minus the others — the rule must have hidden another one."""
    texts = [*parts, total]
    hidden = [x for x in texts if _hidden(x, pol)]
    assert len(hidden) != 1, (what, texts)


def _group_n(header: str, pol) -> str:
    m = re.search(r"\((n [^)]*)\)$", header)
    return m.group(1).replace("n = ", "") if m else ""


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_hidden_cell_can_be_recomputed_from_the_totals_shown(name):
    """What a reader can add up: the page's group sizes to the selection's n; Table 1's groups to All and each
    binary cell's count to its group's n (when nothing is missing); Table 3's count to its group's n; the fever
    table's patients to defervesced + censored; Table 2's columns to the patients on anakinra; the cohort flow's
    boxes to the box they split; the phenotype × treatment table's rows and columns to their totals (checked by
    linear programming). No line may have exactly one hidden cell, and no hidden cell may be pinned down."""
    vc, cards = scenario_cards(name)
    pol = vc.policy
    header = views.build_header(vc, "T")
    sizes = [str(n) for _, n in header.group_sizes]
    if vc.sizes.value("ung_total") == 0:
        _check_line(sizes, header.description.rsplit("— ", 1)[1].replace("n = ", ""), pol, "group sizes")
    by_key = {}
    for c in cards:
        by_key.setdefault(c.key, c)
    t1 = by_key.get("table1.table")
    if t1 is not None:
        df = t1.tables[0].df
        gcols = [c for c in df.columns if re.search(r"\(n [=<≥≤>]", c)]
        for _, row in df.iterrows():
            cells = [row[c] for c in gcols]
            if vc.sizes.value("ung_total") == 0 and re.match(r"^(\d+ \(|[<≥≤>] )", str(row["All"])):
                _check_line(cells, row["All"], pol, ("Table 1", row["Variable"]))
            if str(row["Missing"]) == "0":
                for col, cell in zip(gcols, cells):
                    k, n = _num(cell), _num(_group_n(col, pol))
                    if k is not None and n is not None and "(" in str(cell):
                        assert not pol.hides(n - k), ("Table 1", row["Variable"], col, cell)
    t3 = by_key.get("safety.table3")
    if t3 is not None:
        df = t3.tables[0].df
        for col in [c for c in df.columns if re.search(r"\(n [=<≥≤>]", c)]:
            n = _num(_group_n(col, pol))
            for cell in df[col]:
                k = _num(cell)
                if k is not None and n is not None:
                    assert not pol.hides(n - k), ("Table 3", col, cell)
    km = by_key.get("fever.km")
    if km is not None and km.tables:
        for _, row in km.tables[0].df.iterrows():
            _check_line([row["Defervesced (observed)"], row["Censored"]], row["Patients"], pol, ("fever", row["Group"]))
    t2 = by_key.get("anakinra.table2")
    doses = by_key.get("anakinra.doses")
    if t2 is not None and doses is not None:
        cols = [c for c in t2.tables[0].df.columns if "CV shock" in c]
        total = next(m.value for m in doses.metrics if m.label == "Patients on anakinra")
        _check_line([_group_n(c, pol) for c in cols], total, pol, "Table 2 columns")
        for col in cols:
            n = _num(_group_n(col, pol))
            for cell in t2.tables[0].df[col]:
                k = _num(cell)
                if k is not None and n is not None and "(" in str(cell):
                    assert not pol.hides(n - k), ("Table 2", col, cell)
    flow = by_key.get("overview.flow")
    if flow is not None:
        _check_flow(flow, pol)
    cross = by_key.get("overview.crosstab")
    if cross is not None:
        assert not _table_recoverable(cross.tables[0].df, pol)


def _check_flow(card, pol) -> None:
    """The cohort flow's boxes (in the order drawn: each box's parent is the nearest earlier box one column to
    the left): no box split into parts of which exactly one (or the box alone) is hidden."""
    boxes = []
    for a in json.loads(card.figure.to_json())["layout"].get("annotations", []):
        if str(a.get("name", "")).startswith("flow:"):
            m = re.search(r"<b>n ([=<≥≤>]) ?([^<]*)</b>", html.unescape(a["text"]))
            text = m.group(2) if m.group(1) == "=" else f"{m.group(1)} {m.group(2)}"
            boxes.append((round(a["x"], 3), text.strip()))
    columns = sorted({x for x, _ in boxes})
    depth = [columns.index(x) for x, _ in boxes]
    parent, last = [], {}
    for i, d in enumerate(depth):
        parent.append(last.get(d - 1))
        last[d] = i
    for i, (_, text) in enumerate(boxes):
        kids = [boxes[j][1] for j in range(len(boxes)) if parent[j] == i]
        if kids:
            _check_line(kids, text, pol, ("flow", i, text))


def _table_recoverable(df, pol) -> list:
    """The phenotype × treatment table as shown (with its Total row and column): linear programming over its
    rows and columns for every hidden cell ("< 5" = 1..4, "≥ 5" = 5 and up)."""
    from scipy.optimize import linprog

    body = df.set_index(df.columns[0])
    cells = {(r, c): str(body.loc[r, c]) for r in body.index for c in body.columns}
    keys = list(cells)
    idx = {k: i for i, k in enumerate(keys)}
    bounds = []
    for k in keys:
        s = cells[k]
        if s.startswith(pol.label):
            bounds.append((1, pol.threshold - 1))
        elif s.startswith(pol.high_label):
            bounds.append((pol.threshold, None))
        else:
            bounds.append((int(s), int(s)))
    rows = []
    rnames = [r for r in body.index if r != "Total"]
    cnames = [c for c in body.columns if c != "Total"]
    for r in [*rnames, "Total"]:
        v = np.zeros(len(keys))
        for c in cnames:
            v[idx[(r, c)]] = 1
        v[idx[(r, "Total")]] = -1
        rows.append(v)
    for c in [*cnames, "Total"]:
        v = np.zeros(len(keys))
        for r in rnames:
            v[idx[(r, c)]] = 1
        v[idx[("Total", c)]] = -1
        rows.append(v)
    a = np.array(rows)
    out = []
    for k in keys:
        if bounds[idx[k]][0] == bounds[idx[k]][1]:
            continue
        obj = np.zeros(len(keys))
        obj[idx[k]] = 1
        lo = linprog(obj, A_eq=a, b_eq=np.zeros(len(rows)), bounds=bounds, method="highs")
        hi = linprog(-obj, A_eq=a, b_eq=np.zeros(len(rows)), bounds=bounds, method="highs")
        assert lo.status == 0 and hi.status == 0, k
        if np.floor(-hi.fun + 1e-9) - np.ceil(lo.fun - 1e-9) < 1:
            out.append(k)
    return out


# ------------------------------------------------------------------------------------------------ exports
def test_exports_carry_no_small_count():
    """The report HTML, the PPTX deck's text and every card table's CSV of a real-marked cohort (every view):
    no count of 1–4, the small-cell rule stated; figure JSON is checked with the cards above."""
    from pptx import Presentation

    from misc_dash.exports import build_report_cards, report_html, report_pptx, table_csv

    c = real_cohort()
    cards = build_report_cards(c, CohortFilter(phenotype=("KD-like",)), "treatment")
    assert cards and all(card.privacy for card in cards if card.key not in PUBLISHED and card.source)
    cards = [card for card in cards if card.key not in PUBLISHED]  # the literature's own published numbers
    page = report_html(cards, "Report")
    body = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    assert "Small-cell suppression" in body and "&lt; 5" in body
    assert not small_counts(body, range(1, 5)), small_counts(body, range(1, 5))[:10]
    deck = Presentation(io.BytesIO(report_pptx(cards, "Report")))
    text = []
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                text.append(shape.text_frame.text)
            if shape.has_table:
                text += [cell.text for row in shape.table.rows for cell in row.cells]
        if slide.has_notes_slide:
            text.append(slide.notes_slide.notes_text_frame.text)
    deck_text = "\n".join(text)
    assert "< 5" in deck_text and not small_counts(deck_text, range(1, 5)), small_counts(deck_text, range(1, 5))
    for card in cards:
        if card.key in PUBLISHED:
            continue
        for t in card.tables:
            csv = table_csv(card, t).decode("utf-8-sig")
            assert not small_counts(csv, range(1, 5)), (card.key, small_counts(csv, range(1, 5)))
            assert "Small cells" in csv


def test_report_command_suppresses_a_real_cohort(tmp_path):
    """``python -m misc_dash report`` on a real cohort folder: suppressed like the app (preset by --small-cells)."""
    from misc_dash.__main__ import main

    folder = tmp_path / "cohort"
    folder.mkdir()
    for p in DEFAULT_COHORT_DIR.glob("*.csv"):
        (folder / p.name).write_bytes(p.read_bytes())
    out = tmp_path / "r.html"
    assert main(["report", "--data", str(folder), "--out", str(out), "--pages", "safety,table1,fever"]) == 0
    body = re.sub(r"<script.*?</script>", " ", out.read_text(encoding="utf-8"), flags=re.S)
    assert "&lt; 5" in body and not small_counts(body, range(1, 5))
    assert main(["report", "--data", str(folder), "--out", str(out), "--pages", "safety", "--small-cells", "11"]) == 0
    body = re.sub(r"<script.*?</script>", " ", out.read_text(encoding="utf-8"), flags=re.S)
    assert "&lt; 11" in body and not small_counts(body, range(1, 11))


# ------------------------------------------------------------------------------------------------ synthetic exempt
def test_synthetic_default_cohort_is_exempt_and_says_so():
    """The shipped reconstruction is synthetic: every count as it is ("1 (7%)" in Table 3), one caption saying
    suppression applies to real cohorts, and the same cards as without any policy."""
    cohort = load_cohort(DEFAULT_COHORT_DIR)
    ctx = A.prepare(cohort)
    vc = views.ViewContext(ctx, cohort.n_patients)
    assert vc.policy is None and vc.sizes is None
    header = views.build_header(vc, "T")
    assert header.privacy == views.common.SYNTHETIC_EXEMPT and "applies to cohorts of real patients" in header.privacy
    (t3, _) = views.build_cards("safety", vc)
    text = t3.tables[0].df.to_string()
    assert "1 (7%)" in text and "< 5" not in text
    strict = replace(vc, suppression=P.PRESETS["11"])
    assert views.build_cards("safety", strict)[0].tables[0].df.equals(t3.tables[0].df)


# ------------------------------------------------------------------------------------------------ the app
def test_app_upload_real_cohort_shows_suppressed_counts_and_the_notice():
    """Through the Data page: the reconstructed CSVs uploaded as real patients; Safety shows "< 5" (never "1 (7%)"),
    the rule in a caption, and a filter that leaves 3 patients gives the one notice; the sidebar's counts too."""
    from tests.test_app import markdown_text, start
    from tests.test_privacy_app import _upload_real_copy

    at = start("pages/data.py")
    _upload_real_copy(at)
    at.switch_page("pages/safety.py").run()
    assert not at.exception
    md = html.unescape(markdown_text(at))
    assert "< 5" in md and "1 (7%)" not in md

    def plain(s: str) -> str:  # the text as the reader sees it
        return html.unescape(re.sub(r"\\(.)", r"\1", s))

    assert any("Small-cell suppression" in plain(c.value) for c in at.caption)
    sidebar = " · ".join(plain(c.value) for c in at.sidebar.caption)
    assert "Caucasian: < 5" in sidebar and not re.search(r": [1-4](?!\d)", sidebar), sidebar
    at.multiselect(key="f_phenotype").set_value(["KD-like"]).run()
    at.multiselect(key="f_sex").set_value(["M"]).run()
    assert not at.exception
    infos = [i.value for i in at.info if "fewer than 5 patients" in i.value]
    assert len(infos) == 1, infos
    assert "n \\< 5" in "\n".join(m.value for m in at.markdown) or "n < 5" in html.unescape(markdown_text(at))


def test_app_data_page_offers_no_download_below_the_threshold():
    """Data page, real cohort, 3 patients selected: no filtered-cohort download, and the page says why."""
    from tests.test_app import start
    from tests.test_privacy_app import _upload_real_copy

    at = start("pages/data.py")
    _upload_real_copy(at)

    def labels():
        return [b.label for b in at.get("download_button")]

    assert any("patients (.zip of CSVs)" in x for x in labels())
    at.multiselect(key="f_phenotype").set_value(["KD-like"]).run()
    at.multiselect(key="f_sex").set_value(["M"]).run()
    assert not at.exception
    assert not any("patients (" in x for x in labels()), labels()
    assert any("fewer than 5 patients" in i.value and "download" in i.value.lower() for i in at.info)


def test_app_reads_the_deployers_policy_from_secrets():
    """``[privacy] small_cell_preset = "11"`` in the secrets: counts below 11 are hidden; the viewer has no control."""
    from streamlit.testing.v1 import AppTest

    from tests.test_app import APP
    from tests.test_privacy_app import _upload_real_copy

    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["privacy"] = {"small_cell_preset": "11"}
    at.run()
    at.switch_page("pages/data.py").run()
    _upload_real_copy(at)
    at.switch_page("pages/safety.py").run()
    assert not at.exception
    from tests.test_app import markdown_text

    md = html.unescape(markdown_text(at))
    assert "< 11" in md and not small_counts(md, range(1, 11))
