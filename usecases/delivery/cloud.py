"""Storage delivery through fsspec: one code path for ``s3://``, ``gs://``, ``az://``, ``file://`` and every other
filesystem fsspec supports (its package installed: ``s3fs`` ships with the app; ``gcsfs``/``adlfs`` on demand).

Credentials are the filesystem library's own, from the environment: for S3 ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_ENDPOINT_URL`` (an S3-compatible server such as MinIO) or
``~/.aws``; fsspec's ``FSSPEC_<PROTOCOL>_<OPTION>`` variables work for any protocol.

**Atomic**: a reader never sees half a report. On object stores a single PUT (or a multipart upload, which becomes
visible only when completed) is atomic by design, so the object is written in one call; on other filesystems the
file is written under a hidden temporary name beside the target and then moved over it (a rename).
"""

from __future__ import annotations

import posixpath
import uuid
from dataclasses import dataclass

from fsspec.core import url_to_fs

from core.report.exports import Export

# Object stores whose single write is atomic, and the keyword each takes for the object's content type.
_CONTENT_TYPE_KEYWORD: dict[str, str] = {"s3": "ContentType", "s3a": "ContentType", "gs": "content_type",
                                         "gcs": "content_type"}
_OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oci", "oss"})


class StorageDeliveryError(RuntimeError):
    """The upload failed; the message says why and what to check."""


@dataclass(frozen=True)
class Uploaded:
    """Where the report landed and how big it is there."""

    url: str
    size_bytes: int


def target_url(destination: str, filename: str) -> str:
    """The object's URL: ``destination`` + ``filename`` for a folder (ending in ``/``), else ``destination``."""
    return destination + filename if destination.endswith("/") else destination


def upload(destination: str, export: Export) -> Uploaded:
    """Write ``export`` to ``destination`` atomically and check its size there.

    Raises:
        StorageDeliveryError: missing library, refused credentials, missing bucket or folder, network error.
    """
    url = target_url(destination, export.filename)
    protocol = url.split("://", 1)[0].lower()
    try:
        # a fresh instance: a cached one would keep credentials or an endpoint from before a change of environment
        fs, path = url_to_fs(url, skip_instance_cache=True)
        if protocol in _OBJECT_STORES:
            keyword = _CONTENT_TYPE_KEYWORD.get(protocol)
            fs.pipe_file(path, export.data, **({keyword: export.mime} if keyword else {}))
        else:
            folder, name = posixpath.split(path)
            if folder and not fs.exists(folder):
                raise FileNotFoundError(folder)
            partial = posixpath.join(folder, f".{name}.{uuid.uuid4().hex}.partial")
            try:
                fs.pipe_file(partial, export.data)
                fs.mv(partial, path)
            finally:
                if fs.exists(partial):
                    fs.rm(partial)
        size = int(fs.size(path))
    except ImportError as exc:
        raise StorageDeliveryError(f"{protocol}:// needs a package that is not installed ({exc}); install it "
                                   "(e.g. pip install gcsfs for gs://, adlfs for az://)") from None
    except PermissionError as exc:
        raise StorageDeliveryError(f"{url} refused the credentials ({exc}); check the access key and secret in "
                                   "the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for S3) and the "
                                   "permission to write there") from None
    except FileNotFoundError as exc:
        raise StorageDeliveryError(f"{url}: the bucket or folder does not exist ({exc}); create it or correct "
                                   "the destination") from None
    except Exception as exc:  # network errors of each library differ (botocore, aiohttp, OSError …)
        raise StorageDeliveryError(f"{url} could not be written ({exc.__class__.__name__}: {exc})") from None
    if size != len(export.data):
        raise StorageDeliveryError(f"{url} holds {size} bytes after the upload, not {len(export.data)}")
    return Uploaded(url, size)
