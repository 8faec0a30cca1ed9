"""Privacy on screen: for a real (uploaded, not synthetic) cohort, chart hovers carry no patient identifier unless
the user allows it; charts never offer to send data off the machine."""

from __future__ import annotations

import json

from tests.test_app import plotly_specs, start


def _upload_real_copy(at):
    from misc_dash.loading import DEFAULT_COHORT_DIR

    files = [(p.name, p.read_bytes(), "text/csv") for p in sorted(DEFAULT_COHORT_DIR.glob("*.csv"))]
    at.file_uploader(key="upload_files").set_value(files).run()
    at.button[[b.label for b in at.button].index("Validate and load")].click().run()
    assert not at.exception


def test_real_cohort_hovers_hide_patient_ids_until_allowed():
    at = start("pages/data.py")
    _upload_real_copy(at)
    at.switch_page("pages/cardiac.py").run()
    assert not at.exception
    text = json.dumps(plotly_specs(at))
    assert "SYN-0" not in text and "a patient" in text
    at.toggle(key="show_patient_ids").set_value(True).run()
    assert "SYN-0" in json.dumps(plotly_specs(at))


def test_synthetic_cohort_hovers_keep_pseudonymous_ids():
    at = start("pages/cardiac.py")
    assert "SYN-0" in json.dumps(plotly_specs(at))


def test_charts_never_offer_plotly_cloud():
    from misc_dash.ui.plot import PLOT_CONFIG

    assert PLOT_CONFIG["showSendToCloud"] is False and PLOT_CONFIG["showEditInChartStudio"] is False
    at = start("pages/fever.py")
    comps = [el for el in at.get("bidi_component") if el.proto.component_name == "misc_dash_plot"]
    assert comps and all(json.loads(c.proto.json)["config"]["showSendToCloud"] is False for c in comps)
