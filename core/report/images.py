"""Chart images (PNG, SVG) rendered server side by kaleido in Debian's chromium.

One long-lived export process per Python process: the first export (or an early :func:`start`) launches one
headless chromium (~1.3 s) and every later export reuses it (~0.1 s for a PNG, ~0.03 s for an SVG). The process is
stopped at interpreter exit, or explicitly with :func:`shutdown`. kaleido finds the browser through
``BROWSER_PATH``; it is set to ``/usr/bin/chromium`` when unset, so kaleido never downloads a browser of its own
(nothing here calls ``kaleido.get_chrome``).

How a batch stays close to the cost of one image (``make bench`` measures both):

- **Started early, without waiting.** ``start(wait=False)`` launches chromium in a background thread, so a caller
  loads its data and builds its figures while the browser comes up.
- **One tab.** Images queue for :data:`EXPORT_TABS` kaleido tab(s). On 2 cores a second tab made no batch faster
  (20 PNGs: 6.8–7.3 s with one tab, 7.0–7.3 s with a second opened in the background, 8.0–8.2 s with two opened at
  the start): chromium already rasterises on several threads, and opening a tab costs ~1 s of CPU.
- **Figures stream in.** :func:`figure_images` takes any iterable, and submits each figure as soon as the iterable
  yields it: the next figure is built in Python while chromium renders the last.
- **No page reload per image.** kaleido reloads its page (and so re-parses the 4.6 MB plotly.js) after every image,
  which costs more than rendering a PNG. Here a tab is reloaded after :data:`RENDERS_PER_RELOAD` images instead,
  which still bounds anything a page could accumulate; plotly's ``toImage`` draws each figure in a fresh, purged
  element, so images do not depend on what the tab drew before (a test renders A, B, A and compares bytes).

:func:`figure_image` is the one way a chart becomes an image: the app's download buttons (``app.widgets.
image_downloads``, under every chart of every page), the run and study exports (:mod:`core.report.exports`) and so
the command line's ``report --format png|svg`` all call it (or :func:`figure_images` for several). Its default size
and pixel ratio are the theme's (:data:`core.theme.EXPORT`). Plotly's own toolbar in the app downloads PNGs too:
pass :data:`PLOTLY_TOOLBAR_CONFIG` as the chart's ``config``.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
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
# Tabs (pages) that render at once; see the module docstring for why one.
EXPORT_TABS = 1
# A tab's page is reloaded after this many images: rarely enough to cost nothing, often enough to bound the page.
RENDERS_PER_RELOAD = 50
# The longest one image may take before the export is called failed (kaleido's own default).
RENDER_TIMEOUT_SECONDS = 90.0

# For st.plotly_chart(fig, config=PLOTLY_TOOLBAR_CONFIG): the camera button saves a PNG at the export's scale.
PLOTLY_TOOLBAR_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": EXPORT.scale, "filename": EXPORT.filename},
}


class ImageExportError(RuntimeError):
    """The chart could not be rendered (no browser, or the browser failed)."""


@cache
def _pool_class() -> type:
    """kaleido's browser, with its tabs reloaded every ``RENDERS_PER_RELOAD`` images instead of after each one
    (imported on first use: kaleido and choreographer take ~0.1 s to import)."""
    import kaleido

    class TabPool(kaleido.Kaleido):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.renders_since_reload: dict[int, int] = {}

        # kaleido 1.5's hook (pinned in requirements.txt): called with each tab after each image.
        async def _return_kaleido_tab(self, tab: Any) -> None:
            renders = self.renders_since_reload.get(id(tab), 0) + 1
            if renders >= RENDERS_PER_RELOAD:
                self.renders_since_reload[id(tab)] = 0
                await super()._return_kaleido_tab(tab)  # reloads the page, then returns the tab to the queue
                return
            self.renders_since_reload[id(tab)] = renders
            await self.tabs_ready.put(tab)

    return TabPool


@dataclass
class _Server:
    """The running export process: an asyncio loop in a daemon thread driving one chromium through kaleido."""

    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    opened: concurrent.futures.Future  # resolves to the TabPool once chromium and its tabs are up

    def pool(self, timeout: float | None = None) -> Any:
        return self.opened.result(timeout)

    def submit(self, fig: go.Figure, opts: dict[str, Any]) -> concurrent.futures.Future:
        async def render() -> bytes:
            pool = await asyncio.wrap_future(self.opened)
            data = await pool.calc_fig(fig, opts=opts)
            return data if isinstance(data, bytes) else bytes(data)

        return asyncio.run_coroutine_threadsafe(render(), self.loop)

    def stop(self) -> None:
        async def close() -> None:
            pool = await asyncio.wrap_future(self.opened)
            await pool.close()

        with contextlib.suppress(Exception):  # a browser that failed to start or already died has nothing to close
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        if not self.thread.is_alive():
            self.loop.close()


_lock = threading.Lock()  # guards starting and stopping; renders queue for a free tab inside kaleido
_server: _Server | None = None


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


def _launch() -> _Server:
    """Start the loop thread and, on it, chromium with its kaleido tabs; returns at once."""
    pool_class = _pool_class()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="chart-export", daemon=True)
    thread.start()

    async def open_pool() -> Any:
        # mathjax=False: our charts have no LaTeX, and the default would fetch MathJax from a CDN.
        pool = pool_class(n=EXPORT_TABS, mathjax=False, timeout=RENDER_TIMEOUT_SECONDS)
        await pool.open()
        return pool

    return _Server(loop, thread, asyncio.run_coroutine_threadsafe(open_pool(), loop))


def _running() -> _Server:
    """The export process, launched (without waiting for it) if it is not running."""
    global _server
    with _lock:
        if _server is None:
            browser_path()
            _server = _launch()
        return _server


def start(*, wait: bool = True) -> None:
    """Start the export process if it is not running (idempotent; the first export does this).

    ``wait=False`` returns at once and lets chromium come up in the background: call it as soon as images are
    certain to be wanted, before loading what they show.

    Raises:
        ImageExportError: when there is no browser, or (with ``wait``) when it fails to start.
    """
    server = _running()
    if wait:
        try:
            server.pool(timeout=RENDER_TIMEOUT_SECONDS)
        except Exception as exc:
            shutdown()
            raise ImageExportError(f"chart export could not start the browser: {type(exc).__name__}: {exc}") from exc


def shutdown() -> None:
    """Stop the export process (a later export starts a new one)."""
    global _server
    with _lock:
        server, _server = _server, None
    if server is not None:
        server.stop()


atexit.register(shutdown)  # chromium is closed, not orphaned, when the interpreter exits


def is_running() -> bool:
    """Whether the export process has been started (and not stopped)."""
    return _server is not None


def _options(fig: go.Figure, fmt: str, width: int | None, height: int | None, scale: float | None) -> dict[str, Any]:
    width = int(width or fig.layout.width or DEFAULT_WIDTH)
    height = int(height or fig.layout.height or DEFAULT_HEIGHT)
    scale = DEFAULT_SCALE if scale is None else scale
    return {"format": fmt, "width": width, "height": height, "scale": scale if fmt == "png" else 1}


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
    return figure_images([fig], fmt, width=width, height=height, scale=scale)[0]


def figure_images(
    figs: Iterable[go.Figure],
    fmt: ImageFormat = "png",
    *,
    width: int | None = None,
    height: int | None = None,
    scale: float | None = None,
) -> list[bytes]:
    """Render every figure of ``figs`` like :func:`figure_image`, in order, through the one export process.

    Each figure is submitted as soon as ``figs`` yields it, so a generator that builds figures overlaps building
    with rendering. All or nothing: when any image fails twice (the export process is restarted once in between,
    as a browser may die under a long-lived app) no image is returned.

    Raises:
        ValueError: for an unknown format (before anything is rendered).
        ImageExportError: when rendering fails; any exception ``figs`` raises is passed on.
    """
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"image format must be 'png' or 'svg', got {fmt!r}")
    server = _running()
    jobs: list[tuple[go.Figure, dict[str, Any]]] = []
    futures: list[concurrent.futures.Future] = []
    try:
        for fig in figs:
            jobs.append((fig, _options(fig, fmt, width, height, scale)))
            futures.append(server.submit(*jobs[-1]))
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    results = _outcomes(futures)
    failed = [n for n, outcome in enumerate(results) if isinstance(outcome, Exception)]
    if failed:
        # the browser may have died under a long-lived app: restart the export process once and retry those
        shutdown()
        server = _running()
        for n, outcome in zip(failed, _outcomes([server.submit(*jobs[n]) for n in failed]), strict=True):
            if isinstance(outcome, Exception):
                raise ImageExportError(f"chart export failed: {type(outcome).__name__}: {outcome}") from outcome
            results[n] = outcome
    return results  # type: ignore[return-value]  # every outcome is bytes here


def _outcomes(futures: list[concurrent.futures.Future]) -> list[bytes | Exception]:
    """Each future's image, or the exception it raised (kaleido raises several private error types)."""
    outcomes: list[bytes | Exception] = []
    for future in futures:
        try:
            outcomes.append(future.result(timeout=RENDER_TIMEOUT_SECONDS * 2))
        except Exception as exc:
            outcomes.append(exc)
    return outcomes


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG from its IHDR chunk (no image library needed)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
