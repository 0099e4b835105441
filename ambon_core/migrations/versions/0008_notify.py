"""instructions that reach people: contacts, outbox, acknowledgement links, follow-up columns

Revision ID: 0008_notify
Revises: 0004_auth (the lead relinks it after the other 0005-0007 branches at merge)
Create Date: 2026-12-02 06:40:00
"""
import sqlalchemy as sa
from alembic import op

import ambon_core.models

revision = "0008_notify"
down_revision = "0005_login_throttle"
branch_labels = None
depends_on = None

UTC = ambon_core.models.UTCDateTime(timezone=True)
NEW_INSTRUCTION_COLUMNS = (
    ("problem", sa.Text()), ("place", sa.String(200)), ("deadline_at", UTC),
    ("acknowledged_at", UTC), ("acknowledged_by", sa.String(120)),
    ("escalated_at", UTC), ("verified_at", UTC), ("done_photo", sa.LargeBinary()),
)


def upgrade() -> None:
    with op.batch_alter_table("instruction", schema=None) as batch_op:
        for name, type_ in NEW_INSTRUCTION_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.add_column(sa.Column("escalation_level", sa.Integer(), nullable=False,
                                      server_default="0"))
    op.create_table(
        "notify_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opd", sa.String(20), nullable=True),
        sa.Column("site", sa.String(80), nullable=True),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_contact")))
    op.create_table(
        "notify_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("instruction_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("contact_ref", sa.String(40), nullable=False),
        sa.Column("contact_label", sa.String(120), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC, nullable=False),
        sa.Column("claimed_at", UTC, nullable=True),
        sa.Column("claimed_by", sa.String(80), nullable=True),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["instruction_id"], ["instruction.id"], ondelete="CASCADE",
                                name=op.f("fk_notify_outbox_instruction_id_instruction")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_notify_outbox_key")))
    with op.batch_alter_table("notify_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_notify_outbox_status_next", ["status", "next_attempt_at"])
        batch_op.create_index("ix_notify_outbox_instruction", ["instruction_id"])
    op.create_table(
        "notify_ack_use",
        sa.Column("message_key", sa.String(80), nullable=False),
        sa.Column("instruction_id", sa.Integer(), nullable=False),
        sa.Column("used_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("message_key", name=op.f("pk_notify_ack_use")))


def downgrade() -> None:
    op.drop_table("notify_ack_use")
    with op.batch_alter_table("notify_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_notify_outbox_instruction")
        batch_op.drop_index("ix_notify_outbox_status_next")
    op.drop_table("notify_outbox")
    op.drop_table("notify_contact")
    with op.batch_alter_table("instruction", schema=None) as batch_op:
        batch_op.drop_column("escalation_level")
        for name, _ in reversed(NEW_INSTRUCTION_COLUMNS):
            batch_op.drop_column(name)
