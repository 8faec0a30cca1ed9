"""The ledger of tests looked at: the pure core (BH q as R p.adjust, the dedup rule), the header counter, the
"Tests viewed" page (lists the tests with q, clearing works) and the HTML report's ledger section."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from misc_dash import ledger
from misc_dash.cards import Card, TestLine
from misc_dash.stats.results import TestResult

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def _res(p: float | None, n=(14, 32)) -> TestResult:
    return TestResult(test="Mann–Whitney U", statistic=1.0, statistic_name="U", p_value=p, groups=("A", "B"), n=n)


def _entry(p: float, card: str = "c", selection: str = "all") -> ledger.LedgerEntry:
    return ledger.LedgerEntry("Fever", card, "A vs B", "log-rank", p, "14 vs 32", selection)


def test_q_equals_r_p_adjust_bh():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.2), "BH") -> 0.025 0.05 0.05 0.025 0.2
    entries = [_entry(p, card=str(i)) for i, p in enumerate([0.01, 0.04, 0.03, 0.005, 0.2])]
    q = ledger.ledger_table(entries)["q (BH, whole session)"].tolist()
    assert q == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.2])


def test_dedup_same_selection_once_other_filters_new():
    a = _entry(0.03)
    out = ledger.add([], [a, a])
    assert out == [a]
    out = ledger.add(out, [_entry(0.03)])  # the same test on the same selection: counted once
    assert len(out) == 1
    out = ledger.add(out, [_entry(0.07, selection="CV shock — n = 20")])  # other filters: a new test looked at
    assert len(out) == 2
    assert len(ledger.add([], [_entry(i / 100, card=str(i)) for i in range(10)], limit=4)) == 4


def test_entries_from_cards_skip_missing_p():
    card = Card(
        "fever.km",
        title="Fever",
        cohort="all — n = 46",
        tests=(TestLine("IVIG vs anakinra", _res(0.04)), TestLine("x", None), TestLine("y", _res(None))),
    )
    (e,) = ledger.entries_from_cards("Fever", [card])
    assert (e.page, e.card, e.comparison, e.p, e.n, e.selection) == (
        "Fever", "fever.km", "IVIG vs anakinra", 0.04, "14 vs 32", "all — n = 46"
    )  # fmt: skip


def test_suppressed_counts_stay_suppressed():
    from misc_dash import privacy

    shown = privacy.shown_test(_res(0.04, n=(3, 40)), privacy.SuppressionPolicy())
    (e,) = ledger.entries_from_cards("Fever", [Card("fever.km", tests=(TestLine("A vs B", shown),))])
    assert "3" not in e.n and "40" in e.n and "<" in e.n


def test_summary_sentence_says_what_expected_false_positives_mean():
    s = ledger.summary_sentence([_entry(0.01, card=str(i)) for i in range(20)])
    assert "0.05 × 20 = 1.0" in s and "by chance" in s and "every null hypothesis were true" in s


def test_report_html_has_the_ledger_section_when_there_are_entries():
    from misc_dash.exports import report_html

    card = Card("fever.km", title="Fever")
    html = report_html([card], "r", ledger=[_entry(0.03), _entry(0.5, selection="<b>x</b>")])
    assert 'id="tests-viewed"' in html and "Tests viewed this session" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert 'id="tests-viewed"' not in report_html([card], "r")


def _counter(at: AppTest) -> int:
    texts = [c.value for c in at.caption if c.value.endswith("viewed this session")]
    assert texts, "no ledger counter in the header"
    return int(texts[-1].split()[0])


def test_app_counter_page_and_clear():
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("pages/fever.py").run()
    assert not at.exception, [e.message for e in at.exception]
    after_fever = _counter(at)
    assert after_fever > 0
    at.switch_page("pages/cardiac.py").run()
    assert not at.exception, [e.message for e in at.exception]
    after_cardiac = _counter(at)
    assert after_cardiac > after_fever
    at.switch_page("pages/ledger.py").run()
    assert not at.exception, [e.message for e in at.exception]
    (df,) = [d.value for d in at.dataframe]
    assert len(df) == after_cardiac
    pages = set(df["Page"])
    assert any(p.startswith("Fever") for p in pages) and any(p.startswith("Cardiac") for p in pages)
    assert df["q (BH, whole session)"].notna().all()
    assert (df["q (BH, whole session)"] >= df["p"] - 1e-12).all()
    assert any("by chance" in m.value for m in at.markdown)
    at.button(key="ledger_clear").click().run()
    assert not at.exception
    assert not at.dataframe and _counter(at) == 0


def test_table1_p_column_is_in_the_ledger():
    """Table 1 shows its p-values in a column, not as test lines: each variable's p is logged once (the level rows
    of a categorical variable have none), with its test and the groups' n; the counter counts them."""
    from misc_dash import analyses as A
    from misc_dash import views
    from misc_dash.loading import load_default_cohort

    c = load_default_cohort()
    vc = views.ViewContext(A.prepare(c, grouping="anakinra"), c.n_patients)
    cards = views.build_cards("table1", vc)
    entries = ledger.entries_from_cards("Table 1", cards)
    t1 = vc.run("table1")
    tested = [r for r in t1.records if "level_of" not in r and r.get("p_value") is not None]
    assert len(entries) == len(tested) > 10
    age = next(e for e in entries if e.comparison == "Table 1: Age, years")
    rec = next(r for r in tested if r["variable"] == "Age, years")
    assert age.p == rec["p_value"] and age.test == rec["test"] and age.n == "14 vs 32"

    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("pages/table1.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert _counter(at) >= 10


def test_app_ledger_page_shown_when_filters_match_no_patient():
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("pages/fever.py").run()
    n = _counter(at)
    at.switch_page("pages/ledger.py").run()
    at.multiselect(key="f_treatment").select("IVIG monotherapy").run()
    at.multiselect(key="f_phenotype").select("KDSS-like").run()
    at.multiselect(key="f_cs").select("With CS").run()  # no patient (tests/test_app.py)
    assert not at.exception, [e.message for e in at.exception]
    assert not any("No patients match" in w.value for w in at.warning)
    assert len(at.dataframe[0].value) == n and _counter(at) == n


def test_script_run_token_same_within_a_run_new_on_the_next():
    def script():
        import streamlit as st

        from misc_dash import compat

        a, b = compat.script_run_token(), compat.script_run_token()
        st.session_state.setdefault("tokens", []).append(a)
        st.markdown("same" if a is not None and a is b else "different")

    at = AppTest.from_function(script)
    at.run()
    at.run()
    assert at.markdown[0].value == "same"
    first, second = at.session_state["tokens"]
    assert first is not second
