"""commission_totals and payment_totals: the Data API's commissions and payments totals,
kept by triggers as the rows change, so each op reads a few rows by key instead of summing the
affiliate's whole history; built here from the rows already stored

Revision ID: f3b8d2c6a1e7
Revises: c4d9e2b7a816
Create Date: 2026-12-06 12:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

import affsrv.db.types

# revision identifiers, used by Alembic.
revision = 'f3b8d2c6a1e7'
down_revision = 'c4d9e2b7a816'
branch_labels = None
depends_on = None

# The triggers as this revision made them (affsrv/commissions/triggers.py,
# affsrv/payments/triggers.py), frozen here.
_COMMISSION_TRIGGERS = {
    'sqlite': [
        ('CREATE TRIGGER IF NOT EXISTS commission_totals_on_insert AFTER INSERT ON commissions '
         'BEGIN INSERT INTO commission_totals (affiliate_id, currency, product_id, commissions, '
         'sale_total, commission_total, approved_rows, last_at) SELECT NEW.affiliate_id, '
         "NEW.currency, NEW.product_id, CASE WHEN NEW.kind = 'reversal' THEN -1 ELSE 1 END, "
         "NEW.sale_total, NEW.commission_total, 1, NEW.created_at WHERE NEW.status = 'approved' "
         'ON CONFLICT (affiliate_id, currency, product_id) DO UPDATE SET commissions = '
         'commission_totals.commissions + excluded.commissions, sale_total = '
         'commission_totals.sale_total + excluded.sale_total, commission_total = '
         'commission_totals.commission_total + excluded.commission_total, approved_rows = '
         'commission_totals.approved_rows + excluded.approved_rows, last_at = '
         'max(coalesce(commission_totals.last_at, excluded.last_at), excluded.last_at); END'),
        ('CREATE TRIGGER IF NOT EXISTS commission_totals_on_delete AFTER DELETE ON commissions '
         'BEGIN UPDATE commission_totals SET commissions = commissions - CASE WHEN OLD.kind = '
         "'reversal' THEN -1 ELSE 1 END, sale_total = sale_total - OLD.sale_total, "
         'commission_total = commission_total - OLD.commission_total, approved_rows = '
         'approved_rows - 1, last_at = CASE WHEN last_at > OLD.created_at THEN last_at ELSE '
         '(SELECT max(c.created_at) FROM commissions AS c WHERE c.affiliate_id = OLD.affiliate_id '
         'AND c.currency = OLD.currency AND c.product_id = OLD.product_id AND c.status = '
         "'approved') END WHERE OLD.status = 'approved' AND affiliate_id = OLD.affiliate_id AND "
         'currency = OLD.currency AND product_id = OLD.product_id; END'),
        ('CREATE TRIGGER IF NOT EXISTS commission_totals_on_update AFTER UPDATE OF affiliate_id, '
         'product_id, currency, kind, status, sale_total, commission_total, created_at ON '
         'commissions BEGIN UPDATE commission_totals SET commissions = commissions - CASE WHEN '
         "OLD.kind = 'reversal' THEN -1 ELSE 1 END, sale_total = sale_total - OLD.sale_total, "
         'commission_total = commission_total - OLD.commission_total, approved_rows = '
         'approved_rows - 1, last_at = CASE WHEN last_at > OLD.created_at THEN last_at ELSE '
         '(SELECT max(c.created_at) FROM commissions AS c WHERE c.affiliate_id = OLD.affiliate_id '
         'AND c.currency = OLD.currency AND c.product_id = OLD.product_id AND c.status = '
         "'approved') END WHERE OLD.status = 'approved' AND affiliate_id = OLD.affiliate_id AND "
         'currency = OLD.currency AND product_id = OLD.product_id; INSERT INTO commission_totals '
         '(affiliate_id, currency, product_id, commissions, sale_total, commission_total, '
         'approved_rows, last_at) SELECT NEW.affiliate_id, NEW.currency, NEW.product_id, CASE '
         "WHEN NEW.kind = 'reversal' THEN -1 ELSE 1 END, NEW.sale_total, NEW.commission_total, 1, "
         "NEW.created_at WHERE NEW.status = 'approved' ON CONFLICT (affiliate_id, currency, "
         'product_id) DO UPDATE SET commissions = commission_totals.commissions + '
         'excluded.commissions, sale_total = commission_totals.sale_total + excluded.sale_total, '
         'commission_total = commission_totals.commission_total + excluded.commission_total, '
         'approved_rows = commission_totals.approved_rows + excluded.approved_rows, last_at = '
         'max(coalesce(commission_totals.last_at, excluded.last_at), excluded.last_at); END'),
    ],
    'postgresql': [
        ('CREATE OR REPLACE FUNCTION commission_totals_follow() RETURNS trigger LANGUAGE plpgsql '
         "AS $$\nDECLARE kept_last timestamptz;\nBEGIN\n  IF TG_OP <> 'INSERT' AND OLD.status = "
         "'approved' THEN\n    UPDATE commission_totals SET commissions = commissions - CASE WHEN "
         "OLD.kind = 'reversal' THEN -1 ELSE 1 END, sale_total = sale_total - OLD.sale_total, "
         'commission_total = commission_total - OLD.commission_total, approved_rows = '
         'approved_rows - 1 WHERE affiliate_id = OLD.affiliate_id AND currency = OLD.currency AND '
         'product_id = OLD.product_id\n      RETURNING last_at INTO kept_last;\n    IF FOUND AND '
         '(kept_last IS NULL OR kept_last <= OLD.created_at) THEN\n      UPDATE commission_totals '
         'SET last_at = (SELECT max(c.created_at) FROM commissions AS c WHERE c.affiliate_id = '
         'OLD.affiliate_id AND c.currency = OLD.currency AND c.product_id = OLD.product_id AND '
         "c.status = 'approved')\n        WHERE affiliate_id = OLD.affiliate_id AND currency = "
         'OLD.currency AND product_id = OLD.product_id;\n    END IF;\n  END IF;\n  IF TG_OP <> '
         "'DELETE' AND NEW.status = 'approved' THEN\n    INSERT INTO commission_totals "
         '(affiliate_id, currency, product_id, commissions, sale_total, commission_total, '
         'approved_rows, last_at) VALUES (NEW.affiliate_id, NEW.currency, NEW.product_id, CASE '
         "WHEN NEW.kind = 'reversal' THEN -1 ELSE 1 END, NEW.sale_total, NEW.commission_total, 1, "
         'NEW.created_at)\n      ON CONFLICT (affiliate_id, currency, product_id) DO UPDATE SET '
         'commissions = commission_totals.commissions + excluded.commissions, sale_total = '
         'commission_totals.sale_total + excluded.sale_total, commission_total = '
         'commission_totals.commission_total + excluded.commission_total, approved_rows = '
         'commission_totals.approved_rows + excluded.approved_rows, last_at = '
         'GREATEST(commission_totals.last_at, excluded.last_at);\n  END IF;\n  RETURN NULL;\nEND $$'),
        ('DROP TRIGGER IF EXISTS commission_totals_follow ON commissions'),
        ('CREATE TRIGGER commission_totals_follow AFTER INSERT OR DELETE OR UPDATE OF '
         'affiliate_id, product_id, currency, kind, status, sale_total, commission_total, '
         'created_at ON commissions FOR EACH ROW EXECUTE FUNCTION commission_totals_follow()'),
    ],
}
_PAYMENT_TRIGGERS = {
    'sqlite': [
        ('CREATE TRIGGER IF NOT EXISTS payment_totals_on_insert AFTER INSERT ON payments BEGIN '
         'INSERT INTO payment_totals (affiliate_id, currency, method, payments, total, last_at) '
         'SELECT NEW.affiliate_id, NEW.currency, NEW.method, 1, NEW.amount, NEW.created_at WHERE '
         'true ON CONFLICT (affiliate_id, currency, method) DO UPDATE SET payments = '
         'payment_totals.payments + excluded.payments, total = payment_totals.total + '
         'excluded.total, last_at = max(coalesce(payment_totals.last_at, excluded.last_at), '
         'excluded.last_at); END'),
        ('CREATE TRIGGER IF NOT EXISTS payment_totals_on_delete AFTER DELETE ON payments BEGIN '
         'UPDATE payment_totals SET payments = payments - 1, total = total - OLD.amount, last_at '
         '= CASE WHEN last_at > OLD.created_at THEN last_at ELSE (SELECT max(p.created_at) FROM '
         'payments AS p WHERE p.affiliate_id = OLD.affiliate_id AND p.currency = OLD.currency AND '
         'p.method = OLD.method) END WHERE affiliate_id = OLD.affiliate_id AND currency = '
         'OLD.currency AND method = OLD.method; END'),
        ('CREATE TRIGGER IF NOT EXISTS payment_totals_on_update AFTER UPDATE OF affiliate_id, '
         'currency, method, amount, created_at ON payments BEGIN UPDATE payment_totals SET '
         'payments = payments - 1, total = total - OLD.amount, last_at = CASE WHEN last_at > '
         'OLD.created_at THEN last_at ELSE (SELECT max(p.created_at) FROM payments AS p WHERE '
         'p.affiliate_id = OLD.affiliate_id AND p.currency = OLD.currency AND p.method = '
         'OLD.method) END WHERE affiliate_id = OLD.affiliate_id AND currency = OLD.currency AND '
         'method = OLD.method; INSERT INTO payment_totals (affiliate_id, currency, method, '
         'payments, total, last_at) SELECT NEW.affiliate_id, NEW.currency, NEW.method, 1, '
         'NEW.amount, NEW.created_at WHERE true ON CONFLICT (affiliate_id, currency, method) DO '
         'UPDATE SET payments = payment_totals.payments + excluded.payments, total = '
         'payment_totals.total + excluded.total, last_at = max(coalesce(payment_totals.last_at, '
         'excluded.last_at), excluded.last_at); END'),
    ],
    'postgresql': [
        ('CREATE OR REPLACE FUNCTION payment_totals_follow() RETURNS trigger LANGUAGE plpgsql AS '
         "$$\nDECLARE kept_last timestamptz;\nBEGIN\n  IF TG_OP <> 'INSERT' THEN\n    UPDATE "
         'payment_totals SET payments = payments - 1, total = total - OLD.amount WHERE '
         'affiliate_id = OLD.affiliate_id AND currency = OLD.currency AND method = OLD.method\n    '
         '  RETURNING last_at INTO kept_last;\n    IF FOUND AND (kept_last IS NULL OR kept_last <= '
         'OLD.created_at) THEN\n      UPDATE payment_totals SET last_at = (SELECT '
         'max(p.created_at) FROM payments AS p WHERE p.affiliate_id = OLD.affiliate_id AND '
         'p.currency = OLD.currency AND p.method = OLD.method) WHERE affiliate_id = '
         'OLD.affiliate_id AND currency = OLD.currency AND method = OLD.method;\n    END IF;\n  END '
         "IF;\n  IF TG_OP <> 'DELETE' THEN\n    INSERT INTO payment_totals (affiliate_id, currency, "
         'method, payments, total, last_at) VALUES (NEW.affiliate_id, NEW.currency, NEW.method, '
         '1, NEW.amount, NEW.created_at)\n      ON CONFLICT (affiliate_id, currency, method) DO '
         'UPDATE SET payments = payment_totals.payments + excluded.payments, total = '
         'payment_totals.total + excluded.total, last_at = GREATEST(payment_totals.last_at, '
         'excluded.last_at);\n  END IF;\n  RETURN NULL;\nEND $$'),
        ('DROP TRIGGER IF EXISTS payment_totals_follow ON payments'),
        ('CREATE TRIGGER payment_totals_follow AFTER INSERT OR DELETE OR UPDATE OF affiliate_id, '
         'currency, method, amount, created_at ON payments FOR EACH ROW EXECUTE FUNCTION '
         'payment_totals_follow()'),
    ],
}


def upgrade():
    op.create_table(
        'commission_totals',
        sa.Column('affiliate_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('product_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('commissions', sa.BigInteger(), nullable=False),
        sa.Column('sale_total', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
        sa.Column('commission_total', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
        sa.Column('approved_rows', sa.BigInteger(), nullable=False),
        sa.Column('last_at', affsrv.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('affiliate_id', 'currency', 'product_id',
                                name=op.f('pk_commission_totals')),
        sqlite_with_rowid=False,
    )
    op.create_table(
        'payment_totals',
        sa.Column('affiliate_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('method', sa.String(length=64), nullable=False),
        sa.Column('payments', sa.BigInteger(), nullable=False),
        sa.Column('total', affsrv.db.types.FixedDecimal(precision=18, scale=2), nullable=False),
        sa.Column('last_at', affsrv.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('affiliate_id', 'currency', 'method',
                                name=op.f('pk_payment_totals')),
        sqlite_with_rowid=False,
    )
    # The rows stored so far, summed once (amounts are cents on SQLite, so the sums are exact
    # on both databases), then the triggers that keep the sums from here on.
    op.execute(
        'INSERT INTO commission_totals (affiliate_id, currency, product_id, commissions, '
        'sale_total, commission_total, approved_rows, last_at) '
        "SELECT affiliate_id, currency, product_id, "
        "SUM(CASE WHEN kind = 'reversal' THEN -1 ELSE 1 END), SUM(sale_total), "
        "SUM(commission_total), COUNT(*), MAX(created_at) FROM commissions "
        "WHERE status = 'approved' GROUP BY affiliate_id, currency, product_id"
    )
    op.execute(
        'INSERT INTO payment_totals (affiliate_id, currency, method, payments, total, last_at) '
        'SELECT affiliate_id, currency, method, COUNT(*), SUM(amount), MAX(created_at) '
        'FROM payments GROUP BY affiliate_id, currency, method'
    )
    dialect = op.get_bind().dialect.name
    for statement in [*_COMMISSION_TRIGGERS[dialect], *_PAYMENT_TRIGGERS[dialect]]:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER payment_totals_follow ON payments')
        op.execute('DROP TRIGGER commission_totals_follow ON commissions')
        op.execute('DROP FUNCTION payment_totals_follow()')
        op.execute('DROP FUNCTION commission_totals_follow()')
    else:
        for name in ('payment_totals_on_insert', 'payment_totals_on_delete',
                     'payment_totals_on_update', 'commission_totals_on_insert',
                     'commission_totals_on_delete', 'commission_totals_on_update'):
            op.execute(f'DROP TRIGGER {name}')
    op.drop_table('payment_totals')
    op.drop_table('commission_totals')
