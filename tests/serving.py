"""`affsrv` as an operator runs it: its commands, and `affsrv serve` (gunicorn) on a free
loopback port, for the tests that go through a real server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any ``AFFSRV_`` variable, plus ``settings``: affsrv
    configured by nothing but what the test gives it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFSRV_")}
    env.update(settings)
    return env


def run_affsrv(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "affsrv", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def affsrv_output(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """The last line a command that must succeed printed (a new key, code or id)."""
    done = run_affsrv(args, cwd, env)
    assert done.returncode == 0, done.stderr
    return (done.stdout.strip().splitlines() or [""])[-1]


@dataclass(frozen=True)
class Merchant:
    """What ``set_up_merchant`` made: an API key, an affiliate's code and a product's id."""

    key: str
    code: str
    product: str


def set_up_merchant(cwd: Path, env: dict[str, str],
                    product_url: str = "https://shop.example/widget") -> Merchant:
    """A merchant's first steps, with the ``affsrv`` command as they take them: the schema, an
    API key, an affiliate (Ann Lee) and a product landing on ``product_url``."""
    affsrv_output(["db", "upgrade"], cwd, env)
    key = affsrv_output(["apikey", "create"], cwd, env)
    code = affsrv_output(["affiliate", "add", "--email", "ann@example.com", "--fname", "Ann",
                          "--lname", "Lee"], cwd, env)
    product = affsrv_output(["product", "add", "--name", "Widget", "--url", product_url],
                            cwd, env)
    return Merchant(key, code, product)


class Server:
    def __init__(self, cwd: Path, env: dict[str, str], with_worker: bool = False,
                 host: str = "127.0.0.1", python_flags: tuple[str, ...] = (),
                 port: int | None = None) -> None:
        """``affsrv serve`` on ``host`` (reached through 127.0.0.1) and ``port`` (default: a
        free one); ``python_flags`` are the interpreter's (``-P``: not the working folder
        first)."""
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, *python_flags, "-m", "affsrv", "serve",
             "--bind", f"{host}:{self.port}", "--workers", "2",
             *([] if with_worker else ["--no-worker"])],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(self.base + "/r/x", allow_redirects=False, timeout=1)
                return
            except requests.ConnectionError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"server did not start:\n{self.output}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.output = self.proc.stdout.read() if self.proc.stdout else ""
