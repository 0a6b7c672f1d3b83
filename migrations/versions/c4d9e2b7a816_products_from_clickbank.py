"""ClickBank items affsrv has never seen: a product created from a notification says so
(products.created_by), and an account can refuse unknown SKUs instead
(clickbank_accounts.refuse_unknown_skus)

Revision ID: c4d9e2b7a816
Revises: a7d2e5f8c1b6
Create Date: 2026-12-06 12:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4d9e2b7a816'
down_revision = 'a7d2e5f8c1b6'
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
