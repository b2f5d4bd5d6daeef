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


def test_cli_writes_a_batch_of_images_with_one_browser(seeded: Seeded, tmp_path: Path, monkeypatch) -> None:
    import io

    import kaleido

    from cli.main import main

    images.shutdown()
    starts = []
    real_start = kaleido.start_sync_server
    monkeypatch.setattr(kaleido, "start_sync_server", lambda *a, **k: (starts.append(1), real_start(*a, **k))[1])
    out = io.StringIO()
    code = main(["report", "--run", str(seeded.run_id), "--run", str(seeded.run_id_2), "--format", "svg",
                 "--chart", "all", "--out", str(tmp_path / "charts"), "--db", seeded.url], stdout=out,
                stderr=io.StringIO())
    assert code == 0
    files = sorted(p.name for p in (tmp_path / "charts").iterdir())
    assert len(files) == 2 * len(RUN_CHARTS) and all(f.endswith(".svg") for f in files)
    stems = {f.split("_run", 1)[1].split("_", 1)[0] for f in files}
    assert stems == {str(seeded.run_id), str(seeded.run_id_2)}
    assert {f.split("_", 2)[-1].removesuffix(".svg") for f in files} == set(RUN_CHARTS)
    for path in (tmp_path / "charts").iterdir():
        assert ET.fromstring(path.read_bytes()).tag.endswith("svg")
    assert starts == [1]  # every image from the one export process
    assert out.getvalue().count("wrote ") == 2 * len(RUN_CHARTS)
    with Store(seeded.url) as store:
        assert len(store.list_audit(action="export", entity="run", limit=None)) >= 2 * len(RUN_CHARTS)

    err = io.StringIO()
    code = main(["report", "--run", str(seeded.run_id), "--format", "png", "--chart", "equity,pie",
                 "--out", str(tmp_path / "bad"), "--db", seeded.url], stdout=io.StringIO(), stderr=err)
    assert code != 0 and "pie" in err.getvalue() and not (tmp_path / "bad").exists()  # nothing half-written
