"""E-mail delivery over SMTP (the standard library's ``smtplib``): STARTTLS, SSL or plain, with login.

Settings come from the environment only, so the password is never on a command line, in the database or in a log:

=========================  ==============================================================================
``VBL_SMTP_HOST``          server name (required for e-mail)
``VBL_SMTP_PORT``          port (default 587 for ``starttls``, 465 for ``ssl``, 25 for ``plain``)
``VBL_SMTP_SECURITY``      ``starttls`` (default), ``ssl`` or ``plain`` (only for a relay on a trusted network)
``VBL_SMTP_USER``          login name (no login when empty)
``VBL_SMTP_PASSWORD``      login password
``VBL_SMTP_FROM``          sender address (default: the login name)
``VBL_SMTP_TIMEOUT_S``     connection timeout in seconds (default 30)
``VBL_SMTP_CA_FILE``       a CA bundle to verify the server's certificate with (default: the system's)
=========================  ==============================================================================
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

from core.report.email_summary import ReportSummary
from core.report.exports import Export

SECURITY_MODES: tuple[str, ...] = ("starttls", "ssl", "plain")
DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "ssl": 465, "plain": 25}


class EmailError(RuntimeError):
    """Sending failed; the message says why and what to check (never the password)."""


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server. ``password`` is kept out of ``repr``."""

    host: str
    port: int
    security: str = "starttls"
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""
    timeout_s: float = 30.0
    ca_file: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        """The ``VBL_SMTP_*`` variables; ``EmailError`` when the host is missing or a value is malformed."""
        env = os.environ if environ is None else environ
        host = env.get("VBL_SMTP_HOST", "").strip()
        if not host:
            raise EmailError("e-mail is not configured: set VBL_SMTP_HOST (and VBL_SMTP_USER, VBL_SMTP_PASSWORD, "
                             "VBL_SMTP_FROM) in the environment of the process that sends")
        security = env.get("VBL_SMTP_SECURITY", "starttls").strip().lower() or "starttls"
        if security not in SECURITY_MODES:
            raise EmailError(f"VBL_SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}, got {security!r}")
        raw_port = env.get("VBL_SMTP_PORT", "").strip()
        try:
            port = int(raw_port) if raw_port else DEFAULT_PORTS[security]
            timeout = float(env.get("VBL_SMTP_TIMEOUT_S", "").strip() or 30)
        except ValueError:
            raise EmailError("VBL_SMTP_PORT must be a whole number and VBL_SMTP_TIMEOUT_S a number of "
                             "seconds") from None
        if not 0 < port < 65536:
            raise EmailError(f"VBL_SMTP_PORT must be between 1 and 65535, got {port}")
        if not 0 < timeout <= 600:
            raise EmailError(f"VBL_SMTP_TIMEOUT_S must be between 0 and 600 seconds, got {timeout}")
        user = env.get("VBL_SMTP_USER", "").strip()
        sender = env.get("VBL_SMTP_FROM", "").strip() or user
        if "@" not in sender:
            raise EmailError("set VBL_SMTP_FROM to the sender's e-mail address")
        return cls(host=host, port=port, security=security, user=user, password=env.get("VBL_SMTP_PASSWORD", ""),
                   sender=sender, timeout_s=timeout, ca_file=env.get("VBL_SMTP_CA_FILE", "").strip())

    def tls_context(self) -> ssl.SSLContext:
        """A verifying TLS context (the system's CAs, or ``ca_file``)."""
        return ssl.create_default_context(cafile=self.ca_file or None)


def compose(settings: SmtpSettings, to: Sequence[str], export: Export, summary: ReportSummary,
            *, message_id: str) -> EmailMessage:
    """The message: the summary as text and HTML, the report attached under its file name and MIME type.

    ``message_id`` is fixed per delivery, so a retried delivery carries the same Message-ID (mail systems drop
    a duplicate).
    """
    message = EmailMessage()
    message["Subject"] = summary.title
    message["From"] = settings.sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message.set_content(summary.text)
    message.add_alternative(summary.html, subtype="html")
    maintype, _, subtype = export.mime.partition("/")
    message.add_attachment(export.data, maintype=maintype, subtype=subtype, filename=export.filename)
    return message


def send_message(settings: SmtpSettings, message: EmailMessage) -> None:
    """Hand ``message`` to the server. Raises :class:`EmailError` with a clear cause (refused login, server not
    reachable, certificate not trusted, recipient refused)."""
    where = f"{settings.host}:{settings.port}"
    try:
        if settings.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_s,
                                                    context=settings.tls_context())
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
        with client:
            if settings.security == "starttls":
                client.starttls(context=settings.tls_context())
            if settings.user:
                client.login(settings.user, settings.password)
            client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise EmailError(f"the SMTP server {where} refused the login of {settings.user!r} ({exc.smtp_code}); "
                         "check VBL_SMTP_USER and VBL_SMTP_PASSWORD") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise EmailError(f"the SMTP server {where} does not support what was asked ({exc}); check "
                         "VBL_SMTP_SECURITY (starttls, ssl or plain) and whether it accepts a login") from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(sorted(exc.recipients))
        raise EmailError(f"the SMTP server {where} refused the recipient(s) {refused}") from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise EmailError(f"the SMTP server {where} answered {exc.smtp_code} {text}") from None
    except ssl.SSLError as exc:
        raise EmailError(f"the TLS connection to {where} failed ({exc.reason or exc}); check VBL_SMTP_SECURITY, "
                         "the port, and VBL_SMTP_CA_FILE if the server uses a private certificate") from None
    except (smtplib.SMTPException, socket.gaierror, OSError) as exc:
        raise EmailError(f"the SMTP server {where} cannot be reached ({exc.__class__.__name__}: {exc}); check "
                         "VBL_SMTP_HOST and VBL_SMTP_PORT and that the server is running") from None
