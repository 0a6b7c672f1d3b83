"""clerk keys confined to sites (clerk_key_sites); products remember a merchant's disable; product
sites in lower case; the REST API's paging indexes lead with the account

Keys made before this revision get no site: which account each was meant for is not known,
and giving them every site would keep the hole this closes (any key reading and replacing
every account's products and orders). Such a key is refused with a 403 that says what to do
(affsrv clerk-key add-site KEY_ID SITE), and `affsrv clerk-key list` shows it without sites.

Revision ID: 5b8e2d7f1c3a
Revises: f3c8a1e5d7b2
Create Date: 2026-12-06 12:00:00.000000
"""
import sys

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5b8e2d7f1c3a'
down_revision = 'f3c8a1e5d7b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'clerk_key_sites',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clerk_key_id', sa.Integer(), nullable=False),
        sa.Column('site', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['clerk_key_id'], ['clerk_keys.id'],
                                name=op.f('fk_clerk_key_sites_clerk_key_id_clerk_keys'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_clerk_key_sites')),
        sa.UniqueConstraint('clerk_key_id', 'site', name='uq_clerk_key_sites_site'),
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_by_merchant', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.alter_column('disabled_by_merchant', server_default=None)
    products = sa.table('products', sa.column('enabled', sa.Boolean()),
                        sa.column('disabled_by_merchant', sa.Boolean()),
                        sa.column('site', sa.String()))
    # A product disabled now may have been disabled by the merchant (a REST DELETE also
    # disabled it, and nothing tells them apart): keep it disabled until `product enable`.
    op.execute(products.update().where(products.c.enabled.is_(False))
               .values(disabled_by_merchant=True))
    # Sites are ClickBank account nicknames, which ignore case: stored in lower case.
    op.execute(products.update().where(products.c.site.is_not(None))
               .values(site=sa.func.lower(products.c.site)))
    # Every REST list now reads one key's accounts: the paging indexes lead with the account.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_transaction_time')
        batch_op.drop_index('ix_orders_physical_time')
        batch_op.create_index('ix_orders_account_time', ['account', 'transaction_time', 'id'],
                              unique=False)
        batch_op.create_index('ix_orders_account_physical_time',
                              ['account', 'physical', 'transaction_time', 'id'], unique=False)
    keys = op.get_bind().scalar(sa.text(
        'SELECT count(*) FROM clerk_keys WHERE revoked_at IS NULL'))
    if keys:
        print(f'affsrv: {keys} clerk key(s) now belong to no site and are refused until the '
              'merchant assigns one: affsrv clerk-key list, then '
              'affsrv clerk-key add-site KEY_ID SITE', file=sys.stderr)


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_account_physical_time')
        batch_op.drop_index('ix_orders_account_time')
        batch_op.create_index('ix_orders_physical_time', ['physical', 'transaction_time', 'id'],
                              unique=False)
        batch_op.create_index('ix_orders_transaction_time', ['transaction_time', 'id'],
                              unique=False)
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('disabled_by_merchant')
    op.drop_table('clerk_key_sites')
