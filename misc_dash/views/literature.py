"""Literature page: published case reports and series side by side with the cohort."""

from __future__ import annotations

from functools import lru_cache

from .. import figures
from .. import literature as L
from ..cards import Card, CardTable
from .common import ViewContext

LEAD = (
    "Published experience with anakinra in MIS-C / PIMS-TS, transcribed from the source documents (each row names "
    "its source). Case reports and small series are uncontrolled: most patients also received IVIG and "
    "corticosteroids, so recovery cannot be attributed to anakinra alone."
)


@lru_cache(maxsize=1)
def literature() -> L.Literature:
    """The transcribed literature (data/literature.json), loaded and validated once per process."""
    return L.load_literature()


def build_literature_cards(vc: ViewContext, options: None = None) -> list[Card]:
    lit = literature()
    common = vc.card_fields()
    evidence = Card(
        "literature.evidence",
        title="Evidence table",
        lead=LEAD,
        tables=(CardTable(L.evidence_table(lit), kind="grid", download="literature_evidence.csv"),),
        **common,
    )
    traj = vc.run("lvef_since_anakinra")
    traj, shown = _sampled(traj, vc.policy)
    if vc.policy is not None and len(traj):  # no patient's line for a group below the small-cell threshold
        n = traj.groupby("group")["patient_id"].transform("nunique")
        kept = traj[n >= vc.policy.threshold]
        if len(kept) < len(traj):
            shown += f" (groups with fewer than {vc.policy.threshold} of them are not drawn: small-cell rule)"
        traj = kept
    lvef = Card(
        "literature.lvef",
        title="LVEF recovery after anakinra: reports vs this cohort",
        figure=L.build_lvef_literature_figure(L.lvef_recovery_points(lit), traj),
        figure_key="lit_lvef",
        caption=(
            f"Day 0 = first anakinra day. Thin grey lines: {shown} in the current filter "
            f"({vc.description}), individual echocardiograms. Case 003: one patient's daily EF (individual "
            "measurements). Series 002 and 004: aggregate reports (median/range; '> 55 %' is a bound, drawn as an "
            "open triangle with an arrow, not a measured value). Dotted line: normal LVEF 55 %. "
            + L.case003_ef_anchor(lit)
        ),
        **common,
    )
    case003 = Card(
        "literature.case003",
        title="Case 003 — an 8-year-old girl, day by day",
        figure=L.build_case003_timeline(lit),
        figure_key="case003",
        caption=L.case003_caption(lit),
        source="Data: published case report 003 (one patient), transcribed",
        synthetic=False,
        cohort="",
        reproduce="",
    )
    return [evidence, lvef, case003]


def _sampled(traj, policy=None):
    """The cohort's trajectories for the figure, and what they are: every anakinra patient, or above
    figures.BAND_ABOVE patients a reproducible random sample of figures.SAMPLE_PER_GROUP per group (the figure draws
    one line per patient). ``policy``: the small-cell policy (its rounding applies to the counts said)."""
    n = int(traj["patient_id"].nunique()) if len(traj) else 0
    if not figures.use_bands(n):
        return traj, "this cohort's anakinra patients"
    keep = [figures.sample_ids(g["patient_id"].to_numpy(object)) for _, g in traj.groupby("group", sort=False)]
    ids = set().union(*map(set, keep)) if keep else set()
    per = max((k.size for k in keep), default=0)
    return (
        traj[traj["patient_id"].astype(str).isin(ids)],
        f"a random sample of {per if policy is None else policy.value(per)} of this cohort's anakinra patients per "
        f"group (of {n if policy is None else policy.value(n):,}; the legend counts the sample)",
    )
