"""The request body cap holds for bodies without a Content-Length (chunked), counted while they stream: through the
test client and against a real uvicorn process."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import TestClient, assert_problem
from live_server import TOKEN, live_server

from api.app import Settings, create_app
from core import StrategyConfig, simulate
from core.data import load_csv, load_sample, select_period

LIMIT = 1024 * 1024  # VBL_API_MAX_UPLOAD_MB=1
BOUNDARY = b"b0undary"
MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY.decode()}"}
GOOG_CSV = Path(__file__).resolve().parents[2] / "data" / "goog.csv"
BACKTEST = {"dataset": "GOOG", "start": "2011-01-01", "end": "2011-12-31", "config": {"trigger_up": 0.05},
            "include_trades": False}


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """``total`` bytes of JSON-ish filler in ``size`` pieces (a generator: httpx sends it chunked)."""
    sent = 0
    while sent < total:
        piece = b" " * min(size, total - sent)
        sent += len(piece)
        yield piece


def csv_upload_chunks(total: int) -> Iterator[bytes]:
    """A multipart upload of a price CSV of about ``total`` bytes, streamed row block by row block."""
    yield (b'--' + BOUNDARY + b'\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
           b"Content-Type: text/csv\r\n\r\nDate,Open,High,Low,Close,Volume\n")
    rows = b"".join(b"2020-01-%02d,1,1,1,1,10\n" % (1 + i % 28) for i in range(2000))
    for _ in range(total // len(rows) + 1):
        yield rows
    yield b"\r\n--" + BOUNDARY + b"--\r\n"


def json_chunks(body: dict, size: int = 7) -> Iterator[bytes]:
    """A JSON body in small pieces."""
    data = json.dumps(body).encode()
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_the_test_client_refuses_a_chunked_body_above_the_limit(settings: Settings) -> None:
    small = Settings(**{**settings.__dict__, "max_upload_bytes": 10_000})
    with TestClient(create_app(small), raise_server_exceptions=False) as c:
        headers = {"content-type": "application/json"}
        problem = assert_problem(c.post("/v1/backtests", content=chunks(50_000, 1000), headers=headers), 413)
        assert "10,000" in problem["detail"] and "VBL_API_MAX_UPLOAD_MB" in problem["detail"]
        assert_problem(c.post("/v1/datasets", content=csv_upload_chunks(50_000), headers=MULTIPART), 413)
        declared = assert_problem(c.post("/v1/backtests", content=b" " * 20_000, headers=headers), 413)
        assert "20,000 bytes" in declared["detail"]
        below = c.post("/v1/backtests", content=json_chunks(BACKTEST), headers=headers)
        assert below.status_code == 200, below.text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with live_server(tmp_path_factory.mktemp("limit"), env={"VBL_API_MAX_UPLOAD_MB": "1"}) as running:
        yield running


def test_a_chunked_httpx_upload_above_the_limit_is_a_413_problem(server) -> None:
    request = server.client.build_request("POST", "/v1/backtests", content=chunks(3 * LIMIT),
                                          headers={"content-type": "application/json"})
    assert "content-length" not in request.headers and request.headers["transfer-encoding"] == "chunked"
    problem = assert_problem(server.client.send(request), 413)
    assert "1,048,576" in problem["detail"]

    assert_problem(server.client.post("/v1/datasets", content=csv_upload_chunks(2 * LIMIT), headers=MULTIPART), 413)
    # The connection pool still works after a refused upload.
    assert server.client.get("/v1/runs").status_code == 200


def test_a_chunked_body_below_the_limit_is_served(server) -> None:
    response = server.client.post("/v1/backtests", content=json_chunks(BACKTEST),
                                  headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    goog = load_sample("GOOG")
    from datetime import date

    prices, _ = select_period(goog.prices, goog.dividends, date(2011, 1, 1), date(2011, 12, 31))
    assert response.json()["metrics"]["sharpe"] == simulate(prices, StrategyConfig(trigger_up=0.05)).metrics["sharpe"]


def test_a_chunked_csv_upload_below_the_limit_is_stored(server) -> None:
    lines = GOOG_CSV.read_text().splitlines()
    csv = ("\n".join(["Date" + lines[0], *lines[1:301]]) + "\n").encode()
    body = (b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="file"; filename="goog.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\n" + csv + b"\r\n--" + BOUNDARY + b"--\r\n")
    pieces = (body[i : i + 4096] for i in range(0, len(body), 4096))
    response = server.client.post("/v1/datasets", content=pieces, headers=MULTIPART)
    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 300 and response.json()["sha256"] == load_csv(csv, symbol="GOOG").sha256()


def test_the_refusal_comes_while_the_body_is_still_streaming(server) -> None:
    """Send a little more than the limit and never finish the body: a server that read whole bodies before judging
    them would wait for the end forever; this one answers 413 as soon as the limit is crossed."""
    head = (f"POST /v1/backtests HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    piece = b" " * 65536
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head)
        sent = 0
        while sent <= LIMIT:
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
        readable, _, _ = select.select([sock], [], [], 20)  # the terminating zero-size chunk is never sent
        assert readable, "no answer while the body was unfinished: the server waits for the whole body"
        answer = sock.recv(65536)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large" or status_line.startswith(b"HTTP/1.1 413")
    assert b"application/problem+json" in rest


def test_a_declared_length_above_the_limit_is_refused_before_the_body(server) -> None:
    head = (f"POST /v1/datasets HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: text/csv\r\nContent-Length: {50 * LIMIT}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head)  # and not one byte of the body
        readable, _, _ = select.select([sock], [], [], 20)
        assert readable
        assert sock.recv(65536).startswith(b"HTTP/1.1 413")


def test_the_limit_never_hides_a_missing_token(tmp_path: Path, server) -> None:
    import httpx

    response = httpx.post(server.base_url + "/v1/backtests", content=chunks(2 * LIMIT))
    assert_problem(response, 401)
