"""Static images of figures (PNG, SVG) with kaleido 1.x and the machine's own Chromium.

Kaleido's persistent sync server (``kaleido.start_sync_server``) is started once per process, on first use: the
first image waits for Chromium to start (a few seconds), every later one takes a fraction of a second. Nothing
leaves the machine: plotly.js is the copy installed with plotly (a local file), MathJax is off, and Chromium is
told to send any network request to a proxy on 127.0.0.1 port 9 (the discard port), so even a figure that named a
remote resource could not fetch it.

**Resolution rule.** A figure is laid out in CSS pixels, 1/96 inch each (the CSS reference pixel). ``dpi=None``
renders one image pixel per CSS pixel (the screen image). ``dpi=N`` renders at scale N / 96 and records N dpi in
the PNG (``pHYs`` chunk), so the print image has the same physical size as the screen one (a 1200-px-wide figure
is 12.5 in wide) with N / 96 times the pixels in each direction: ``dpi=300`` gives 3750 px, ``dpi=192`` is 2×.
SVG is vector: ``dpi`` does not apply.

When no Chromium (or no kaleido) is available, :class:`ImageExportUnavailable` says so in words a user can act
on; callers show that message instead of a traceback.
"""

from __future__ import annotations

import os
import shutil
import struct
import threading
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from ..figures.present import DEFAULT_WIDTH, with_caption

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from ..cards import Card

FORMATS = ("png", "svg")
CSS_DPI = 96  # CSS reference pixel: 1/96 inch
PRINT_DPI = 300
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
FIRST_RENDER_TIMEOUT = 90.0  # s: includes starting Chromium
RENDER_TIMEOUT = 60.0  # s
DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: no request can reach a network through it


class ImageExportUnavailable(RuntimeError):
    """Static images cannot be made here (no Chromium, no kaleido, or the renderer stopped); ``str(exc)`` is a
    message for the user."""


_lock = threading.Lock()
_server = {"started": False, "rendered": False, "broken": None}


def chromium_path() -> str | None:
    """The Chromium kaleido uses: ``BROWSER_PATH`` if it names a program, else Debian's ``/usr/bin/chromium``,
    else the first Chromium/Chrome on ``PATH``; None when there is none."""
    env = os.environ.get("BROWSER_PATH")
    for c in ([env] if env else []) + list(CHROMIUM_CANDIDATES):
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _unavailable(why: str) -> ImageExportUnavailable:
    return ImageExportUnavailable(
        f"Image export (PNG/SVG) is not available on this machine: {why} "
        "The chart itself, the tables (CSV/xlsx) and the HTML report still work."
    )


def _plotly_js() -> str:
    import plotly

    js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not js.is_file():
        raise _unavailable("the plotly installation has no plotly.min.js.")
    return str(js)


def _start() -> None:
    """Start kaleido's persistent server once per process (called with the lock held)."""
    if _server["broken"]:
        raise ImageExportUnavailable(str(_server["broken"]))
    if _server["started"]:
        return
    try:
        import kaleido
    except ImportError:
        raise _unavailable("the kaleido package is not installed (pip install -r requirements.txt).") from None
    path = chromium_path()
    if path is None:
        raise _unavailable(
            "no Chromium browser was found (install it, e.g. `apt-get install chromium`, or set BROWSER_PATH)."
        )
    kaleido.start_sync_server(
        n=1,
        timeout=RENDER_TIMEOUT,
        plotlyjs=_plotly_js(),
        mathjax=False,
        path=path,
        proxy_server=DEAD_PROXY,
        silence_warnings=True,
    )
    _server["started"] = True


def start_server() -> None:
    """Start the image renderer now (else it starts with the first image); raises
    :class:`ImageExportUnavailable` when it cannot."""
    with _lock:
        _start()


def available() -> bool:
    """Whether images can be made (a Chromium and kaleido are there and the renderer has not failed)."""
    if _server["broken"]:
        return False
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return False
    return chromium_path() is not None


def _render(fig_dict: dict, opts: dict) -> bytes:
    import kaleido

    with _lock:
        _start()
        box: dict = {}

        def call():
            try:
                box["out"] = kaleido.calc_fig_sync(fig_dict, opts=opts)
            except BaseException as exc:
                box["err"] = exc

        timeout = RENDER_TIMEOUT if _server["rendered"] else FIRST_RENDER_TIMEOUT
        worker = threading.Thread(target=call, name="misc-dash-image", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():  # the renderer hangs (e.g. Chromium did not start): never try it again here
            msg = f"the Chromium renderer did not answer within {timeout:.0f} s."
            _server["broken"] = str(_unavailable(msg))
            raise ImageExportUnavailable(_server["broken"])
        if "err" in box:
            raise _unavailable(f"the renderer failed ({type(box['err']).__name__}: {box['err']}).")
        _server["rendered"] = True
        out = box["out"]
    return out.encode("utf-8") if isinstance(out, str) else bytes(out)


def _png_with_dpi(png: bytes, dpi: float) -> bytes:
    """The PNG with its physical resolution (``pHYs``, pixels per metre) set to ``dpi``."""
    sig, pos = png[:8], 8
    chunks = []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        ctype = png[pos + 4 : pos + 8]
        chunks.append((ctype, png[pos : pos + 12 + length]))
        pos += 12 + length
    ppm = round(dpi / 0.0254)
    body = b"pHYs" + struct.pack(">IIB", ppm, ppm, 1)
    phys = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    out = [sig]
    for ctype, raw in chunks:
        if ctype == b"pHYs":
            continue
        out.append(raw)
        if ctype == b"IHDR":
            out.append(phys)
    return b"".join(out)


def figure_image(
    fig: go.Figure, fmt: str = "png", dpi: int | None = None, width: int = DEFAULT_WIDTH, height: int | None = None
) -> bytes:
    """The figure as PNG or SVG bytes, ``width`` × ``height`` CSS px (height: the figure's own, else 500); PNG
    resolution by the rule in the module docstring (``dpi=None``: screen, scale 1; ``dpi=300``: print)."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"image format {fmt!r}: one of {FORMATS}")
    if dpi is not None and not (24 <= dpi <= 1200):
        raise ValueError(f"dpi {dpi}: between 24 and 1200")
    h = height or fig.layout.height or 500
    scale = 1.0 if (fmt == "svg" or dpi is None) else dpi / CSS_DPI
    fig_dict = fig.to_dict()
    out = _render(fig_dict, {"format": fmt, "width": int(width), "height": int(h), "scale": scale})
    if fmt == "png":
        out = _png_with_dpi(out, CSS_DPI if dpi is None else dpi)
    return out


def card_caption(card: Card) -> str:
    """What an exported image of ``card`` says under the chart: its context line (cohort, first test, data
    source) and its caption, one paragraph each."""
    return "\n".join(x for x in (card.context_line(), card.caption) if x)


def card_image(card: Card, fmt: str = "png", dpi: int | None = None, width: int = DEFAULT_WIDTH) -> bytes:
    """The card's figure as an image with :func:`card_caption` burned in (so the file says which patients, which
    test and which data it shows wherever it goes)."""
    if card.figure is None:
        raise ValueError(f"card {card.key!r} has no figure")
    fig = with_caption(card.figure, card_caption(card), width=width)
    return figure_image(fig, fmt, dpi=dpi, width=width)
