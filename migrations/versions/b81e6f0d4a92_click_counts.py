"""click_counts: clicks per affiliate, product and link, kept as clicks are written, so the
Data API's referrals op reads one row per product and link instead of counting every click;
the clicks lose their last index, which only that count read

Revision ID: b81e6f0d4a92
Revises: 9d3b5a7c2e1f
Create Date: 2026-11-22 02:50:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b81e6f0d4a92'
down_revision = '9d3b5a7c2e1f'
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'click_counts',
        sa.Column('affiliate_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('product_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('link_id', _BigId, autoincrement=False, nullable=False),
        sa.Column('clicks', sa.BigInteger(), nullable=False),
        # PostgreSQL: the count in the key's index too, so referrals is an index-only scan.
        sa.PrimaryKeyConstraint('affiliate_id', 'product_id', 'link_id',
                                name=op.f('pk_click_counts'), postgresql_include=['clicks']),
        sqlite_with_rowid=False,
    )
    # The clicks recorded so far, counted once (product 0: clicks that named none).
    op.execute(
        'INSERT INTO click_counts (affiliate_id, product_id, link_id, clicks) '
        'SELECT affiliate_id, COALESCE(product_id, 0), link_id, COUNT(*) FROM clicks '
        'GROUP BY affiliate_id, COALESCE(product_id, 0), link_id'
    )
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clicks_affiliate_product_link'))


def downgrade():
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clicks_affiliate_product_link'),
                              ['affiliate_id', 'product_id', 'link_id'], unique=False)
    op.drop_table('click_counts')
