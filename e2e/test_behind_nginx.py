"""affsrv behind nginx with the site file it ships (`deploy/nginx/affsrv.conf`), as the README's
*Going live* tells a merchant to run it: Debian's nginx in front, on loopback ports, with a
certificate made for the test, and `affsrv serve` (gunicorn's sync workers) behind it.

What only the two together can show: that slow clients, which hold a sync worker each when
they reach gunicorn directly, hold nothing behind nginx; that the visitor's address and HTTPS
reach affsrv through the proxy headers (`trusted_proxies = 1`) and a client cannot forge them;
that an oversized API call is still refused by affsrv in its own format; and what landing
links and API calls get while affsrv is down.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.serving import Server, clean_env, free_port, set_up_merchant

SITE_FILE = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "affsrv.conf"
SHOP = "https://shop.example/"  # the default URL in the site file (and affsrv's setting here)
VISITOR = "127.0.0.2"  # a loopback address of its own, so the proxy's view of it can be told


def _nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.fail("nginx is missing: `sudo apt-get install -y nginx`")
    return found


def _replace(text: str, old: str, new: str) -> str:
    # Every value the README tells a merchant to replace must be in the shipped file.
    assert old in text, f"{old!r} is no longer in {SITE_FILE}"
    return text.replace(old, new)


@dataclass
class Nginx:
    https_port: int
    http_port: int
    cafile: Path
    process: subprocess.Popen

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cafile))

    def connection(self, source: str = "127.0.0.1") -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=10,
                                           context=self.tls(), source_address=(source, 0))


def _start_nginx(workdir: Path, affsrv_port: int) -> Nginx:
    workdir.mkdir()
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    https_port, http_port = free_port(), free_port()
    site = SITE_FILE.read_text()
    site = _replace(site, "listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    site = _replace(site, "listen 80;", f"listen 127.0.0.1:{http_port};")
    site = _replace(site, "/etc/letsencrypt/live/affiliates.shop.example/fullchain.pem",
                    str(cert))
    site = _replace(site, "/etc/letsencrypt/live/affiliates.shop.example/privkey.pem", str(key))
    site = _replace(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{affsrv_port};")
    (workdir / "affsrv.conf").write_text(site)
    # The part of nginx.conf a Debian install already has, with everything in the test's folder.
    temp_paths = "\n".join(f"  {kind}_temp_path {workdir / kind};"
                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (workdir / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # workers may read the root-only folder
        + f"daemon off;\nworker_processes 1;\npid {workdir / 'nginx.pid'};\n"
        f"error_log {workdir / 'error.log'};\nevents {{}}\n"
        f"http {{\n  access_log off;\n{temp_paths}\n  include {workdir / 'affsrv.conf'};\n}}\n"
    )
    process = subprocess.Popen(
        [_nginx_binary(), "-p", str(workdir), "-c", str(workdir / "nginx.conf")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", https_port), 1):
            return Nginx(https_port, http_port, cert, process)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    output = process.communicate(timeout=10)[0]
    raise AssertionError(f"nginx did not start:\n{output}")


@dataclass
class Site:
    nginx: Nginx
    affsrv: Server
    db: Path
    key: str
    code: str
    product: str


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    env = clean_env(
        AFFSRV_DATABASE_URL="sqlite:///var/affsrv.db",
        AFFSRV_TRACKING_DEFAULT_URL=SHOP,
        AFFSRV_TRACKING_CLICK_FLUSH_MS="0",  # the click is written before the redirect
        AFFSRV_SERVER_TRUSTED_PROXIES="1",
    )
    merchant = set_up_merchant(tmp_path, env)
    server = Server(tmp_path, env)
    try:
        nginx = _start_nginx(tmp_path / "nginx", server.port)
    except BaseException:
        server.stop()
        raise
    yield Site(nginx, server, tmp_path / "var" / "affsrv.db", merchant.key, merchant.code,
               merchant.product)
    nginx.process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
    try:
        nginx.process.wait(20)
    except subprocess.TimeoutExpired:
        nginx.process.kill()
        nginx.process.wait(10)
    server.stop()


@contextlib.contextmanager
def _slow_clients(count: int, connect: Callable[[], socket.socket]) -> Iterator[None]:
    """``count`` clients that start a request and never finish it: half the headers of a GET,
    or the headers and the first bytes of a POST's body."""
    clients = []
    try:
        for n in range(count):
            client = connect()
            if n % 2:
                client.sendall(b"POST /api HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                               b"\r\nContent-Length: 500\r\n\r\n{\"apikey\":")
            else:
                client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            clients.append(client)
        time.sleep(0.5)  # let the server side take them up
        yield
    finally:
        for client in clients:
            client.close()


def test_slow_clients_hold_affsrvs_workers_directly_but_not_behind_nginx(site):
    direct = ("127.0.0.1", site.affsrv.port)
    # Straight to gunicorn, two slow clients hold both sync workers: nothing else is answered.
    with (_slow_clients(2, lambda: socket.create_connection(direct, 5)),
          pytest.raises(requests.Timeout)):
        requests.get(f"{site.affsrv.base}/healthz", timeout=3)

    def through_nginx() -> socket.socket:
        raw = socket.create_connection(("127.0.0.1", site.nginx.https_port), 5)
        return site.nginx.tls().wrap_socket(raw, server_hostname="127.0.0.1")

    # Behind nginx, eight times as many hold nothing: nginx passes on only whole requests.
    with _slow_clients(16, through_nginx):
        for _ in range(10):
            answer = requests.post(f"{site.nginx.base}/api", timeout=5,
                                   verify=str(site.nginx.cafile), json={
                                       "apikey": site.key, "affiliate": site.code,
                                       "data": {"op": "info"}})
            assert answer.status_code == 200
            assert answer.json()["data"]["code"] == site.code


def test_a_landing_over_https_gets_a_secure_cookie_and_records_the_visitors_address(site):
    connection = site.nginx.connection(source=VISITOR)
    # A client's own forwarding headers are not believed: nginx sets them.
    connection.request("GET", f"/r/{site.code}?p={site.product}", headers={
        "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http",
        "Referer": "https://blog.example/post"})
    answer = connection.getresponse()
    answer.read()
    connection.close()

    assert answer.status == 302
    assert answer.getheader("Location") == f"https://shop.example/widget?maff={site.code}"
    cookie = answer.getheader("Set-Cookie")
    assert cookie.startswith(f"maff={site.code};")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with contextlib.closing(sqlite3.connect(site.db)) as db:
        clicks = db.execute("SELECT ip FROM clicks").fetchall()
    assert clicks == [(VISITOR,)]


def test_plain_http_is_sent_to_https(site):
    answer = requests.get(f"http://127.0.0.1:{site.nginx.http_port}/r/{site.code}?p=1",
                          allow_redirects=False, timeout=5)
    assert answer.status_code == 301
    assert answer.headers["Location"].startswith("https://")
    assert answer.headers["Location"].endswith(f"/r/{site.code}?p=1")


def test_an_oversized_api_call_is_refused_by_affsrv_in_its_own_format(site):
    body = json.dumps({"apikey": site.key, "affiliate": site.code,
                       "data": {"op": "info"}, "pad": "x" * 100_000})
    answer = requests.post(f"{site.nginx.base}/api", data=body, timeout=10,
                           verify=str(site.nginx.cafile),
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["status"] == "error"


def test_a_refusal_made_without_reading_the_body_is_passed_on(site):
    # affsrv refuses a REST call with a wrong key before reading its body. Closing with the body
    # unread reset the connection, and nginx answered its own 502 Bad Gateway page instead
    # (the first of these calls failed so, in the run that found it).
    for _ in range(10):
        answer = requests.put(f"{site.nginx.base}/rest/1.3/products/BOOK-1?site=myshop",
                              data="x" * 500_000, timeout=10, verify=str(site.nginx.cafile),
                              headers={"Authorization": "DEV-X:API-Y"})
        assert answer.status_code == 403, answer.text[:200]


def test_while_affsrv_is_down_landings_reach_the_shop_and_api_calls_get_json(site):
    site.affsrv.stop()
    verify = str(site.nginx.cafile)

    landing = requests.get(f"{site.nginx.base}/r/{site.code}?p={site.product}",
                           allow_redirects=False, timeout=10, verify=verify)
    assert landing.status_code == 302
    assert landing.headers["Location"] == f"{SHOP}?maff={site.code}"
    assert "Set-Cookie" not in landing.headers
    # A malformed code is not passed on to the shop.
    odd = requests.get(f"{site.nginx.base}/r/a%22b", allow_redirects=False, timeout=10,
                       verify=verify)
    assert (odd.status_code, odd.headers["Location"]) == (302, SHOP)

    for path in ("/api", "/index.php"):
        call = requests.post(f"{site.nginx.base}{path}", timeout=10, verify=verify, json={
            "apikey": site.key, "affiliate": site.code, "data": {"op": "info"}})
        assert call.status_code == 503
        assert call.headers["Content-Type"] == "application/json"
        assert call.json() == {"status": "error",
                               "message": "affsrv is not reachable; try again in a minute"}
