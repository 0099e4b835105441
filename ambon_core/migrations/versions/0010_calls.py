"""calls: 112 call-centre records, agent events, CDR rows and file offsets (issue 18)

Revision ID: 0010_calls
Revises: 0004_auth
"""
from alembic import op
import sqlalchemy as sa
import ambon_core.models


revision = '0010_calls'
down_revision = '0008_notify'
branch_labels = None
depends_on = None
UTC_DT = ambon_core.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('call_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('queue', sa.String(length=80), nullable=False),
    sa.Column('entered_at', UTC_DT, nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('caller_hash', sa.String(length=24), nullable=True),
    sa.Column('caller_masked', sa.String(length=32), nullable=True),
    sa.Column('caller_number', sa.String(length=32), nullable=True),
    sa.Column('answered_at', UTC_DT, nullable=True),
    sa.Column('hold_s', sa.Float(), nullable=True),
    sa.Column('wait_s', sa.Float(), nullable=True),
    sa.Column('ended_at', UTC_DT, nullable=True),
    sa.Column('talk_s', sa.Integer(), nullable=True),
    sa.Column('agent', sa.String(length=80), nullable=True),
    sa.Column('callback_at', UTC_DT, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_record')),
    sa.UniqueConstraint('call_id', name=op.f('uq_call_record_call_id'))
    )
    with op.batch_alter_table('call_record', schema=None) as batch_op:
        batch_op.create_index('ix_call_record_entered', ['entered_at'], unique=False)
        batch_op.create_index('ix_call_record_outcome_entered', ['outcome', 'entered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_caller_hash'), ['caller_hash'], unique=False)
    op.create_table('call_agent_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', UTC_DT, nullable=False),
    sa.Column('agent', sa.String(length=80), nullable=False),
    sa.Column('event', sa.String(length=24), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_agent_event'))
    )
    with op.batch_alter_table('call_agent_event', schema=None) as batch_op:
        batch_op.create_index('ix_call_agent_event_key', ['agent', 'at', 'event'], unique=True)
    op.create_table('call_cdr',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cdr_key', sa.String(length=64), nullable=False),
    sa.Column('start', UTC_DT, nullable=False),
    sa.Column('answer', UTC_DT, nullable=True),
    sa.Column('end', UTC_DT, nullable=False),
    sa.Column('disposition', sa.String(length=12), nullable=False),
    sa.Column('billsec', sa.Integer(), nullable=False),
    sa.Column('src_hash', sa.String(length=24), nullable=True),
    sa.Column('dst_hash', sa.String(length=24), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_cdr')),
    sa.UniqueConstraint('cdr_key', name=op.f('uq_call_cdr_cdr_key'))
    )
    with op.batch_alter_table('call_cdr', schema=None) as batch_op:
        batch_op.create_index('ix_call_cdr_start', ['start'], unique=False)
    op.create_table('call_feed_offset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('inode', sa.BigInteger(), nullable=False),
    sa.Column('head_hash', sa.String(length=32), nullable=False),
    sa.Column('head_len', sa.Integer(), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', UTC_DT, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_feed_offset')),
    sa.UniqueConstraint('source', name=op.f('uq_call_feed_offset_source'))
    )


def downgrade() -> None:
    op.drop_table('call_feed_offset')
    with op.batch_alter_table('call_cdr', schema=None) as batch_op:
        batch_op.drop_index('ix_call_cdr_start')
    op.drop_table('call_cdr')
    with op.batch_alter_table('call_agent_event', schema=None) as batch_op:
        batch_op.drop_index('ix_call_agent_event_key')
    op.drop_table('call_agent_event')
    with op.batch_alter_table('call_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_record_caller_hash'))
        batch_op.drop_index('ix_call_record_outcome_entered')
        batch_op.drop_index('ix_call_record_entered')
    op.drop_table('call_record')
