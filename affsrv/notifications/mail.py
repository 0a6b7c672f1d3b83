"""Sending one e-mail over SMTP (plain, STARTTLS or SSL; optional login)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any


def send_mail(config: Mapping[str, Any], to: str, subject: str, body: str) -> None:
    """Send ``body`` to ``to``; raises ``smtplib.SMTPException`` or ``OSError`` on failure."""
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
        smtp.send_message(message)
