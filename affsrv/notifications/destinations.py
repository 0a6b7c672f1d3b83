"""Where notifications may go: public addresses only, unless the configuration names a private
range (``[notifications] allow_private``).

A receiver URL is checked twice. ``affsrv notify add`` refuses a URL whose host is, or resolves
to, a non-public address. At delivery time the check is made again on the addresses the name
resolves to *then*, inside the connection itself: the socket is opened to the very address
that passed the check, so a name that answers a public address to the check and a private one
to the connection (DNS rebinding) cannot steer the worker inside. Redirects are never followed
and proxies from the environment are not used, so no second destination goes unchecked.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import SplitResult, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

from affsrv.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# IPv6 prefixes that carry an IPv4 address in their last 32 bits and reach it (NAT64, the
# deprecated IPv4-compatible form): the IPv4 address inside must be public too.
_EMBEDDING_V4 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::/96"))


class RefusedDestination(DomainError):
    """A receiver URL that must not be contacted (its reason names the host, never the path
    or query)."""


def private_ranges(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``[notifications] allow_private`` as networks (config.py has validated each)."""
    return tuple(ipaddress.ip_network(value) for value in values)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in _EMBEDDING_V4) and int(address) > 1:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """A globally routable unicast address, also when an IPv4 address is written inside an
    IPv6 one (``::ffff:127.0.0.1``, ``::127.0.0.1``, ``64:ff9b::a9fe:a9fe``, 6to4)."""
    if not address.is_global or address.is_multicast:
        return False
    inner = _embedded_ipv4(address)
    return inner is None or is_public(inner)


def address_allowed(address: IPAddress, allowed: Sequence[IPNetwork]) -> bool:
    inner = _embedded_ipv4(address)
    candidates = [address] if inner is None else [address, inner]
    if any(a.version == n.version and a in n for a in candidates for n in allowed):
        return True
    return is_public(address)


def _resolve(host: str, port: int) -> list[tuple[Any, ...]]:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def _address(sockaddr: tuple[Any, ...]) -> IPAddress:
    return ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # no IPv6 zone id


def safe_url(url: str) -> str:
    """``scheme://host:port/path`` of ``url``: no user name, password, query or fragment (what
    may appear in logs and error messages)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(an unparsable URL)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{host}:{port}{parts.path or '/'}"


def parse_receiver_url(url: str) -> SplitResult:
    """The parts of a receiver URL, or DomainError naming what is wrong with its form."""
    if len(url) > 2048:
        raise DomainError("url: must be an http(s) URL of at most 2048 characters")
    if not url.isprintable() or any(c.isspace() for c in url):
        raise DomainError("url: must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not 0-65535
    except ValueError:
        raise DomainError("url: must be an http(s) URL") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise DomainError("url: must be an http(s) URL")
    return parts


def check_receiver_url(url: str, allowed: Sequence[IPNetwork]) -> None:
    """Refuse ``url`` unless every address its host is or resolves to now is public or in an
    ``allowed`` range. A name that does not resolve yet is accepted (it is checked again at
    every delivery)."""
    parts = parse_receiver_url(url)
    host = parts.hostname or ""
    try:
        infos = _resolve(host, parts.port or 80)
    except (socket.gaierror, UnicodeError):
        return
    try:
        ipaddress.ip_address(host)
        what = f"{host} is not a public address"
    except ValueError:
        what = f"{host} resolves to {{}}, which is not a public address"
    for info in infos:
        address = _address(info[4])
        if not address_allowed(address, allowed):
            raise RefusedDestination(
                f"url: {what.format(address)}; receivers must be public unless "
                "[notifications] allow_private names its range"
            )


# --- delivery: a requests session that connects only to addresses it checked -------------

def _guarded_connection(base: type[HTTPConnection],
                        allowed: Sequence[IPNetwork]) -> type[HTTPConnection]:
    class GuardedConnection(base):  # type: ignore[valid-type,misc]
        """Resolves the host itself and connects to the first allowed address; TLS still
        verifies the certificate against the host name."""

        def _new_conn(self) -> socket.socket:
            try:
                infos = _resolve(self._dns_host, self.port)
            except socket.gaierror as exc:
                raise NewConnectionError(self, f"cannot resolve {self._dns_host}: {exc}") \
                    from exc
            refused: list[str] = []
            last_error: OSError | None = None
            for family, kind, proto, _name, sockaddr in infos:
                address = _address(sockaddr)
                if not address_allowed(address, allowed):
                    refused.append(str(address))
                    continue
                sock = socket.socket(family, kind, proto)
                try:
                    for option in self.socket_options or ():
                        sock.setsockopt(*option)
                    sock.settimeout(self.timeout)  # type: ignore[arg-type]
                    sock.connect(sockaddr)
                    return sock
                except OSError as exc:
                    sock.close()
                    last_error = exc
            if last_error is not None:
                raise NewConnectionError(
                    self, f"Failed to establish a new connection: {last_error}")
            where = (f"{self._dns_host} is" if refused == [self._dns_host]
                     else f"{self._dns_host} resolves to {', '.join(refused)}:")
            raise RefusedDestination(
                f"{where} not a public address and not in [notifications] allow_private; "
                "not contacted")

    return GuardedConnection


class GuardedAdapter(HTTPAdapter):
    """An HTTP(S) adapter whose connections open only to allowed addresses."""

    def __init__(self, allowed: Sequence[IPNetwork]) -> None:
        self.allowed = tuple(allowed)
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        http = type("GuardedHTTPPool", (HTTPConnectionPool,), {
            "ConnectionCls": _guarded_connection(HTTPConnection, self.allowed)})
        https = type("GuardedHTTPSPool", (HTTPSConnectionPool,), {
            "ConnectionCls": _guarded_connection(HTTPSConnection, self.allowed)})
        self.poolmanager.pool_classes_by_scheme = {"http": http, "https": https}


def guarded_session(allowed: Sequence[IPNetwork]) -> requests.Session:
    """A session for posting to receivers: allowed addresses only, no proxies from the
    environment (a proxy would make the connection on its own terms)."""
    session = requests.Session()
    session.trust_env = False
    adapter = GuardedAdapter(allowed)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def describe_failure(exc: BaseException, url: str) -> str:
    """A delivery failure as text for the outbox and general.log, with the URL's user name,
    password, query and fragment removed wherever the exception's message repeats them."""
    text = f"{type(exc).__name__}: {exc}"
    parts = urlsplit(url)
    secrets = [url]
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    if parts.query or parts.fragment:
        secrets.append(target)
    secrets += [parts.query, parts.fragment, parts.username or "", parts.password or ""]
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, safe_url(url) if secret == url else
                            (parts.path or "/") if secret == target else "[redacted]")
    return text[:1000]
