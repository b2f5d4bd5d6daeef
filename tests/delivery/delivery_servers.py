"""Servers and fixtures of the delivery tests (conftest.py re-exports the fixtures): a store with a run and a
study, a real SMTP server and a real S3 server.

* SMTP: aiosmtpd on a free loopback port, in this process's background thread, with login (PLAIN/LOGIN) and, as
  asked, STARTTLS or implicit SSL using a throw-away certificate authority from ``trustme``; every message it
  accepts is parsed and kept.
* S3: moto's server mode as its own process on a free loopback port, with request authentication on: the first
  four requests (unauthenticated) create an IAM user with a key and a bucket; every request after that needs that
  key, so wrong credentials are refused as AWS refuses them.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from core import StrategyConfig, simulate, simulate_many
from core.data import load_sample
from storage import Store, TrialInput
from storage.database import dispose_engine

SMTP_USER = "reports@example.com"
SMTP_PASSWORD = "s3cr3t-smtp-Pa55"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Seeded:
    url: str
    dataset_id: int
    run_id: int
    study_id: int


@pytest.fixture()
def seeded(tmp_path: Path) -> Iterator[Seeded]:
    """A SQLite store with GOOG, one run and a 3×3 grid study."""
    url = f"sqlite:///{tmp_path / 'vbl.sqlite3'}"
    data = load_sample("GOOG")
    with Store(url) as store:
        dataset_id = store.save_dataset(data)
        run_id = store.save_run(dataset_id, simulate(data.prices, StrategyConfig(), data.dividends), name="weekly GOOG")
        configs = [StrategyConfig(trigger_up=u, trigger_down=d) for u in (0.03, 0.05, 0.08) for d in (0.03, 0.05, 0.08)]
        frame = simulate_many(data.prices, configs, data.dividends)
        metrics = [c for c in frame.columns if c not in StrategyConfig.__dataclass_fields__]
        study_id = store.create_study(dataset_id, search_space={"trigger_up": [0.03, 0.05, 0.08],
                                                                "trigger_down": [0.03, 0.05, 0.08]},
                                      method="grid", objective="sharpe", name="triggers")
        store.save_trials(study_id, [
            TrialInput(index=i, params={"trigger_up": c.trigger_up, "trigger_down": c.trigger_down},
                       metrics={m: float(frame.iloc[i][m]) for m in metrics}, duration_s=0.01)
            for i, c in enumerate(configs)
        ])
    yield Seeded(url, dataset_id, run_id, study_id)
    dispose_engine(url)


# -- SMTP ------------------------------------------------------------------------------------------------------


@dataclass
class _Inbox:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    port: int
    security: str
    ca_file: str
    inbox: _Inbox
    logins: list[str]

    def env(self, **overrides: str) -> dict[str, str]:
        """The VBL_SMTP_* settings that reach this server."""
        return {"VBL_SMTP_HOST": "127.0.0.1", "VBL_SMTP_PORT": str(self.port), "VBL_SMTP_SECURITY": self.security,
                "VBL_SMTP_USER": SMTP_USER, "VBL_SMTP_PASSWORD": SMTP_PASSWORD, "VBL_SMTP_FROM": SMTP_USER,
                "VBL_SMTP_CA_FILE": self.ca_file, "VBL_SMTP_TIMEOUT_S": "10", **overrides}


@pytest.fixture(scope="session")
def tls_authority(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, str]:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


@contextlib.contextmanager
def smtp_server(security: str, tls_authority: tuple[trustme.CA, str]) -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 requiring a login; ``security``: starttls, ssl or plain."""
    ca, ca_file = tls_authority
    inbox, logins = _Inbox(), []

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == SMTP_USER \
            and auth_data.password.decode() == SMTP_PASSWORD
        logins.append(f"{mechanism}:{'ok' if ok else 'refused'}")
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    context = ca.issue_cert("127.0.0.1", "localhost").configure_cert if security != "plain" else None
    server_ctx = None
    if context is not None:
        import ssl

        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context(server_ctx)
    port = free_port()
    # aiosmtpd counts only STARTTLS as TLS for its auth_require_tls check, so on an implicit-SSL server (already
    # encrypted) and on the plain one the check is off
    kwargs: dict[str, object] = {"authenticator": authenticate, "auth_required": True,
                                 "auth_require_tls": security == "starttls"}
    if security == "starttls":
        kwargs.update(tls_context=server_ctx, require_starttls=True)
    elif security == "ssl":
        kwargs.update(ssl_context=server_ctx)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, server_hostname="127.0.0.1", **kwargs)
    controller.start()
    try:
        yield SmtpServer(port, security, ca_file, inbox, logins)
    finally:
        controller.stop()


@pytest.fixture()
def smtp(tls_authority: tuple[trustme.CA, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A STARTTLS SMTP server with login, and this process's VBL_SMTP_* pointing at it."""
    with smtp_server("starttls", tls_authority) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        yield server


# -- S3 --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    key: str
    secret: str
    bucket: str

    def env(self, **overrides: str) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": self.key,
                "AWS_SECRET_ACCESS_KEY": self.secret, "AWS_DEFAULT_REGION": "us-east-1", **overrides}

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.key, aws_secret_access_key=self.secret)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's S3 server as a separate process with authentication on (see the module docstring)."""
    import boto3

    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "4"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"moto's server did not start: {log.read_text()[-2000:]}")
        admin = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "bootstrap",
                 "aws_secret_access_key": "bootstrap"}
        iam = boto3.client("iam", **admin)
        iam.create_user(UserName="reporter")
        key = iam.create_access_key(UserName="reporter")["AccessKey"]
        iam.put_user_policy(UserName="reporter", PolicyName="reports", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        server = S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"], "team-reports")
        server.client().create_bucket(Bucket=server.bucket)
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture()
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    return s3_server
