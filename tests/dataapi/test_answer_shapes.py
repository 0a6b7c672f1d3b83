"""The Data API's plain answer functions give what the marshmallow schemas give."""

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

from affsrv.affiliates.schemas import AffiliateInfoSchema, info_answer
from affsrv.dataapi.schemas import (
    ApiRequestSchema,
    CommissionTotalsSchema,
    PaymentTotalsSchema,
    ReferralStatsSchema,
    commission_totals_answer,
    load_plain_data_call,
    payment_totals_answer,
    referral_stats_answer,
    referrals_answer,
)

WHEN = datetime(2025, 5, 2, 3, 4, 5, tzinfo=UTC)


def _same(a, b):
    assert a == b and list(a) == list(b)


def test_totals_answers_match_the_schemas():
    t = {"commissions": 3, "sale_total": Decimal("10.50"), "commission_total": Decimal("-2.1"),
         "last_commission": WHEN}
    _same(commission_totals_answer(t), CommissionTotalsSchema().dump(t))
    p = {"payments": 2, "payment_total": Decimal("7"), "last_payment": WHEN}
    _same(payment_totals_answer(p), PaymentTotalsSchema().dump(p))
    r = {"referrers": [{"count": 4, "link": "https://a.example/"}, {"count": 1, "link": ""},
                       {"count": 2, "link": None}]}
    _same(referral_stats_answer(r), ReferralStatsSchema().dump(r))


def test_info_answer_matches_the_schema():
    for a in (
        SimpleNamespace(id=1, created_at=WHEN, code="a", fname="A", lname="B", email="e@x",
                        ip=None, commtier=None, payinfo=None, notes="n", approved=True,
                        enabled=False),
        SimpleNamespace(id=9, created_at=WHEN, code="zz", fname="", lname=None, email="e",
                        ip="1.2.3.4", commtier=Decimal("17.500"), payinfo="p", notes=None,
                        approved=False, enabled=True),
    ):
        _same(info_answer(a), AffiliateInfoSchema().dump(a))


def test_plain_data_calls_load_as_the_schema_does():
    schema = ApiRequestSchema()
    for body in (
        {"apikey": "k", "affiliate": "a", "data": {"op": "info"}},
        {"apikey": "k", "affiliate": "x" * 64, "data": {"op": "referrals", "product": 7}},
        {"apikey": "k", "affiliate": "a", "data": {"op": "commissions", "product": None}},
    ):
        assert load_plain_data_call(body) == schema.load(body)
    for body in (  # anything else is left to the schema (and its error messages)
        {"apikey": "k", "affiliate": "a", "data": {"op": "info"}, "emails": {}},
        {"apikey": "k", "affiliate": "", "data": {"op": "info"}},
        {"apikey": "k", "affiliate": "a", "data": {"op": "nope"}},
        {"apikey": "k", "affiliate": "a", "data": {"op": "info", "product": "3"}},
        {"apikey": "k", "affiliate": "a", "data": {"op": "info", "product": True}},
        {"apikey": "k", "affiliate": "a", "data": {"op": "info", "product": 0}},
        {"apikey": 1, "affiliate": "a", "data": {"op": "info"}},
    ):
        assert load_plain_data_call(body) is None


def test_referrals_answer_matches_stats_then_schema():
    rows = [(None, "https://x.example/", 3), (2, "", 1), (2, "https://a.example/", 5),
            (7, None, 2)]
    stats: dict = {}
    for pid, link, count in rows:
        key = "0" if pid is None else str(pid)
        stats.setdefault(key, {"referrers": []})["referrers"].append(
            {"count": count, "link": link})
    expected = {pid: ReferralStatsSchema().dump(s) for pid, s in stats.items()}
    _same(referrals_answer(rows), expected)
