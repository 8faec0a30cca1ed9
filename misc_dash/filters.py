"""The cohort filter as a value, the filter-field registry it is built from, and the "compare by" groupings.

* :data:`FILTER_FIELDS` declares each filter once: its key, sidebar label, URL key, the options it offers,
  each patient's value, how it describes itself and its command-line flag. :class:`CohortFilter` (its
  attributes), the sidebar (widgets, live counts, URL binding), the URL round trip and ``analyze``'s flags are
  all generated from it, so a new filter is one entry.
* :class:`CohortFilter` is frozen and hashable (a cache key), has a human description
  ("IVIG + anakinra, CV shock, age 5–12 — n = 14") and round-trips through URL query parameters (strings
  only, no patient identifiers).
* :data:`GROUPINGS` declares each "compare by" choice; :func:`assign_groups` turns one into group labels in a
  fixed, documented order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, make_dataclass, replace

import numpy as np
import pandas as pd

from .vocabulary import (
    BOOL_GROUP_LABELS,
    CS_OPTIONS,
    GROUP_BY_CHOICES,
    GROUP_BY_TITLES,
    MAIN_TREATMENT_GROUPS,
    NOT_RECORDED,
    PHENOTYPE_HELP,
    PHENOTYPES,
    SEX_LABELS,
    SEXES,
    TREATMENT_GROUPS,
    TRI,
)

__all__ = [
    "BOOL_GROUP_LABELS",
    "CATEGORICAL_FIELDS",
    "CS_OPTIONS",
    "FILTER_FIELDS",
    "GROUPINGS",
    "GROUP_BY_CHOICES",
    "GROUP_BY_TITLES",
    "SEXES",
    "SEX_LABELS",
    "TRI",
    "CohortFilter",
    "FilterField",
    "Grouping",
    "Groups",
    "all_option_counts",
    "assign_groups",
    "field_by_key",
    "option_counts",
]


def _tri(s: pd.Series) -> pd.Series:
    b = s.astype("boolean")
    return pd.Series(np.where(b.isna(), NOT_RECORDED, np.where(b.fillna(False), "Yes", "No")), index=s.index)


def _fmt_num(x: float) -> str:
    return f"{x:g}"


# ============================================================================================ the registry
@dataclass(frozen=True)
class FilterField:
    """One filter, declared once.

    ``kind`` is "categorical" (a tuple of chosen option labels; empty = no restriction) or "range" (two
    attributes ``<key>_min`` / ``<key>_max``, None = open). ``values(pf)`` gives each patient's option label
    (categorical) or number (range): what the filter matches and what the live counts count.
    """

    key: str
    label: str  # sidebar label
    url_key: str  # the sidebar widget's session key, bound to ``?<url_key>=`` in the address
    values: Callable[[pd.DataFrame], pd.Series]
    describe: Callable[[tuple], str] | None = None  # categorical: the chosen options as words
    options: Callable[[pd.DataFrame], Sequence[str]] | None = None  # categorical: the options offered
    kind: str = "categorical"
    cli_choices: tuple[str, ...] | None = None  # analyze: allowed values (None = free text)
    more: bool = False  # drawn under the sidebar's "More filters"
    help: str | None = None
    # custom groups A / B (compare by "custom") offer a few of the fields, with their own labels and options
    group_label: str | None = None
    group_options: Sequence[str] | None = None
    group_format: Callable[[str], str] | None = None

    @property
    def attrs(self) -> tuple[str, ...]:
        """The :class:`CohortFilter` attributes this field owns."""
        return (f"{self.key}_min", f"{self.key}_max") if self.kind == "range" else (self.key,)

    @property
    def cli_flags(self) -> tuple[str, ...]:
        """``analyze`` flags: ``--treatment`` (repeatable) or ``--age-min`` / ``--age-max``."""
        return tuple("--" + a.replace("_", "-") for a in self.attrs)

    def labels(self, pf: pd.DataFrame) -> np.ndarray:
        return self.values(pf).to_numpy(dtype=object)

    def mask(self, pf: pd.DataFrame, flt: CohortFilter) -> pd.Series | None:
        """Patients kept by this field of ``flt``; None when the field is not active."""
        if self.kind == "range":
            lo, hi = (getattr(flt, a) for a in self.attrs)
            if lo is None and hi is None:
                return None
            x = self.values(pf).astype(float)
            ok = x.notna()
            if lo is not None:
                ok &= x >= lo
            if hi is not None:
                ok &= x <= hi
            return ok
        chosen = getattr(flt, self.key)
        if not chosen:
            return None
        return pd.Series(self.labels(pf), index=pf.index).isin(chosen)

    def part(self, flt: CohortFilter) -> str | None:
        """This field's words in the filter's description, or None when not active."""
        if self.kind == "range":
            lo, hi = (getattr(flt, a) for a in self.attrs)
            name = self.label.split(" (")[0].lower()
            if lo is not None and hi is not None:
                return f"{name} {_fmt_num(lo)}–{_fmt_num(hi)}"
            if lo is not None:
                return f"{name} ≥ {_fmt_num(lo)}"
            if hi is not None:
                return f"{name} ≤ {_fmt_num(hi)}"
            return None
        chosen = getattr(flt, self.key)
        return self.describe(chosen) if chosen else None


def _describe_treatment(chosen: tuple) -> str:
    t = set(chosen)
    both = {"IVIG + anakinra without CS", "IVIG + anakinra with CS"}
    if both <= t:
        t = (t - both) | {"IVIG + anakinra"}
    return " or ".join(sorted(t, key=lambda x: (x != "IVIG monotherapy", x)))


_PCR_WORDS = {"Yes": "positive", "No": "negative", NOT_RECORDED: "not recorded"}
_FLAG_WORDS = {"Yes": "present", "No": "absent", NOT_RECORDED: "not recorded"}


def _levels(col: str) -> Callable[[pd.DataFrame], list[str]]:
    return lambda pf: sorted(pf[col].fillna(NOT_RECORDED).astype(str).unique().tolist())


FILTER_FIELDS: tuple[FilterField, ...] = (
    FilterField(
        "treatment",
        "Treatment group",
        "f_treatment",
        values=lambda d: d["treatment_group"].astype(str),
        describe=_describe_treatment,
        # the index study's three groups always, the others only when a patient is in them
        options=lambda pf: [
            g for g in TREATMENT_GROUPS if g in MAIN_TREATMENT_GROUPS or (pf["treatment_group"] == g).any()
        ],
        cli_choices=None,
        group_label="Treatment",
        group_options=MAIN_TREATMENT_GROUPS,
    ),
    FilterField(
        "phenotype",
        "Phenotype",
        "f_phenotype",
        values=lambda d: d["phenotype"].astype(str),
        describe=lambda chosen: " or ".join(p for p in PHENOTYPES if p in chosen),
        options=lambda pf: list(PHENOTYPES),
        cli_choices=None,
        help=PHENOTYPE_HELP,
        group_label="Phenotype",
        group_options=PHENOTYPES,
    ),
    FilterField(
        "cv_shock",
        "CV shock (any: incl. KDSS-like)",
        "f_cv_shock",
        values=lambda d: _tri(d["cv_shock"]),
        describe=lambda chosen: "CV shock " + " or ".join(_FLAG_WORDS.get(x, x.lower()) for x in chosen),
        options=lambda pf: list(TRI),
        cli_choices=TRI,
        help="The CV shock flag, as the paper's Table 1 and Table 2 count it: CV shock with or without KD-like "
        "features (phenotypes 'CV shock' and 'KDSS-like').",
    ),
    FilterField(
        "kd_like",
        "KD-like features (any: incl. KDSS-like)",
        "f_kd_like",
        values=lambda d: _tri(d["kd_like"]),
        describe=lambda chosen: "KD-like features " + " or ".join(_FLAG_WORDS.get(x, x.lower()) for x in chosen),
        options=lambda pf: list(TRI),
        cli_choices=TRI,
        help="The KD-like flag, as the paper's Table 1 counts it: KD-like features with or without CV shock "
        "(phenotypes 'KD-like' and 'KDSS-like').",
    ),
    FilterField(
        "age",
        "Age (years)",
        "f_age",
        values=lambda d: d["age_years"],
        kind="range",
        group_label="Age (years)",
    ),
    FilterField(
        "sex",
        "Sex",
        "f_sex",
        values=lambda d: d["sex"],
        describe=lambda chosen: " or ".join(SEX_LABELS.get(s, s).lower() for s in chosen),
        options=lambda pf: list(SEXES),
        cli_choices=SEXES,
        group_label="Sex",
        group_options=SEXES,
        group_format=SEX_LABELS.get,
    ),
    FilterField(
        "race",
        "Race",
        "f_race",
        values=lambda d: d["race"].fillna(NOT_RECORDED),
        describe=lambda chosen: "race: " + " or ".join(chosen),
        options=_levels("race"),
        more=True,
    ),
    FilterField(
        "ethnicity",
        "Ethnicity",
        "f_ethnicity",
        values=lambda d: d["ethnicity"].fillna(NOT_RECORDED),
        describe=lambda chosen: "ethnicity: " + " or ".join(chosen),
        options=_levels("ethnicity"),
        more=True,
    ),
    FilterField(
        "pcr",
        "SARS-CoV-2 PCR positive",
        "f_pcr",
        values=lambda d: _tri(d["sars_cov2_pcr"]),
        describe=lambda chosen: "PCR " + " or ".join(_PCR_WORDS.get(x, x.lower()) for x in chosen),
        options=lambda pf: list(TRI),
        cli_choices=TRI,
        more=True,
    ),
    FilterField(
        "icu",
        "ICU",
        "f_icu",
        values=lambda d: _tri(d["icu"]),
        describe=lambda chosen: "ICU " + " or ".join(x.lower() for x in chosen),
        options=lambda pf: list(TRI),
        cli_choices=TRI,
        more=True,
    ),
    FilterField(
        "cs",
        "Corticosteroids (stress or inflammatory dose)",
        "f_cs",
        values=lambda d: pd.Series(np.where(d["cs"], "With CS", "Without CS"), index=d.index),
        describe=lambda chosen: " or ".join(x[0].lower() + x[1:] for x in chosen),  # "with CS", not "with cs"
        options=lambda pf: list(CS_OPTIONS),
        cli_choices=CS_OPTIONS,
        more=True,
        group_label="Corticosteroids",
        group_options=CS_OPTIONS,
    ),
)
_BY_KEY = {f.key: f for f in FILTER_FIELDS}
CATEGORICAL_FIELDS = tuple(f.key for f in FILTER_FIELDS if f.kind == "categorical")


def field_by_key(key: str) -> FilterField:
    return _BY_KEY[key]


# ============================================================================================ the value
class _FilterMethods:
    """Methods of :class:`CohortFilter` (its attributes come from :data:`FILTER_FIELDS`)."""

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, list):
                object.__setattr__(self, f.name, tuple(v))

    # ------------------------------------------------------------------ applying
    def field_masks(self, pf: pd.DataFrame) -> dict[str, pd.Series]:
        """One boolean mask per active field (used for live per-option counts)."""
        out = {}
        for f in FILTER_FIELDS:
            m = f.mask(pf, self)
            if m is not None:
                out[f.key] = m
        return out

    def mask(self, pf: pd.DataFrame, skip: str | None = None, masks: Mapping[str, pd.Series] | None = None):
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
        return self == type(self)()

    # ------------------------------------------------------------------ describing
    def parts(self) -> list[str]:
        return [p for p in (f.part(self) for f in FILTER_FIELDS) if p]

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
    def from_query_params(cls, params: Mapping[str, str], prefix: str = ""):
        """Inverse of :meth:`to_query_params`; unknown keys and malformed values are ignored."""
        numeric = {a for f in FILTER_FIELDS if f.kind == "range" for a in f.attrs}
        kw = {}
        for f in fields(cls):
            raw = params.get(prefix + f.name)
            if raw is None or raw == "":
                continue
            if f.name in numeric:
                try:
                    kw[f.name] = float(raw)
                except ValueError:
                    continue
            else:
                kw[f.name] = tuple(x for x in str(raw).split("|") if x)
        return cls(**kw)

    def to_cli_args(self) -> list[str]:
        """The ``analyze`` flags that select the same patients (``--phenotype 'CV shock' --age-min 5``)."""
        out: list[str] = []
        for f in FILTER_FIELDS:
            for attr, flag in zip(f.attrs, f.cli_flags):
                v = getattr(self, attr)
                if f.kind == "range":
                    if v is not None:
                        out += [flag, _fmt_num(v)]
                else:
                    for x in v:
                        out += [flag, x]
        return out

    def with_(self, **kw):
        return replace(self, **kw)


def _dataclass_fields():
    for f in FILTER_FIELDS:
        default = None if f.kind == "range" else ()
        typ = "float | None" if f.kind == "range" else "tuple[str, ...]"
        for a in f.attrs:
            yield a, typ, field(default=default)


CohortFilter = make_dataclass("CohortFilter", list(_dataclass_fields()), bases=(_FilterMethods,), frozen=True)
CohortFilter.__module__ = __name__  # picklable, and its repr (a cache key) names it plainly
CohortFilter.__doc__ = (
    "Which patients to keep: one attribute per categorical field of FILTER_FIELDS (a tuple of chosen options; "
    "empty = no restriction) and <key>_min / <key>_max per range field (None = open)."
)


def option_counts(
    pf: pd.DataFrame, flt: CohortFilter, field: str, options, _masks: Mapping[str, pd.Series] | None = None
) -> dict[str, int]:
    """For each option of ``field``: how many patients the cohort would have with that option selected
    (given all *other* active filters) — the live count shown next to each option."""
    base = pf[flt.mask(pf, skip=field, masks=_masks)]
    vc = pd.Series(_BY_KEY[field].labels(base)).value_counts()
    return {o: int(vc.get(o, 0)) for o in options}


def all_option_counts(
    pf: pd.DataFrame, flt: CohortFilter, options: Mapping[str, Sequence[str]]
) -> dict[str, dict[str, int]]:
    """:func:`option_counts` for several fields at once: the filter's masks are made once, and the counting is
    done on numpy arrays (the sidebar recounts every option on every filter change)."""
    masks = {k: v.to_numpy(dtype=bool) for k, v in flt.field_masks(pf).items()}
    out: dict[str, dict[str, int]] = {}
    for key, opts in options.items():
        keep = np.ones(len(pf), dtype=bool)
        for k, m in masks.items():
            if k != key:
                keep &= m
        labels = _BY_KEY[key].labels(pf)[keep]
        out[key] = {o: int((labels == o).sum()) for o in opts}
    return out


# ============================================================================================ compare by
@dataclass(frozen=True)
class Grouping:
    """How to split the (filtered) cohort into the groups compared on every page."""

    by: str = "treatment"
    a: CohortFilter = field(default_factory=CohortFilter)
    b: CohortFilter = field(default_factory=CohortFilter)
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


def _by_treatment(pf: pd.DataFrame, grouping: Grouping):
    lab = pf["treatment_group"].astype(object)
    present = set(lab.dropna())
    return lab, MAIN_TREATMENT_GROUPS + tuple(g for g in TREATMENT_GROUPS[3:] if g in present), []


def _by_boolean(pf: pd.DataFrame, grouping: Grouping):
    no, yes = BOOL_GROUP_LABELS[grouping.by]
    b = pf[grouping.by].astype("boolean")
    lab = pd.Series(np.where(b.isna(), None, np.where(b.fillna(False), yes, no)), index=pf.index, dtype=object)
    return lab, (no, yes), []


def _by_custom(pf: pd.DataFrame, grouping: Grouping):
    ma, mb = grouping.a.mask(pf), grouping.b.mask(pf)
    both = ma & mb
    a, b = grouping.a_name, grouping.b_name
    lab = pd.Series(np.where(ma & ~mb, a, np.where(mb & ~ma, b, None)), index=pf.index, dtype=object)
    notes = []
    if both.any():
        notes.append(f"{int(both.sum())} patient(s) match both {a} and {b} and are left out of the comparison.")
    return lab, (a, b), notes


#: compare-by key → function(pf, grouping) -> (labels, order, notes)
GROUPINGS: dict[str, Callable] = {
    "treatment": _by_treatment,
    "anakinra": _by_boolean,
    "phenotype": lambda pf, g: (pf["phenotype"].astype(object), PHENOTYPES, []),
    "cv_shock": _by_boolean,
    "kd_like": _by_boolean,
    "sex": lambda pf, g: (pf["sex"].map(SEX_LABELS).astype(object), ("Female", "Male"), []),
    "sars_cov2_pcr": _by_boolean,
    "custom": _by_custom,
}
assert tuple(GROUPINGS) == GROUP_BY_CHOICES


def assign_groups(pf: pd.DataFrame, grouping: Grouping) -> Groups:
    """Group label per patient. Patients without a value for the grouping variable (or, for custom groups,
    matching neither or both A and B) get no group and are counted in the notes."""
    by = grouping.by
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}; choose one of {GROUP_BY_CHOICES}")
    lab, order, notes = GROUPINGS[by](pf, grouping)
    missing = lab.isna()
    if missing.any() and by != "custom":
        notes.append(
            f"{int(missing.sum())} patient(s) with no recorded {GROUP_BY_TITLES.get(by, by)} are left out of the "
            "comparison."
        )
    return Groups(lab, tuple(order), tuple(notes))
