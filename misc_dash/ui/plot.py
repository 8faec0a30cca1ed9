"""Charts drawn in place: a small ``st.components.v2`` component keeps its element across reruns and redraws it with
``Plotly.react`` (``st.plotly_chart`` remounts the chart whenever the figure changes and draws it twice). plotly.js
is the installed plotly package's bundle, copied once into ``static/`` and served by Streamlit; without static
serving the chart falls back to ``st.plotly_chart``."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import streamlit as st

from ..plotspec import figure_json

# never offer to send a chart off the machine (plotly.js' "Edit in Chart Studio" / Plotly Cloud links)
PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
}
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"  # Streamlit serves <app.py's folder>/static
_PLOT_JS = (Path(__file__).with_name("plot_component.js")).read_text(encoding="utf-8")
_plot_component = st.components.v2.component(
    "misc_dash_plot", html='<div class="misc-dash-plot"></div>', js=_PLOT_JS, isolate_styles=False
)


@st.cache_resource(show_spinner=False)
def plotly_js_url() -> str | None:
    """The app-relative URL of plotly.js for the in-place chart, or None to fall back to ``st.plotly_chart``.

    The file is the plotly.js bundled with the installed plotly package, copied once into ``static/`` under a
    versioned name (so a browser cache never serves an old one). None when static serving is off or the folder
    is not writable.
    """
    if not st.get_option("server.enableStaticServing"):
        return None
    try:
        import plotly
        from plotly.offline import get_plotlyjs_version

        src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        name = f"plotly-{get_plotlyjs_version()}.min.js"
        dest = STATIC_DIR / name
        if not dest.is_file() or dest.stat().st_size != src.stat().st_size:
            STATIC_DIR.mkdir(exist_ok=True)
            tmp = dest.with_name(f".{name}.{os.getpid()}.tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        return f"app/static/{name}"
    except (OSError, ImportError):
        return None


K_SHOW_IDS = "show_patient_ids"


def _ids_hidden() -> frozenset | None:
    """The patient ids to keep out of chart hovers: every id of a real (not synthetic) cohort, unless the user has
    allowed them (sidebar); None when nothing is hidden."""
    view = st.session_state.get("_view")
    if view is None or view.cohort.synthetic or st.session_state.get(K_SHOW_IDS):
        return None
    return frozenset(map(str, view.pf_all["patient_id"]))


_TOKEN = re.compile(r"[^\s,:()\[\]<>—–]+")  # a run of characters that can form a patient id


def hide_patient_ids(fig, ids: frozenset):
    """A copy of ``fig`` whose hover data, texts and trace names show "a patient" instead of any patient id in
    ``ids`` — wherever the id sits in the label ("P01", "P01 (IV)", "P01, day 3", "patient P01 — group"), raw or
    HTML-escaped as the figures write data text."""
    import html

    import plotly.graph_objects as go

    hidden = set(ids) | {html.escape(i, quote=False) for i in ids}

    def scrub(v):
        if not isinstance(v, str) or not _TOKEN.search(v):
            return v
        return _TOKEN.sub(lambda m: "a patient" if m.group(0) in hidden else m.group(0), v)

    out = go.Figure(fig)
    for tr in out.data:
        for attr in ("customdata", "hovertext", "text"):
            val = getattr(tr, attr, None)
            if val is None or isinstance(val, (int, float)):
                continue
            if isinstance(val, str):
                setattr(tr, attr, scrub(val))
                continue
            arr = np.asarray(val, dtype=object)
            flat = arr.ravel()
            new = np.array([scrub(v) for v in flat], dtype=object)
            if any(a is not b for a, b in zip(flat, new)):
                setattr(tr, attr, new.reshape(arr.shape))
        name = getattr(tr, "name", None)
        if isinstance(name, str):
            tr.name = scrub(name)
    return out


def plot(fig, key: str) -> None:
    """One chart, kept mounted across reruns and redrawn in place when the figure changes."""
    ids = _ids_hidden()
    if ids:
        fig = hide_patient_ids(fig, ids)
    src = plotly_js_url()
    if src is None:
        st.plotly_chart(fig, key=key, config={k: v for k, v in PLOT_CONFIG.items() if k != "responsive"})
        return
    _plot_component(
        key=f"plot_{key}",
        data={"spec": figure_json(fig), "src": src, "config": PLOT_CONFIG, "height": fig.layout.height},
    )
