"""The affiliate area's record of each affiliate who uses it: time zone, password-reset token

Revision ID: a7d2e5f8c1b6
Revises: f3c9d1e7a2b4
Create Date: 2026-12-06 12:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

import affsrv.db.types

# revision identifiers, used by Alembic.
revision = 'a7d2e5f8c1b6'
down_revision = 'f3c9d1e7a2b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'affiliate_logins',
        sa.Column('affiliate_id', sa.Integer(), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('reset_token_hash', sa.String(length=64), nullable=True),
        sa.Column('reset_token_expires_at', affsrv.db.types.UTCDateTime(), nullable=True),
        sa.Column('last_signin_at', affsrv.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['affiliate_id'], ['affiliates.id'],
                                name=op.f('fk_affiliate_logins_affiliate_id_affiliates')),
        sa.PrimaryKeyConstraint('affiliate_id', name=op.f('pk_affiliate_logins')),
        sa.UniqueConstraint('reset_token_hash',
                            name=op.f('uq_affiliate_logins_reset_token_hash')),
    )


def downgrade():
    op.drop_table('affiliate_logins')
