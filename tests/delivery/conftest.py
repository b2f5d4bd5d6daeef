"""Fixtures of the delivery tests (defined in :mod:`delivery_servers`)."""

from delivery_servers import s3, s3_server, seeded, smtp, tls_authority  # noqa: F401 - pytest finds them here
