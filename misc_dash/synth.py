"""Larger synthetic cohorts for scale testing: patients resampled (with replacement) from the reconstructed
default cohort, each copy with a fresh synthetic id and all its rows in every table. Deterministic per seed.

``python -m misc_dash synth --patients N --seed S --out DIR``
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import contract as C
from .loading import DEFAULT_COHORT_DIR, Cohort, load_cohort


def _take_rows(df: pd.DataFrame, base_ids: np.ndarray, sample: np.ndarray, new_ids: np.ndarray) -> pd.DataFrame:
    """All rows of each sampled base patient, in sample order, relabelled with the new id (vectorised)."""
    if df.empty:
        return df.copy()
    code = pd.Categorical(df["patient_id"], categories=base_ids).codes
    order = np.argsort(code, kind="stable")
    sorted_code = code[order]
    counts = np.bincount(sorted_code[sorted_code >= 0], minlength=len(base_ids))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    c = counts[sample]
    total = int(c.sum())
    first = np.repeat(starts[sample], c)
    within = np.arange(total) - np.repeat(np.cumsum(c) - c, c)
    rows = order[first + within]
    out = df.iloc[rows].reset_index(drop=True)
    out["patient_id"] = np.repeat(new_ids, c)
    return out


def synthesize(n_patients: int, seed: int = 0, base: Cohort | None = None) -> dict[str, pd.DataFrame]:
    base = base or load_cohort(DEFAULT_COHORT_DIR)  # the reconstruction, never $MISC_DASH_COHORT
    rng = np.random.default_rng(seed)
    base_ids = base.patients["patient_id"].to_numpy()
    sample = rng.integers(0, len(base_ids), size=n_patients)
    width = max(6, len(str(n_patients)))
    new_ids = np.array([f"RS-{i:0{width}d}" for i in range(1, n_patients + 1)], dtype=object)
    return {t.name: _take_rows(base[t.name], base_ids, sample, new_ids) for t in C.TABLES}


def write_cohort(tables: dict[str, pd.DataFrame], out_dir: str | Path, name: str = "Synthetic cohort") -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for t in C.TABLES:
        df = tables[t.name].copy()
        for col in df.columns:
            if str(df[col].dtype) == "boolean":
                df[col] = df[col].map({True: "true", False: "false"})
        df.to_csv(out / f"{t.name}.csv", index=False)
    n = len(tables["patients"])
    meta = {
        "name": name,
        "synthetic": True,
        "description": f"Synthetic cohort resampled from the reconstructed index cohort ({n} patients): "
        "patients drawn with replacement from the reconstruction, each under a new id; not real patients.",
        "resampled_from": "reconstructed index cohort",
        # the table manifest: a loader refuses the cohort if a listed table is missing or has other row counts
        "tables": {t.name: len(tables[t.name]) for t in C.TABLES if len(tables[t.name])},
    }
    (out / C.METADATA_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return out
