"""login throttle keyed by client and account (issue 13, finding 6)

Revision ID: 0005_login_throttle
Revises: 0004_auth
"""
from alembic import op
import sqlalchemy as sa
import ambon_core.models


revision = '0005_login_throttle'
down_revision = '0004_auth'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', ambon_core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', ambon_core.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )


def downgrade() -> None:
    op.drop_table('login_throttle')
