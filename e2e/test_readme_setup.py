"""The README's set-up, as a merchant who has never seen affsrv follows it: its first command
(``pip install . && affsrv serve``) run verbatim in a copy of the repository, installing into
a fresh virtual environment (a regular install, not an editable one, so the package must carry
its migrations and data files itself), then the commands of "First steps as a merchant", the
link the README gives Ann, and API calls with the key the first start printed; then a
notification receiver on this machine gets the next sale (the worker ``affsrv serve`` starts,
in the checkout's folder, runs the installed package and delivers).

Slow (pip installs every dependency, from the local cache when CI's own install filled it), so
it lives with the other end-to-end tests, outside plain ``pytest``.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import threading
import time
import venv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.clickbank.support import Receiver
from tests.notifications.support import opened
from tests.serving import clean_env, free_port

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
START_SECONDS = 600  # pip install from a cold cache, then the first start


def sh_blocks(section: str) -> list[list[str]]:
    """The ``sh`` code blocks of one README section, as lists of command lines (comments and
    blank lines dropped)."""
    body = README.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", body, flags=re.S)
    return [
        [line.split("  #", 1)[0].strip() for line in block.splitlines()
         if line.strip() and not line.lstrip().startswith("#")]
        for block in blocks
    ]


def copy_of_repository(target: Path) -> Path:
    """The files a fresh clone would hold (tracked and new, not ignored ones: no ``.venv``, no
    ``var/``), copied to ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(source.read_bytes())
    return target


