"""The failure limits' storage: when the configured Redis cannot be reached, counting goes on in
memory; no request fails for it and no attempt goes uncounted."""

from __future__ import annotations

from tests.clickbank.support import closed_port


def test_an_unreachable_redis_falls_back_to_memory(make_app):
    app = make_app(limits={"storage_url": f"redis://127.0.0.1:{closed_port()}/0",
                           "ins_failures_per_address": "3 per minute"})
    client = app.test_client()
    statuses = [client.post("/ins/clickbank/nobody", json={"iv": "", "notification": ""})
                .status_code for _ in range(6)]
    assert statuses == [400, 400, 400, 429, 429, 429]


def _limiters_state_after(app, method, path, **kwargs):
    """Which limiters left state (tested limits, deductions due) on the request's context."""
    from flask.globals import request_ctx

    from affsrv.ratelimits import _LIMITER_CONTEXT

    with app.test_client() as client:  # keeps the last request's context until the block ends
        response = client.open(path, method=method, **kwargs)
        return response, set(getattr(request_ctx._get_current_object(), _LIMITER_CONTEXT, {}))


def test_paths_without_limits_skip_the_limiters_hooks(make_app, limit_storage, api_key):
    """The landing link has no limit and the Data API's is on its view: neither runs a
    limiter's app-wide check (a third of their CPU with two limiters), nor, while the limit
    is not used up, Flask-Limiter's per-request check of the view's limit (the lean path of
    ``failure_limit``); the blueprints with limits (the REST API's) still test theirs. That
    the limits still hold: tests/*/test_key_throttle.py."""
    from affsrv.ratelimits import limiter
    from tests.helpers import add_affiliate

    app = make_app(limits=limit_storage)
    code = add_affiliate(app)
    landing, state = _limiters_state_after(app, "GET", f"/r/{code}")
    assert landing.status_code == 302 and state == set()
    call = {"apikey": api_key, "affiliate": code, "data": {"op": "info"}}
    answer, state = _limiters_state_after(app, "POST", "/api", json=call)
    assert answer.status_code == 200 and state == set()
    rest, state = _limiters_state_after(app, "GET", "/rest/1.3/orders2/count")
    assert rest.status_code >= 400 and state == {limiter}  # its blueprint's limits
