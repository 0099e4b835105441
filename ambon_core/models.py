"""SQL history (the record) with SQLAlchemy 2.x typed models.

Times are stored in UTC; ``UTCDateTime`` hands back aware datetimes on every backend
(SQLite keeps no zone). Redis live state is rebuilt from these tables after a loss.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware-UTC datetimes in, aware-UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the history DB; pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class IncidentRecord(Base):
    """One 112 incident / complaint, with the time it reached each lifecycle step."""

    __tablename__ = "incident"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(120), unique=True)
    source: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(60), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[int] = mapped_column(Integer, default=2)
    status: Mapped[str] = mapped_column(String(20), index=True)
    agencies: Mapped[list[str]] = mapped_column(default=list)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    kecamatan: Mapped[str | None] = mapped_column(String(60))
    address: Mapped[str | None] = mapped_column(String(300))
    reported_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    on_scene_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    changes: Mapped[list[IncidentStatusChange]] = relationship(
        back_populates="incident", order_by="IncidentStatusChange.at")


class IncidentStatusChange(Base):
    __tablename__ = "incident_status_change"
    __table_args__ = (Index("ix_incident_status_change_incident_at", "incident_pk", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_pk: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    agency: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    incident: Mapped[IncidentRecord] = relationship(back_populates="changes")


class PuskesmasStatusChange(Base):
    """A puskesmas moved to a new status (buka, belum_buka, tutup, tidak_diketahui)."""

    __tablename__ = "puskesmas_status_change"
    __table_args__ = (Index("ix_puskesmas_status_change_site_at", "puskesmas_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    puskesmas_id: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))
    minutes_late: Mapped[int | None]
    waiting: Mapped[int | None]
    at: Mapped[datetime]


class OfficeStatusChange(Base):
    """A public service office (any type, puskesmas included) moved to a new status."""

    __tablename__ = "office_status_change"
    __table_args__ = (Index("ix_office_status_change_office_at", "office_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[str] = mapped_column(String(80))
    office_type: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    minutes_late: Mapped[int | None]
    waiting: Mapped[int | None]
    at: Mapped[datetime]


class CameraMinute(Base):
    """Per-camera aggregate of one minute: counts crossing lines, peaks, mean values."""

    __tablename__ = "camera_minute"
    __table_args__ = (Index("ix_camera_minute_camera_minute", "camera_id", "minute", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(80))
    minute: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))
    crossings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    objects_mean: Mapped[dict[str, Any]] = mapped_column(default=dict)
    congestion: Mapped[str | None] = mapped_column(String(10))
    queue_max: Mapped[int | None]
    fill: Mapped[float | None]
    frames: Mapped[int] = mapped_column(default=0)


class TpsFill(Base):
    __tablename__ = "tps_fill"
    __table_args__ = (Index("ix_tps_fill_tps_at", "tps_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tps_id: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]
    fill: Mapped[float]
    source: Mapped[str] = mapped_column(String(20), default="camera")


class AlertRecord(Base):
    """An alert's life: when raised, when cleared, so its duration is on record."""

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_kind_raised", "kind", "raised_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(160), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(120))
    severity: Mapped[int] = mapped_column(default=2)
    opd: Mapped[str | None] = mapped_column(String(20))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raised_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]


