"""Every spelling of an IPv4 address in IPv6 form is that IPv4 address: stored so, and refused
as a self-referral wherever the affiliate's own address is checked (commission and referral
calls, landing clicks direct or behind a proxy)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from affsrv.affiliates.models import Affiliate
from affsrv.commissions.models import Commission
from affsrv.extensions import db
from affsrv.tracking.models import Click
from tests.helpers import add_affiliate, add_product, api, count_rows

OWN = "198.51.100.7"
# IPv4-mapped (dotted, hex, written out) and IPv4-compatible forms of OWN.
FORMS = ["::ffff:198.51.100.7", "::ffff:c633:6407", "0:0:0:0:0:ffff:198.51.100.7",
         "::198.51.100.7", "::FFFF:C633:6407", "0:0:0:0:0:0:198.51.100.7"]


@pytest.fixture
def shop(make_app, api_key):
    app = make_app(commissions={"require_approval": False})
    code = add_affiliate(app, ip=OWN)
    return app, app.test_client(), api_key, code, add_product(app)


@pytest.mark.parametrize("form", FORMS)
def test_a_commission_from_the_affiliates_own_ip_in_ipv6_form_is_refused(shop, form):
    app, client, key, code, pid = shop
    r = api(client, key, code, commission={"product": pid, "saletotal": "10.00", "ip": form})
    assert r.status_code == 403
    assert r.json["message"] == "self-referral refused: the buyer's IP is the affiliate's own IP"
    assert count_rows(app, Commission) == 0


@pytest.mark.parametrize("form", FORMS)
def test_a_referral_from_the_affiliates_own_ip_in_ipv6_form_is_refused(shop, form):
    app, client, key, code, pid = shop
    r = api(client, key, code, referrer={"url": "https://blog.example/", "ip": form})
    assert r.status_code == 403
    assert "self-referral refused" in r.json["message"]
    assert count_rows(app, Click) == 0


@pytest.mark.parametrize("form", FORMS)
def test_a_landing_click_from_the_affiliates_own_ip_in_ipv6_form_is_not_counted(shop, form):
    app, client, key, code, pid = shop
    # A dual-stack listener reports an IPv4 client as ::ffff:a.b.c.d.
    r = client.get(f"/r/{code}", environ_base={"REMOTE_ADDR": form})
    assert r.status_code == 302
    assert r.headers.getlist("Set-Cookie") == []
    assert count_rows(app, Click) == 0


@pytest.mark.parametrize("form", FORMS[:2])
def test_a_proxied_landing_click_from_the_affiliates_own_ip_is_not_counted(make_app, form):
    app = make_app(server={"trusted_proxies": 1})
    code = add_affiliate(app, ip=OWN)
    r = app.test_client().get(f"/r/{code}", headers={"X-Forwarded-For": form})
    assert r.status_code == 302 and count_rows(app, Click) == 0
    r = app.test_client().get(f"/r/{code}", headers={"X-Forwarded-For": "::ffff:203.0.113.9"})
    assert r.status_code == 302 and count_rows(app, Click) == 1


@pytest.mark.parametrize("form", FORMS)
def test_an_affiliates_own_ip_given_in_ipv6_form_is_stored_as_ipv4_and_still_matches(
        make_app, api_key, form):
    app = make_app(commissions={"require_approval": False})
    code = add_affiliate(app, ip=form)
    with app.app_context():
        assert db.session.scalar(select(Affiliate.ip).where(Affiliate.code == code)) == OWN
    pid = add_product(app)
    r = api(app.test_client(), api_key, code,
            commission={"product": pid, "saletotal": "10.00", "ip": OWN})
    assert r.status_code == 403


def test_addresses_are_stored_in_canonical_form(shop):
    app, client, key, code, pid = shop
    other = "::ffff:203.0.113.9"
    r = api(client, key, code, commission={"product": pid, "saletotal": "10.00",
                                            "commtotal": "1.00", "ip": other})
    assert r.status_code == 200, r.json
    r = api(client, key, code, referrer={"url": "https://blog.example/", "ip": "::cb00:7109"})
    assert r.status_code == 200, r.json
    assert client.get(f"/r/{code}", environ_base={"REMOTE_ADDR": "::ffff:cb00:7109"}
                      ).status_code == 302
    # An IPv6 address of its own keeps its (compressed, lower-case) IPv6 form.
    assert client.get(f"/r/{code}", environ_base={"REMOTE_ADDR": "2001:DB8:0::7"}
                      ).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Commission.ip)).all() == ["203.0.113.9"]
        assert sorted(db.session.scalars(select(Click.ip))) == [
            "2001:db8::7", "203.0.113.9", "203.0.113.9"]