@dataclass
class Started:
    """The README's first command, running: its output so far, read by a thread."""

    proc: subprocess.Popen
    base: str
    lines: list[str] = field(default_factory=list)

    def read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return self.proc.returncode


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Started, Path, dict]]:
    root = tmp_path_factory.mktemp("merchant")
    checkout = copy_of_repository(root / "affsrv")
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=True)
    port = free_port()
    env = clean_env(
        PATH=f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
        VIRTUAL_ENV=str(env_dir),
        # The settings the merchant does not make: a free port instead of 8000, and
        # notification receivers allowed on loopback (the test's receiver listens there).
        AFFSRV_SERVER_BIND=f"127.0.0.1:{port}",
        AFFSRV_NOTIFICATIONS_ALLOW_PRIVATE="127.0.0.0/8",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    (command,) = sh_blocks("Set up")[0][:1]
    started = Started(
        subprocess.Popen(
            ["bash", "-c", command], cwd=checkout, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        ),
        f"http://127.0.0.1:{port}",
    )
    reader = threading.Thread(target=started.read, daemon=True)
    reader.start()
    deadline = time.monotonic() + START_SECONDS
    try:
        while time.monotonic() < deadline and started.proc.poll() is None:
            try:
                requests.get(started.base + "/r/x", allow_redirects=False, timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        else:
            pytest.fail(f"`{command}` did not bring a server up:\n{started.output[-4000:]}")
        yield started, checkout, env
    finally:
        started.stop()
        reader.join(10)


def the_first_key(output: str) -> str:
    lines = output.splitlines()
    notice = next(i for i, line in enumerate(lines) if "first API key was created" in line)
    return lines[notice + 1].strip()


def test_the_first_command_installs_and_serves_on_sqlite(setup) -> None:
    started, checkout, env = setup
    assert sh_blocks("Set up")[0] == ["pip install . && affsrv serve"]
    # A regular install: affsrv runs from the virtual environment, not from the checkout.
    where = subprocess.run(
        ["python", "-c", "import affsrv, sys; print(affsrv.__file__); print(sys.prefix)"],
        cwd=checkout.parent, env=env, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert where[0].startswith(str(Path(env["VIRTUAL_ENV"]))), where
    assert (checkout / "var" / "affsrv.db").is_file()  # the README: "under ./var/"
    key = the_first_key(started.output)
    assert re.fullmatch(r"affsrv_[A-Za-z0-9_-]{20,}", key), started.output
    # The key works: a call with it reaches the affiliate check; without it, 403.
    answer = requests.post(started.base + "/api", json={
        "apikey": key, "affiliate": "nobody", "data": {"op": "info"}}, timeout=10)
    assert answer.status_code == 404
    assert answer.json() == {"status": "error", "message": answer.json()["message"]}
    assert "nobody" in answer.json()["message"]
    refused = requests.post(started.base + "/api", json={
        "apikey": key + "x", "affiliate": "nobody", "data": {"op": "info"}}, timeout=10)
    assert refused.status_code == 403


def test_first_steps_as_a_merchant_then_anns_link_and_sale(setup) -> None:
    started, checkout, env = setup
    key = the_first_key(started.output)
    printed = []
    for line in sh_blocks("First steps as a merchant")[0]:
        done = subprocess.run(shlex.split(line), cwd=checkout, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        printed.append(done.stdout.strip().splitlines()[-1])
    product_id, ann, bob, shop_key = printed
    assert (product_id, ann, bob) == ("1", "1", "bob")
    assert shop_key.startswith("affsrv_") and shop_key != key

    # "Give Ann her link: https://affiliates.shop.example/r/1?p=1"
    assert "`https://affiliates.shop.example/r/1?p=1`" in README
    landing = requests.get(started.base + "/r/1?p=1", allow_redirects=False, timeout=10,
                           headers={"Referer": "https://blog.example/post"})
    assert landing.status_code == 302
    assert landing.headers["Location"] == "https://shop.example/widget?maff=1"
    assert landing.cookies["maff"] == "1"

    sale = requests.post(started.base + "/api", json={
        "apikey": shop_key, "affiliate": "bob",
        "commission": {"product": 1, "saletotal": "40.00", "commtotal": "1.00",
                       "ip": "203.0.113.9", "ref": "order-1"}}, timeout=10)
    assert sale.status_code == 200, sale.text
    assert sale.json()["status"] == "ok"
    approved = subprocess.run(["affsrv", "commission", "approve", "--all"], cwd=checkout,
                              env=env, capture_output=True, text=True, timeout=120)
    assert approved.returncode == 0, approved.stderr
    totals = requests.post(started.base + "/api", json={
        "apikey": shop_key, "affiliate": "bob", "data": {"op": "commissions"}}, timeout=10)
    assert totals.status_code == 200
    # Bob's commtier of 17.5% wins over the commtotal sent.
    assert totals.json()["data"]["1"]["commission_total"] == "7.00"
    assert totals.json()["data"]["1"]["sale_total"] == "40.00"


def test_a_notification_reaches_a_receiver(setup) -> None:
    """The worker the first command started (in the repository's folder, where ``python``
    would import the checkout rather than the installed package) delivers the next sale."""
    started, checkout, env = setup
    key = the_first_key(started.output)
    receiver = Receiver()
    with receiver.running():
        added = subprocess.run(
            ["affsrv", "notify", "add", "--url", receiver.url, "--secret-key", "E2EKEY1"],
            cwd=checkout, env=env, capture_output=True, text=True, timeout=120)
        assert added.returncode == 0, added.stderr
        sale = requests.post(started.base + "/api", json={
            "apikey": key, "affiliate": "bob",
            "commission": {"product": 1, "saletotal": "30.00", "commtotal": "1.00",
                           "ip": "203.0.113.10", "ref": "order-2"}}, timeout=10)
        assert sale.status_code == 200, sale.text
        deadline = time.monotonic() + 60
        while not receiver.bodies and time.monotonic() < deadline:
            time.sleep(0.2)
    assert receiver.bodies, started.output[-4000:]
    sent = opened(receiver.bodies[0], "E2EKEY1")
    assert (sent["transactionType"], sent["receipt"], sent["affiliate"]) == (
        "SALE", "order-2", "bob")
    health = requests.get(started.base + "/healthz", timeout=10).json()
    assert health["worker"] == "ok" and health["status"] == "ok", health


def test_data_files_ship_with_the_package(setup) -> None:
    started, _, _ = setup
    schema = requests.get(started.base + "/rest/1.3/products/schema", timeout=10)
    assert schema.status_code == 200
    assert b"<xs:schema" in schema.content or b"<xsd:schema" in schema.content


def test_the_server_stops_cleanly(setup) -> None:
    started, checkout, _ = setup
    assert started.stop() == 0, started.output[-4000:]
    assert (checkout / "logs").is_dir()

