"""Overview: cohort flow, phenotype × treatment counts, key figures."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import stats
from ..vocabulary import MAIN_TREATMENT_GROUPS, PHENOTYPES, TREATMENT_GROUPS
from .context import Context


def cohort_flow(ctx: Context) -> list[tuple[str, int, int]]:
    """(label, n, depth) rows: all → by anakinra → by CS, for whatever cohort is loaded."""
    pf = ctx.pf
    rows = [("Patients in the current selection", len(pf), 0)]
    anak = pf["anakinra"]
    rows.append(("No anakinra", int((~anak).sum()), 1))
    for tg in ("IVIG monotherapy", "IVIG + inflammatory steroids (no anakinra)", "No IVIG or anakinra"):
        k = int((pf["treatment_group"] == tg).sum())
        if k or tg == "IVIG monotherapy":
            rows.append((tg, k, 2))
    rows.append(("Anakinra", int(anak.sum()), 1))
    for tg in ("IVIG + anakinra without CS", "IVIG + anakinra with CS", "Anakinra without IVIG"):
        k = int((pf["treatment_group"] == tg).sum())
        if k or tg != "Anakinra without IVIG":
            rows.append((tg, k, 2))
    return rows


def crosstab(ctx: Context) -> pd.DataFrame:
    """Phenotype × treatment group counts (all phenotypes and the three main treatment groups shown)."""
    pf = ctx.pf
    cols = [g for g in TREATMENT_GROUPS if g in MAIN_TREATMENT_GROUPS or (pf["treatment_group"] == g).any()]
    ct = pd.crosstab(pf["phenotype"].astype(str), pf["treatment_group"].astype(str))
    ct = ct.reindex(index=list(PHENOTYPES), columns=cols, fill_value=0)
    ct["Total"] = ct.sum(axis=1)
    ct.loc["Total"] = ct.sum(axis=0)
    ct.index.name = "Phenotype"
    return ct.astype(int)


def key_figures(ctx: Context) -> dict[str, Any]:
    pf = ctx.pf
    age = stats.describe_continuous(pf["age_years"])
    los = stats.describe_continuous(pf["length_of_stay_days"])
    return {
        "n_patients": len(pf),
        "n_total": ctx.n_total,
        "anakinra": int(pf["anakinra"].sum()),
        "cv_shock": int(pf["cv_shock"].astype("boolean").fillna(False).sum()),
        "icu": int(pf["icu"].astype("boolean").fillna(False).sum()),
        "icu_missing": int(pf["icu"].isna().sum()),
        "age": age,
        "length_of_stay": los,
    }
