"""The Data API's totals count only commissions and payments in the ledger currency
([commissions] currency): the covering indexes of both totals gain the currency column

Revision ID: e4a7c1d2b9f0
Revises: b81e6f0d4a92
Create Date: 2026-11-22 05:30:00.000000
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e4a7c1d2b9f0'
down_revision = 'b81e6f0d4a92'
branch_labels = None
depends_on = None

_COMMISSIONS = ['affiliate_id', 'status', 'product_id', 'kind', 'created_at', 'sale_total',
                'commission_total']
_PAYMENTS = ['affiliate_id', 'method', 'created_at', 'amount']


def _rebuild(table, name, columns):
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_index(name)
        batch_op.create_index(name, columns, unique=False)


def upgrade():
    _rebuild('commissions', 'ix_commissions_affiliate_totals', [*_COMMISSIONS, 'currency'])
    _rebuild('payments', 'ix_payments_affiliate_totals', [*_PAYMENTS, 'currency'])


def downgrade():
    _rebuild('payments', 'ix_payments_affiliate_totals', _PAYMENTS)
    _rebuild('commissions', 'ix_commissions_affiliate_totals', _COMMISSIONS)
