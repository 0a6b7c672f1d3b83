"""clicks: only the referrals index (no query read clicks by product or time alone; each
index slowed every landing click)

Revision ID: 1ffa6b197ddb
Revises: 521581d836fc
Create Date: 2026-11-21 13:02:45.772853
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '1ffa6b197ddb'
down_revision = '521581d836fc'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clicks_created_at'))
        batch_op.drop_index(batch_op.f('ix_clicks_product_id'))


def downgrade():
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clicks_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clicks_created_at'), ['created_at'], unique=False)
