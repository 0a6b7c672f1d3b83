"""``affsrv serve``: upgrade the schema, make a first API key, run gunicorn."""

from __future__ import annotations

import gc
import ipaddress
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from affsrv.apikeys.services import ensure_api_key
from affsrv.app import create_app
from affsrv.config import INT_RANGES, TEXT_RULES, bind_host
from affsrv.logs import get_log


class SupervisingArbiter(Arbiter):
    """Gunicorn's master, which also keeps the notification worker running: the process that
    already restarts dead HTTP workers checks it on every turn of its loop (at least once a
    second, at once when a child exits). No thread is added to a process that forks."""

    def __init__(self, app: Any, supervisor: Any) -> None:
        self.notification_worker = supervisor
        super().__init__(app)

    def reap_workers(self) -> None:
        # Ours first: gunicorn's reaper takes any child's exit status and would read the
        # notification worker's as an HTTP worker's.
        self.notification_worker.check()
        super().reap_workers()

    def manage_workers(self) -> None:
        self.notification_worker.check()
        super().manage_workers()

    def stop(self, graceful: bool = True) -> None:
        self.notification_worker.stop()  # first, so nothing starts it again while stopping
        super().stop(graceful)


class GunicornApp(BaseApplication):
    """Gunicorn running the app ``factory`` builds; each worker calls it itself (no
    connections shared across the fork). The benchmark's bare app runs through it too.
    With a ``supervisor`` (``affsrv.notifications.worker.WorkerSupervisor``) the master keeps
    the notification worker running as well."""

    def __init__(self, options: dict[str, Any], factory: Callable[[], Any],
                 supervisor: Any = None) -> None:
        self.options = options
        self.factory = factory
        self.supervisor = supervisor
        super().__init__()

    def run(self) -> None:
        if self.supervisor is None:
            super().run()
            return
        SupervisingArbiter(self, self.supervisor).run()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        app = self.factory()
        # What the worker keeps for its life (modules, the rollup tables' metadata, ...) out
        # of the cyclic collector's full passes, which walked it all: a long report paid
        # 60 to 100 ms every few requests (docs/reports.md, *The collector's pauses*).
        gc.freeze()
        return app


def _flush_clicks_on_exit(_arbiter: Any, worker: Any) -> None:
    """A stopping worker writes the landing clicks still waiting in its buffer."""
    app = getattr(worker, "wsgi", None)
    if app is not None and "click_buffer" in getattr(app, "extensions", {}):
        app.extensions["click_buffer"].stop()


def gunicorn_options(bind: str, workers: int) -> dict[str, Any]:
    """The gunicorn settings of ``affsrv serve`` (the benchmark runs its bare app with them)."""
    return {
        "bind": bind,
        "workers": workers,
        "worker_class": "sync",
        "accesslog": None,
        "errorlog": "-",
        "graceful_timeout": 10,
        "timeout": 30,
    }


def prepare_database() -> str | None:
    """Create or upgrade the schema; a first API key's plain text when one was made."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    return ensure_api_key()


def exposure_warnings(bind: str, trusted_proxies: int) -> list[str]:
    """What to tell an operator whose ``bind`` listens beyond this machine: sync workers are
    held by slow clients, and forwarding headers from a client that reaches affsrv directly
    would be believed."""
    if bind.startswith("unix:"):
        return []
    host = bind_host(bind)
    try:
        if host == "localhost" or ipaddress.ip_address(host).is_loopback:
            return []
    except ValueError:
        pass  # a host name: it may well resolve to a public address
    warnings = [
        f"warning: listening on {bind}, beyond this machine. gunicorn's sync workers read one "
        "request at a time, so a few slow clients can hold them all: run a buffering reverse "
        "proxy such as nginx in front (deploy/nginx/affsrv.conf) and bind to 127.0.0.1."
    ]
    if trusted_proxies:
        warnings.append(
            f"warning: server.trusted_proxies = {trusted_proxies}, so a client that reaches "
            f"{bind} directly can set the visitor IP and scheme affsrv records with "
            "X-Forwarded-For/-Proto."
        )
    return warnings


def _bind_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    check, rule = TEXT_RULES["server.bind"]
    if value is not None and not check(value):
        raise click.BadParameter(f"must be {rule}")
    return value


@click.command()
@click.option("--bind", default=None, callback=_bind_option,
              help="host:port or unix:path (default: [server] bind).")
@click.option("--workers", type=click.IntRange(*INT_RANGES["server.workers"]), default=None,
              help="Worker processes (default: [server] workers).")
@click.option("--no-worker", is_flag=True,
              help="Do not start the notification worker (run `affsrv worker` elsewhere).")
@with_appcontext
def serve(bind: str | None, workers: int | None, no_worker: bool) -> None:
    """Run affsrv under gunicorn, with the notification and e-mail worker beside it."""
    server = current_app.config["AFFSRV"]["server"]
    new_key = prepare_database()
    if new_key:
        click.echo("A first API key was created. It is shown only this once; keep it:")
        click.echo(new_key)
    options = gunicorn_options(bind or server["bind"], workers or server["workers"])
    options["worker_exit"] = _flush_clicks_on_exit
    click.echo(f"affsrv listening on http://{options['bind']} ({options['workers']} workers)")
    for warning in exposure_warnings(options["bind"], server["trusted_proxies"]):
        click.echo(warning, err=True)
    supervisor = None
    if not no_worker:
        from affsrv.notifications.worker import WorkerSupervisor

        general = get_log("general")

        def report(message: str, problem: bool) -> None:
            click.echo(message)
            if problem:
                general.error(message)

        supervisor = WorkerSupervisor(report=report)
        supervisor.start()
    try:
        GunicornApp(options, create_app, supervisor).run()
    finally:
        if supervisor is not None:
            supervisor.stop()
