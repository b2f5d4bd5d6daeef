"""Take the README's screenshots: start the app on a free port, open each page in Debian's Chromium, save PNGs.

Run: ``.venv/bin/python tools/screenshots.py`` (needs ``apt-get install chromium`` and ``pip install playwright``;
never ``playwright install``: the browser comes from Debian).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PAGES = {"backtest": ""}  # screenshot name -> URL path of the page
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 2300})
            for name, path in PAGES.items():
                for _ in range(60):
                    try:
                        page.goto(f"http://127.0.0.1:{port}/{path}")
                        break
                    except Exception:  # the server is still starting
                        time.sleep(0.5)
                page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
                page.wait_for_selector(".js-plotly-plot", timeout=60_000)
                time.sleep(2)  # let Plotly finish drawing
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
                print(f"saved {OUT / f'{name}.png'}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
