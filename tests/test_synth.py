"""`python -m misc_dash synth`: a larger cohort in the same contract, deterministic per seed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from misc_dash.loading import load_cohort
from misc_dash.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]


def test_synth_cli_writes_a_valid_cohort(tmp_path):
    out = tmp_path / "big"
    r = subprocess.run(
        [sys.executable, "-m", "misc_dash", "synth", "--patients", "300", "--seed", "7", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    c = load_cohort(out)
    assert c.n_patients == 300 and c.synthetic
    assert c["patients"]["patient_id"].is_unique
    assert set(c["echo"]["patient_id"]) <= set(c["patients"]["patient_id"])


def test_synth_is_deterministic_and_resamples_whole_patients():
    a, b = synthesize(120, seed=3), synthesize(120, seed=3)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    c = synthesize(120, seed=4)
    assert not a["patients"].equals(c["patients"])
    base = load_cohort(ROOT / "data" / "default_cohort")
    # each synthetic patient's temperature rows are a copy of one base patient's rows
    per = a["temperatures"].groupby("patient_id").size()
    assert set(per.unique()) <= set(base["temperatures"].groupby("patient_id").size().unique())
