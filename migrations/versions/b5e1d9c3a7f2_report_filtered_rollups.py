"""report rollups per filter: for the filters whose one value can hold a large share of the
orders (account, product, country; for clicks product and country), one rollup per group
keyed by the filter first (``report_<filter>_by_<group>_d``/``_m``), and the time rollups per filter
(``report_<filter>_times_q``/``_h``, ``report_<filter>_week_quarters_m``,
``report_<filter>_click_times_q``/``_h``). A report narrowed to one value reads those, not
the wide rollups' row per order. Filled from the orders, commissions and clicks stored so far.

Revision ID: b5e1d9c3a7f2
Revises: c4d8e2a6f1b9
Create Date: 2026-12-07 09:20:00
"""
import sqlalchemy as sa
from alembic import op

import affsrv.db.types

# revision identifiers, used by Alembic.
revision = 'b5e1d9c3a7f2'
down_revision = 'c4d8e2a6f1b9'
branch_labels = None
depends_on = None

_WIDTHS = {'account': 64, 'product': 64, 'affiliate': 64, 'method': 32, 'country': 2,
           'state': 100, 'currency': 3}
_SALES_FILTERS = ('account', 'product', 'country')
_SALES_GROUPS = ('country', 'state', 'product', 'affiliate', 'account', 'method')
_CLICK_FILTERS = ('product_id', 'country')
_CLICK_GROUPS = ('affiliate_id', 'product_id', 'link_id', 'country')


def _column(name):
    if name in ('affiliate_id', 'product_id', 'week_quarter'):
        return sa.Column(name, sa.Integer(), autoincrement=False, nullable=False)
    if name == 'link_id':
        return sa.Column(name, sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                         autoincrement=False, nullable=False)
    return sa.Column(name, sa.String(length=_WIDTHS[name]), nullable=False)


def _measures():
    money = affsrv.db.types.FixedDecimal(precision=18, scale=2)
    return [
        sa.Column('orders', sa.BigInteger(), nullable=False),
        sa.Column('gross', money, nullable=False),
        sa.Column('refunds', sa.BigInteger(), nullable=False),
        sa.Column('refund_amount', money, nullable=False),
        sa.Column('chargebacks', sa.BigInteger(), nullable=False),
        sa.Column('chargeback_amount', money, nullable=False),
        sa.Column('commissions', money, nullable=False),
    ]


def _short(name):
    return name.removesuffix('_id')


def _tables():
    """Each new table: its name, its dimensions (the filter first), whether it counts clicks."""
    tables = []
    for f in _SALES_FILTERS:
        for g in _SALES_GROUPS:
            if g != f:
                tables += [(f'report_{f}_by_{g}_{grain}', (f, g, 'currency'), False)
                           for grain in ('d', 'm')]
    for f in _SALES_FILTERS:
        tables += [(f'report_{f}_times_q', (f, 'currency'), False),
                   (f'report_{f}_times_h', (f, 'currency'), False),
                   (f'report_{f}_week_quarters_m', (f, 'week_quarter', 'currency'), False)]
    for f in _CLICK_FILTERS:
        for g in _CLICK_GROUPS:
            if g != f:
                tables += [(f'report_{_short(f)}_clicks_by_{_short(g)}_{grain}', (f, g), True)
                           for grain in ('d', 'm')]
    for f in _CLICK_FILTERS:
        tables += [(f'report_{_short(f)}_click_times_{grain}', (f,), True)
                   for grain in ('q', 'h')]
    return tables


def upgrade():
    for name, dimensions, clicks in _tables():
        measures = [sa.Column('clicks', sa.BigInteger(), nullable=False)] if clicks \
            else _measures()
        op.create_table(
            name,
            sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
            *(_column(d) for d in dimensions),
            *measures,
            sa.PrimaryKeyConstraint(dimensions[0], 'bucket', *dimensions[1:],
                                    name=op.f(f'pk_{name}')),
        )
    _fill()


def _fill():
    """Count what is stored already into the new rollups, as `affsrv report recount` does."""
    from affsrv.reports.rollups import fill_new_rollups

    fill_new_rollups(op.get_bind(), {name for name, _, _ in _tables()})


def downgrade():
    for name, _, _ in reversed(_tables()):
        op.drop_table(name)
