"""report rollups: sales per quarter hour, UTC day and UTC month (wide for filtered reports,
one narrow rollup per group, the postal codes apart), per minute (today's live report), clicks
likewise; reporting keys. The rollups are built from the orders, commissions and clicks stored
so far.

Revision ID: 5ce6ee9bf96d
Revises: 3b8e5d1c7a64
Create Date: 2026-12-06 12:07:30.948142
"""
import sqlalchemy as sa
from alembic import op

import affsrv.db.types

# revision identifiers, used by Alembic.
revision = '5ce6ee9bf96d'
down_revision = '3b8e5d1c7a64'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_by_account_d',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'account', 'currency', name=op.f('pk_report_by_account_d'))
    )
    op.create_table('report_by_account_m',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'account', 'currency', name=op.f('pk_report_by_account_m'))
    )
    op.create_table('report_by_affiliate_d',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('affiliate', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'affiliate', 'currency', name=op.f('pk_report_by_affiliate_d'))
    )
    op.create_table('report_by_affiliate_m',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('affiliate', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'affiliate', 'currency', name=op.f('pk_report_by_affiliate_m'))
    )
    op.create_table('report_by_country_d',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'country', 'currency', name=op.f('pk_report_by_country_d'))
    )
    op.create_table('report_by_country_m',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'country', 'currency', name=op.f('pk_report_by_country_m'))
    )
    op.create_table('report_by_method_d',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'method', 'currency', name=op.f('pk_report_by_method_d'))
    )
    op.create_table('report_by_method_m',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'method', 'currency', name=op.f('pk_report_by_method_m'))
    )
    op.create_table('report_by_product_d',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('product', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'product', 'currency', name=op.f('pk_report_by_product_d'))
    )
    op.create_table('report_by_product_m',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('product', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'product', 'currency', name=op.f('pk_report_by_product_m'))
    )
    op.create_table('report_by_state_d',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('state', sa.String(length=100), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'state', 'currency', name=op.f('pk_report_by_state_d'))
    )
    op.create_table('report_by_state_m',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('state', sa.String(length=100), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'state', 'currency', name=op.f('pk_report_by_state_m'))
    )
    op.create_table('report_click_times_q',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', name=op.f('pk_report_click_times_q'))
    )
    op.create_table('report_clicks_by_affiliate_d',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('affiliate_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'affiliate_id', name=op.f('pk_report_clicks_by_affiliate_d'))
    )
    op.create_table('report_clicks_by_affiliate_m',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('affiliate_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'affiliate_id', name=op.f('pk_report_clicks_by_affiliate_m'))
    )
    op.create_table('report_clicks_by_country_d',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'country', name=op.f('pk_report_clicks_by_country_d'))
    )
    op.create_table('report_clicks_by_country_m',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'country', name=op.f('pk_report_clicks_by_country_m'))
    )
    op.create_table('report_clicks_by_link_d',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('link_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'link_id', name=op.f('pk_report_clicks_by_link_d'))
    )
    op.create_table('report_clicks_by_link_m',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('link_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'link_id', name=op.f('pk_report_clicks_by_link_m'))
    )
    op.create_table('report_clicks_by_product_d',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('product_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'product_id', name=op.f('pk_report_clicks_by_product_d'))
    )
    op.create_table('report_clicks_by_product_m',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('product_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'product_id', name=op.f('pk_report_clicks_by_product_m'))
    )
    op.create_table('report_clicks_d',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('affiliate_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('product_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('link_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'affiliate_id', 'product_id', 'link_id', 'country', name=op.f('pk_report_clicks_d'))
    )
    op.create_table('report_clicks_q',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('affiliate_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('product_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('link_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'affiliate_id', 'product_id', 'link_id', 'country', name=op.f('pk_report_clicks_q'))
    )
    op.create_table('report_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', affsrv.db.types.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', affsrv.db.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_report_keys_key_hash'))
    )
    op.create_table('report_minutes',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'account', 'currency', name=op.f('pk_report_minutes'))
    )
    op.create_table('report_postal_d',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('product', sa.String(length=64), nullable=False),
    sa.Column('affiliate', sa.String(length=64), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('postal', sa.String(length=20), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'account', 'product', 'affiliate', 'country', 'postal', 'currency', name=op.f('pk_report_postal_d'))
    )
    op.create_table('report_postal_q',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('product', sa.String(length=64), nullable=False),
    sa.Column('affiliate', sa.String(length=64), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('postal', sa.String(length=20), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'account', 'product', 'affiliate', 'country', 'postal', 'currency', name=op.f('pk_report_postal_q'))
    )
    op.create_table('report_sales_d',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('product', sa.String(length=64), nullable=False),
    sa.Column('affiliate', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('state', sa.String(length=100), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'account', 'product', 'affiliate', 'method', 'country', 'state', 'currency', name=op.f('pk_report_sales_d'))
    )
    op.create_table('report_sales_q',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('product', sa.String(length=64), nullable=False),
    sa.Column('affiliate', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('state', sa.String(length=100), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'account', 'product', 'affiliate', 'method', 'country', 'state', 'currency', name=op.f('pk_report_sales_q'))
    )
    op.create_table('report_times_q',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('gross', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('refund_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('chargebacks', sa.BigInteger(), nullable=False),
    sa.Column('chargeback_amount', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.Column('commissions', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'currency', name=op.f('pk_report_times_q'))
    )
    _build_rollups()


def _build_rollups():
    """Count what is stored already, as `affsrv report recount` does (its code, so the
    rollups are exactly what the writes would have added)."""
    from affsrv.reports.rollups import fill_new_rollups

    # Only the rollups this revision creates: later revisions add rollups of their own (and
    # fill them), which do not exist yet here.
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    fill_new_rollups(bind, {t for t in existing if t.startswith("report_")
                            and t != "report_keys"})


def downgrade():
    op.drop_table('report_times_q')
    op.drop_table('report_sales_q')
    op.drop_table('report_sales_d')
    op.drop_table('report_postal_q')
    op.drop_table('report_postal_d')
    op.drop_table('report_minutes')
    op.drop_table('report_keys')
    op.drop_table('report_clicks_q')
    op.drop_table('report_clicks_d')
    op.drop_table('report_clicks_by_product_m')
    op.drop_table('report_clicks_by_product_d')
    op.drop_table('report_clicks_by_link_m')
    op.drop_table('report_clicks_by_link_d')
    op.drop_table('report_clicks_by_country_m')
    op.drop_table('report_clicks_by_country_d')
    op.drop_table('report_clicks_by_affiliate_m')
    op.drop_table('report_clicks_by_affiliate_d')
    op.drop_table('report_click_times_q')
    op.drop_table('report_by_state_m')
    op.drop_table('report_by_state_d')
    op.drop_table('report_by_product_m')
    op.drop_table('report_by_product_d')
    op.drop_table('report_by_method_m')
    op.drop_table('report_by_method_d')
    op.drop_table('report_by_country_m')
    op.drop_table('report_by_country_d')
    op.drop_table('report_by_affiliate_m')
    op.drop_table('report_by_affiliate_d')
    op.drop_table('report_by_account_m')
    op.drop_table('report_by_account_d')
