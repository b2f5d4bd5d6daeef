"""Environment profiles, ``config show``, ``doctor`` and the health endpoints."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.main import main
from storage import Store
from usecases.operations import FAIL, OK, health_checks
from usecases.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_env_file_is_read_and_the_real_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VBL_SMTP_HOST", raising=False)
    monkeypatch.delenv("VBL_DELIVERY_ATTEMPTS", raising=False)
    (tmp_path / ".env").write_text("VBL_SMTP_HOST=mail.example.com\nVBL_DELIVERY_ATTEMPTS=7\nVBL_ACTOR=from-file\n")
    monkeypatch.setenv("VBL_ACTOR", "from-env")
    settings = load_settings("cli")
    assert (settings.smtp_host, settings.delivery_attempts, settings.actor) == ("mail.example.com", 7, "from-env")
    # exported, so the modules that read their own variables (and child processes) see the file's values
    assert os.environ["VBL_SMTP_HOST"] == "mail.example.com" and os.environ["VBL_ACTOR"] == "from-env"
    monkeypatch.delenv("VBL_SMTP_HOST")
    monkeypatch.delenv("VBL_DELIVERY_ATTEMPTS")


@pytest.mark.parametrize("process", ["app", "api", "scheduler", "worker"])
def test_prod_refuses_the_default_store_and_debug(process: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VBL_ENV", "prod")
    monkeypatch.setenv("VBL_DATABASE_URL", "")
    monkeypatch.setenv("VBL_API_TOKEN", "t0ken")
    with pytest.raises(SettingsError, match="default SQLite file"):
        load_settings(process)  # type: ignore[arg-type]
    monkeypatch.setenv("VBL_DATABASE_URL", "postgresql+psycopg://vbl@db.internal/vbl")
    monkeypatch.setenv("VBL_DEBUG", "1")
    with pytest.raises(SettingsError, match="VBL_DEBUG is on"):
        load_settings(process)  # type: ignore[arg-type]
    monkeypatch.setenv("VBL_DEBUG", "0")
    assert load_settings(process).env == "prod"  # type: ignore[arg-type]


def test_prod_api_needs_a_token_and_staging_only_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VBL_DATABASE_URL", "postgresql+psycopg://vbl@db.internal/vbl")
    monkeypatch.setenv("VBL_ENV", "prod")
    with pytest.raises(SettingsError, match="VBL_API_TOKEN is not set"):
        load_settings("api")
    assert load_settings("app").env == "prod"  # the app needs no API token
    monkeypatch.setenv("VBL_ENV", "staging")
    with pytest.warns(UserWarning, match="VBL_API_TOKEN is not set"):
        load_settings("api")
    monkeypatch.setenv("VBL_ENV", "qa")
    with pytest.raises(SettingsError, match="VBL_ENV"):
        load_settings("app")


def test_the_api_process_refuses_to_start_in_prod_without_a_token(tmp_path: Path) -> None:
    env = {**os.environ, "VBL_ENV": "prod", "VBL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
           "VBL_API_TOKEN": ""}
    result = subprocess.run([sys.executable, "-m", "api", "serve", "--port", "1"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "VBL_ENV=prod refuses to start the api" in result.stderr


def test_config_show_masks_every_secret(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("VBL_DATABASE_URL", "postgresql+psycopg://vbl:db-Pa55word@db.internal:5432/vbl")
    monkeypatch.setenv("VBL_SMTP_PASSWORD", "smtp-Pa55word")
    monkeypatch.setenv("VBL_API_TOKEN", "api-t0ken-value")
    code, out, err = run_cli(capsys, "config", "show")
    assert code == 0, err
    assert "VBL_DATABASE_URL" in out and "db.internal:5432/vbl" in out and "***" in out
    assert "VBL_SMTP_PASSWORD              ********" in out
    for secret in ("db-Pa55word", "smtp-Pa55word", "api-t0ken-value"):
        assert secret not in out and secret not in err
    assert set(Settings().shown()) >= {"VBL_ENV", "VBL_DATABASE_URL", "VBL_SMTP_HOST", "VBL_DELIVERY_ATTEMPTS"}


def test_config_fields_and_metrics_print_the_registries(capsys) -> None:
    from core.config_registry import CONFIG_FIELDS
    from core.metric_registry import METRICS

    code, out, err = run_cli(capsys, "config", "fields")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines() if not line.startswith(" ")]
    assert rows[0] == ["Field", "Unit", "Default", "Valid", "values"]
    assert [r[0] for r in rows[1:]] == [f.name for f in CONFIG_FIELDS]
    assert rows[2] == ["initial_stock_share", "percent", "50", "%", "[0,", "1]"]  # a fraction shown with its unit
    assert "    Share of the capital bought at the first bar's close" in out
    code, out, err = run_cli(capsys, "config", "metrics")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines() if not line.startswith(" ")]
    assert [r[0] for r in rows[1:]] == [m.name for m in METRICS]
    assert rows[[r[0] for r in rows].index("max_drawdown")][1:3] == ["percent", "higher"]


def test_doctor_reports_a_healthy_store_and_a_dead_worker(capsys) -> None:
    store = Store()
    code, out, _ = run_cli(capsys, "doctor")
    assert code == 0 and "OK    database" in out and "OK    migrations" in out and "no study is running" in out
    goog_id = store.save_dataset(__import__("core.data", fromlist=["load_sample"]).load_sample("GOOG"))
    study_id = store.create_study(goog_id, search_space={"trigger_up": [0.02, 0.03]}, method="grid",
                                  objective="sharpe", name="silent")
    store.set_study_status(study_id, "running")
    checks = health_checks(store.url)
    assert [c.status for c in checks] == [OK, OK, OK]  # just started: alive
    with store.engine.begin() as conn:  # as if its worker had been silent for a minute
        import sqlalchemy as sa

        from storage.models import studies
        conn.execute(sa.update(studies).values(updated_at=datetime.now(UTC).replace(tzinfo=None)
                                               - timedelta(seconds=60)))
    code, out, _ = run_cli(capsys, "doctor")
    assert code == 1 and "FAIL  workers" in out and f"#{study_id} (silent 60 s)" in out


def test_doctor_on_an_unreachable_database(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("VBL_DATABASE_URL", "postgresql+psycopg://vbl@127.0.0.1:1/vbl")
    code, out, _ = run_cli(capsys, "doctor")
    assert code == 1 and out.startswith("FAIL  database")
    assert [c.status for c in health_checks(os.environ["VBL_DATABASE_URL"])] == [FAIL]


def test_the_store_retry_budget_is_a_setting(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from storage.database import retry_budget_s

    monkeypatch.setenv("VBL_DB_RETRY_BUDGET_S", "12.5")
    code, out, err = run_cli(capsys, "config", "show")
    assert code == 0, err
    assert "VBL_DB_RETRY_BUDGET_S          12.5" in out
    assert retry_budget_s() == 12.5  # the store reads the same variable the settings declare
    monkeypatch.setenv("VBL_DB_RETRY_BUDGET_S", "3601")
    with pytest.raises(SettingsError, match="VBL_DB_RETRY_BUDGET_S: Input should be less than or equal to 3600"):
        load_settings("worker")
