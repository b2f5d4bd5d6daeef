"""Chart images (PNG, SVG) rendered server side by kaleido in Debian's chromium.

One persistent export process: the first export starts kaleido's sync server (one headless chromium, ~2 s) and
every later export reuses it (~0.2 s for a PNG). The server is stopped at interpreter exit, or explicitly with
:func:`shutdown`. kaleido finds the browser through ``BROWSER_PATH``; it is set to ``/usr/bin/chromium`` when unset,
so kaleido never downloads a browser of its own (nothing here calls ``kaleido.get_chrome``).

:func:`figure_image` is the one way a chart becomes an image: the app's download buttons (``app.widgets.
image_downloads``, under every chart of every page), the run and study exports (:mod:`core.report.exports`) and so
the command line's ``report --format png|svg`` all call it. Its default size and pixel ratio are the theme's
(:data:`core.theme.EXPORT`). Plotly's own toolbar in the app downloads PNGs too: pass :data:`PLOTLY_TOOLBAR_CONFIG`
as the chart's ``config``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import threading
from typing import Any, Literal

import plotly.graph_objects as go

from core.theme import EXPORT

DEFAULT_BROWSER = "/usr/bin/chromium"
DEFAULT_WIDTH = EXPORT.width
DEFAULT_HEIGHT = EXPORT.height
DEFAULT_SCALE = EXPORT.scale
ImageFormat = Literal["png", "svg"]
# The largest image a caller may ask for (the CLI and the API refuse more): width/height in CSS pixels, PNG scale.
MAX_PIXELS = 20_000
MAX_SCALE = 10.0
IMAGE_FORMATS: tuple[ImageFormat, ...] = ("png", "svg")
IMAGE_MIME: dict[str, str] = {"png": "image/png", "svg": "image/svg+xml"}

# For st.plotly_chart(fig, config=PLOTLY_TOOLBAR_CONFIG): the camera button saves a PNG at the export's scale.
PLOTLY_TOOLBAR_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": EXPORT.scale, "filename": EXPORT.filename},
}


class ImageExportError(RuntimeError):
    """The chart could not be rendered (no browser, or the browser failed)."""


_lock = threading.Lock()  # the sync server handles one request at a time; Streamlit sessions are threads
_started = False


def browser_path() -> str:
    """The browser kaleido will use: ``$BROWSER_PATH``, set to Debian's chromium when unset.

    Raises:
        ImageExportError: when that browser does not exist (install Debian's ``chromium`` package).
    """
    path = os.environ.setdefault("BROWSER_PATH", DEFAULT_BROWSER)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)) and shutil.which(path) is None:
        raise ImageExportError(
            f"no browser at {path} for chart export; install Debian's chromium (apt-get install -y chromium) "
            "or set BROWSER_PATH"
        )
    return path


def start() -> None:
    """Start the persistent export process if it is not running (idempotent; the first export does this)."""
    global _started
    with _lock:
        if _started:
            return
        browser_path()
        import kaleido

        # mathjax=False: our charts have no LaTeX, and the default would fetch MathJax from a CDN.
        kaleido.start_sync_server(mathjax=False, silence_warnings=True)
        _started = True
        atexit.register(shutdown)


def shutdown() -> None:
    """Stop the export process (a later export starts a new one)."""
    global _started
    with _lock:
        if not _started:
            return
        import kaleido

        kaleido.stop_sync_server(silence_warnings=True)
        _started = False


def is_running() -> bool:
    """Whether the persistent export process is up."""
    return _started


def figure_image(
    fig: go.Figure,
    fmt: ImageFormat = "png",
    *,
    width: int | None = None,
    height: int | None = None,
    scale: float | None = None,
) -> bytes:
    """Render ``fig`` as PNG or SVG bytes: the project's only chart-image export.

    The size defaults to the figure's own layout size, else the theme's (``EXPORT.width`` by ``EXPORT.height``);
    ``scale`` defaults to ``EXPORT.scale``. A PNG has ``width*scale`` by ``height*scale`` pixels; SVG ignores
    ``scale`` (it is vector).

    Raises:
        ValueError: for an unknown format.
        ImageExportError: when rendering fails.
    """
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"image format must be 'png' or 'svg', got {fmt!r}")
    width = int(width or fig.layout.width or DEFAULT_WIDTH)
    height = int(height or fig.layout.height or DEFAULT_HEIGHT)
    scale = DEFAULT_SCALE if scale is None else scale
    opts = {"format": fmt, "width": width, "height": height, "scale": scale if fmt == "png" else 1}
    for attempt in (1, 2):
        start()
        import kaleido

        try:
            with _lock:
                data = kaleido.calc_fig_sync(fig, opts=opts)
            return data if isinstance(data, bytes) else bytes(data)
        except Exception as exc:  # kaleido raises several private error types; one message for the caller
            if attempt == 2:
                raise ImageExportError(f"chart export failed: {type(exc).__name__}: {exc}") from exc
            # the browser may have died under a long-lived app: restart the export process once and retry
            with contextlib.suppress(Exception):
                shutdown()
    raise AssertionError("unreachable")


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG from its IHDR chunk (no image library needed)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
