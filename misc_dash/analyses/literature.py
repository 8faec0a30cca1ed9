"""The cohort's side of the Literature page: LVEF of anakinra patients against days since anakinra start."""

from __future__ import annotations

import pandas as pd

from .context import Context


def lvef_since_anakinra(ctx: Context) -> pd.DataFrame:
    """LVEF of the selection's anakinra patients on a 'days since anakinra start' axis (for the Literature
    page): patient_id, group, day_since_anakinra, lvef_pct."""
    pf = ctx.pf[ctx.pf["anakinra"]]
    e = ctx.cohort["echo"][["patient_id", "day", "lvef_pct"]].dropna()
    e = e.merge(pf[["patient_id", "group", "start_day"]], on="patient_id")
    e["day_since_anakinra"] = e["day"].astype(float) - e["start_day"].astype(float)
    return e[["patient_id", "group", "day_since_anakinra", "lvef_pct"]].reset_index(drop=True)
