"""``make stack``'s supervisor: honcho starts the app, the API and the scheduler from the Procfile; every health
endpoint answers; SIGTERM to honcho stops all three cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HONCHO = ROOT / ".venv" / "bin" / "honcho"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except Exception:
        return None


def test_the_stack_starts_answers_its_health_checks_and_stops(tmp_path: Path) -> None:
    ports = {"VBL_APP_PORT": _free_port(), "VBL_API_PORT": _free_port(), "VBL_SCHEDULER_HEALTH_PORT": _free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()},
           "VBL_DATABASE_URL": f"sqlite:///{tmp_path / 'stack.sqlite3'}"}
    proc = subprocess.Popen([str(HONCHO), "start", "-f", "Procfile"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    urls = [f"http://127.0.0.1:{ports['VBL_APP_PORT']}/_stcore/health",
            f"http://127.0.0.1:{ports['VBL_API_PORT']}/health",
            f"http://127.0.0.1:{ports['VBL_API_PORT']}/ready",
            f"http://127.0.0.1:{ports['VBL_SCHEDULER_HEALTH_PORT']}/health"]
    try:
        deadline = time.monotonic() + 90
        while [_status(u) for u in urls] != [200, 200, 200, 200]:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else "honcho exited"
            assert time.monotonic() < deadline, {u: _status(u) for u in urls}
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode in (0, 128 + signal.SIGTERM), out  # honcho exits 143 after passing SIGTERM on
    for name in ("app", "api", "scheduler"):
        assert f"{name}.1 stopped" in out, out
    assert ":scheduler stopped" in out  # the scheduler logged its clean shutdown
    assert all(_status(u) is None for u in urls)  # every process is gone
