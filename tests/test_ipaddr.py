"""``canonical_ip`` takes and writes exactly what ``ipaddress`` does, through a faster IPv4
path."""

from __future__ import annotations

import ipaddress

import pytest

from affsrv.ipaddr import canonical_ip

VALID = [
    "1.2.3.4", "0.0.0.0", "255.255.255.255", " 203.0.113.7 ", "\t10.0.0.1\n",
    "::1", "::", "2001:DB8::1", "2001:db8:0:0:0:0:0:1", "fe80::1%eth0", "::1:0:0:0",
    "64:ff9b::1.2.3.4",
]
INVALID = [
    "", " ", "01.2.3.4", "1.2.3.04", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..3.4", ".1.2.3",
    "1.2.3.4.", "+1.2.3.4", "-1.2.3.4", "0x1.2.3.4", "1.2.3.4 x", "1.2.3.4\x00",
    "\u0661.2.3.4", "1.2.3.4/32", "localhost", "2001:db8::g", ":::",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_addresses_are_written_as_ipaddress_writes_them(text):
    assert canonical_ip(text) == str(ipaddress.ip_address(text.strip()))


@pytest.mark.parametrize("text", [
    "::ffff:1.2.3.4", "::ffff:102:304", "0:0:0:0:0:ffff:1.2.3.4", "::FFFF:0102:0304",
    "::1.2.3.4", "::102:304", "0:0:0:0:0:0:1.2.3.4", " ::ffff:1.2.3.4 ",
])
def test_ipv4_in_ipv6_form_is_the_ipv4_address(text):
    # IPv4-mapped (a dual-stack socket's form of an IPv4 client) and IPv4-compatible.
    assert canonical_ip(text) == "1.2.3.4"


@pytest.mark.parametrize("text", INVALID)
def test_what_ipaddress_refuses_is_refused(text):
    with pytest.raises(ValueError):
        ipaddress.ip_address(text.strip())
    with pytest.raises(ValueError):
        canonical_ip(text)
