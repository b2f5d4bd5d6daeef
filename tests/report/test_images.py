"""Chart images through the persistent kaleido process in Debian's chromium."""

from __future__ import annotations

import os
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import plotly.graph_objects as go
import pytest
from chart_browser import needs_chromium
from report_helpers import Seeded

from core.figures import RUN_CHARTS, run_figures
from core.report import export_browser, images
from storage import Store
from usecases.reports import run_report_from_store

pytestmark = needs_chromium


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

    from cli.main import main

    images.shutdown()
    starts = []
    real_launch = export_browser._launch
    monkeypatch.setattr(export_browser, "_launch", lambda: (starts.append(1), real_launch())[1])
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


def _small(n: int) -> go.Figure:
    return go.Figure(go.Scatter(x=list(range(50)), y=[(i * n) % 17 for i in range(50)]), layout={"title": f"{n}"})


def test_an_image_does_not_depend_on_what_the_tab_drew_before(figures, monkeypatch) -> None:
    """Tabs are not reloaded after each image (the reload costs more than a PNG), so drawing A, then B, then A
    again must give A's bytes; and every RENDERS_PER_RELOAD images the page is reloaded after all."""
    from kaleido._kaleido_tab._tab import _KaleidoTab

    images.shutdown()
    reloads = []
    real_reload = _KaleidoTab.reload

    async def counted_reload(tab):
        reloads.append(1)
        await real_reload(tab)

    monkeypatch.setattr(_KaleidoTab, "reload", counted_reload)
    monkeypatch.setattr(export_browser, "RENDERS_PER_RELOAD", 3)
    first = images.figure_image(figures["equity"], "png", width=400, height=300)
    other = images.figure_image(figures["price_anchor"], "png", width=400, height=300)
    again = images.figure_image(figures["equity"], "png", width=400, height=300)
    assert first == again and first != other
    assert reloads == [1]  # after the third image, not after each
    after_reload = images.figure_image(figures["equity"], "png", width=400, height=300)
    assert after_reload == first
    # (PNGs, not SVGs: plotly writes random element ids into every SVG, even of the same figure in a fresh tab)
    batch = images.figure_images([figures["equity"], figures["drawdown"], figures["equity"]], "png", width=400,
                                 height=300)  # fmt: skip
    assert batch[0] == batch[2] == first


def test_a_batch_renders_each_figure_while_the_next_is_built(figures, monkeypatch) -> None:
    """figure_images submits a figure as soon as the iterable yields it: the generator below waits, before
    building its second figure, until the first one is being rendered (it would wait forever otherwise)."""
    images.start()
    pool_class = export_browser._pool_class()
    rendering = threading.Event()
    real_calc = pool_class.calc_fig

    async def observed(self, fig, *args, **kwargs):
        rendering.set()
        return await real_calc(self, fig, *args, **kwargs)

    monkeypatch.setattr(pool_class, "calc_fig", observed)

    def built() -> Iterator[go.Figure]:
        yield _small(1)
        assert rendering.wait(timeout=60), "the first figure was not rendered before the second was asked for"
        for n, size in enumerate(((300, 200), (500, 250), (320, 240)), start=2):
            yield _small(n).update_layout(width=size[0], height=size[1])

    pngs = images.figure_images(built(), "png", scale=1)
    assert [images.png_size(p) for p in pngs] == [(images.DEFAULT_WIDTH, images.DEFAULT_HEIGHT), (300, 200),
                                                  (500, 250), (320, 240)]  # fmt: skip
    assert pngs[0] == images.figure_image(_small(1), "png", scale=1)  # in order


def test_a_failing_figure_source_renders_nothing_and_is_passed_on(figures) -> None:
    def broken() -> Iterator[go.Figure]:
        yield _small(1)
        raise KeyError("no such run")

    with pytest.raises(KeyError, match="no such run"):
        images.figure_images(broken(), "png")
    with pytest.raises(ValueError, match="png' or 'svg"):
        images.figure_images([_small(1)], "gif")  # type: ignore[arg-type]
    assert images.figure_images([], "png") == []


def test_a_dead_browser_is_restarted_once(figures, monkeypatch) -> None:
    images.start()
    launches = []
    real_launch = export_browser._launch
    monkeypatch.setattr(export_browser, "_launch", lambda: (launches.append(1), real_launch())[1])
    browser = export_browser._server.pool().subprocess
    browser.kill()
    browser.wait(timeout=30)
    pngs = images.figure_images([_small(1), _small(2)], "png", scale=1)
    assert [images.png_size(p) for p in pngs] == [(images.DEFAULT_WIDTH, images.DEFAULT_HEIGHT)] * 2
    assert launches == [1] and images.is_running()


def test_start_without_waiting_returns_while_the_browser_comes_up(figures) -> None:
    images.shutdown()
    images.start(wait=False)
    assert images.is_running() and not export_browser._server.opened.done()  # chromium takes over a second to start
    assert images.png_size(images.figure_image(_small(3), "png", scale=1))[0] == images.DEFAULT_WIDTH
    images.shutdown()
    assert not images.is_running()


def test_no_browser_is_a_clear_error_and_the_cli_writes_nothing(seeded: Seeded, tmp_path: Path, monkeypatch) -> None:
    import io

    from cli.main import main

    images.shutdown()
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium"))
    with pytest.raises(images.ImageExportError, match="apt-get install -y chromium"):
        images.start(wait=False)
    assert not images.is_running()
    err = io.StringIO()
    for extra in (["--out", str(tmp_path / "one.png")], ["--chart", "all", "--out", str(tmp_path / "many")]):
        code = main(["report", "--run", str(seeded.run_id), "--format", "png", *extra, "--db", seeded.url],
                    stdout=io.StringIO(), stderr=err)
        assert code != 0
    assert err.getvalue().count("no browser at") == 2
    assert list(tmp_path.iterdir()) == []
