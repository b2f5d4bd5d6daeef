"""App benchmarks: first render of every page on bundled data, and the Optimise page with a 10,000-cell
heatmap once its trials are loaded.

Run with ``python -m benchmarks.bench_app`` (or ``python -m benchmarks app``). ``run()`` returns rows of
(figure, measured, target). Pages are rendered with Streamlit's ``AppTest`` (the script run and the serialisation
of every element, not the browser's drawing) on a throw-away SQLite store:

* the very first page of a fresh process (imports, the store's schema, the Numba kernel loaded from its cache);
* each registered page's first render in a new session of a running server with Streamlit's caches emptied (the
  page loads its dataset, opens the store and simulates), which is what the first user of a page waits for;
* the Optimise page showing a 100 × 100 grid study (10,000 trials with every metric): the first render loads the
  trials into the cache, the figure is the median of the renders after it.
"""

from __future__ import annotations

import itertools
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
GRID_SIDE = 100  # 100 × 100 = 10,000 heatmap cells


def _timed_run(at: object) -> float:
    start = time.perf_counter()
    at.run()  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - start
    if at.exception:  # type: ignore[attr-defined]
        raise RuntimeError(f"the page raised: {[e.value for e in at.exception]}")  # type: ignore[attr-defined]
    return elapsed


def _open(at: object, url_path: str) -> None:
    # AppTest.switch_page only knows file pages; ours are functions behind a url_path registered by st.navigation.
    pages = at._registered_pages  # type: ignore[attr-defined]
    at._page_hash = next(h for h, info in pages.items() if info.get("url_pathname") == url_path)  # type: ignore[attr-defined]


def _page_renders() -> tuple[float, list[tuple[str, str, float]]]:
    """The first page of a cold process, then (title, url path, seconds) per page in a new session each."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    first = AppTest.from_file(APP, default_timeout=180)
    cold = _timed_run(first)
    pages = [(info.get("page_name", ""), info["url_pathname"]) for info in first._registered_pages.values()]
    out = []
    for title, url_path in pages:
        at = AppTest.from_file(APP, default_timeout=180)
        at.run()  # the default page: the session now knows the registered pages
        _open(at, url_path)
        # Nothing cached: the page loads its dataset, opens the store and simulates as after a server start.
        logging.disable(logging.WARNING)  # outside a server, clear() warns that there is no runtime
        try:
            st.cache_data.clear()
            st.cache_resource.clear()
        finally:
            logging.disable(logging.NOTSET)
        out.append((title or url_path, url_path, _timed_run(at)))
    return cold, out


def _grid_study() -> int:
    """A stored 100 × 100 grid study over the triggers with synthetic metrics (the render, not the engine, is timed)."""
    from app.data import load_sample_data
    from core.engine import METRIC_NAMES
    from core.optimize import Objective, SearchSpace
    from storage import Store
    from usecases.studies import create_study

    store = Store()
    dataset_id = store.save_dataset(load_sample_data("GOOG"))
    step = "0.001"
    space = SearchSpace.parse({"trigger_up": f"0.01:0.109:{step}", "trigger_down": f"0.01:0.109:{step}"})
    study_id = create_study(store, dataset_id, space, Objective("sharpe"), method="grid")
    rng = np.random.default_rng(5)
    ups, downs = space.ranges[0].values, space.ranges[1].values
    rows = []
    for i, (up, down) in enumerate(itertools.product(ups, downs)):
        metrics = {m: float(v) for m, v in zip(METRIC_NAMES, rng.normal(0.0, 1.0, len(METRIC_NAMES)), strict=True)}
        rows.append({"index": i, "params": {"trigger_up": up, "trigger_down": down}, "metrics": metrics,
                     "status": "completed", "duration_s": 0.001})
    store.save_trials(study_id, rows)
    store.set_study_status(study_id, "running")
    store.set_study_status(study_id, "completed")
    return study_id


def _heatmap_page(study_id: int, repeats: int = 3) -> tuple[float, float, int]:
    """(first render with loading, median render after it, cells drawn) of the Optimise page on the big study."""
    from streamlit.testing.v1 import AppTest

    from app.navigation import url_path

    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    _open(at, url_path("optimise"))
    at.session_state["optimise_study"] = study_id
    loading = _timed_run(at)
    renders = [_timed_run(at) for _ in range(repeats)]
    if not any('"cells"' in chart.proto.spec for chart in at.get("plotly_chart")):  # the click layer's name
        raise RuntimeError("the heatmap was not drawn")
    return loading, statistics.median(renders), GRID_SIDE * GRID_SIDE


def run() -> list[tuple[str, str, str]]:
    """Measure the two budgets of the issue and return (figure, measured, target) rows."""
    previous = os.environ.get("VBL_DATABASE_URL")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["VBL_DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        try:
            cold, pages = _page_renders()
            rows = [("first page (Home) of a fresh process (s)", f"{cold:.2f}", "-")]
            rows += [(f"first render, {title} (/{url}) (s)", f"{seconds:.2f}", "<= 2") for title, url, seconds in pages]
            study_id = _grid_study()
            loading, render, cells = _heatmap_page(study_id)
            rows.append((f"Optimise page, {cells:,}-cell heatmap study, first render incl. loading (s)",
                         f"{loading:.2f}", "-"))
            rows.append((f"Optimise page, {cells:,}-cell heatmap, render after loading (s)", f"{render:.2f}", "<= 1"))
        finally:
            if previous is None:
                os.environ.pop("VBL_DATABASE_URL", None)
            else:
                os.environ["VBL_DATABASE_URL"] = previous
    return rows


if __name__ == "__main__":
    for row in run():
        print("  ".join(row))
