"""The migration that rewrites IPv4 addresses stored in IPv6 form (issue 19: a self-referral
check compared ``::ffff:c633:6407`` with ``198.51.100.7``)."""

from datetime import datetime
from decimal import Decimal

from flask_migrate import upgrade
from sqlalchemy import JSON, MetaData, Table, text

from affsrv.extensions import db
from tests.test_migrations import _app, empty_url  # noqa: F401 (a fixture)

BEFORE = "f3c8a2d5e7b1"
STORED = ["::ffff:c633:6407", "::c633:6407", "198.51.100.7", "::1", "::", "2001:db8::7", "",
          "::ffff:0:0"]
AFTER = ["198.51.100.7", "198.51.100.7", "198.51.100.7", "::1", "::", "2001:db8::7", "",
         "0.0.0.0"]


def _filled(table: Table, when: datetime, **values: object) -> dict[str, object]:
    """``values``, and a plain value for every other column that must have one."""
    for column in table.c:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        kind = column.type.python_type if not isinstance(column.type, JSON) else list
        values[column.name] = {str: "", bool: False, int: 0, datetime: when, list: [],
                               Decimal: 0}.get(kind, "")
    return values


def test_ipv4_addresses_stored_in_ipv6_form_are_rewritten(empty_url, tmp_path):  # noqa: F811
    when = datetime(2026, 1, 1)
    app = _app(empty_url, tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision=BEFORE)
        with db.engine.begin() as conn:
            meta = MetaData()
            affiliates, products, links, clicks, commissions = (
                Table(name, meta, autoload_with=conn)
                for name in ("affiliates", "products", "referral_links", "clicks",
                             "commissions"))
            conn.execute(affiliates.insert(), [
                {"id": n, "code": f"a{n}", "fname": "A", "lname": "B",
                 "email": f"a{n}@x.example", "ip": ip, "payinfo": "", "notes": "",
                 "approved": True, "enabled": True, "extra": {}, "created_at": when,
                 "updated_at": when}
                for n, ip in enumerate(STORED, start=1)])
            conn.execute(products.insert(), [_filled(products, when, id=1, name="P")])
            conn.execute(links.insert(), [{"id": 1, "digest": b"0" * 32, "url": "",
                                           "created_at": when}])
            conn.execute(clicks.insert(), [
                {"id": n, "affiliate_id": 1, "link_id": 1, "ip": ip, "user_agent": "",
                 "created_at": when} for n, ip in enumerate(STORED, start=1)])
            conn.execute(commissions.insert(), [
                {"id": n, "affiliate_id": 1, "product_id": 1, "kind": "sale",
                 "status": "approved", "sale_total": 1, "commission_total": 1,
                 "currency": "USD", "source": "api", "ip": ip, "notes": "",
                 "created_at": when, "updated_at": when}
                for n, ip in enumerate(STORED, start=1)])
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            for table in ("affiliates", "clicks", "commissions"):
                stored = conn.execute(text(f"SELECT ip FROM {table} ORDER BY id")).scalars()
                assert list(stored) == AFTER, table
        db.engine.dispose()
