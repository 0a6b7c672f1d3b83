"""notifications: a removed subscription keeps its delivery history (removed_at instead of a
delete); delivery workers write heartbeats that /healthz reads

Revision ID: 3b8e5d1c7a64
Revises: 5b8e2d7f1c3a
Create Date: 2026-12-06 12:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

import affsrv.db.types


# revision identifiers, used by Alembic.
revision = '3b8e5d1c7a64'
down_revision = '5b8e2d7f1c3a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_at', affsrv.db.types.UTCDateTime(),
                                      nullable=True))
    op.create_table(
        'notification_worker_heartbeats',
        sa.Column('worker', sa.String(length=200), nullable=False),
        sa.Column('started_at', affsrv.db.types.UTCDateTime(), nullable=False),
        sa.Column('beat_at', affsrv.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('worker'),
    )


def downgrade():
    op.drop_table('notification_worker_heartbeats')
    # Removed subscriptions were deleted before this revision (their history with them).
    op.execute("DELETE FROM outbox_messages WHERE subscription_id IN "
               "(SELECT id FROM notification_subscriptions WHERE removed_at IS NOT NULL)")
    op.execute("DELETE FROM notification_subscriptions WHERE removed_at IS NOT NULL")
    with op.batch_alter_table('notification_subscriptions', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
