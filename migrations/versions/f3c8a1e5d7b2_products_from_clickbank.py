"""ClickBank items affsrv has never seen: a product created from a notification says so
(products.created_by), and an account can refuse unknown SKUs instead
(clickbank_accounts.refuse_unknown_skus)

Revision ID: f3c8a1e5d7b2
Revises: e4a7c1d2b9f0
Create Date: 2026-12-06 12:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f3c8a1e5d7b2'
down_revision = 'e4a7c1d2b9f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', sa.String(length=16), nullable=True))
    with op.batch_alter_table('clickbank_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refuse_unknown_skus', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('clickbank_accounts', schema=None) as batch_op:
        batch_op.drop_column('refuse_unknown_skus')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('created_by')
