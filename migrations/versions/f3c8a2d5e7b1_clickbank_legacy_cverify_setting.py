"""clickbank_accounts.legacy_cverify: legacy (up to 4.0) form posts, proved by a 32-bit
cverify, are accepted only for accounts that allow them. Accounts existing before this
migration keep accepting them (their merchants may still receive legacy posts); new accounts
start with it off.

Revision ID: f3c8a2d5e7b1
Revises: e4a7c1d2b9f0
Create Date: 2026-12-06 12:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f3c8a2d5e7b1'
down_revision = 'e4a7c1d2b9f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clickbank_accounts', schema=None) as batch_op:
        # The server default fills the existing rows; the model gives new ones False.
        batch_op.add_column(sa.Column('legacy_cverify', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    with op.batch_alter_table('clickbank_accounts', schema=None) as batch_op:
        batch_op.alter_column('legacy_cverify', server_default=None)


def downgrade():
    with op.batch_alter_table('clickbank_accounts', schema=None) as batch_op:
        batch_op.drop_column('legacy_cverify')
