"""The domain's words, in one place: group names and their display order, filter options, lab and adverse-event
labels, and the confounding-by-indication caution with the rule for when it applies.

Every screen, the ``analyze`` JSON, the exports and the tests read these; nothing else spells them.
"""

from __future__ import annotations

# ------------------------------------------------------------------------------------------------ groups
# Display orders — also the colour order used on every page.
TREATMENT_GROUPS: tuple[str, ...] = (
    "IVIG monotherapy",
    "IVIG + anakinra without CS",
    "IVIG + anakinra with CS",
    "IVIG + inflammatory steroids (no anakinra)",
    "Anakinra without IVIG",
    "No IVIG or anakinra",
)
MAIN_TREATMENT_GROUPS = TREATMENT_GROUPS[:3]  # the index study's three groups: always listed, even when empty
PHENOTYPES: tuple[str, ...] = ("Non-specific", "KD-like", "CV shock", "KDSS-like")
PHENOTYPE_HELP = (
    "Mutually exclusive: Non-specific = neither KD-like features nor CV shock; KD-like = KD-like features "
    "without shock; CV shock = shock without KD-like features; KDSS-like = both. (The paper's Table 1 rows "
    "'KD-like' and 'CV shock' count the flags, which include KDSS-like patients.)"
)

SEXES = ("F", "M")
SEX_LABELS = {"F": "Female", "M": "Male"}
TRI = ("Yes", "No", "Not recorded")  # nullable booleans (PCR, ICU)
NOT_RECORDED = "Not recorded"
CS_OPTIONS = ("With CS", "Without CS")

# compare-by → title; boolean groupings list "No" before "Yes".
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
CV_SHOCK_SPLIT = ("− CV shock", "+ CV shock")  # Table 2's columns (anakinra patients without / with CV shock)

# ------------------------------------------------------------------------------------------------ measures
LAB_LABELS = {
    "crp": "CRP",
    "ferritin": "Ferritin",
    "troponin": "Troponin",
    "bnp": "BNP",
    "nt_probnp": "NT-proBNP",
    "procalcitonin": "Procalcitonin",
    "lymphocytes": "Lymphocytes",
    "platelets": "Platelets",
    "d_dimer": "D-dimer",
    "alt": "ALT",
    "ast": "AST",
    "wbc": "White cells",
    "neutrophils": "Neutrophils",
    "fibrinogen": "Fibrinogen",
    "albumin": "Albumin",
    "sodium": "Sodium",
    "creatinine": "Creatinine",
    "esr": "ESR",
}
AE_LABELS = {
    "elevated_lft": "Elevated LFTs",
    "neutropenia": "Neutropenia",
    "hemolytic_anemia": "Hemolytic anemia",
    "anaphylaxis": "Anaphylaxis",
    "rash": "Rash",
    "rehospitalization": "Re-hospitalization",
    "thrombosis": "Thrombosis",
    "death": "Death",
}
ECHO_MEASURE_NAMES = {"lvef": "LVEF", "strain": "Ap4 strain"}

# ------------------------------------------------------------------------------------------------ cautions
CONFOUNDING_NOTE = (
    "Confounding by indication: anakinra was given by clinical judgement to sicker patients (CV shock, ICU, "
    "refractory to IVIG). Differences between treatment groups describe who was selected for which treatment; "
    "they are not treatment effects. An observational comparison like this cannot show that anakinra caused "
    "(or delayed) any outcome."
)
#: groupings whose comparison invites a causal reading of treatment (custom groups may be defined by treatment)
CONFOUNDED_GROUPINGS = frozenset({"treatment", "anakinra", "custom"})


def confounding_applies(group_by: str) -> bool:
    """Whether a comparison by ``group_by`` needs the confounding-by-indication caution (screen and JSON alike)."""
    return group_by in CONFOUNDED_GROUPINGS


def confounding_caution(group_by: str) -> str | None:
    """The caution text for a comparison by ``group_by``, or None when it does not compare treatments."""
    return CONFOUNDING_NOTE if confounding_applies(group_by) else None
