"""The settings of every process — app, API, study worker, scheduler, CLI — in one object (pydantic-settings).

Every ``VBL_*`` variable the product reads is declared here once, with its type, default and meaning; ``python -m
cli config show`` prints the effective values with secrets masked. Values come from the environment and from an
optional ``.env`` file in the working directory (or ``$VBL_ENV_FILE``); the real environment wins. At start-up an
entry point calls :func:`load_settings`, which validates them, exports what came from the ``.env`` file into the
process environment (so the modules that read their own variables, and the worker processes started from here,
see the same configuration) and applies the profile's rules.

Profiles (``VBL_ENV``): ``dev`` (the default: everything allowed), ``staging`` and ``prod``. ``prod`` refuses to
start on the default SQLite file under ``var/`` (a team server needs a chosen database), with ``VBL_DEBUG`` on, and
— for the API — without ``VBL_API_TOKEN``. ``staging`` warns about the same things instead.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.database import DEFAULT_RETRY_BUDGET_S, MAX_RETRY_BUDGET_S, default_database_url, describe_url

Process = Literal["app", "api", "worker", "scheduler", "cli"]
ENV_FILE_VAR = "VBL_ENV_FILE"
PROFILES: tuple[str, ...] = ("dev", "staging", "prod")


class SettingsError(ValueError):
    """The settings are invalid or the profile refuses them; the message says which and what to do."""


class Settings(BaseSettings):
    """Every setting, read from ``VBL_<NAME>`` (see the README's configuration table)."""

    model_config = SettingsConfigDict(env_prefix="VBL_", extra="ignore", case_sensitive=False)

    env: Literal["dev", "staging", "prod"] = Field("dev", description="profile: dev, staging or prod")
    debug: bool = Field(False, description="verbose errors and logs; refused in prod")
    database_url: SecretStr = Field(SecretStr(""), description="the run store (default: var/vbl.sqlite3)")
    # read by storage.database itself (the store does not import this layer); declared here to be validated and shown
    db_retry_budget_s: float = Field(DEFAULT_RETRY_BUDGET_S, ge=0, le=MAX_RETRY_BUDGET_S,
                                     description="seconds a transaction retries a lost connection or a lock")
    cache_dir: str = Field("", description="downloaded market data cache (default var/cache)")
    max_csv_mb: float = Field(500.0, gt=0, description="largest CSV file the loader reads (core.data.load_csv)")
    actor: str = Field("", description="who is recorded in the audit log (default: the OS user)")
    api_token: SecretStr = Field(SecretStr(""), description="bearer token of the HTTP API; required in prod")
    api_max_upload_mb: float = Field(50.0, gt=0, description="largest API request body or upload")
    api_cors_origins: str = Field("", description="comma-separated origins allowed by CORS (off when empty)")
    smtp_host: str = Field("", description="SMTP server for e-mail delivery")
    smtp_port: int | None = Field(None, ge=1, le=65535, description="SMTP port (587/465/25 by security)")
    smtp_security: Literal["starttls", "ssl", "plain"] = Field("starttls", description="SMTP transport security")
    smtp_user: str = Field("", description="SMTP login")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password")
    smtp_from: str = Field("", description="sender address (default: the login)")
    delivery_attempts: int = Field(4, ge=1, le=20, description="attempts per delivery")
    delivery_retry_s: float = Field(60.0, ge=0, le=86_400, description="first retry delay (×4 each time)")
    delivery_lease_s: float = Field(900.0, ge=1, le=86_400, description="age after which a sender's claim lapses")
    study_heartbeat_timeout_s: float = Field(15.0, ge=6, le=86_400,
                                             description="a study with no heartbeat this long is interrupted")

    @field_validator("api_cors_origins", "smtp_host", "smtp_user", "smtp_from", "actor", "cache_dir")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @property
    def store_url(self) -> str:
        """The database URL in use (the default SQLite file when unset)."""
        return self.database_url.get_secret_value().strip() or default_database_url()

    @property
    def uses_default_store(self) -> bool:
        """Whether the store is the default SQLite file under ``var/`` (fine for one analyst, not for a team)."""
        return not self.database_url.get_secret_value().strip()

    def problems(self, process: Process) -> list[str]:
        """What the profile objects to for ``process`` (empty when nothing)."""
        found = []
        if self.uses_default_store:
            found.append("the store is the default SQLite file under var/; set VBL_DATABASE_URL to the team's "
                         "database (PostgreSQL, or a SQLite file on a backed-up disk)")
        if self.debug:
            found.append("VBL_DEBUG is on; turn it off (it shows internals in errors and logs)")
        if process == "api" and not self.api_token.get_secret_value():
            found.append("VBL_API_TOKEN is not set; every API request must be authenticated on a server")
        return found

    def shown(self) -> dict[str, str]:
        """The effective settings for people: secrets masked, the database URL without its password."""
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            value: Any = getattr(self, name)
            if name == "database_url":
                text = describe_url(self.store_url) + (" (default)" if self.uses_default_store else "")
            elif isinstance(value, SecretStr):
                text = "********" if value.get_secret_value() else "(unset)"
            elif value in ("", None):
                text = "(unset)"
            else:
                text = str(value)
            out[f"VBL_{name.upper()}"] = text
        return out


def _env_file() -> Path | None:
    path = Path(os.environ.get(ENV_FILE_VAR, "") or ".env")
    return path if path.is_file() else None


def load_settings(process: Process) -> Settings:
    """Read, validate and apply the settings of ``process``.

    Raises:
        SettingsError: a value is malformed, or ``VBL_ENV=prod`` refuses the combination (the message lists why).
    """
    env_file = _env_file()
    try:
        settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        lines = [f"VBL_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()]
        raise SettingsError("invalid settings: " + "; ".join(lines)) from None
    if env_file is not None:
        _export_env_file(env_file)
    problems = settings.problems(process)
    # the CLI is also the diagnostic tool (config show, doctor, backups): in prod it warns instead of refusing
    if problems and settings.env == "prod" and process != "cli":
        raise SettingsError(f"VBL_ENV=prod refuses to start the {process}: " + "; ".join(problems))
    if problems and settings.env != "dev" and process != "cli":  # the CLI's doctor lists them instead
        for problem in problems:
            warnings.warn(f"VBL_ENV={settings.env}: {problem}", stacklevel=2)
    return settings


def _export_env_file(path: Path) -> None:
    from dotenv import dotenv_values

    for key, value in dotenv_values(path).items():
        if key.startswith("VBL_") and value is not None and key not in os.environ:
            os.environ[key] = value
