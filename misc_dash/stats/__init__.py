"""Statistical tests and descriptives for the MIS-C cohort explorer.

Pure functions (no streamlit, no file I/O). Every test returns a frozen :class:`TestResult`;
descriptives return frozen summary dataclasses; Kaplan–Meier returns a frozen :class:`KMCurve`.
Nothing here raises for an empty or one-sided group: the result carries ``p_value=None`` and a note
meant to be shown on screen.

Conventions (see ``docs/CONVENTIONS.md``): where scipy/lifelines and R differ, R is the reference. Each topic
module documents its own:

* :mod:`.descriptive` — median [Q1, Q3] (R ``quantile(type = 6)``), n (%), share meeting a threshold with the
  Clopper–Pearson CI (R ``binom.test``);
* :mod:`.categorical` — Fisher 2×2 (conditional-MLE odds ratio, as R ``fisher.test``), Freeman–Halton r×c
  (exact enumeration, as R), odds ratios;
* :mod:`.rank` — Mann–Whitney, Kruskal–Wallis, Wilcoxon signed-rank with R's Hodges–Lehmann estimates and CIs;
* :mod:`.survival` — Kaplan–Meier and log-rank (numpy implementations, tested against lifelines and R
  ``survfit``/``survdiff``), Cox (lifelines ``CoxPHFitter`` = R ``coxph`` defaults);
* :mod:`.multiplicity` — R ``p.adjust`` "BH" and "holm";
* :mod:`.stratified` — stratified log-rank (R ``survdiff`` with ``strata()``), Mantel–Haenszel (R
  ``mantelhaen.test``), van Elteren's stratified Wilcoxon;
* :mod:`.regression` — logistic regression (R ``glm(binomial)``) and the linear model (R ``lm``);
* :mod:`.weighting` — propensity scores, stabilised ATE weights, the SMD balance table, weighted Kaplan–Meier
  (R ``survfit(weights = w)``);
* :mod:`.firth` — Firth's penalised Cox (R ``coxphf``);
* :mod:`.adjusted` — the adjusted and weighted hazard ratios, the adjusted follow-up difference, the positivity
  check and the E-value;
* :mod:`.results` — the result dataclasses; :mod:`._common` — thresholds, input cleaning, notes.

p-value text (:func:`format_p`, from :mod:`misc_dash.formatting`): two decimals from 0.01 up ("0.02", "0.57"),
one significant digit below ("0.005", "0.0006"), "< 0.0001" and "> 0.99".
"""

from __future__ import annotations

from .. import formatting as _formatting
from ..formatting import format_p
from ._common import FEW_EVENTS as FEW_EVENTS
from ._common import SMALL_GROUP
from ._common import _clean as _clean
from ._common import _dc_to_dict as _dc_to_dict
from ._common import _empty_notes as _empty_notes
from ._common import _is_missing as _is_missing
from ._common import _json_safe as _json_safe
from ._common import _small_group_notes as _small_group_notes
from ._common import _to_float as _to_float
from .adjusted import EValue, Positivity, adjusted_difference, cox_adjusted, e_value, iptw_cox, positivity_check
from .categorical import _R_REL_ERR as _R_REL_ERR
from .categorical import _as_table as _as_table
from .categorical import _expand_columns as _expand_columns
from .categorical import _freeman_halton_exact as _freeman_halton_exact
from .categorical import _freeman_halton_oriented as _freeman_halton_oriented
from .categorical import fisher_2x2, fisher_counts, fisher_rxc, odds_ratio_2x2, risk_difference
from .cox import CoxFit, cox_fit, cox_zph, timefix
from .descriptive import clopper_pearson as clopper_pearson
from .descriptive import (
    describe_categorical,
    describe_continuous,
    share_normal,
    standardized_difference,
    standardized_difference_categorical,
    wilson_interval,
)
from .firth import FirthCoxFit, firth_cox_fit
from .multiplicity import _pvec as _pvec
from .multiplicity import benjamini_hochberg, holm
from .rank import _TOL_ROOT as _TOL_ROOT
from .rank import _average_ranks as _average_ranks
from .rank import _hl_one_sample as _hl_one_sample
from .rank import _hl_two_sample as _hl_two_sample
from .rank import _norm_ppf as _norm_ppf
from .rank import _r_lower_quantile as _r_lower_quantile
from .rank import _ranks_and_ties as _ranks_and_ties
from .rank import _signrank_null_pmf as _signrank_null_pmf
from .rank import _signrank_p as _signrank_p
from .rank import _step_root as _step_root
from .rank import _wilcox_null_pmf as _wilcox_null_pmf
from .rank import kruskal_wallis, mann_whitney, wilcoxon_paired
from .regression import ModelFit, linear_model, logistic_regression, model_matrix
from .results import CategoricalSummary, ContinuousSummary, Effect, ProportionSummary, TestResult
from .stratified import mantel_haenszel, mantel_haenszel_by, stratified_logrank, van_elteren
from .survival import KMCurve, cox_hr, kaplan_meier, logrank, pairwise_logrank
from .survival import _logrank_chisq as _logrank_chisq
from .survival import _r_findq as _r_findq
from .survival import _survival_frame as _survival_frame
from .weighting import (
    Balance,
    BalanceRow,
    IPTWeights,
    WeightedKMCurve,
    balance_table,
    iptw,
    weighted_kaplan_meier,
)

# the number formatting moved to misc_dash.formatting; the old private names stay as aliases
_fmt = _formatting.number
_round_half_up = _formatting.round_half_up

__all__ = [
    "SMALL_GROUP",
    "Balance",
    "BalanceRow",
    "CategoricalSummary",
    "ContinuousSummary",
    "CoxFit",
    "EValue",
    "Effect",
    "FirthCoxFit",
    "IPTWeights",
    "KMCurve",
    "ModelFit",
    "Positivity",
    "ProportionSummary",
    "TestResult",
    "WeightedKMCurve",
    "adjusted_difference",
    "balance_table",
    "benjamini_hochberg",
    "cox_adjusted",
    "cox_fit",
    "cox_hr",
    "cox_zph",
    "describe_categorical",
    "describe_continuous",
    "e_value",
    "firth_cox_fit",
    "fisher_2x2",
    "fisher_counts",
    "fisher_rxc",
    "format_p",
    "holm",
    "iptw",
    "iptw_cox",
    "kaplan_meier",
    "kruskal_wallis",
    "linear_model",
    "logistic_regression",
    "logrank",
    "mann_whitney",
    "mantel_haenszel",
    "mantel_haenszel_by",
    "model_matrix",
    "odds_ratio_2x2",
    "pairwise_logrank",
    "positivity_check",
    "risk_difference",
    "share_normal",
    "standardized_difference",
    "standardized_difference_categorical",
    "stratified_logrank",
    "timefix",
    "van_elteren",
    "weighted_kaplan_meier",
    "wilcoxon_paired",
    "wilson_interval",
]
