"""affiliates, commissions, clicks: IPv4 addresses stored in IPv6 form (IPv4-mapped
``::ffff:102:304``, IPv4-compatible ``::102:304``) rewritten in IPv4 form (``1.2.3.4``), the
form affsrv now stores and compares for self-referral

Revision ID: f3c8a1e5d7b2
Revises: f3c8a2d5e7b1
Create Date: 2026-12-06 12:30:00.000000
"""
import ipaddress

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f3c8a1e5d7b2'
down_revision = 'f3c8a2d5e7b1'
branch_labels = None
depends_on = None

BATCH = 1000


def _ipv4_form(text):
    """``text``'s IPv4 address when it is one in IPv6 form, else None. The same rule as
    affsrv.ipaddr.canonical_ip, spelt out here so this revision keeps its meaning."""
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return None
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    number = int(address)
    if number >> 32 or number <= 1:
        return None
    return str(ipaddress.IPv4Address(number))


def upgrade():
    bind = op.get_bind()
    for name in ('affiliates', 'commissions', 'clicks'):
        table = sa.table(name, sa.column('id'), sa.column('ip'))
        last = 0
        # Only stored forms beginning "::" can be either (ipaddress writes both so); walked by
        # id in batches, so a large clicks table is read once and never held in memory.
        while True:
            rows = bind.execute(
                sa.select(table.c.id, table.c.ip)
                .where(table.c.ip.like('::%'), table.c.id > last)
                .order_by(table.c.id).limit(BATCH)
            ).all()
            if not rows:
                break
            last = rows[-1][0]
            changed = [{'row_id': id_, 'ipv4': _ipv4_form(ip)} for id_, ip in rows
                       if _ipv4_form(ip) is not None]
            if changed:
                bind.execute(
                    table.update().where(table.c.id == sa.bindparam('row_id'))
                    .values(ip=sa.bindparam('ipv4')),
                    changed,
                )


def downgrade():
    pass  # IPv4 addresses in IPv4 form are valid for the previous version too
