"""Cohort-level analyses: what every page shows and what ``python -m misc_dash analyze`` prints.

Each analysis takes a :class:`Context` (the filtered cohort split into compare-by groups) and returns plain data:
DataFrames and records, with a :class:`misc_dash.stats.TestResult` for every p-value, so a screen can always say
which test produced a number, on how many patients, and its caveats. Display formatting lives with the views
(:mod:`misc_dash.views`), not here.

Modules: :mod:`.context` (filter + groups, options, default tests), one module per topic (:mod:`.overview`,
:mod:`.baseline` — Table 1, :mod:`.defervescence` — fever, :mod:`.cardiac` — echo, :mod:`.cytokine_panel`,
:mod:`.laboratory`, :mod:`.anakinra` — dosing / Table 2, :mod:`.safety` — adverse events / Table 3,
:mod:`.literature`, :mod:`.temperature` — daily maximum temperature, :mod:`.adjusted` — stratified, adjusted
and weighted comparisons), :mod:`.registry` (name → analysis) and
:mod:`.report` (the ``analyze`` JSON).
"""

from ..vocabulary import AE_LABELS, CONFOUNDING_NOTE, LAB_LABELS
from .adjusted import AGE_BANDS, AdjustedEcho, AdjustedFever, AdjustedResult, AdjustOptions, adjusted_analysis
from .anakinra import TABLE2_CONTINUOUS, DosingResult, dosing
from .baseline import Table1, table1, table1_variables
from .cardiac import EchoGroup, EchoResult, echo
from .context import AnalysisError, AnalysisOptions, Context, compare_binary, compare_continuous, prepare
from .cytokine_panel import CytokineResult, cytokines
from .defervescence import FeverResult, fever
from .jsonable import json_clean, summary_dict, test_dict
from .laboratory import LabsResult, labs
from .literature import lvef_since_anakinra
from .overview import cohort_flow, crosstab, key_figures
from .registry import ANALYSES, Analysis, run
from .report import analyze_to_dict, format_summary
from .safety import AEResult, adverse_events
from .temperature import TemperatureResult, daily_max_temperature

# names of the single-module version, kept for callers and tests
_compare_continuous = compare_continuous
_compare_binary = compare_binary
_test_dict = test_dict
_json_clean = json_clean
_summary_dict = summary_dict

__all__ = [
    "AE_LABELS",
    "AGE_BANDS",
    "ANALYSES",
    "CONFOUNDING_NOTE",
    "LAB_LABELS",
    "TABLE2_CONTINUOUS",
    "AEResult",
    "AdjustOptions",
    "AdjustedEcho",
    "AdjustedFever",
    "AdjustedResult",
    "Analysis",
    "AnalysisError",
    "AnalysisOptions",
    "Context",
    "CytokineResult",
    "DosingResult",
    "EchoGroup",
    "EchoResult",
    "FeverResult",
    "LabsResult",
    "Table1",
    "TemperatureResult",
    "adjusted_analysis",
    "adverse_events",
    "analyze_to_dict",
    "cohort_flow",
    "compare_binary",
    "compare_continuous",
    "crosstab",
    "cytokines",
    "daily_max_temperature",
    "dosing",
    "echo",
    "fever",
    "format_summary",
    "key_figures",
    "labs",
    "lvef_since_anakinra",
    "prepare",
    "run",
    "table1",
    "table1_variables",
]
