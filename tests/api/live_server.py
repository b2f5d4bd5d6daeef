"""A real ``python -m api serve`` process on a free loopback port, for the end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-token"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    """A running server: its address, its database and a client that sends the token."""

    base_url: str
    port: int
    database_url: str
    client: httpx.Client
    process: subprocess.Popen[bytes]

    def new_client(self) -> httpx.Client:
        """Another client of the server, e.g. one per thread."""
        return client_of(self.base_url)


def client_of(base_url: str) -> httpx.Client:
    """A client of the server at ``base_url`` that sends the token."""
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)


@contextmanager
def live_server(tmp_path: Path, env: Mapping[str, str] | None = None) -> Iterator[LiveServer]:
    """Start the API on its own SQLite store in ``tmp_path`` (``env`` added to the environment), wait until it
    answers, and stop it afterwards."""
    port = free_port()
    url = f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
    full_env = {**os.environ, "VBL_DATABASE_URL": url, "VBL_API_TOKEN": TOKEN, **(env or {})}
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(port), "--log-level",
                                 "warning"], cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    client = client_of(f"http://127.0.0.1:{port}")
    server = LiveServer(str(client.base_url).rstrip("/"), port, url, client, proc)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.get("/v1/optimization/metrics").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the API server did not start: {log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield server
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_finished(client: httpx.Client, study_id: int, timeout: float = 120.0) -> dict:
    """Poll ``progress`` until the study is finished; returns the last progress."""
    deadline = time.monotonic() + timeout
    while True:
        progress = client.get(f"/v1/optimization/configs/{study_id}/progress").json()
        if progress["finished"]:
            return progress
        assert time.monotonic() < deadline, f"study {study_id} did not finish: {progress}"
        time.sleep(0.1)
