"""Writing e-mail text, and sending one e-mail over SMTP (plain, STARTTLS or SSL; optional
login)."""

from __future__ import annotations

import re
import smtplib
import ssl
import string
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

# Characters that break a line or control a terminal: C0 and C1 controls, DEL, and Unicode's
# line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def fold_controls(text: str) -> str:
    """``text`` on one line: each control character written as its escape (``\\r``, ``\\n``,
    ``\\x1b``, ``\\u2028``)."""
    return _CONTROL.sub(_escape, text)


class _MailFormatter(string.Formatter):
    def format_field(self, value: object, format_spec: str) -> str:
        return fold_controls(super().format_field(value, format_spec))


_formatter = _MailFormatter()


def mail_text(template: str, /, **values: object) -> str:
    """``template`` (``str.format`` syntax) with ``values`` filled in, every value on one line:
    the line breaks of an e-mail are the template's, never a value's. A value sent by a client
    (a ref ``"x\\r\\nBcc: ..."``) cannot add a line that reads as a header or as text of ours.
    Every e-mail affsrv writes is made with this."""
    return _formatter.vformat(template, (), values)


class UndeliverableMail(Exception):
    """The mail server refused this message for good: sending it again cannot help."""


def send_mail(config: Mapping[str, Any], to: str, subject: str, body: str) -> None:
    """Send ``body`` to ``to``. Raises ``UndeliverableMail`` when the server refuses it for
    good, ``smtplib.SMTPException`` or ``OSError`` when a later try may work."""
    message = EmailMessage()
    message["From"] = config["from"]
    message["To"] = to
    message["Subject"] = fold_controls(subject)  # a header is one line
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
