// A plotly chart that stays mounted across Streamlit reruns and is updated in place with Plotly.react.
//
// Why: st.plotly_chart (Streamlit 1.67) derives its element id from the figure, so every filter change mounts a
// new chart (Plotly.newPlot) and draws it a second time from a mount effect. Here the element keeps its key, the
// <div> survives the rerun and Plotly.react redraws only what changed: one draw per change.
//
// plotly.js itself is the copy bundled with the installed plotly Python package, served by Streamlit's static file
// serving (misc_dash/ui.py copies it to static/) and loaded once per browser tab.
// Nothing here builds HTML from data: the figure goes to plotly.js as JSON, error text goes in as textContent.

function loadPlotly(src) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__miscDashPlotly) {
    window.__miscDashPlotly = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.async = true;
      s.onload = () => (window.Plotly ? resolve(window.Plotly) : reject(new Error("plotly.js loaded but did not start")));
      s.onerror = () => {
        window.__miscDashPlotly = null;
        s.remove();
        reject(new Error("plotly.js could not be loaded from " + src));
      };
      document.head.appendChild(s);
    });
  }
  return window.__miscDashPlotly;
}

// Full screen, for presenting (st.plotly_chart had it in Streamlit's element toolbar): a modebar button.
const EXPAND_ICON = {
  width: 1000,
  height: 1000,
  path: "M0 0h400v110H110v290H0zM600 0h400v400H890V110H600zM0 600h110v290h290v110H0zM890 600h110v400H600V890h290z",
};

function isFullscreen(div) {
  return document.fullscreenElement === div;
}

function fullscreenLayout(div, layout) {
  // in full screen the figure fills the screen; otherwise it keeps its own height and the page's width
  return isFullscreen(div) ? Object.assign({}, layout, { width: window.innerWidth, height: window.innerHeight }) : layout;
}

function plotConfig(div, config) {
  // one config object per chart and config value: Plotly.react re-creates the whole plot when the config changes
  const key = JSON.stringify(config || {});
  if (div.__miscConfigKey !== key) {
    const button = {
      name: "fullscreen",
      title: "Full screen (Esc to leave)",
      icon: EXPAND_ICON,
      click: () => (isFullscreen(div) ? document.exitFullscreen() : div.requestFullscreen && div.requestFullscreen()),
    };
    div.__miscConfig = Object.assign({}, config || {}, { modeBarButtonsToAdd: [button] });
    div.__miscConfigKey = key;
  }
  return div.__miscConfig;
}

export default function (component) {
  const { data, parentElement } = component;
  const div = parentElement.querySelector(".misc-dash-plot");
  if (!div || !data) return undefined;
  const cleanup = () => {
    div.__miscSpec = null;
    if (window.Plotly) window.Plotly.purge(div);
  };
  if (div.__miscSpec === data.spec) return cleanup; // same figure as on screen: nothing to draw
  div.__miscSpec = data.spec;
  const seq = (div.__miscSeq = (div.__miscSeq || 0) + 1);
  if (data.height) div.style.minHeight = data.height + "px"; // reserve the space while plotly.js loads
  loadPlotly(data.src)
    .then((Plotly) => {
      if (seq !== div.__miscSeq) return; // a newer figure arrived meanwhile
      const fig = JSON.parse(data.spec);
      div.__miscLayout = fig.layout || {};
      if (!div.__miscFsListener) {
        div.__miscFsListener = () => {
          if (!div.__miscLayout) return;
          Plotly.react(div, div.data || [], fullscreenLayout(div, div.__miscLayout), div.__miscConfig).then(() => {
            // back on the page: let autosize measure the page's width again, once the layout has settled
            if (!isFullscreen(div)) requestAnimationFrame(() => Plotly.Plots.resize(div));
          });
        };
        div.addEventListener("fullscreenchange", div.__miscFsListener);
      }
      return Plotly.react(div, fig.data || [], fullscreenLayout(div, div.__miscLayout), plotConfig(div, data.config));
    })
    .catch((err) => {
      div.__miscSpec = null;
      div.textContent = "This chart could not be drawn (" + String(err && err.message ? err.message : err) + ").";
    });
  return cleanup;
}
