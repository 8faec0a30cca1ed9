"""The reconstructed cohort reproduces the index study (data/published.json) through the project's own engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from misc_dash.fidelity import fidelity_report, load_published, matches

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def report():
    return fidelity_report()


def test_every_required_row_passes(report):
    fails = report.rows[report.rows["status"] == "FAIL"]
    assert fails.empty, fails[["id", "published", "reconstructed", "note"]].to_string()
    assert report.passed


def test_unreproducible_rows_say_why(report):
    nr = report.rows[~report.rows["required"]]
    assert len(nr) >= 5
    assert (nr["note"].str.len() > 10).all()


@pytest.mark.parametrize(
    "rec_id, published",
    [
        ("table1.cv_shock.p", "0.02"),  # Table 1: CV shock 3/14 vs 20/32, Fisher
        ("table1.non_specific.p", "0.005"),
        ("table1.kdss_like.p", "0.07"),
        ("table1.age.mono.median", "10.5"),
        ("table2.max_dose.p", "0.003"),
        ("table4.sIL-2R.p", "0.0006"),
        ("fever.mono_vs_ana.p", "0.003"),  # Fig. 1A log-rank
        ("fever.cs_vs_no_cs.p", "0.64"),  # Fig. 1B log-rank
        ("echo.lvef.mono.p", "0.01"),  # Fig. 1C Wilcoxon
    ],
)
def test_key_published_numbers(report, rec_id, published):
    row = report.rows.set_index("id").loc[rec_id]
    assert row["published"] == published and row["status"] == "pass", row.to_dict()


def test_tolerance_rule():
    """Published precision: '0.02' accepts [0.015, 0.025]; '> 0.99' needs p > 0.99; counts are exact."""
    rec = {"published": "0.02", "value": 0.02, "decimals": 2, "kind": "p_value"}
    assert matches(0.0230, rec) and matches(0.0150, rec) and not matches(0.0251, rec)
    assert matches(1.0, {"published": "> 0.99", "value": 0.99, "decimals": 2, "kind": "p_value"})
    assert not matches(0.98, {"published": "> 0.99", "value": 0.99, "decimals": 2, "kind": "p_value"})
    assert not matches(14.4, {"published": "14", "value": 14, "decimals": 0, "kind": "count"})


def test_published_file_is_complete():
    ids = [r["id"] for r in load_published()]
    assert len(ids) == len(set(ids))
    for prefix in ("table1.", "table2.", "table3.", "table4.", "echo.", "fever.", "anakinra.", "labs.", "los."):
        assert any(i.startswith(prefix) for i in ids), prefix


def test_cli_fidelity_exit_code():
    r = subprocess.run(
        [sys.executable, "-m", "misc_dash", "fidelity"], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert r.returncode == 0, r.stdout[-2000:]
    assert "PASSED" in r.stdout
