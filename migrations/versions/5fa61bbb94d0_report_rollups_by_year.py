"""report rollups per UTC year for the groups with long answers (affiliate, postal code): a
two-year report reads one year row and the months around it per group, not 24 month rows.
Filled from the orders and commissions stored so far.

Revision ID: 5fa61bbb94d0
Revises: d01e5cec1fd7
Create Date: 2026-12-06 18:00:00
"""
import sqlalchemy as sa
from alembic import op

import affsrv.db.types

# revision identifiers, used by Alembic.
revision = '5fa61bbb94d0'
down_revision = 'd01e5cec1fd7'
branch_labels = None
depends_on = None

_TABLES = {
    'report_by_affiliate_y': sa.Column('affiliate', sa.String(length=64), nullable=False),
    'report_by_postal_y': sa.Column('postal', sa.String(length=20), nullable=False),
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
    for name, dimension in _TABLES.items():
        op.create_table(
            name,
            sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
            dimension,
            sa.Column('currency', sa.String(length=3), nullable=False),
            *_measures(),
            sa.PrimaryKeyConstraint('bucket', dimension.name, 'currency',
                                    name=op.f(f'pk_{name}')),
        )
    _fill()


def _fill():
    """Count what is stored already into the new rollups, as `affsrv report recount` does."""
    from affsrv.reports.rollups import fill_new_rollups

    fill_new_rollups(op.get_bind(), set(_TABLES))


def downgrade():
    for name in reversed(list(_TABLES)):
        op.drop_table(name)
