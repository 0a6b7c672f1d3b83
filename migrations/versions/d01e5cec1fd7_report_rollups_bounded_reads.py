"""report rollups whose reads stay bounded as orders grow: the postal codes per UTC day and
month (postal code and currency only, like the other narrow rollups), sales and clicks per
UTC hour (the time groupings in zones whose offsets are whole hours), and sales per UTC month
and quarter hour of the UTC week (the hour and weekday groupings over whole months). Filled from the orders,
commissions and clicks stored so far.

Revision ID: d01e5cec1fd7
Revises: 9cb53161d847
Create Date: 2026-12-06 14:50:00
"""
import sqlalchemy as sa
from alembic import op

import affsrv.db.types

# revision identifiers, used by Alembic.
revision = 'd01e5cec1fd7'
down_revision = '9cb53161d847'
branch_labels = None
depends_on = None

_SALES_TABLES = {
    'report_by_postal_d': [sa.Column('postal', sa.String(length=20), nullable=False)],
    'report_by_postal_m': [sa.Column('postal', sa.String(length=20), nullable=False)],
    'report_times_h': [],
    'report_week_quarters_m': [sa.Column('week_quarter', sa.Integer(), autoincrement=False,
                                         nullable=False)],
}


def _measures():
    return [
        sa.Column('orders', sa.BigInteger(), nullable=False),
        sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
        sa.Column('refunds', sa.BigInteger(), nullable=False),
        sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2),
                  nullable=False),
        sa.Column('chargebacks', sa.BigInteger(), nullable=False),
        sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2),
                  nullable=False),
        sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2),
                  nullable=False),
    ]


def upgrade():
    for name, dimensions in _SALES_TABLES.items():
        op.create_table(
            name,
            sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
            *dimensions,
            sa.Column('currency', sa.String(length=3), nullable=False),
            *_measures(),
            sa.PrimaryKeyConstraint('bucket', *(c.name for c in dimensions), 'currency',
                                    name=op.f(f'pk_{name}')),
        )
    op.create_table(
        'report_click_times_h',
        sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('clicks', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('bucket', name=op.f('pk_report_click_times_h')),
    )
    _fill()


def _fill():
    """Count what is stored already into the new rollups, as `affsrv report recount` does."""
    from affsrv.reports.rollups import fill_new_rollups

    fill_new_rollups(op.get_bind(), {*_SALES_TABLES, 'report_click_times_h'})


def downgrade():
    op.drop_table('report_click_times_h')
    for name in reversed(list(_SALES_TABLES)):
        op.drop_table(name)
