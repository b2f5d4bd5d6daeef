"""End to end: a real ``streamlit run`` on 127.0.0.1 driven by Playwright in Debian's chromium.

One walk through the app, a screenshot per step under ``artifacts/e2e/`` (git-ignored): open Home, run a backtest,
run a small optimisation to completion in the worker, open the heatmap, download the study as Excel, then click a
heatmap cell and land on Backtest with that configuration. The server uses a throw-away SQLite store.

Skipped when the Playwright package or ``/usr/bin/chromium`` is missing (``.ci/run`` installs chromium with apt;
never ``playwright install``: the test must use the system browser).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_S = 60
STEP_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _chromium_is_installed() -> None:
    # Like PostgreSQL for the storage tests: a missing browser fails the run instead of skipping it silently.
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is not installed: apt-get install -y chromium (.ci/run does this)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run streamlit_app.py`` on a free local port with its own store; yields the base URL."""
    folder = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    env = {
        **os.environ,
        "VBL_DATABASE_URL": f"sqlite:///{folder / 'vbl.sqlite3'}",
        "VBL_CACHE_DIR": str(folder / "cache"),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; log: {(folder / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def _idle(page: object) -> None:
    """Wait until Streamlit has finished the current script run (its status widget says "Running…" until then)."""
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=STEP_TIMEOUT_MS)  # type: ignore[attr-defined]


def _open(page: object, title: str) -> None:
    """Click a page in the sidebar navigation and wait for its title."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()  # type: ignore[attr-defined]


def _download(page: object, what: str) -> Path:
    """Click the page's "Excel" download button and keep the file next to the screenshots."""
    with page.expect_download() as info:  # type: ignore[attr-defined]
        page.locator('[data-testid="stDownloadButton"]', has_text="Excel").first.click()  # type: ignore[attr-defined]
    target = SHOTS / f"{what}_{info.value.suggested_filename}"
    info.value.save_as(target)
    assert target.suffix == ".xlsx" and target.read_bytes()[:2] == b"PK", target  # an xlsx is a zip container
    return target


def test_home_backtest_optimise_heatmap_excel(server: str, browser: object) -> None:
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        # 1. Home
        page.goto(server)
        page.get_by_role("heading", name="Volatility Balancing Lab").wait_for()
        _idle(page)
        _shot(page, "01_home")

        # 2. A backtest of the default settings on the bundled GOOG sample
        _open(page, "Backtest")
        page.get_by_role("heading", name="Backtest", exact=True).wait_for()
        page.locator('[data-testid="stMetric"]', has_text="Total return").first.wait_for()
        _idle(page)
        _shot(page, "02_backtest")
        _download(page, "backtest")

        # 3. A small optimisation (the default 5 × 5 grid of triggers), run to completion in the worker
        _open(page, "Optimise")
        page.get_by_role("heading", name="Optimise", exact=True).wait_for()
        page.get_by_text("25 combinations").wait_for()
        page.get_by_role("button", name="Start study").click()
        page.get_by_text("completed", exact=False).first.wait_for()
        page.get_by_text("Best cell", exact=True).wait_for()
        _idle(page)
        _shot(page, "03_optimisation_done")

        # 4. The heatmap (first results tab): hover a cell for its metrics
        page.get_by_role("tab", name="Heatmap").click()
        chart = page.locator('[data-testid="stPlotlyChart"]').first
        chart.scroll_into_view_if_needed()
        plot = chart.locator(".nsewdrag").first
        plot.wait_for()
        box = plot.bounding_box()
        assert box is not None
        # 5 × 5 cells: the centre of the grid is the middle cell.
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.locator(".hoverlayer .hovertext").first.wait_for()
        assert "Sharpe ratio" in (page.locator(".hoverlayer").first.text_content() or "")
        chart.screenshot(path=str(SHOTS / "04_heatmap.png"))

        # 5. The study as an Excel workbook
        _download(page, "study")
        _shot(page, "05_excel_downloaded")

        # 6. A click on a heatmap cell opens that configuration in Backtest: the top-left cell is sell trigger
        # 1.5 % (x 0.015), buy trigger 4.5 % (y 0.045, the top row).
        chart.scroll_into_view_if_needed()
        box = plot.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.1)
        page.get_by_role("heading", name="Backtest", exact=True).wait_for()
        page.locator('[data-testid="stMetric"]', has_text="Total return").first.wait_for()
        _idle(page)
        assert page.get_by_role("spinbutton", name="Sell trigger (%)").input_value() == "1.50"
        assert page.get_by_role("spinbutton", name="Buy trigger (%)").input_value() == "4.50"
        _shot(page, "06_cell_opened_in_backtest")
    except Exception:
        _shot(page, "zz_failure")
        raise
    finally:
        context.close()
