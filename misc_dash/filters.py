"""The cohort filter as a value, and the "compare by" grouping.

:class:`CohortFilter` is frozen and hashable (a cache key), has a human description
("IVIG + anakinra, CV shock, age 5–12 — n = 14") and round-trips through URL query parameters (strings
only, no patient identifiers). :func:`assign_groups` turns a "compare by" choice into group labels in a fixed,
documented order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from .derive import PHENOTYPES, TREATMENT_GROUPS

SEXES = ("F", "M")
SEX_LABELS = {"F": "Female", "M": "Male"}
TRI = ("Yes", "No", "Not recorded")  # nullable booleans (PCR, ICU)
CS_OPTIONS = ("With CS", "Without CS")

# compare-by → (column, ordered labels). Boolean groupings list "No" before "Yes".
GROUP_BY_CHOICES = ("treatment", "anakinra", "phenotype", "cv_shock", "kd_like", "sex", "sars_cov2_pcr", "custom")
GROUP_BY_TITLES = {
    "treatment": "Treatment group",
    "anakinra": "Anakinra (any) vs none",
    "phenotype": "Phenotype",
    "cv_shock": "CV shock",
    "kd_like": "KD-like features",
    "sex": "Sex",
    "sars_cov2_pcr": "SARS-CoV-2 PCR",
    "custom": "Custom groups A vs B",
}
BOOL_GROUP_LABELS = {
    "anakinra": ("Without anakinra", "With anakinra"),
    "cv_shock": ("No CV shock", "CV shock"),
    "kd_like": ("No KD-like features", "KD-like features"),
    "sars_cov2_pcr": ("PCR negative", "PCR positive"),
}


def _tri(s: pd.Series) -> pd.Series:
    b = s.astype("boolean")
    return pd.Series(np.where(b.isna(), "Not recorded", np.where(b.fillna(False), "Yes", "No")), index=s.index)


def _fmt_num(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class CohortFilter:
    """Which patients to keep. An empty tuple means "no restriction" for that field."""

    treatment: tuple[str, ...] = ()
    phenotype: tuple[str, ...] = ()
    age_min: float | None = None
    age_max: float | None = None
    sex: tuple[str, ...] = ()
    race: tuple[str, ...] = ()
    ethnicity: tuple[str, ...] = ()
    pcr: tuple[str, ...] = ()  # of TRI
    icu: tuple[str, ...] = ()  # of TRI
    cs: tuple[str, ...] = ()  # of CS_OPTIONS

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, list):
                object.__setattr__(self, f.name, tuple(v))

    # ------------------------------------------------------------------ applying
    def field_masks(self, pf: pd.DataFrame) -> dict[str, pd.Series]:
        """One boolean mask per active criterion (used for live per-option counts)."""
        m: dict[str, pd.Series] = {}
        if self.age_min is not None or self.age_max is not None:
            age = pf["age_years"].astype(float)
            ok = age.notna()
            if self.age_min is not None:
                ok &= age >= self.age_min
            if self.age_max is not None:
                ok &= age <= self.age_max
            m["age"] = ok
        for field in CATEGORICAL_FIELDS:
            chosen = getattr(self, field)
            if chosen:
                m[field] = pd.Series(_field_labels(pf, field), index=pf.index).isin(chosen)
        return m

    def mask(
        self, pf: pd.DataFrame, skip: str | None = None, masks: Mapping[str, pd.Series] | None = None
    ) -> pd.Series:
        """Patients kept by every active field except ``skip`` (``masks``: :meth:`field_masks`, if already made)."""
        ok = pd.Series(True, index=pf.index)
        for k, v in (self.field_masks(pf) if masks is None else masks).items():
            if k != skip:
                ok &= v
        return ok

    def apply(self, pf: pd.DataFrame) -> pd.DataFrame:
        return pf[self.mask(pf)]

    @property
    def is_empty(self) -> bool:
        return self == CohortFilter()

    # ------------------------------------------------------------------ describing
    def parts(self) -> list[str]:
        out: list[str] = []
        if self.treatment:
            t = set(self.treatment)
            both = {"IVIG + anakinra without CS", "IVIG + anakinra with CS"}
            if both <= t:
                t = (t - both) | {"IVIG + anakinra"}
            out.append(" or ".join(sorted(t, key=lambda x: (x != "IVIG monotherapy", x))))
        if self.phenotype:
            out.append(" or ".join(p for p in PHENOTYPES if p in self.phenotype))
        if self.age_min is not None and self.age_max is not None:
            out.append(f"age {_fmt_num(self.age_min)}–{_fmt_num(self.age_max)}")
        elif self.age_min is not None:
            out.append(f"age ≥ {_fmt_num(self.age_min)}")
        elif self.age_max is not None:
            out.append(f"age ≤ {_fmt_num(self.age_max)}")
        if self.sex:
            out.append(" or ".join(SEX_LABELS.get(s, s).lower() for s in self.sex))
        if self.race:
            out.append("race: " + " or ".join(self.race))
        if self.ethnicity:
            out.append("ethnicity: " + " or ".join(self.ethnicity))
        if self.pcr:
            out.append(
                "PCR " + " or ".join(x.lower() for x in self.pcr).replace("yes", "positive").replace("no", "negative")
            )
        if self.icu:
            out.append("ICU " + " or ".join(x.lower() for x in self.icu))
        if self.cs:
            out.append(" or ".join(x.lower() for x in self.cs))
        return out

    def describe(self, n: int | None = None) -> str:
        text = ", ".join(self.parts()) or "All patients"
        text = text[0].upper() + text[1:]
        return f"{text} — n = {n}" if n is not None else text

    # ------------------------------------------------------------------ URL round trip
    def to_query_params(self, prefix: str = "") -> dict[str, str]:
        """Only non-default fields; lists joined by '|'. No patient identifiers can appear here."""
        q: dict[str, str] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v in ((), None):
                continue
            q[prefix + f.name] = "|".join(v) if isinstance(v, tuple) else _fmt_num(v)
        return q

    @classmethod
    def from_query_params(cls, params: Mapping[str, str], prefix: str = "") -> CohortFilter:
        """Inverse of :meth:`to_query_params`; unknown keys and malformed values are ignored."""
        kw = {}
        for f in fields(cls):
            raw = params.get(prefix + f.name)
            if raw is None or raw == "":
                continue
            if f.name in ("age_min", "age_max"):
                try:
                    kw[f.name] = float(raw)
                except ValueError:
                    continue
            else:
                kw[f.name] = tuple(x for x in str(raw).split("|") if x)
        return cls(**kw)

    def with_(self, **kw) -> CohortFilter:
        return replace(self, **kw)


def option_counts(
    pf: pd.DataFrame, flt: CohortFilter, field: str, options, _masks: Mapping[str, pd.Series] | None = None
) -> dict[str, int]:
    """For each option of ``field``: how many patients the cohort would have with that option selected
    (given all *other* active filters) — the live count shown next to each option."""
    base = pf[flt.mask(pf, skip=field, masks=_masks)]
    col = pd.Series(_field_labels(base, field))
    vc = col.value_counts()
    return {o: int(vc.get(o, 0)) for o in options}


@dataclass(frozen=True)
class Grouping:
    """How to split the (filtered) cohort into the groups compared on every page."""

    by: str = "treatment"
    a: CohortFilter = CohortFilter()
    b: CohortFilter = CohortFilter()
    a_name: str = "Group A"
    b_name: str = "Group B"

    @property
    def title(self) -> str:
        return GROUP_BY_TITLES.get(self.by, self.by)


@dataclass(frozen=True)
class Groups:
    labels: pd.Series  # per patient (index aligned with the patient frame given), NaN = in no group
    order: tuple[str, ...]  # display order of the groups present or possible
    notes: tuple[str, ...]


def assign_groups(pf: pd.DataFrame, grouping: Grouping) -> Groups:
    """Group label per patient. Patients without a value for the grouping variable (or, for custom groups,
    matching neither or both A and B) get no group and are counted in the notes."""
    notes: list[str] = []
    by = grouping.by
    if by == "treatment":
        lab = pf["treatment_group"].astype(object)
        present = set(lab.dropna())
        order = TREATMENT_GROUPS[:3] + tuple(g for g in TREATMENT_GROUPS[3:] if g in present)
    elif by == "phenotype":
        lab = pf["phenotype"].astype(object)
        order = PHENOTYPES
    elif by in BOOL_GROUP_LABELS:
        no, yes = BOOL_GROUP_LABELS[by]
        b = pf[by].astype("boolean")
        lab = pd.Series(np.where(b.isna(), None, np.where(b.fillna(False), yes, no)), index=pf.index, dtype=object)
        order = (no, yes)
    elif by == "sex":
        lab = pf["sex"].map(SEX_LABELS).astype(object)
        order = ("Female", "Male")
    elif by == "custom":
        ma, mb = grouping.a.mask(pf), grouping.b.mask(pf)
        both = ma & mb
        lab = pd.Series(
            np.where(ma & ~mb, grouping.a_name, np.where(mb & ~ma, grouping.b_name, None)), index=pf.index, dtype=object
        )
        order = (grouping.a_name, grouping.b_name)
        if both.any():
            notes.append(
                f"{int(both.sum())} patient(s) match both {grouping.a_name} and {grouping.b_name} and are left out of the comparison."
            )
    else:
        raise ValueError(f"unknown grouping {by!r}; choose one of {GROUP_BY_CHOICES}")
    missing = lab.isna()
    if missing.any() and by != "custom":
        notes.append(
            f"{int(missing.sum())} patient(s) with no recorded {GROUP_BY_TITLES.get(by, by)} are left out of the comparison."
        )
    return Groups(lab, tuple(order), tuple(notes))


CATEGORICAL_FIELDS = ("treatment", "phenotype", "sex", "race", "ethnicity", "pcr", "icu", "cs")


def _field_labels(pf: pd.DataFrame, field: str) -> np.ndarray:
    """Each patient's option label for a categorical filter field: what the filter matches and the live counts count."""
    return {
        "treatment": lambda d: d["treatment_group"].astype(str),
        "phenotype": lambda d: d["phenotype"].astype(str),
        "sex": lambda d: d["sex"],
        "race": lambda d: d["race"].fillna("Not recorded"),
        "ethnicity": lambda d: d["ethnicity"].fillna("Not recorded"),
        "pcr": lambda d: _tri(d["sars_cov2_pcr"]),
        "icu": lambda d: _tri(d["icu"]),
        "cs": lambda d: pd.Series(np.where(d["cs"], "With CS", "Without CS"), index=d.index),
    }[field](pf).to_numpy(dtype=object)


def all_option_counts(
    pf: pd.DataFrame, flt: CohortFilter, options: Mapping[str, Sequence[str]]
) -> dict[str, dict[str, int]]:
    """:func:`option_counts` for several fields at once: the filter's masks are made once, and the counting is
    done on numpy arrays (the sidebar recounts every option on every filter change)."""
    masks = {k: v.to_numpy(dtype=bool) for k, v in flt.field_masks(pf).items()}
    out: dict[str, dict[str, int]] = {}
    for field, opts in options.items():
        keep = np.ones(len(pf), dtype=bool)
        for k, m in masks.items():
            if k != field:
                keep &= m
        labels = _field_labels(pf, field)[keep]
        out[field] = {o: int((labels == o).sum()) for o in opts}
    return out
