"""referral links: clicks name their referring link by id (a far smaller per-affiliate index)

Revision ID: 521581d836fc
Revises: acfd259baf3f
Create Date: 2026-11-21 12:37:33.817872
"""
import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import affsrv.db.types

# revision identifiers, used by Alembic.
revision = '521581d836fc'
down_revision = 'acfd259baf3f'
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    links = op.create_table(
        'referral_links',
        sa.Column('id', _BigId, nullable=False),
        sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('created_at', affsrv.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_links')),
        sa.UniqueConstraint('digest', name=op.f('uq_referral_links_digest')),
    )
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_id', _BigId, nullable=True))

    # Each distinct link of the clicks already recorded becomes a referral link.
    bind = op.get_bind()
    urls = [row[0] for row in bind.execute(sa.text('SELECT DISTINCT link FROM clicks'))]
    now = datetime.now(UTC)
    for start in range(0, len(urls), 1000):
        op.bulk_insert(links, [
            {'digest': hashlib.sha256(url.encode('utf-8', 'surrogatepass')).digest(),
             'url': url, 'created_at': now}
            for url in urls[start:start + 1000]
        ])
    bind.execute(sa.text(
        'UPDATE clicks SET link_id = referral_links.id FROM referral_links '
        'WHERE referral_links.url = clicks.link'
    ))

    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.alter_column('link_id', existing_type=_BigId, nullable=False)
        batch_op.drop_index(batch_op.f('ix_clicks_affiliate_product_link'))
        batch_op.create_index('ix_clicks_affiliate_product_link',
                              ['affiliate_id', 'product_id', 'link_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_clicks_link_id_referral_links'),
                                    'referral_links', ['link_id'], ['id'])
        batch_op.drop_column('link')


def downgrade():
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link', sa.VARCHAR(length=2048), nullable=False,
                                      server_default=''))
    op.get_bind().execute(sa.text(
        'UPDATE clicks SET link = referral_links.url FROM referral_links '
        'WHERE referral_links.id = clicks.link_id'
    ))
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.alter_column('link', existing_type=sa.VARCHAR(length=2048), server_default=None)
        batch_op.drop_constraint(batch_op.f('fk_clicks_link_id_referral_links'),
                                 type_='foreignkey')
        batch_op.drop_index('ix_clicks_affiliate_product_link')
        batch_op.create_index(batch_op.f('ix_clicks_affiliate_product_link'),
                              ['affiliate_id', 'product_id', 'link'], unique=False)
        batch_op.drop_column('link_id')
    op.drop_table('referral_links')
