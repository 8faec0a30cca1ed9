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


def test_hide_patient_ids_wherever_the_id_sits_in_a_label():
    """Issue 16 (privacy): ids are hidden inside longer hover labels ("P01, day 3", "patient P01 — G"), escaped
    as the figures write them, in customdata, hovertext, text and trace names; other text is left alone."""
    import plotly.graph_objects as go

    from misc_dash.ui.plot import hide_patient_ids

    fig = go.Figure(
        [
            go.Scatter(x=[0, 1], y=[1, 2], customdata=["P01, day 3", "P02 (IV)"], name="P01"),
            go.Scatter(x=[0], y=[1], hovertext=["patient A&amp;B — group<br>day 2"], text="P02", name="IVIG"),
        ]
    )
    out = hide_patient_ids(fig, frozenset({"P01", "P02", "A&B"}))
    got = json.dumps([t.to_plotly_json() for t in out.data], default=lambda o: o.tolist())
    assert "P01" not in got and "P02" not in got and "A&amp;B" not in got
    assert "a patient, day 3" in got and "a patient (IV)" in got and "patient a patient" in got and "IVIG" in got


def test_real_cohort_ids_hidden_on_every_chart():
    """A real upload: no patient id in any chart of any page, nor in the Cardiac paired chart and the trajectories
    on the treatment axis (labels like "P01, admission day 2")."""
    at = start("pages/data.py")
    _upload_real_copy(at)
    for page in ("overview", "cardiac", "fever", "cytokines", "labs", "anakinra", "safety", "literature"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception
        assert "SYN-0" not in json.dumps(plotly_specs(at)), page
    at.switch_page("pages/cardiac.py").run()
    at.radio(key="cardiac_x").set_value("day_since_treatment").run()
    assert "SYN-0" not in json.dumps(plotly_specs(at))
    at.segmented_control(key="cardiac_chart").set_value("Before and after (paired)").run()
    assert not at.exception and "SYN-0" not in json.dumps(plotly_specs(at))


def test_md_escape_keeps_data_text_from_becoming_links_colours_or_icons():
    """Issue 16 (data text is never markup): URLs, www names and e-mail addresses are not auto-linked, Streamlit's
    :red[…], :smile: and :material/…: codes are not applied (checked in Chromium: 0 links, text shown literally)."""
    from misc_dash.ui.elements import md_escape

    out = md_escape("http://evil.example www.evil.com a@b.com :red[x] :smile: :material/warning: <b>y</b>")
    import re

    for live in ("://", "www", "a@", ":material", "<b>"):
        assert live not in out, live
    assert not re.search(r"(?<!\\):", out)  # every colon escaped: no :red[…] or :smile:
    assert out.replace("\u200b", "").replace("\\", "") == (
        "http://evil.example www.evil.com a@b.com :red[x] :smile: :material/warning: &lt;b&gt;y&lt;/b&gt;"
    )