class WasteTrip(Base):
    """One DLH truck trip: a TPS emptied and the tonnage delivered to the TPA (feeds worker)."""

    __tablename__ = "waste_trip"
    __table_args__ = (Index("ix_waste_trip_tps_emptied", "tps_id", "emptied_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[str] = mapped_column(String(80), unique=True)
    truck_id: Mapped[str] = mapped_column(String(40))
    tps_id: Mapped[str] = mapped_column(String(80))
    emptied_at: Mapped[datetime]
    tonnage_kg: Mapped[float | None]
    tpa_arrived_at: Mapped[datetime | None]


class AuditLog(Base):
    """Who did what, when: logins, acknowledgements, instructions, exports."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(160))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AlertAction(Base):
    """Someone acknowledged an alert or added a note to it."""

    __tablename__ = "alert_action"
    __table_args__ = (Index("ix_alert_action_alert_at", "alert_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(160))
    action: Mapped[str] = mapped_column(String(20))  # acknowledge | note
    actor: Mapped[str] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class Instruction(Base):
    """An instruction from the mayor (or an OPD head) to a department, until marked done."""

    __tablename__ = "instruction"
    __table_args__ = (Index("ix_instruction_opd_status", "opd", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[str | None] = mapped_column(String(160))
    alert_kind: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(120))
    opd: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | done
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    done_by: Mapped[str | None] = mapped_column(String(80))
    done_at: Mapped[datetime | None]
    done_note: Mapped[str | None] = mapped_column(Text)
    # issue 17: who it reached, by when, and whether the sensors agree it is resolved
    problem: Mapped[str | None] = mapped_column(Text)  # the alert, as the public may read it
    place: Mapped[str | None] = mapped_column(String(200))
    deadline_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    escalation_level: Mapped[int] = mapped_column(default=0)  # index in outbox.LEVELS
    escalated_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]  # the alert behind it cleared
    done_photo: Mapped[bytes | None] = mapped_column(LargeBinary)  # re-encoded JPEG


class User(Base):
    """A local account of the dashboard (issue 7): argon2 password hash, role, department.

    ``failed_logins`` and ``locked_until`` drive the lockout; open sessions re-read the
    role and ``active`` from here every few seconds.
    """

    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))  # walikota | admin | opd
    opd: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AuthSession(Base):
    """One login: only an HMAC digest of the session token is stored, never the token."""

    __tablename__ = "auth_session"
    __table_args__ = (Index("ix_auth_session_user_started", "user_id", "started_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    started_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))  # logout | idle | disabled


class LoginThrottle(Base):
    """Failed logins counted per key (ASVS anti-automation; ``ambon_core.auth``).

    Keys are ``pair:<client>|<username>`` (one device guessing one account, whether the
    account exists or not) and ``client:<client>`` (one device guessing many names), so
    a stranger slows down only their own device, never the account's owner elsewhere.
    """

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime]
class NotifyContact(Base):
    """A notification target kept by the admin: an Apprise URL for a site, an OPD head, or
    (neither) the city level (Sekda, the mayor's office). Shown on the Admin page only."""

    __tablename__ = "notify_contact"
    id: Mapped[int] = mapped_column(primary_key=True)
    opd: Mapped[str | None] = mapped_column(String(20))
    site: Mapped[str | None] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class OutboxMessage(Base):
    """One message to one target, written in the transaction that made it necessary.

    ``key`` is the idempotency key the receiver sees (header and text); ``status`` is
    pending -> sending (claimed) -> sent, or invalid (the target cannot be used).
    """

    __tablename__ = "notify_outbox"
    __table_args__ = (Index("ix_notify_outbox_status_next", "status", "next_attempt_at"),
                      Index("ix_notify_outbox_instruction", "instruction_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    instruction_id: Mapped[int] = mapped_column(ForeignKey("instruction.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(default=0)
    contact_ref: Mapped[str] = mapped_column(String(40))
    contact_label: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]


class AckLinkUse(Base):
    """An acknowledgement link that was used (links are single-use)."""

    __tablename__ = "notify_ack_use"
    message_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    instruction_id: Mapped[int]
    used_at: Mapped[datetime]
class CallRecord(Base):
    """One call through the 112 queue (Asterisk queue_log). The caller's number is kept
    only while a call-back is owed (unanswered, not yet reached); matching uses a keyed hash."""

    __tablename__ = "call_record"
    __table_args__ = (Index("ix_call_record_entered", "entered_at"),
                      Index("ix_call_record_outcome_entered", "outcome", "entered_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(40))
    queue: Mapped[str] = mapped_column(String(80))
    entered_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(12))  # waiting|answered|abandoned|timeout|empty|key|lost
    caller_hash: Mapped[str | None] = mapped_column(String(24), index=True)
    caller_masked: Mapped[str | None] = mapped_column(String(32))
    caller_number: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[datetime | None]
    hold_s: Mapped[float | None] = mapped_column(Float)
    wait_s: Mapped[float | None] = mapped_column(Float)
    ended_at: Mapped[datetime | None]
    talk_s: Mapped[int | None]
    agent: Mapped[str | None] = mapped_column(String(80))
    callback_at: Mapped[datetime | None]


class CallAgentEvent(Base):
    """An agent logged in/off or paused (queue_log), to rebuild who was on duty."""

    __tablename__ = "call_agent_event"
    __table_args__ = (Index("ix_call_agent_event_key", "agent", "at", "event", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    agent: Mapped[str] = mapped_column(String(80))
    event: Mapped[str] = mapped_column(String(24))


class CallCdr(Base):
    """One CDR (Master.csv) row, numbers only as keyed hashes (for call-backs)."""

    __tablename__ = "call_cdr"
    __table_args__ = (Index("ix_call_cdr_start", "start"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cdr_key: Mapped[str] = mapped_column(String(64), unique=True)
    start: Mapped[datetime]
    answer: Mapped[datetime | None]
    end: Mapped[datetime]
    disposition: Mapped[str] = mapped_column(String(12))
    billsec: Mapped[int] = mapped_column(default=0)
    src_hash: Mapped[str | None] = mapped_column(String(24))
    dst_hash: Mapped[str | None] = mapped_column(String(24))


class CallFeedOffset(Base):
    """Where reading an append-only call file stopped; saved with what was read from it."""

    __tablename__ = "call_feed_offset"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(80), unique=True)
    path: Mapped[str] = mapped_column(String(500))
    inode: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(32))
    head_len: Mapped[int]
    offset: Mapped[int] = mapped_column(BigInteger)
    line: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]
