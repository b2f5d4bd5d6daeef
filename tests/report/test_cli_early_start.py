"""The command line starts the chart-export browser before its own imports when it will draw images."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from chart_browser import needs_chromium

from cli.early_start import wants_images

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["report", "--run", "1", "--format", "png", "--out", "a.png"], True),
        (["report", "--format=svg", "--run", "1"], True),
        (["report", "--run", "1", "--format", "pdf", "--out", "a.pdf"], False),
        (["report", "--format"], False),  # argparse reports the missing value
        (["backtest", "--format", "png"], False),  # not a report
        (["report", "--out", "png"], False),
        ([], False),
    ],
)
def test_images_are_recognised_from_the_words(argv: list[str], expected: bool) -> None:
    assert wants_images(argv) is expected


def _child(code: str, **env: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **env}, check=True,
                         capture_output=True, text=True, timeout=120).stdout  # fmt: skip
    return out.split()


@needs_chromium
def test_the_browser_starts_before_pandas_the_figures_or_the_engine_are_imported() -> None:
    started, running, heavy = _child(
        "import sys\n"
        "from cli.early_start import start_browser_if_images\n"
        "started = start_browser_if_images(['report', '--run', '1', '--format', 'png'])\n"
        "from core.report import export_browser\n"
        # kaleido's thread may import the plotly package for its plotly.js path; the figures' modules stay out
        "heavy = [m for m in ('pandas', 'numba', 'core.engine', 'plotly.graph_objects') if m in sys.modules]\n"
        "print(started, export_browser.is_running(), ','.join(heavy) or '-')\n"
        "export_browser.start()\n"  # it comes up: the early start was a real launch
    )
    assert (started, running, heavy) == ("True", "True", "-")


def test_a_missing_browser_is_left_for_the_command_to_report(tmp_path: Path) -> None:
    started, running = _child(
        "from cli.early_start import start_browser_if_images\n"
        "from core.report import export_browser\n"
        "print(start_browser_if_images(['report', '--format', 'png']), export_browser.is_running())\n",
        BROWSER_PATH=str(tmp_path / "no-chromium"),
    )
    assert (started, running) == ("False", "False")
