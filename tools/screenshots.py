"""Take the README's screenshots: start the app on a free port, open each page in Debian's Chromium, save PNGs.

Run: ``.venv/bin/python tools/screenshots.py [page ...]`` (needs ``apt-get install chromium`` and ``pip install
playwright``; never ``playwright install``: the browser comes from Debian).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
# screenshot name -> URL path of the page (Home is served at the root)
PAGES = {
    "home": "",
    "data": "market-data",
    "backtest": "run-backtest",
    "optimise": "optimisation-lab",
    "robustness": "robustness-checks",
    "trade_analysis": "trades",
    "risk": "risk-report",
    "regimes": "market-regimes",
    "runs": "saved-runs",
    "positions": "my-positions",
    "audit": "audit-log",
    "portfolio": "portfolio-cells",
}
# Pages shown after pressing a button (its label), so the screenshot has results on it.
PRESS_FIRST = {"portfolio": "Run portfolio"}
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _open(page, url: str) -> None:
    """Load ``url`` and wait until Streamlit has finished running the page and Plotly has drawn."""
    for _ in range(60):
        try:
            page.goto(url)
            break
        except Exception:  # the server is still starting
            time.sleep(0.5)
    page.wait_for_selector("[data-testid='stMainBlockContainer']", timeout=60_000)
    time.sleep(2)
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=120_000)
    time.sleep(2)


def _seeded_store() -> str:
    """A temporary store with the GOOG sample and two saved runs, so Home and Runs show real content."""
    sys.path.insert(0, str(ROOT))
    from core import StrategyConfig, simulate
    from core.data import load_sample
    from storage import Store

    url = f"sqlite:///{tempfile.mkdtemp(prefix='vbl-shots-')}/vbl.sqlite3"
    store = Store(url)
    goog = load_sample("GOOG")
    dataset = store.save_dataset(goog)
    wider = StrategyConfig(trigger_up=0.05, trigger_down=0.05)
    for name, cfg in (("Defaults", StrategyConfig()), ("Wider triggers", wider)):
        store.save_run(dataset, simulate(goog.prices, cfg, goog.dividends), name=name, tags=["goog"])
    store.close()
    return url


def main() -> int:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "VBL_DATABASE_URL": _seeded_store()}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 2300})
            _open(page, f"http://127.0.0.1:{port}/")  # a deep link works once the session exists
            wanted = set(sys.argv[1:]) or set(PAGES)  # e.g. `tools/screenshots.py portfolio` for one page
            for name, path in PAGES.items():
                if name not in wanted:
                    continue
                _open(page, f"http://127.0.0.1:{port}/{path}")
                if name in PRESS_FIRST:
                    page.get_by_role("button", name=PRESS_FIRST[name]).click()
                    time.sleep(2)
                    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=120_000)
                    time.sleep(3)
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
                print(f"saved {OUT / f'{name}.png'}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
