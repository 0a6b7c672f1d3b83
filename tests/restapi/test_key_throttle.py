"""Wrong clerk keys are throttled per client address and per clerk key sent: 429 with
Retry-After, plain text like every REST refusal; logged in summary."""

from __future__ import annotations

from tests.helpers import log_records

ATTACKER = {"REMOTE_ADDR": "203.0.113.8"}
PATH = "/rest/1.3/orders2/count"


def _get(client, authorization, environ=ATTACKER):
    return client.get(PATH, headers={"Authorization": authorization,
                                     "Accept": "application/json"}, environ_base=environ)


def test_wrong_keys_are_throttled_per_address(make_app, limit_storage):
    app = make_app(limits={**limit_storage, "rest_key_failures_per_address": "10 per minute"})
    from affsrv.clerkkeys.services import ROLES, create_clerk_key

    with app.app_context():
        right = create_clerk_key(ROLES, "tests", sites=["myshop"])[1]
    client = app.test_client()

    answers = [_get(client, f"API-WRONG{n}") for n in range(1000)]
    assert [a.status_code for a in answers[:10]] == [403] * 10
    assert {a.status_code for a in answers[10:]} == {429}
    last = answers[-1]
    assert last.mimetype == "text/plain" and last.text.startswith("too many failed attempts")
    assert 1 <= int(last.headers["Retry-After"]) <= 60
    # Every path of the API shares the count; the right key from there waits too.
    assert _get(client, right).status_code == 429
    assert client.get("/rest/1.3/shipping2/count", headers={"Authorization": right},
                      environ_base=ATTACKER).status_code == 429
    assert _get(client, right, {"REMOTE_ADDR": "198.51.100.21"}).status_code == 200

    lines = log_records(app, "general")
    assert [line["event"] for line in lines] == [
        "rest key refused (the first this minute from this address; more are counted by the "
        "throttle)", "throttling failed attempts"]
    assert "WRONG" not in str(lines)  # no key, right or wrong, in a log


def test_one_key_guessed_from_many_addresses_is_throttled(make_app, limit_storage):
    """The per-key count: a known clerk key with guessed developer keys, from everywhere."""
    app = make_app(limits={**limit_storage, "rest_key_failures_per_address": "100 per minute",
                           "rest_key_failures_per_key": "5 per minute"})
    from affsrv.clerkkeys.services import ROLES, create_clerk_key

    with app.app_context():
        right = create_clerk_key(ROLES, "tests", sites=["myshop"])[1]
        other = create_clerk_key(ROLES, "tests", sites=["myshop"])[1]
    clerk = right.split(":")[1]
    client = app.test_client()
    statuses = [_get(client, f"DEV-GUESS{n}:{clerk}", {"REMOTE_ADDR": f"203.0.113.{n + 1}"})
                .status_code for n in range(8)]
    assert statuses == [403] * 5 + [429] * 3
    # Another key, from one of those addresses, is not held up.
    assert _get(client, other, {"REMOTE_ADDR": "203.0.113.1"}).status_code == 200


def test_a_key_lacking_a_role_is_not_a_wrong_key(make_app, limit_storage):
    app = make_app(limits={**limit_storage, "rest_key_failures_per_address": "2 per minute"})
    from affsrv.clerkkeys.services import ORDER_READ, PRODUCTS_CLIENT, create_clerk_key

    with app.app_context():
        products_only = create_clerk_key([PRODUCTS_CLIENT], "tests", sites=["myshop"])[1]
        reader = create_clerk_key([ORDER_READ], "tests", sites=["myshop"])[1]
    client = app.test_client()
    for _ in range(5):
        assert _get(client, products_only).status_code == 403
    assert _get(client, reader).status_code == 200
