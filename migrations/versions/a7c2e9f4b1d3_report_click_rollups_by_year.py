"""report click rollups per UTC year for the click groups with long answers (affiliate,
link): a two-year affiliates report reads a year row or two and a few months and days per
affiliate or link, not 24 month rows and the ragged days. Filled from the clicks stored so
far.

Revision ID: a7c2e9f4b1d3
Revises: 5fa61bbb94d0
Create Date: 2026-12-06 21:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c2e9f4b1d3'
down_revision = '5fa61bbb94d0'
branch_labels = None
depends_on = None

_TABLES = {
    'report_clicks_by_affiliate_y': lambda: sa.Column('affiliate_id', sa.Integer(),
                                                      autoincrement=False, nullable=False),
    'report_clicks_by_link_y': lambda: sa.Column(
        'link_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False,
        nullable=False),
}


def upgrade():
    for name, dimension in _TABLES.items():
        column = dimension()
        op.create_table(
            name,
            sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
            column,
            sa.Column('clicks', sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint('bucket', column.name, name=op.f(f'pk_{name}')),
        )
    _fill()


def _fill():
    """Count the clicks stored already into the new rollups, as `affsrv report recount`
    does."""
    from affsrv.reports.rollups import fill_new_rollups

    fill_new_rollups(op.get_bind(), set(_TABLES))


def downgrade():
    for name in reversed(list(_TABLES)):
        op.drop_table(name)
