"""A stored portfolio as a delivery subject (issue: reports that arrive by themselves): e-mailed over a real SMTP
server, the workbook equal to the one exported directly; scheduled to a folder on the newest data of each cell's
stock, once per slot."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from delivery_servers import Seeded, SmtpServer

from core.data.samples import load_sample
from core.metric_table import format_metric
from storage import DELIVERY_SENT, Store
from usecases.delivery import ReportSubject, RetryPolicy, SubjectError, create_schedule, run_due, send_now
from usecases.portfolio_reports import portfolio_report
from usecases.portfolios import PortfolioSpec, cells_from_datasets, run_portfolio, save_portfolio

FAST_RETRY = RetryPolicy(attempts=2, first_delay_s=0.0, factor=1.0, lease_s=60.0)


def _portfolio(store: Store) -> int:
    ids = [store.save_dataset(load_sample(name)) for name in ("INTC", "MMM")]
    from core import StrategyConfig

    spec = PortfolioSpec.from_dict({"rules": {"reallocation": "quarterly"},
                                    "cells": [c.to_dict() for c in cells_from_datasets(store, ids, StrategyConfig())]})
    return save_portfolio(store, spec, run_portfolio(store, spec), name="two cells")


def _cells(data: bytes) -> dict[str, list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_a_portfolio_report_arrives_by_email_and_equals_the_direct_export(seeded: Seeded, smtp: SmtpServer) -> None:
    with Store(seeded.url) as store:
        pid = _portfolio(store)
        [record] = send_now(store, ReportSubject("portfolio", pid, "xlsx"), ["mailto:pm@example.com"],
                            policy=FAST_RETRY)
        direct = portfolio_report(store, pid, "xlsx")
        metrics = store.get_portfolio(pid).metrics
    assert record.status == DELIVERY_SENT
    [message] = smtp.inbox.messages
    assert message["Subject"] == f"Portfolio {pid}: two cells"
    part = next(message.iter_attachments())
    assert part.get_filename() == direct.filename
    assert _cells(part.get_payload(decode=True)) == _cells(direct.data)
    text = message.get_body(("plain",)).get_content()
    assert "INTC 50 %" in text and format_metric("total_return", metrics["total_return"]) in text


def test_a_scheduled_portfolio_on_the_latest_data_is_sent_once_per_slot(seeded: Seeded, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with Store(seeded.url) as store:
        pid = _portfolio(store)
        schedule = create_schedule(store, "weekly portfolio",
                                   ReportSubject("portfolio", pid, "json", {"latest_data": True}),
                                   f"daily {(now - timedelta(hours=1)):%H:%M}", destinations=[f"file://{folder}/"],
                                   starts_at=now - timedelta(days=2))
        first = run_due(store, schedule, policy=FAST_RETRY, claimant="a", now=now)
        again = run_due(store, schedule, policy=FAST_RETRY, claimant="b", now=now)
    assert [d.status for d in first] == [DELIVERY_SENT] and again == []
    assert len(list(folder.iterdir())) == 1


def test_a_portfolio_subject_is_checked() -> None:
    with pytest.raises(SubjectError, match="portfolio report is one of"):
        ReportSubject("portfolio", 1, "png")
    with pytest.raises(SubjectError, match="no option 'top_n'"):
        ReportSubject("portfolio", 1, "pdf", {"top_n": 3})
