"""office_status: status changes of every public service office

Revision ID: 0009_office_status
Revises: 0004_auth (the lead relinks it at merge)
"""
from alembic import op
import sqlalchemy as sa
import ambon_core.models


revision = '0009_office_status'
down_revision = '0010_calls'  # merged after 0010 (the chain is by merge order)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('office_status_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.String(length=80), nullable=False),
    sa.Column('office_type', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('minutes_late', sa.Integer(), nullable=True),
    sa.Column('waiting', sa.Integer(), nullable=True),
    sa.Column('at', ambon_core.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_status_change'))
    )
    with op.batch_alter_table('office_status_change', schema=None) as batch_op:
        batch_op.create_index('ix_office_status_change_office_at', ['office_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('office_status_change', schema=None) as batch_op:
        batch_op.drop_index('ix_office_status_change_office_at')
    op.drop_table('office_status_change')
