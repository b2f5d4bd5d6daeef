"""Fixtures of the HTTP API tests: an application on the test's own SQLite store (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_helpers import TestClient

from api.app import Settings, create_app
from usecases.store import Store


@pytest.fixture
def settings() -> Settings:
    """The settings from the environment (the test's own database)."""
    return Settings.from_env()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client of a fresh application on the test's store; server errors come back as responses."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def store(settings: Settings) -> Store:
    """The same store the application uses, for checking what it wrote."""
    return Store(settings.database_url)
