"""Echocardiography: first vs follow-up echo per group (Wilcoxon signed-rank), change between groups, trajectories."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import derive, stats
from .context import AnalysisOptions, Context, compare_continuous
from .jsonable import effect_dict, summary_dict, test_dict, test_fields


@dataclass(frozen=True)
class EchoGroup:
    group: str
    n_patients: int
    n_pairs: int
    baseline: stats.ContinuousSummary
    followup: stats.ContinuousSummary
    change: stats.ContinuousSummary
    test: stats.TestResult | None
    normal_baseline: stats.ProportionSummary
    normal_followup: stats.ProportionSummary
    interval: stats.ContinuousSummary


@dataclass(frozen=True)
class EchoResult:
    measure: str  # lvef_pct / strain_ap4_pct
    followup: str
    normal_threshold: float
    normal_direction: str
    groups: tuple[EchoGroup, ...]
    change_test: stats.TestResult | None  # between-group comparison of the change
    pairs: pd.DataFrame  # per patient with group
    unpaired: pd.DataFrame
    trajectories: pd.DataFrame  # patient_id, group, day, value, day_since_treatment


def echo(ctx: Context, measure: str = "lvef", opts: AnalysisOptions = AnalysisOptions()) -> EchoResult:
    col = derive.ECHO_MEASURES.get(measure, measure)
    thr, direction = (opts.lvef_normal, ">=") if col == "lvef_pct" else (opts.strain_normal, "<=")
    pf_ids, pf_groups = ctx.pf["patient_id"].to_numpy(), ctx.pf["group"].to_numpy()
    ep = derive.echo_pairs(ctx.cohort, col, followup=opts.echo_followup, patient_ids=pf_ids.tolist())
    group_of = pd.Series(pf_groups, index=pf_ids)
    pairs = ep.pairs.assign(group=ep.pairs["patient_id"].map(group_of))
    # per-group statistics on plain arrays (this runs on every filter change)
    p_group = pairs["group"].to_numpy()
    p_cols = {
        c: pairs[c].to_numpy(dtype=float, na_value=np.nan) for c in ("baseline", "followup", "change", "interval_days")
    }
    out, changes = [], {}
    for g in ctx.groups:
        m = p_group == g
        sub = {c: v[m] for c, v in p_cols.items()}
        n_pairs = int(m.sum())
        changes[g] = sub["change"]
        test = stats.wilcoxon_paired(sub["baseline"], sub["followup"], label=g) if n_pairs else None
        out.append(
            EchoGroup(
                g,
                int((pf_groups == g).sum()),
                n_pairs,
                stats.describe_continuous(sub["baseline"]),
                stats.describe_continuous(sub["followup"]),
                stats.describe_continuous(sub["change"]),
                test,
                stats.share_normal(sub["baseline"], thr, direction),
                stats.share_normal(sub["followup"], thr, direction),
                stats.describe_continuous(sub["interval_days"]),
            )
        )
    change_test = compare_continuous(changes, ctx.groups)
    unpaired = ep.unpaired.assign(group=ep.unpaired["patient_id"].map(group_of))
    e = ctx.cohort["echo"]
    e_ids = e["patient_id"].to_numpy()
    day = e["day"].to_numpy(dtype=float, na_value=np.nan)
    value = e[col].to_numpy(dtype=float, na_value=np.nan)
    grp = pd.Series(e_ids).map(group_of).to_numpy()  # NaN for patients outside ctx.pf; None = no group
    start_hour = (
        pd.Series(e_ids)
        .map(pd.Series(ctx.pf["treatment_start_hour"].to_numpy(dtype=float, na_value=np.nan), index=pf_ids))
        .to_numpy(dtype=float)
    )
    keep = ~(pd.isna(e_ids) | np.isnan(day) | np.isnan(value) | pd.isna(grp))
    traj = pd.DataFrame(
        {
            "patient_id": e_ids[keep],
            "group": grp[keep],
            "day": day[keep],
            "value": value[keep],
            "day_since_treatment": day[keep] - np.floor(start_hour[keep] / 24.0),
        }
    )
    return EchoResult(col, ep.followup, thr, direction, tuple(out), change_test, pairs, unpaired, traj)


def to_json(er: EchoResult) -> dict:
    """One measure under the ``echo`` key of the analyze JSON."""
    return {
        "followup": er.followup,
        "normal_threshold": er.normal_threshold,
        "groups": {
            eg.group: {
                "n_patients": eg.n_patients,
                "n_pairs": eg.n_pairs,
                "baseline_median": eg.baseline.median,
                "followup_median": eg.followup.median,
                "baseline": summary_dict(eg.baseline),
                "followup": summary_dict(eg.followup),
                "change_median": eg.change.median,
                "normal_baseline": eg.normal_baseline.to_dict(),
                "normal_followup": eg.normal_followup.to_dict(),
                "p_value": eg.test.p_value if eg.test else None,
                "test": eg.test.test if eg.test else None,
                "statistic": eg.test.statistic if eg.test else None,
                "notes": list(eg.test.notes) if eg.test else ["no patient with two echoes"],
                "n_nonzero_pairs": int(eg.test.extra("non-zero pairs")) if eg.test else 0,
                "pseudo_median_change": effect_dict(eg.test),
                **{k: v for k, v in test_fields(eg.test).items() if k != "statistic"},
            }
            for eg in er.groups
        },
        "change_between_groups": test_dict(er.change_test),
        "n_unpaired": len(er.unpaired),
    }
