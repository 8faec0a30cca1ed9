"""Pure plotly figure builders: plain functions of data → :class:`plotly.graph_objects.Figure`.

No streamlit here (``ui.py`` draws the figures). One module per topic, every name re-exported here:

- :mod:`.style` — template, fonts, palette and fixed colours, legends, margins, ``empty_figure``, text helpers;
- :mod:`.lines` — per-patient lines and group medians over time (echo, labs, dosing);
- :mod:`.bands` — large cohorts: quantile bands, precomputed boxes, a reproducible sample of patients, escaping;
- :mod:`.survival` — Kaplan–Meier (time to defervescence);
- :mod:`.echo` — echo trajectories and the paired first vs follow-up slope plot;
- :mod:`.cytokines` — cytokine boxes and the median heatmap;
- :mod:`.treatment` — anakinra dosing and adverse events;
- :mod:`.labs` — laboratory values over time;
- :mod:`.temperature` — daily maximum temperature with the group median and IQR band (Fever);
- :mod:`.overview` — cohort flow and the phenotype × treatment crosstab;
- :mod:`.present` — a caption burned into a figure and the projector style (``with_caption``, ``for_presentation``).

Conventions shared by every builder:

- **Trace types**: ``go.Scatter`` / ``go.Bar`` / ``go.Box`` / ``go.Heatmap`` only — never ``Scattergl`` (WebGL is
  slower in headless Chromium) and no plotly.express (which switches to WebGL for large data).
- **Colours** (:func:`group_colors`): Okabe–Ito, colour-blind safe. Treatment groups and phenotypes always get the
  same colour on every page (:data:`FIXED_COLORS`); any other grouping (sex, PCR, custom A/B…) gets the palette
  in display order, skipping colours already taken by fixed groups in the same figure.
- **Legends** carry the number of patients per group: ``"IVIG monotherapy (n = 14)"``.
- **Per-patient lines** (echo, labs, dosing, slope plots) are ONE trace per group with gaps (NaN) between
  patients, so a 10,000-patient cohort still draws a handful of traces. Hover shows patient id, day and value
  (patient ids appear only in hover text, never in titles or legends).
- **Group lines over time** (echo, labs) are the median of the patients' trajectories, each linearly interpolated
  between that patient's own measurements (no extrapolation), drawn on days where at least :data:`MIN_MEDIAN_N`
  patients' trajectories are defined (:data:`MEDIAN_RULE`): not a median of whichever patients happened to be
  measured that day, which zig-zags as patients come and go. Summaries of readings per day (the daily maximum
  temperature) are drawn on days with at least :data:`MIN_MEDIAN_N` patients measured.
- **Large cohorts**: above :data:`BAND_ABOVE` patients in a chart, per-patient charts draw per group and day the
  median, IQR and 10–90 % bands (R type 6 quantiles) with :data:`SAMPLE_PER_GROUP` seeded random patients as lines,
  and box charts draw boxes from precomputed quartiles without the points; the subtitle says so and
  :func:`summary_note` returns the sentence for the card's caption. At or below it, every patient is drawn.
- **Data text** (patient ids, group and cytokine names) in hover data, legends, ticks and annotations is escaped
  (``&``, ``<``, ``>`` as HTML entities): plotly reads those as markup.
- ``template="plotly_white"``, base font :data:`BASE_FONT` px (readable on a projector).
- **Built as dicts** (:class:`~misc_dash.plotspec.FigureSpec`) and wrapped in a ``go.Figure`` once at the end:
  plotly's per-call validation is slow, so the builders skip it; tests validate every builder's output in full.
"""

from __future__ import annotations

from ..plotspec import FigureSpec as FigureSpec
from ..plotspec import bar as bar
from ..plotspec import box as box
from ..plotspec import heatmap as heatmap
from ..plotspec import scatter as scatter
from ..vocabulary import PHENOTYPES as PHENOTYPES
from ..vocabulary import TREATMENT_GROUPS as TREATMENT_GROUPS
from .bands import BAND_ABOVE as BAND_ABOVE
from .bands import QUANTILE_RULE as QUANTILE_RULE
from .bands import SAMPLE_PER_GROUP as SAMPLE_PER_GROUP
from .bands import SAMPLE_SEED as SAMPLE_SEED
from .bands import esc_data as esc_data
from .bands import grouped_quantiles as grouped_quantiles
from .bands import sample_ids as sample_ids
from .bands import summary_note, use_bands
from .cytokines import build_cytokine_figure, build_cytokine_heatmap
from .echo import MEASURE_TITLES as MEASURE_TITLES
from .echo import _measure_titles as _measure_titles
from .echo import _normal_text as _normal_text
from .echo import build_echo_trajectories, build_paired_slope
from .labs import build_labs_figure
from .lines import MEDIAN_RULE as MEDIAN_RULE
from .lines import _group_median as _group_median
from .lines import _median_trace as _median_trace
from .lines import _patient_lines as _patient_lines
from .lines import _threshold_line as _threshold_line
from .lines import _with_day as _with_day
from .overview import build_crosstab_figure, build_flow_figure
from .present import PRESENTATION_FONT as PRESENTATION_FONT
from .present import PRESENTATION_PALETTE as PRESENTATION_PALETTE
from .present import for_presentation, with_caption
from .style import BASE_FONT as BASE_FONT
from .style import CHAR_PX as CHAR_PX
from .style import DIVERGING as DIVERGING
from .style import FIXED_COLORS, MIN_MEDIAN_N, OKABE_ITO, empty_figure, group_colors
from .style import FONT_FAMILY as FONT_FAMILY
from .style import GREY as GREY
from .style import LEGEND_WIDTH_PX as LEGEND_WIDTH_PX
from .style import SEQUENTIAL as SEQUENTIAL
from .style import TEMPLATE as TEMPLATE
from .style import TITLE_FONT as TITLE_FONT
from .style import X_TITLES as X_TITLES
from .style import _color_of as _color_of
from .style import _colors as _colors
from .style import _esc as _esc
from .style import _fmt_num as _fmt_num
from .style import _legend_rows as _legend_rows
from .style import _log_ticks as _log_ticks
from .style import _margins_for_labels as _margins_for_labels
from .style import _order_present as _order_present
from .style import _p as _p
from .style import _style as _style
from .style import _text_px as _text_px
from .style import _wrap as _wrap
from .style import legend_name as legend_name
from .style import median_min_n as median_min_n
from .style import rgba as rgba
from .survival import build_km_figure
from .temperature import build_temperature_figure
from .treatment import _id_route as _id_route
from .treatment import build_ae_figure, build_dosing_figure

__all__ = [
    "FIXED_COLORS",
    "MIN_MEDIAN_N",
    "OKABE_ITO",
    "build_ae_figure",
    "build_crosstab_figure",
    "build_cytokine_figure",
    "build_cytokine_heatmap",
    "build_dosing_figure",
    "build_echo_trajectories",
    "build_flow_figure",
    "build_km_figure",
    "build_labs_figure",
    "build_paired_slope",
    "build_temperature_figure",
    "empty_figure",
    "for_presentation",
    "group_colors",
    "summary_note",
    "use_bands",
    "with_caption",
]
