"""The chart-export browser: one headless chromium per Python process, driven by kaleido from our own thread.

The first export (or an early :func:`start`) launches Debian's chromium (~1.3 s) and every later export reuses it
(~0.1 s for a PNG, ~0.03 s for an SVG). It is stopped at interpreter exit, or explicitly with :func:`shutdown`.
kaleido finds the browser through ``BROWSER_PATH``; it is set to ``/usr/bin/chromium`` when unset, so kaleido
never downloads a browser of its own (nothing here calls ``kaleido.get_chrome``).

How a batch stays close to the cost of one image (``make bench`` measures both):

- **Started early, without waiting.** ``start(wait=False)`` launches chromium in a background thread, so a caller
  loads its data and builds its figures while the browser comes up. This module imports neither plotly nor pandas
  (nor the engine, as ``core`` loads its names on first use), so the command line starts the browser before its
  own imports (``cli/__main__.py``).
- **One tab.** Images queue for :data:`EXPORT_TABS` kaleido tab(s). On 2 cores a second tab made no batch faster
  (20 PNGs: 6.8–7.3 s with one tab, 7.0–7.3 s with a second opened in the background, 8.0–8.2 s with two opened at
  the start): chromium already rasterises on several threads, and opening a tab costs ~1 s of CPU.
- **No page reload per image.** kaleido reloads its page (and so re-parses the 4.6 MB plotly.js) after every image,
  which costs more than rendering a PNG. Here a tab is reloaded after :data:`RENDERS_PER_RELOAD` images instead,
  which still bounds anything a page could accumulate; plotly's ``toImage`` draws each figure in a fresh, purged
  element, so images do not depend on what the tab drew before (a test renders A, B, A and compares bytes).

:mod:`core.report.images` turns figures into images through it.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import shutil
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

DEFAULT_BROWSER = "/usr/bin/chromium"
# Tabs (pages) that render at once; see the module docstring for why one.
EXPORT_TABS = 1
# A tab's page is reloaded after this many images: rarely enough to cost nothing, often enough to bound the page.
RENDERS_PER_RELOAD = 50
# The longest one image may take before the export is called failed (kaleido's own default).
RENDER_TIMEOUT_SECONDS = 90.0


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
class ExportProcess:
    """The running export process: an asyncio loop in a daemon thread driving one chromium through kaleido."""

    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    opened: concurrent.futures.Future  # resolves to the TabPool once chromium and its tabs are up

    def pool(self, timeout: float | None = None) -> Any:
        return self.opened.result(timeout)

    def submit(self, fig: Any, opts: dict[str, Any]) -> concurrent.futures.Future:
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
_server: ExportProcess | None = None


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


def _launch() -> ExportProcess:
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

    return ExportProcess(loop, thread, asyncio.run_coroutine_threadsafe(open_pool(), loop))


def running() -> ExportProcess:
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
    server = running()
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
