"""Throttling of failed attempts (wrong keys, notifications that do not decrypt), with
Flask-Limiter: the project's one rate-limiting mechanism.

Only failures count: a view that refuses a request for a reason worth throttling calls
``count_failure()``, and the limits made by ``failure_limit`` deduct after the answer only then
(Flask-Limiter's ``deduct_when``). Before each request the limits are tested, so once a client has
used up its failures every request of it, right or wrong, is answered 429 with ``Retry-After``
(in the format of the API the path belongs to) until the window passes.

Counters live in process (``memory://``, per worker) unless ``[limits] storage_url`` names a
Redis server, which all workers and hosts then share. Should Redis become unreachable, counting
falls back to memory rather than failing requests or letting every attempt through.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable, Sequence
from functools import lru_cache, partial, wraps
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from flask.globals import request_ctx
from flask_limiter import Limiter, RateLimitExceeded, RequestLimit
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse, parse_many

from affsrv.error_formats import error_format, json_error
from affsrv.logs import get_log

_FAILED = "affsrv_failed_attempt"
# The log lines about one throttled key: at most one per window of the limit it broke.
_LOG_ONCE_PER = "affsrv-log"


def _prefix() -> str:
    return current_app.config["AFFSRV"]["limits"]["key_prefix"]


def client_network() -> str:
    """The client's address; for IPv6 its /64, as one host commonly holds the whole /64 (each
    of its addresses would otherwise get its own failures)."""
    return _network_of(get_remote_address() or "unknown")


# Parsing an address (about 3 us) ran twice a Data API call; a client's calls repeat it.
@lru_cache(maxsize=4096)
def _network_of(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def address_key() -> str:
    return f"{_prefix()}/address/{client_network()}"


def secret_key(value: str) -> str:
    """A counter key for a secret value (a clerk key): its digest, never the value."""
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{_prefix()}/key/{digest}"


def _once(window: RateLimitItem, *identifiers: str) -> bool:
    """True the first time in ``window`` for these identifiers."""
    once = type(window)(1, window.multiples, namespace=_LOG_ONCE_PER)
    try:
        return limiter.limiter.hit(once, *identifiers)
    except Exception:  # the storage unreachable: rather a line too many than none
        return True


def _on_breach(breached: RequestLimit) -> None:
    """Log once per window of the broken limit, not once per refused request."""
    if _once(breached.limit, "breach", *breached.request_args):
        # ClickBank intake logs its refusals in commission.log; the APIs' keys in general.log.
        log = "commission" if request.path.startswith("/ins/") else "general"
        get_log(log).warning(
            "throttling failed attempts", path=request.path, limit=str(breached.limit),
            key=breached.key, remote=request.remote_addr,
            retry_after=_retry_after(breached),
        )


limiter = Limiter(
    key_func=address_key,
    strategy="fixed-window",
    headers_enabled=False,  # X-RateLimit-* would differ between otherwise identical answers
    in_memory_fallback_enabled=True,
    on_breach=_on_breach,
)


def init_app(app: Flask) -> None:
    config = app.config["AFFSRV"]["limits"]
    app.config["RATELIMIT_STORAGE_URI"] = config["storage_url"] or "memory://"
    # Connection problems surface quickly; the in-memory fallback then counts.
    if config["storage_url"]:
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_connect_timeout": 2,
                                                   "socket_timeout": 2}
    limiter.init_app(app)
    # A new app's storage starts alive: the limiter is module-level, and an earlier app of this
    # process (tests build many) may have marked its own storage dead.
    limiter._storage_dead = False
    check_only_where_limited(app, limiter)
    app.register_error_handler(RateLimitExceeded, _throttled)


# Where Flask-Limiter keeps a request's state (the limits it tested, the deductions to make
# after the answer) on the request context; checked once per app (``_context_is_where``).
_LIMITER_CONTEXT = "_limiter_request_context"


def check_only_where_limited(app: Flask, extension: Limiter,
                             blueprints: Sequence[str] | None = None) -> None:
    """Run ``extension``'s app-wide hooks only on the requests they can act on; with
    ``blueprints``, only on those blueprints' requests (for a limiter whose limits are all on
    their views: the pages' sign-in throttle), so no other request runs them at all.

    Flask-Limiter registers a before-request check, an after-request hook (the deductions of
    ``deduct_when`` limits) and a teardown for every request, and each instance does it again:
    with two limiters that was about a third of the landing link's and the Data API's CPU,
    for no limit at all (the landing link has none; the Data API's is on its view, which checks
    it itself). The app-wide check can only apply application, default and meta limits, which
    affsrv's limiters have none of, and the limits of the request's blueprint: it runs when
    there are any of the first three, else when the request's blueprint has limits (looked up
    once per blueprint). The after-request hook and the teardown only act on the state the
    check (app-wide or a decorated view's) left on the request context: they run when there is
    some. Every limit is therefore tested and deducted as before (tests/test_ratelimits.py).
    Should a Flask-Limiter release keep its state elsewhere, the hooks stay as they are."""
    if not _context_is_where(app, extension):
        return
    before, after, teardown = _hooks_of(app, extension)
    if before is None or after is None or teardown is None:
        return
    has_own_limits: list[bool] = []  # decided on the first request (the limits may read config)
    blueprint_limited: dict[str | None, bool] = {}

    def needs_check() -> bool:
        if not has_own_limits:
            manager = extension.limit_manager
            has_own_limits.append(bool(
                manager.application_limits or manager.default_limits
                or getattr(extension, "_meta_limits", True)))
        if has_own_limits[0]:
            return True
        blueprint = request.blueprint
        limited = blueprint_limited.get(blueprint)
        if limited is None:
            limited = blueprint_limited[blueprint] = bool(
                blueprint and extension.limit_manager.blueprint_limits(current_app, blueprint))
        return limited

    def check_request_limit() -> None:
        if needs_check():
            before()

    def deduct_after(response: Response) -> Response:
        if extension in getattr(request_ctx._get_current_object(), _LIMITER_CONTEXT, ()):
            return after(response)
        return response

    def release(exc: BaseException | None = None) -> None:
        if extension in getattr(request_ctx._get_current_object(), _LIMITER_CONTEXT, ()):
            teardown(exc)

    if blueprints is None:
        _replace(app.before_request_funcs[None], before, check_request_limit)
        _replace(app.after_request_funcs[None], after, deduct_after)
        _replace(app.teardown_request_funcs[None], teardown, release)
        return
    app.before_request_funcs[None].remove(before)
    app.after_request_funcs[None].remove(after)
    app.teardown_request_funcs[None].remove(teardown)
    for name in blueprints:
        # By name: a blueprint registered later adds its own hooks after these.
        app.before_request_funcs.setdefault(name, []).append(check_request_limit)
        app.after_request_funcs.setdefault(name, []).append(deduct_after)
        app.teardown_request_funcs.setdefault(name, []).append(release)


def _context_is_where(app: Flask, extension: Limiter) -> bool:
    with app.test_request_context("/.limiter-check"):  # a path without a session
        _ = extension.context
        return extension in getattr(request_ctx._get_current_object(), _LIMITER_CONTEXT, ())


def _is_hook_of(function: Any, extension: Limiter) -> bool:
    if isinstance(function, partial):  # the after-request hook: partial(method, limiter)
        return bool(function.args) and function.args[0] is extension
    return getattr(function, "__self__", None) is extension


def _hooks_of(app: Flask, extension: Limiter) -> tuple[Any, Any, Any]:
    found = [[f for f in app.before_request_funcs.get(None, []) if _is_hook_of(f, extension)],
             [f for f in app.after_request_funcs.get(None, []) if _is_hook_of(f, extension)],
             [f for f in app.teardown_request_funcs.get(None, []) if _is_hook_of(f, extension)]]
    before, after, teardown = (hooks[0] if len(hooks) == 1 else None for hooks in found)
    return before, after, teardown


def _replace(hooks: list[Any], old: Any, new: Any) -> None:
    hooks[hooks.index(old)] = new


def _retry_after(breached: RequestLimit | None) -> int:
    if breached is None:
        return 60
    return max(1, math.ceil(breached.window.reset_time - time.time()))


def retry_after_seconds() -> int:
    """For a request refused by one of this limiter's limits: the seconds until it passes
    (``Retry-After``), for views that answer the refusal in their own format."""
    return _retry_after(limiter.current_limit)


def _throttled(_exc: RateLimitExceeded) -> Response:
    seconds = _retry_after(limiter.current_limit)
    render = error_format(current_app, request.path) or json_error
    response = render(429, f"too many failed attempts from here; retry after {seconds} seconds")
    response.headers["Retry-After"] = str(seconds)
    return response


def count_failure() -> None:
    """Count this request against the failure limits of its view (after it is answered)."""
    g.setdefault(_FAILED, True)


def _failed(_response: Response) -> bool:
    return bool(g.get(_FAILED, False))


def failure_limit(setting: str, key_func: Callable[[], str] = address_key) -> Any:
    """A decorator (for a view or a blueprint) throttling the failures ``count_failure``
    marks, with the limits of ``[limits] <setting>``; one counter per key across every view it
    decorates.

    On a blueprint it is Flask-Limiter's ``shared_limit``. On a view (stackable) it is that
    too, plus a lean path in front of it for the common case (see ``_lean_failure_check``)."""
    shared = limiter.shared_limit(
        lambda: current_app.config["AFFSRV"]["limits"][setting],
        scope=setting, key_func=key_func, deduct_when=_failed,
    )

    def apply(target: Any) -> Any:
        if isinstance(target, Blueprint):
            return shared(target)
        below = getattr(target, _LEAN_LIMITS, None)
        view = getattr(target, "__wrapped__", target) if below is not None else target
        limits = [*(below or []), (setting, key_func)]
        # Flask-Limiter's check of every limit on ``view`` (they are registered by its name).
        full_check = shared(view)
        return _lean_failure_check(view, full_check, limits)

    return apply


_LEAN_LIMITS = "_affsrv_failure_limits"


@lru_cache(maxsize=64)
def _limit_items(value: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(value))


def _lean_failure_check(view: Callable[..., Any], full_check: Callable[..., Any],
                        limits: list[tuple[str, Callable[[], str]]]) -> Callable[..., Any]:
    """``view`` behind its failure limits, tested and counted in the storage and under the keys
    Flask-Limiter uses for them (the same counters), without its per-request machinery (which
    cost the Data API about 40% of its CPU): test each limit, answer, count a failure. Anything
    but that common case (a limit used up, the storage failing or down, the limiter disabled)
    is Flask-Limiter's own check, ``full_check``: its 429 and breach log, its fallback to
    memory and its recovery."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        engine = limiter.limiter
        if not limiter.enabled or engine.storage is not limiter.storage:  # counting in memory
            return full_check(*args, **kwargs)
        config = current_app.config["AFFSRV"]["limits"]
        tests = [(item, key, setting) for setting, key_func in limits
                 for key in (key_func(),) for item in _limit_items(config[setting])]
        try:
            within = all(engine.test(item, key, scope) for item, key, scope in tests)
        except Exception:  # the storage failing: Flask-Limiter falls back to memory
            return full_check(*args, **kwargs)
        if not within:
            return full_check(*args, **kwargs)  # it answers 429 and logs the breach
        try:
            return current_app.ensure_sync(view)(*args, **kwargs)
        finally:
            if g.get(_FAILED, False):
                try:
                    for item, key, scope in tests:
                        engine.hit(item, key, scope)
                except Exception:
                    get_log("general").warning("failed attempt not counted: the limits' "
                                               "storage failed", path=request.path)

    setattr(checked, _LEAN_LIMITS, limits)
    return checked


def first_failure_in_window(kind: str, window: str = "1 per minute") -> bool:
    """True for the first failure of ``kind`` from this client in ``window``: a log summarises
    a burst of failures by this line and the breach's, instead of one line per failure."""
    return _once(parse(window), "first", kind, address_key())
