"""E-mail delivery against a real SMTP server (aiosmtpd on loopback): STARTTLS, SSL and plain, with login."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import openpyxl
import pytest
from delivery_servers import SMTP_PASSWORD, SMTP_USER, Seeded, SmtpServer, free_port, smtp_server

from core.report.exports import run_export
from storage import DELIVERY_FAILED, DELIVERY_RETRYING, DELIVERY_SENT, Store
from usecases.delivery import ReportSubject, RetryPolicy, send_now
from usecases.delivery.send import retry_due
from usecases.reports import run_report_from_store

FAST_RETRY = RetryPolicy(attempts=3, first_delay_s=0.0, factor=1.0, lease_s=60.0)


def _cells(data: bytes) -> dict[str, list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def _attachment(message) -> tuple[str, bytes, str]:
    part = next(message.iter_attachments())
    return part.get_filename(), part.get_payload(decode=True), part.get_content_type()


def test_a_run_report_arrives_over_starttls_with_login_and_equals_the_direct_export(
        seeded: Seeded, smtp: SmtpServer) -> None:
    with Store(seeded.url) as store:
        [record] = send_now(store, ReportSubject("run", seeded.run_id, "xlsx"), ["mailto:analyst@example.com"],
                            policy=FAST_RETRY)
        direct = run_export(run_report_from_store(store, seeded.run_id), "xlsx")
    assert record.status == DELIVERY_SENT
    assert smtp.logins == ["PLAIN:ok"] or smtp.logins == ["LOGIN:ok"]
    [message] = smtp.inbox.messages
    assert smtp.inbox.envelopes == [(SMTP_USER, ["analyst@example.com"])]
    assert message["To"] == "analyst@example.com"
    assert message["Subject"] == "Run 1: weekly GOOG"
    name, data, mime = _attachment(message)
    assert (name, mime) == (direct.filename, direct.mime)
    assert record.size_bytes == len(data) > 10_000
    assert _cells(data) == _cells(direct.data)  # the same workbook, cell for cell
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    report = run_report_from_store(Store(seeded.url), seeded.run_id)
    from core.metric_table import format_metric

    total = format_metric("total_return", report.result.metrics["total_return"])
    assert "Total return" in html and total in html and total in text
    assert "Hypothetical results" in text


def test_csv_attachment_is_byte_identical(seeded: Seeded, smtp: SmtpServer) -> None:
    with Store(seeded.url) as store:
        send_now(store, ReportSubject("run", seeded.run_id, "csv", {"table": "trades"}), ["a@example.com"],
                 policy=FAST_RETRY)
        direct = run_export(run_report_from_store(store, seeded.run_id), "csv", table="trades")
    assert _attachment(smtp.inbox.messages[0])[1] == direct.data


@pytest.mark.parametrize("security", ["ssl", "plain"])
def test_ssl_and_plain_servers(security: str, seeded: Seeded, tls_authority, monkeypatch) -> None:
    with smtp_server(security, tls_authority) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        with Store(seeded.url) as store:
            [record] = send_now(store, ReportSubject("study", seeded.study_id, "csv"), ["b@example.com"],
                                policy=FAST_RETRY)
        assert record.status == DELIVERY_SENT, record.error
        [message] = server.inbox.messages
        assert message["Subject"] == "Study 1: triggers"
        assert _attachment(message)[0] == "study1_trials.csv"
        assert "Best trial" in message.get_body(("plain",)).get_content()


def test_a_refused_login_is_a_clear_error_then_retried_then_given_up(
        seeded: Seeded, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("VBL_SMTP_PASSWORD", "wrong-password-xyz")
    caplog.set_level(logging.DEBUG)
    with Store(seeded.url) as store:
        [first] = send_now(store, ReportSubject("run", seeded.run_id, "json"), ["c@example.com"], policy=FAST_RETRY)
        assert first.status == DELIVERY_RETRYING and first.attempts == 1
        assert "refused the login of 'reports@example.com'" in first.error
        assert "check VBL_SMTP_USER and VBL_SMTP_PASSWORD" in first.error
        [second] = retry_due(store, policy=FAST_RETRY, claimant="test")
        assert (second.id, second.status, second.attempts) == (first.id, DELIVERY_RETRYING, 2)
        # the password is corrected before the third attempt: it is sent, once
        monkeypatch.setenv("VBL_SMTP_PASSWORD", SMTP_PASSWORD)
        [third] = retry_due(store, policy=FAST_RETRY, claimant="test")
        assert (third.status, third.attempts) == (DELIVERY_SENT, 3)
        assert retry_due(store, policy=FAST_RETRY, claimant="test") == []
        audit = store.list_audit(action="deliver")
        assert [e.details["status"] for e in reversed(audit)] == ["retrying", "retrying", "sent"]
        history = repr(store.list_deliveries()) + repr(audit)
    assert len(smtp.inbox.messages) == 1
    # smtplib tries each mechanism the server offers (PLAIN, LOGIN) before it gives up: two refusals per attempt
    assert sum(1 for login in smtp.logins if login.endswith(":refused")) == 4
    assert sum(1 for login in smtp.logins if login.endswith(":ok")) == 1
    for secret in ("wrong-password-xyz", SMTP_PASSWORD):
        assert secret not in history and secret not in caplog.text
    db = Path(seeded.url.removeprefix("sqlite:///")).read_bytes()
    assert SMTP_PASSWORD.encode() not in db and b"wrong-password-xyz" not in db


def test_an_unreachable_server_is_a_clear_error_and_gives_up_after_the_last_attempt(
        seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"VBL_SMTP_HOST": "127.0.0.1", "VBL_SMTP_PORT": str(free_port()),
                       "VBL_SMTP_FROM": "x@example.com", "VBL_SMTP_TIMEOUT_S": "2"}.items():
        monkeypatch.setenv(key, value)
    once = RetryPolicy(attempts=2, first_delay_s=0.0, factor=1.0)
    with Store(seeded.url) as store:
        [record] = send_now(store, ReportSubject("run", seeded.run_id, "json"), ["d@example.com"], policy=once)
        assert record.status == DELIVERY_RETRYING
        assert "cannot be reached" in record.error and "check VBL_SMTP_HOST and VBL_SMTP_PORT" in record.error
        [last] = retry_due(store, policy=once, claimant="test")
        assert last.status == DELIVERY_FAILED and "giving up" in last.error


def test_backoff_waits_before_the_next_attempt(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VBL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("VBL_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("VBL_SMTP_FROM", "x@example.com")
    slow = RetryPolicy(attempts=4, first_delay_s=600.0, factor=4.0)
    assert [slow.delay_s(n) for n in (1, 2, 3)] == [600.0, 2400.0, 9600.0]
    with Store(seeded.url) as store:
        [record] = send_now(store, ReportSubject("run", seeded.run_id, "json"), ["e@example.com"], policy=slow)
        wait = (record.next_attempt_at - record.claimed_at).total_seconds()
        assert 599 < wait < 610
        assert retry_due(store, policy=slow, claimant="test") == []  # not due yet
