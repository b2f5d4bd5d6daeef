"""Storage delivery against a real S3-compatible server (moto's server mode, its own process, authentication on),
and atomic writes on a local filesystem."""

from __future__ import annotations

import pytest
from delivery_servers import S3Server, Seeded

from core.report.exports import Export, run_export, study_export
from storage import DELIVERY_RETRYING, DELIVERY_SENT, Store
from usecases.delivery import ReportSubject, RetryPolicy, StorageDeliveryError, send_now
from usecases.delivery.cloud import upload
from usecases.reports import run_report_from_store, study_report_from_store

FAST_RETRY = RetryPolicy(attempts=2, first_delay_s=0.0, factor=1.0)


def test_a_report_arrives_in_the_bucket_with_its_content_type_and_size(seeded: Seeded, s3: S3Server) -> None:
    with Store(seeded.url) as store:
        [record] = send_now(store, ReportSubject("run", seeded.run_id, "json"),
                            [f"s3://{s3.bucket}/weekly/"], policy=FAST_RETRY)
        direct = run_export(run_report_from_store(store, seeded.run_id), "json")
    assert record.status == DELIVERY_SENT
    head = s3.client().head_object(Bucket=s3.bucket, Key=f"weekly/{direct.filename}")
    assert head["ContentType"] == "application/json"
    assert head["ContentLength"] == len(direct.data) == record.size_bytes
    body = s3.client().get_object(Bucket=s3.bucket, Key=f"weekly/{direct.filename}")["Body"].read()
    assert body == direct.data


def test_a_full_object_name_is_used_as_given(seeded: Seeded, s3: S3Server) -> None:
    with Store(seeded.url) as store:
        send_now(store, ReportSubject("study", seeded.study_id, "csv"), [f"s3://{s3.bucket}/studies/latest.csv"],
                 policy=FAST_RETRY)
        direct = study_export(study_report_from_store(store, seeded.study_id), "csv")
    obj = s3.client().get_object(Bucket=s3.bucket, Key="studies/latest.csv")
    assert obj["ContentType"] == "text/csv" and obj["Body"].read() == direct.data


@pytest.mark.parametrize(("env", "message"), [
    ({"AWS_ACCESS_KEY_ID": "AKIANOTAREALKEY00000"}, "refused the credentials"),
    ({"AWS_SECRET_ACCESS_KEY": "not-the-secret"}, "refused the credentials"),
])
def test_wrong_credentials_are_a_clear_error(env: dict[str, str], message: str, s3: S3Server,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(StorageDeliveryError, match=message) as info:
        upload(f"s3://{s3.bucket}/x/", Export(b"data", "r.csv", "text/csv"))
    assert "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY" in str(info.value)
    assert "not-the-secret" not in str(info.value)


def test_a_missing_bucket_is_a_clear_error_and_a_retry(seeded: Seeded, s3: S3Server) -> None:
    with Store(seeded.url) as store:
        [record] = send_now(store, ReportSubject("run", seeded.run_id, "csv"), ["s3://no-such-bucket/r/"],
                            policy=FAST_RETRY)
    assert record.status == DELIVERY_RETRYING
    assert "the bucket or folder does not exist" in record.error


def test_local_writes_are_atomic_and_leave_nothing_half_written(tmp_path, monkeypatch) -> None:
    import fsspec.implementations.local as local

    target = tmp_path / "out"
    target.mkdir()
    seen: list[list[str]] = []
    real_mv = local.LocalFileSystem.mv

    def watching_mv(self, path1, path2, **kw):
        # just before the rename, the report exists only under its hidden temporary name
        seen.append(sorted(p.name for p in target.iterdir()))
        return real_mv(self, path1, path2, **kw)

    monkeypatch.setattr(local.LocalFileSystem, "mv", watching_mv)
    uploaded = upload(f"file://{target}/", Export(b"x" * 1000, "report.pdf", "application/pdf"))
    assert uploaded.size_bytes == 1000
    assert len(seen) == 1 and len(seen[0]) == 1 and seen[0][0].startswith(".report.pdf.") and \
        seen[0][0].endswith(".partial")
    assert [p.name for p in target.iterdir()] == ["report.pdf"]

    def failing_mv(self, path1, path2, **kw):
        raise OSError("disk full")

    monkeypatch.setattr(local.LocalFileSystem, "mv", failing_mv)
    with pytest.raises(StorageDeliveryError, match="disk full"):
        upload(f"file://{target}/", Export(b"y" * 10, "second.pdf", "application/pdf"))
    assert [p.name for p in target.iterdir()] == ["report.pdf"]  # no partial file, no half report


def test_a_missing_local_folder_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(StorageDeliveryError, match="does not exist"):
        upload(f"file://{tmp_path}/nope/", Export(b"x", "r.pdf", "application/pdf"))
