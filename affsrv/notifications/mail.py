"""Sending one e-mail over SMTP (plain, STARTTLS or SSL; optional login)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any


class UndeliverableMail(Exception):
    """The mail server refused this message for good: sending it again cannot help."""


def send_mail(config: Mapping[str, Any], to: str, subject: str, body: str) -> None:
    """Send ``body`` to ``to``. Raises ``UndeliverableMail`` when the server refuses it for
    good, ``smtplib.SMTPException`` or ``OSError`` when a later try may work."""
    message = EmailMessage()
    message["From"] = config["from"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=config["from"].rpartition("@")[2] or None)
    message.set_content(body)
    host, port, timeout = config["host"], config["port"], config["timeout_seconds"]
    security = config["security"]
    smtp: smtplib.SMTP
    if security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config["username"]:
            smtp.login(config["username"], config["password"])
        try:
            smtp.send_message(message)
        except smtplib.SMTPNotSupportedError:
            # A non-ASCII address (jörg@...) needs SMTPUTF8, which this server does not offer.
            raise UndeliverableMail(
                f"the mail server does not take non-ASCII addresses (no SMTPUTF8): {to}"
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _text in exc.recipients.values()}
            if all(code >= 500 for code in codes):  # 5xx: permanent; 4xx: try again later
                reasons = "; ".join(f"{address}: {code} {text.decode(errors='replace')}"
                                    for address, (code, text) in exc.recipients.items())
                raise UndeliverableMail(f"recipient refused: {reasons}") from None
            raise
