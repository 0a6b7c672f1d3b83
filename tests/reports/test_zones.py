"""Days, hours and weekdays of the report's zone at the moment of each sale: across
daylight-saving changes (New York, Berlin), in half- and quarter-hour zones (Kolkata,
Kathmandu), and "this month" in the last hours of a month in Sydney. Each expected figure is
worked out by hand in the comment beside it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from tests.clickbank.support import add_cb_account
from tests.reports.support import both, figures, report_key, store


@pytest.fixture
def shop(make_app):
    app = make_app()
    add_cb_account(app)
    return app, app.test_client(), report_key(app)


def _sales(shop, *times_and_amounts):
    _, client, _ = shop
    for n, (when, amount) in enumerate(times_and_amounts):
        store(client, f"Z{n}", when, amount)


def _report(shop, **params):
    app, client, key = shop
    return figures(both(app, client, key, "sales", **params), "orders", "gross")


def test_half_hour_zone_kolkata(shop):
    _sales(shop, ("2026-03-02T18:20:00Z", "10.00"),   # 23:50 on the 2nd in Kolkata (+5:30)
           ("2026-03-02T18:40:00Z", "20.00"),         # 00:10 on the 3rd
           ("2026-03-02T18:10:00Z", "40.00"))         # 23:40 on the 2nd
    week = {"from": "2026-03-01", "to": "2026-03-07", "tz": "Asia/Kolkata"}
    assert _report(shop, by="day", **week) == {("2026-03-02", "USD"): (2, "50.00"),
                                               ("2026-03-03", "USD"): (1, "20.00")}
    assert _report(shop, by="hour", **week) == {("23", "USD"): (2, "50.00"),
                                                ("00", "USD"): (1, "20.00")}
    # Monday the 2nd and Tuesday the 3rd in Kolkata.
    assert _report(shop, by="weekday-hour", **week) == {("Monday 23", "USD"): (2, "50.00"),
                                                        ("Tuesday 00", "USD"): (1, "20.00")}


def test_quarter_hour_zone_kathmandu_and_its_day_boundaries(shop):
    _sales(shop, ("2026-03-02T18:20:00Z", "10.00"),   # 00:05 on the 3rd in Kathmandu (+5:45)
           ("2026-03-02T18:40:00Z", "20.00"),         # 00:25 on the 3rd
           ("2026-03-02T18:10:00Z", "40.00"),         # 23:55 on the 2nd
           ("2026-03-03T18:14:00Z", "80.00"),         # 23:59 on the 3rd
           ("2026-03-03T18:15:00Z", "160.00"))        # 00:00 on the 4th
    week = {"from": "2026-03-01", "to": "2026-03-07", "tz": "Asia/Kathmandu"}
    assert _report(shop, by="day", **week) == {("2026-03-02", "USD"): (1, "40.00"),
                                               ("2026-03-03", "USD"): (3, "110.00"),
                                               ("2026-03-04", "USD"): (1, "160.00")}
    assert _report(shop, by="hour", **week) == {("23", "USD"): (2, "120.00"),
                                                ("00", "USD"): (3, "190.00")}
    # The 3rd in Kathmandu is 2026-03-02T18:15Z to 2026-03-03T18:15Z: a place grouping reads
    # the whole UTC days in it by day and its ragged ends by quarter hour.
    the_3rd = {"from": "2026-03-03", "to": "2026-03-03", "tz": "Asia/Kathmandu"}
    assert _report(shop, by="country", **the_3rd) == {("US", "USD"): (3, "110.00")}
    assert _report(shop, by="postal", **the_3rd) == {("", "USD"): (3, "110.00")}
    # The same sales in UTC: the 2nd has three, the 3rd two.
    assert _report(shop, by="country", **{"from": "2026-03-03", "to": "2026-03-03"}) == {
        ("US", "USD"): (2, "240.00")}


def test_new_york_spring_forward(shop):
    # 2026-03-08 07:00Z: 02:00 EST (-5) becomes 03:00 EDT (-4).
    _sales(shop, ("2026-03-08T06:30:00Z", "1.00"),    # 01:30 EST on Sunday the 8th
           ("2026-03-08T07:30:00Z", "2.00"),          # 03:30 EDT (with -5: 02:30)
           ("2026-03-09T03:30:00Z", "4.00"),          # 23:30 EDT on the 8th
           ("2026-03-09T04:30:00Z", "8.00"))          # 00:30 EDT on Monday the 9th (-5: 8th)
    days = {"from": "2026-03-08", "to": "2026-03-09", "tz": "America/New_York"}
    assert _report(shop, by="day", **days) == {("2026-03-08", "USD"): (3, "7.00"),
                                               ("2026-03-09", "USD"): (1, "8.00")}
    assert _report(shop, by="hour", **days) == {("00", "USD"): (1, "8.00"),
                                                ("01", "USD"): (1, "1.00"),
                                                ("03", "USD"): (1, "2.00"),
                                                ("23", "USD"): (1, "4.00")}
    assert _report(shop, by="weekday", **days) == {("Sunday", "USD"): (3, "7.00"),
                                                   ("Monday", "USD"): (1, "8.00")}
    # The 9th alone (04:00Z on the 9th to 04:00Z on the 10th): only the last sale.
    assert _report(shop, by="country", **{**days, "from": "2026-03-09"}) == {
        ("US", "USD"): (1, "8.00")}


def test_new_york_fall_back(shop):
    # 2026-11-01 06:00Z: 02:00 EDT (-4) becomes 01:00 EST (-5): 01:xx happens twice.
    _sales(shop, ("2026-11-01T05:30:00Z", "1.00"),    # 01:30 EDT
           ("2026-11-01T06:30:00Z", "2.00"),          # 01:30 EST (with -4: 02:30)
           ("2026-11-02T04:30:00Z", "4.00"))          # 23:30 EST on the 1st (-4: the 2nd)
    days = {"from": "2026-11-01", "to": "2026-11-02", "tz": "America/New_York"}
    assert _report(shop, by="day", **days) == {("2026-11-01", "USD"): (3, "7.00")}
    assert _report(shop, by="hour", **days) == {("01", "USD"): (2, "3.00"),
                                                ("23", "USD"): (1, "4.00")}


def test_berlin_fall_back(shop):
    # 2026-10-25 01:00Z: 03:00 CEST (+2) becomes 02:00 CET (+1).
    _sales(shop, ("2026-10-25T00:30:00Z", "1.00"),    # 02:30 CEST on Sunday the 25th
           ("2026-10-25T01:30:00Z", "2.00"),          # 02:30 CET
           ("2026-10-25T22:30:00Z", "4.00"),          # 23:30 CET (with +2: 00:30 the 26th)
           ("2026-10-25T23:30:00Z", "8.00"))          # 00:30 CET on Monday the 26th
    days = {"from": "2026-10-25", "to": "2026-10-26", "tz": "Europe/Berlin"}
    assert _report(shop, by="day", **days) == {("2026-10-25", "USD"): (3, "7.00"),
                                               ("2026-10-26", "USD"): (1, "8.00")}
    assert _report(shop, by="hour", **days) == {("00", "USD"): (1, "8.00"),
                                                ("02", "USD"): (2, "3.00"),
                                                ("23", "USD"): (1, "4.00")}
    # The 25th has 25 hours: 2026-10-24T22:00Z to 2026-10-25T23:00Z.
    assert _report(shop, by="country", **{**days, "to": "2026-10-25"}) == {
        ("US", "USD"): (3, "7.00")}


def test_berlin_spring_forward(shop):
    # 2026-03-29 01:00Z: 02:00 CET (+1) becomes 03:00 CEST (+2).
    _sales(shop, ("2026-03-29T00:30:00Z", "1.00"),    # 01:30 CET
           ("2026-03-29T01:30:00Z", "2.00"),          # 03:30 CEST (with +1: 02:30)
           ("2026-03-29T22:30:00Z", "4.00"))          # 00:30 CEST on the 30th (+1: the 29th)
    days = {"from": "2026-03-29", "to": "2026-03-30", "tz": "Europe/Berlin"}
    assert _report(shop, by="day", **days) == {("2026-03-29", "USD"): (2, "3.00"),
                                               ("2026-03-30", "USD"): (1, "4.00")}
    assert _report(shop, by="hour", **days) == {("00", "USD"): (1, "4.00"),
                                                ("01", "USD"): (1, "1.00"),
                                                ("03", "USD"): (1, "2.00")}


def test_this_month_in_the_last_hours_of_a_month_in_sydney(shop):
    _sales(shop, ("2025-12-31T12:30:00Z", "4.00"),    # 23:30 on 31 December in Sydney (+11)
           ("2025-12-31T13:30:00Z", "2.00"),          # 00:30 on 1 January in Sydney
           ("2026-01-31T12:00:00Z", "1.00"),          # 23:00 on 31 January in Sydney
           ("2026-01-31T13:30:00Z", "8.00"))          # 00:30 on 1 February in Sydney
    # 23:30 on 31 January in Sydney (12:30Z): no dates given is this month in the zone.
    with time_machine.travel(datetime(2026, 1, 31, 12, 30, tzinfo=UTC), tick=False):
        assert _report(shop, by="country", tz="Australia/Sydney") == {
            ("US", "USD"): (2, "3.00")}
        assert _report(shop, by="day", tz="Australia/Sydney") == {
            ("2026-01-01", "USD"): (1, "2.00"), ("2026-01-31", "USD"): (1, "1.00")}
    # 00:45 on 1 February in Sydney, still 31 January in UTC: February has begun there.
    with time_machine.travel(datetime(2026, 1, 31, 13, 45, tzinfo=UTC), tick=False):
        assert _report(shop, by="country", tz="Australia/Sydney") == {
            ("US", "USD"): (1, "8.00")}


def test_a_range_of_months_with_ragged_ends(shop):
    """Whole UTC months, whole UTC days and the quarter hours of the two ends together (the
    unfiltered report), and the wide rollups (a filtered one), give the same exact range."""
    _sales(shop, ("2026-01-14T18:20:00Z", "1.00"),    # 23:50 on 14 January in Kolkata: out
           ("2026-01-14T18:40:00Z", "2.00"),          # 00:10 on 15 January: in
           ("2026-01-31T23:59:00Z", "4.00"),          # in (a whole UTC day)
           ("2026-02-10T12:00:00Z", "8.00"),          # in (a whole UTC month)
           ("2026-03-10T18:20:00Z", "16.00"),         # 23:50 on 10 March: in
           ("2026-03-10T18:40:00Z", "32.00"))         # 00:10 on 11 March: out
    span = {"from": "2026-01-15", "to": "2026-03-10", "tz": "Asia/Kolkata"}
    assert _report(shop, by="country", **span) == {("US", "USD"): (4, "30.00")}
    assert _report(shop, by="country", country="US", **span) == {("US", "USD"): (4, "30.00")}
    assert _report(shop, by="account", **span) == {("myvendor", "USD"): (4, "30.00")}
    assert _report(shop, by="weekday", **span) == {
        ("Thursday", "USD"): (1, "2.00"),   # 15 January 2026
        ("Sunday", "USD"): (1, "4.00"),     # 1 February in Kolkata (05:29)
        ("Tuesday", "USD"): (2, "24.00")}   # 10 February and 10 March
