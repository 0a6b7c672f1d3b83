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
