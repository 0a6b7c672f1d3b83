"""IP addresses in one canonical text form (what is stored and compared for self-referral)."""

from __future__ import annotations

import ipaddress
import socket


def canonical_ip(text: str) -> str:
    """``text`` (surrounding blanks allowed) as its canonical address text; ValueError if it
    is not an IPv4 or IPv6 address. The landing link does this on every click."""
    text = text.strip()
    try:
        # IPv4, the common case, by the C library: it takes exactly what ``ipaddress`` takes
        # (four decimal octets, no leading zeros) and writes the same text, without ipaddress's
        # pure-Python parsing.
        return socket.inet_ntop(socket.AF_INET, socket.inet_pton(socket.AF_INET, text))
    except (OSError, ValueError):
        pass
    # IPv6 (and every refusal) by ``ipaddress``: the C library writes some IPv6 forms
    # differently (``::ffff:1.2.3.4``, which ipaddress writes ``::ffff:102:304``).
    return str(ipaddress.ip_address(text))
