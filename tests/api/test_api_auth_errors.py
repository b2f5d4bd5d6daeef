"""Authentication, CORS, the problem format of unexpected failures, and the serve command's refusals."""

from __future__ import annotations

import pytest
from api_helpers import TestClient, assert_problem

from api.__main__ import is_loopback, main
from api.app import Settings, create_app


def _client(settings: Settings, **changes: object) -> TestClient:
    return TestClient(create_app(Settings(**{**settings.__dict__, **changes})), raise_server_exceptions=False)


def test_with_a_token_every_request_needs_it(settings: Settings) -> None:
    with _client(settings, token="s3cret") as c:
        problem = assert_problem(c.get("/v1/optimization/metrics"), 401)
        assert problem["type"].endswith("not-authenticated")
        assert assert_problem(c.get("/v1/optimization/metrics"), 401) and c.get(
            "/v1/optimization/metrics").headers["www-authenticate"] == "Bearer"
        assert_problem(c.get("/v1/runs", headers={"Authorization": "Bearer wrong"}), 401)
        assert_problem(c.get("/v1/runs", headers={"Authorization": "Basic s3cret"}), 401)
        assert_problem(c.post("/v1/backtests", json={}), 401)
        assert c.get("/v1/optimization/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_without_a_token_no_header_is_needed(client) -> None:
    assert client.get("/v1/runs").status_code == 200


def test_cors_is_off_unless_origins_are_configured(client, settings: Settings) -> None:
    headers = {"Origin": "https://example.org"}
    assert "access-control-allow-origin" not in client.get("/v1/runs", headers=headers).headers
    with _client(settings, cors_origins=("https://example.org",)) as c:
        allowed = c.get("/v1/runs", headers=headers)
        assert allowed.headers["access-control-allow-origin"] == "https://example.org"
        other = c.get("/v1/runs", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VBL_API_TOKEN", " t ")
    monkeypatch.setenv("VBL_API_MAX_UPLOAD_MB", "2")
    monkeypatch.setenv("VBL_API_CORS_ORIGINS", "http://a, http://b")
    s = Settings.from_env()
    assert (s.token, s.max_upload_bytes, s.cors_origins) == ("t", 2 * 1024 * 1024, ("http://a", "http://b"))
    monkeypatch.setenv("VBL_API_MAX_UPLOAD_MB", "lots")
    with pytest.raises(ValueError, match="VBL_API_MAX_UPLOAD_MB"):
        Settings.from_env()


def test_an_unexpected_error_is_a_500_problem_without_internals(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals at /srv/code.py line 3")

    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/boom")
    problem = assert_problem(response, 500)
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert problem["title"] == "Internal error"


def test_an_unavailable_store_is_a_503_problem(settings: Settings, tmp_path) -> None:
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where a folder should be")
    with _client(settings, database_url=f"sqlite:///{blocker}/sub/vbl.sqlite3") as c:
        problem = assert_problem(c.get("/v1/runs"), 503)
        assert problem["type"].endswith("store-unavailable")
        assert c.get("/v1/optimization/metrics").status_code == 200  # what needs no store still answers


def test_an_unknown_route_is_a_404_problem(client) -> None:
    assert "no such endpoint" in assert_problem(client.get("/v1/nothing"), 404)["detail"]
    assert_problem(client.put("/v1/runs"), 405)


def test_loopback_detection() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.5.0.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.4", "::", "example.org"))


def test_serve_refuses_a_public_address_without_a_token(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("VBL_API_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "8123"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "VBL_API_TOKEN" in err
    monkeypatch.setenv("VBL_API_MAX_UPLOAD_MB", "-1")
    assert main(["serve"]) == 2


def test_the_openapi_schema_lists_every_endpoint_and_config_field(client) -> None:
    from core.config_registry import CONFIG_FIELDS

    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    for path in ("/v1/optimization/configs", "/v1/optimization/configs/{study_id}",
                 "/v1/optimization/configs/{study_id}/start", "/v1/optimization/configs/{study_id}/progress",
                 "/v1/optimization/configs/{study_id}/results", "/v1/optimization/configs/{study_id}/heatmap",
                 "/v1/optimization/metrics", "/v1/optimization/parameter-types",
                 "/v1/optimization/result-columns", "/v1/optimization/configs/{study_id}/pause",
                 "/v1/optimization/configs/{study_id}/cancel",
                 "/v1/optimization/configs/{study_id}/resume", "/v1/backtests", "/v1/datasets",
                 "/v1/datasets/{dataset_id}/quality", "/v1/runs", "/v1/runs/{run_id}", "/v1/runs/{run_id}/rerun",
                 "/v1/runs/{run_id}/report.{fmt}", "/v1/positions/{position_id}/evaluate",
                 "/v1/positions/{position_id}/fills"):
        assert path in paths, path
    config = schema["components"]["schemas"]["StrategyConfigModel"]["properties"]
    assert list(config) == [f.name for f in CONFIG_FIELDS]
    assert config["trigger_up"]["valid_range"] == "(0, inf)" and config["trigger_up"]["unit"] == "fraction"
