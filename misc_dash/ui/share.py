"""Small browser helpers: copy the page's link, arrow keys for slides, and the presentation-mode styles.

Each is an ``st.components.v2`` component with fixed code (no data ever goes into its HTML, CSS or JS: the link
is read from the browser's own address bar)."""

from __future__ import annotations

import streamlit as st

_COPY_JS = """
export default function (component) {
  const { parentElement } = component;
  const button = parentElement.querySelector("button");
  const note = parentElement.querySelector(".misc-copy-note");
  if (!button || button.__miscBound) return undefined;
  button.__miscBound = true;
  button.addEventListener("click", async () => {
    const url = window.location.href;
    try {
      await navigator.clipboard.writeText(url);
      note.textContent = "Link copied";
    } catch (e) {
      // no clipboard permission: show the link, selected, to copy by hand
      const input = document.createElement("input");
      input.value = url;
      input.readOnly = true;
      input.style.width = "100%";
      note.textContent = "";
      note.appendChild(input);
      input.select();
    }
    button.dataset.copied = url;
  });
  return undefined;
}
"""
_COPY_HTML = (
    '<div class="misc-copy"><button type="button" title="Copy the address of this view: it reopens the same page, '
    'numbers and chart">Copy link</button> <span class="misc-copy-note"></span></div>'
)
_COPY_CSS = """
.misc-copy button { font: inherit; padding: 0.25rem 0.75rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid rgba(49, 51, 63, 0.2); background: white; }
.misc-copy-note { font-size: 0.85rem; color: #555; margin-left: 0.5rem; }
"""
_copy = st.components.v2.component("misc_dash_copy_link", html=_COPY_HTML, css=_COPY_CSS, js=_COPY_JS)

_KEYS_JS = """
export default function (component) {
  const { setTriggerValue } = component;
  const onKey = (e) => {
    const t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
    if (["ArrowRight", "PageDown"].includes(e.key)) { e.preventDefault(); setTriggerValue("step", 1); }
    if (["ArrowLeft", "PageUp"].includes(e.key)) { e.preventDefault(); setTriggerValue("step", -1); }
  };
  window.addEventListener("keydown", onKey);
  return () => window.removeEventListener("keydown", onKey);
}
"""
_keys = st.components.v2.component("misc_dash_slide_keys", js=_KEYS_JS)

# presentation mode: no sidebar, little padding, so the chart gets the first screen
_PRESENT_CSS = """
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stSidebarNav"] { display: none !important; }
[data-testid="stMainBlockContainer"], .block-container { padding-top: 0.6rem !important;
  padding-bottom: 1rem !important; max-width: 100% !important; padding-left: 1.5rem !important;
  padding-right: 1.5rem !important; }
[data-testid="stHeader"] { display: none !important; }
.misc-present-line { font-size: 1.05rem; }
"""
_present = st.components.v2.component("misc_dash_present_style", css=_PRESENT_CSS, isolate_styles=False)


def copy_link(key: str = "copy_link") -> None:
    """A "Copy link" button: copies the address bar (filters, page controls and view are all in it)."""
    _copy(key=key)


def slide_keys(on_step, key: str = "slide_keys") -> None:
    """Arrow keys / PageUp / PageDown call ``on_step(+1 or -1)`` (outside text inputs)."""
    result = _keys(key=key, on_step_change=lambda: None)
    step = getattr(result, "step", None)
    if step:
        on_step(int(step))


def presentation_styles() -> None:
    _present(key="present_style")
