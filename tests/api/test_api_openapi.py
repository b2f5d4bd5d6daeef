"""The OpenAPI schema: checked in as ``docs/openapi.json``, and documenting the responses, not only the requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from api.__main__ import main, openapi_schema, openapi_text

CHECKED_IN = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
REGENERATE = ".venv/bin/python -m api openapi > docs/openapi.json"


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Which paths and component schemas were added, removed or changed (for a readable failure)."""
    out = []
    for section, old_part, new_part in (("path", old.get("paths", {}), new.get("paths", {})),
                                        ("schema", old.get("components", {}).get("schemas", {}),
                                         new.get("components", {}).get("schemas", {}))):
        for name in sorted(set(old_part) | set(new_part)):
            if name not in old_part:
                out.append(f"new {section} {name}")
            elif name not in new_part:
                out.append(f"removed {section} {name}")
            elif old_part[name] != new_part[name]:
                out.append(f"changed {section} {name}")
    rest = {k for k in set(old) | set(new) if k not in ("paths", "components") and old.get(k) != new.get(k)}
    return out + [f"changed {k}" for k in sorted(rest)]


def test_the_checked_in_schema_is_the_live_one() -> None:
    assert CHECKED_IN.exists(), f"docs/openapi.json is missing; write it with `{REGENERATE}`"
    checked_in = json.loads(CHECKED_IN.read_text(encoding="utf-8"))
    live = openapi_schema()
    if checked_in != live:
        changes = _differences(checked_in, live)
        listed = "; ".join(changes[:15]) + (f"; and {len(changes) - 15} more" if len(changes) > 15 else "")
        raise AssertionError(f"docs/openapi.json differs from the API's schema ({listed}). If the change is "
                             f"intended, regenerate it with `{REGENERATE}` and commit it.")
    assert CHECKED_IN.read_text(encoding="utf-8") == openapi_text(), f"reformat it with `{REGENERATE}`"


def test_the_command_prints_the_schema(capsys) -> None:
    assert main(["openapi"]) == 0
    assert json.loads(capsys.readouterr().out) == openapi_schema()


def _response_schema(schema: dict[str, Any], path: str, method: str, status: str) -> str:
    content = schema["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return str(content.get("$ref", "")).rsplit("/", 1)[-1]


def test_responses_are_documented_by_models() -> None:
    schema = openapi_schema()
    expected = {
        ("/v1/runs", "get", "200"): "RunList",
        ("/v1/runs/{run_id}", "get", "200"): "RunDetail",
        ("/v1/runs/import", "post", "201"): "RunImported",
        ("/v1/datasets", "get", "200"): "DatasetList",
        ("/v1/datasets/{dataset_id}/quality", "get", "200"): "QualityOut",
        ("/v1/backtests", "post", "200"): "BacktestOut",
        ("/v1/optimization/configs", "post", "201"): "StudyCreated",
        ("/v1/optimization/configs/{study_id}", "get", "200"): "StudyOut",
        ("/v1/optimization/configs/{study_id}/progress", "get", "200"): "ProgressOut",
        ("/v1/optimization/configs/{study_id}/results", "get", "200"): "ResultsOut",
        ("/v1/optimization/configs/{study_id}/heatmap", "get", "200"): "HeatmapOut",
        ("/v1/positions", "get", "200"): "PositionList",
        ("/v1/positions", "post", "201"): "PositionOut",
        ("/v1/positions/{position_id}/fills", "post", "201"): "FillResultOut",
        ("/v1/positions/{position_id}/cash-flows", "post", "201"): "PositionOut",
        ("/v1/positions/{position_id}/dividends", "post", "201"): "DividendResultOut",
    }
    for (path, method, status), model in expected.items():
        assert _response_schema(schema, path, method, status) == model, (path, method)
    progress = schema["components"]["schemas"]["ProgressOut"]["properties"]
    assert {"done", "total", "rate", "eta_s", "state", "finished"} <= set(progress)
    for path in ("/v1/positions/{position_id}/status", "/v1/positions/{position_id}/dividends/{dividend_id}/pay",
                 "/v1/positions/{position_id}/cash-flows"):
        assert path in schema["paths"], path
