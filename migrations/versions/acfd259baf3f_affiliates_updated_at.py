"""affiliates updated_at: what each worker's affiliate directory re-reads on refresh

Revision ID: acfd259baf3f
Revises: 4d6421a93fd9
Create Date: 2026-11-21 12:15:02.689843
"""
import sqlalchemy as sa
from alembic import op

import affsrv.db.types


# revision identifiers, used by Alembic.
revision = 'acfd259baf3f'
down_revision = '4d6421a93fd9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('affiliates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', affsrv.db.types.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_affiliates_updated_at'), ['updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('affiliates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_affiliates_updated_at'))
        batch_op.drop_column('updated_at')
