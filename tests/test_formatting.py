"""One rounding rule for every number on screen, in tables and in the analyze text: half up on the shortest repr
(as GraphPad Prism / Excel print, and as the index paper's tables read)."""

from __future__ import annotations

import pytest

from misc_dash import formatting as fmt


@pytest.mark.parametrize(
    "k, n, text",
    [
        (20, 32, "20 (63%)"),  # paper Table 1, CV shock with anakinra: "20, 63%" (62.5 % half up)
        (3, 14, "3 (21%)"),  # paper Table 1, CV shock IVIG monotherapy: "3, 21%"
        (12, 32, "12 (38%)"),  # paper Table 2: "12, 38%"
        (1, 8, "1 (13%)"),  # 12.5 % half up (printf's half-even gives 12)
        (0, 0, "n/a"),
    ],
)
def test_count_percent_rounds_half_up(k, n, text):
    assert fmt.count_percent(k, n) == text


def test_numbers_and_medians_round_half_up_without_negative_zero():
    assert fmt.number(3.25, 1) == "3.3" and fmt.number(2.675, 2) == "2.68"  # printf: 3.2 and 2.67
    assert fmt.number(-0.04, 1) == "0.0"
    assert fmt.number(None, 1) == fmt.number(float("nan"), 1) == "n/a"
    assert fmt.median_iqr(3.25, 1.05, 8.0) == "3.3 [1.1, 8.0]"
    assert fmt.summary_text({"n": 4, "median": 3.25, "q1": 1.0, "q3": 4.0}, sep="–") == "3.3 [1.0–4.0]"
    assert fmt.summary_text({"n": 0, "median": None, "q1": None, "q3": None}) == "n/a"
    assert fmt.proportion(0.625) == "63%"


@pytest.mark.parametrize(
    "p, text",
    [(0.0234, "0.02"), (0.005, "0.005"), (0.00096, "0.001"), (0.995, "> 0.99"), (5e-5, "< 0.0001"), (None, "n/a")],
)
def test_p_values_as_the_paper_prints_them(p, text):
    assert fmt.format_p(p) == text


def test_tables_use_the_same_rule():
    """Table 1 and Table 2 percentages and Table 2 medians go through misc_dash.formatting (no printf rounding)."""
    from misc_dash import analyses as A
    from misc_dash import views
    from misc_dash.loading import load_default_cohort

    cohort = load_default_cohort()
    ctx = A.prepare(cohort, grouping="anakinra")
    t1 = views.table1.table1_frame(A.table1(ctx))
    assert t1.set_index("Variable").loc["CV shock", "With anakinra (n = 32)"] == "20 (63%)"
    t2 = views.anakinra.table2(A.dosing(ctx))
    assert t2.set_index("Parameter").loc["Adjunct therapy", "+ CV shock (n = 20)"] == "20 (100%)"
