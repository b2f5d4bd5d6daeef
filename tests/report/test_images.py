"""Chart images through the persistent kaleido process in Debian's chromium."""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from report_helpers import Seeded

from core.figures import RUN_CHARTS, run_figures
from core.report import images
from storage import Store
from usecases.reports import run_report_from_store

pytestmark = pytest.mark.skipif(
    not os.path.exists(os.environ.get("BROWSER_PATH", images.DEFAULT_BROWSER)) and shutil.which("chromium") is None,
    reason="needs Debian's chromium (.ci/run installs it)",
)


@pytest.fixture(scope="module")
def figures(seeded: Seeded):
    with Store(seeded.url) as store:
        result = run_report_from_store(store, seeded.run_id).result
    yield run_figures(result)
    images.shutdown()


def test_png_has_signature_and_requested_size(figures) -> None:
    assert set(figures) == set(RUN_CHARTS)
    png = images.figure_image(figures["equity"], "png", width=400, height=300)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert images.png_size(png) == (800, 600)  # scale 2
    assert images.is_running()
    png = images.figure_image(figures["stock_share"], "png", width=320, height=200, scale=1)
    assert images.png_size(png) == (320, 200)


def test_svg_parses_as_xml(figures) -> None:
    svg = images.figure_image(figures["drawdown"], "svg", width=500, height=250)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")


def test_no_browser_is_downloaded(figures) -> None:
    from choreographer.cli._cli_utils import get_chrome_download_path

    images.figure_image(figures["price_anchor"], "svg")
    assert os.environ["BROWSER_PATH"]
    downloaded = get_chrome_download_path(mkdir=False)
    assert downloaded is None or not Path(downloaded).exists()


def test_unknown_format_is_refused(figures) -> None:
    with pytest.raises(ValueError):
        images.figure_image(figures["equity"], "gif")  # type: ignore[arg-type]


def test_cli_writes_a_chart(seeded: Seeded, tmp_path: Path, figures) -> None:
    from cli.main import main

    out = tmp_path / "dd.png"
    argv = ["report", "--run", str(seeded.run_id), "--format", "png", "--chart", "drawdown", "--width", "300",
            "--height", "200", "--out", str(out), "--db", seeded.url]  # fmt: skip
    assert main(argv) == 0
    assert images.png_size(out.read_bytes()) == (600, 400)


def test_an_exported_chart_carries_its_title_run_and_period(seeded: Seeded) -> None:
    from core.report.exports import run_export

    with Store(seeded.url) as store:
        report = run_report_from_store(store, seeded.run_id)
    export = run_export(report, "svg", chart="equity")
    text = "".join(ET.fromstring(export.data).itertext())
    first, last = report.period
    assert f"Account value — {report.title}" in text
    assert f"{first:%Y-%m-%d} to {last:%Y-%m-%d}" in text
    assert "Trend " in text and "Max drawdown" in text  # the export's overlays
