"""IP addresses in one canonical text form (what is stored and compared for self-referral).

An IPv4 address written in IPv6 form is the IPv4 address: IPv4-mapped (``::ffff:1.2.3.4``,
``::ffff:102:304``, ``0:0:0:0:0:ffff:1.2.3.4``), which a dual-stack socket reports for an IPv4
client, and the deprecated IPv4-compatible form (``::1.2.3.4``). Each is stored and compared as
``1.2.3.4``, so no spelling of the affiliate's own address passes the self-referral check.
"""

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
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or _ipv4_compatible(address)
        if embedded is not None:
            return str(embedded)
    return str(address)


def _ipv4_compatible(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address of ``::a.b.c.d`` (the first 96 bits zero), except ``::`` and the
    loopback ``::1``, which are IPv6's own."""
    number = int(address)
    if number >> 32 or number <= 1:
        return None
    return ipaddress.IPv4Address(number)
