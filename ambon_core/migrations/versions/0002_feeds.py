"""feeds: DLH waste truck trips

Revision ID: 0002_feeds
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import ambon_core.models


revision = '0002_feeds'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('waste_trip',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trip_id', sa.String(length=80), nullable=False),
    sa.Column('truck_id', sa.String(length=40), nullable=False),
    sa.Column('tps_id', sa.String(length=80), nullable=False),
    sa.Column('emptied_at', ambon_core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tonnage_kg', sa.Float(), nullable=True),
    sa.Column('tpa_arrived_at', ambon_core.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waste_trip')),
    sa.UniqueConstraint('trip_id', name=op.f('uq_waste_trip_trip_id'))
    )
    with op.batch_alter_table('waste_trip', schema=None) as batch_op:
        batch_op.create_index('ix_waste_trip_tps_emptied', ['tps_id', 'emptied_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('waste_trip', schema=None) as batch_op:
        batch_op.drop_index('ix_waste_trip_tps_emptied')
    op.drop_table('waste_trip')
