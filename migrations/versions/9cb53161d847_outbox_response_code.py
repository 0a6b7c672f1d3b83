"""outbox_messages.response_code: the HTTP status a receiver answered a notification's last try
with, for the dashboard's delivery log (empty for rows delivered or tried before it)

Revision ID: 9cb53161d847
Revises: f3b8d2c6a1e7
Create Date: 2026-12-06 14:45:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9cb53161d847'
down_revision = 'f3b8d2c6a1e7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('response_code', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('response_code')
