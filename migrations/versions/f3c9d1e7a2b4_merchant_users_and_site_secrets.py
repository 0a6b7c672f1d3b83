"""Merchant users of the dashboard (/admin), and the secrets affsrv makes for itself (the
session key)

Revision ID: f3c9d1e7a2b4
Revises: 5ce6ee9bf96d
Create Date: 2026-12-06 12:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

import affsrv.db.types

# revision identifiers, used by Alembic.
revision = 'f3c9d1e7a2b4'
down_revision = '5ce6ee9bf96d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'merchant_users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=True),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('signin_token_hash', sa.String(length=64), nullable=True),
        sa.Column('signin_token_expires_at', affsrv.db.types.UTCDateTime(), nullable=True),
        sa.Column('created_at', affsrv.db.types.UTCDateTime(), nullable=False),
        sa.Column('last_signin_at', affsrv.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_users')),
        sa.UniqueConstraint('email', name=op.f('uq_merchant_users_email')),
        sa.UniqueConstraint('signin_token_hash', name=op.f('uq_merchant_users_signin_token_hash')),
    )
    op.create_table(
        'site_secrets',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('value', sa.String(length=128), nullable=False),
        sa.Column('created_at', affsrv.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_site_secrets')),
    )


def downgrade():
    op.drop_table('site_secrets')
    op.drop_table('merchant_users')
