"""Domain types shared by workers (writers) and the dashboard (reader).

Every live value carries ``updated_at`` (aware UTC) so the UI can show its age and
mark it stale. Types serialise to JSON with ``model_dump_json`` and back with
``model_validate_json``; the Redis store does that, nobody else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (the only clock the store writes)."""
    return datetime.now(UTC)


class _Live(BaseModel):
    """A live value in Redis: ignores unknown fields so old readers survive new writers."""

    model_config = ConfigDict(extra="ignore")
    updated_at: datetime = Field(default_factory=utcnow)

    def age_s(self, now: datetime | None = None) -> float:
        """Seconds since the value was written."""
        return max(0.0, ((now or utcnow()) - self.updated_at).total_seconds())


class CameraKind(StrEnum):
    TRAFFIC = "traffic"
    MARKET = "market"
    PUSKESMAS = "puskesmas"
    TPS = "tps"


class Congestion(StrEnum):
    LANCAR = "lancar"  # free flow
    PADAT = "padat"  # dense
    MACET = "macet"  # jammed


class CameraStatus(StrEnum):
    OK = "ok"
    NO_SIGNAL = "no_signal"  # stream down: never show the last frame as if live
    STARTING = "starting"
    OVERLOADED = "overloaded"  # analysed below 80 % of its target for 10 s; cause says why


# a camera in one of these has fresh frames: its analysis, snapshot and sharp picture stand
# (an overloaded camera is slow, not dead)
LIVE_CAMERA_STATUSES = frozenset({CameraStatus.OK, CameraStatus.OVERLOADED})


class CameraState(_Live):
    """What one camera's analysis says now, plus its health."""

    camera_id: str
    kind: CameraKind
    status: CameraStatus = CameraStatus.STARTING
    objects: dict[str, int] = Field(default_factory=dict, description="class -> count in view")
    line_counts: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="line -> 'in:car' / 'out:motorcycle' -> total"
    )
    congestion: Congestion | None = None
    occupancy: float | None = None
    mean_speed_px_s: float | None = None
    parking_occupied: int | None = None
    parking_total: int | None = None
    queue_len: int | None = None
    longest_wait_s: float | None = None
    door_open: bool | None = None
    fill: float | None = Field(None, ge=0.0, le=1.0)
    capture_fps: float = 0.0
    infer_fps: float = 0.0
    infer_ms: float = 0.0
    skipped_frames: int = 0
    reconnects: int = 0
    last_frame_at: datetime | None = None
    worker: str | None = None
    analysis_withheld: str | None = Field(
        None, description="Why the analysis values are not published: 'demo_model' = the "
        "simulator-trained demo model on a real camera")
    health_cause: str | None = Field(None, description="why the status is not plain ok: cpu, "
                                     "decode, inference, no_keyframe, detect_down, main_down")
    target_fps: float | None = Field(None, description="analysed frames/s wanted now (after shedding)")
    stream: str | None = Field(None, description="codec and size of the analysed stream")
    stream_changes: int = 0


class PuskesmasStatus(StrEnum):
    BUKA = "buka"
    BELUM_BUKA = "belum_buka"
    TUTUP = "tutup"
    TIDAK_DIKETAHUI = "tidak_diketahui"


class PuskesmasState(_Live):
    """Opening status of one puskesmas against its schedule."""

    puskesmas_id: str
    status: PuskesmasStatus = PuskesmasStatus.TIDAK_DIKETAHUI
    minutes_late: int | None = None
    waiting: int | None = None
    longest_wait_s: float | None = None
    staff_checked_in: int | None = None
    door_open: bool | None = None
    scheduled_open: str | None = Field(None, description="Today's opening time, HH:MM WIT")
    scheduled_close: str | None = None
    hours_source: Literal["fhir", "registry"] | None = Field(
        None, description="Whose opening hours the status was computed against")
    closed_reason: str | None = Field(
        None, description="Why it is closed on purpose (FHIR suspension, holiday), plain text")


class Attendance(_Live):
    """Staff check-ins at one puskesmas today (from the ASN attendance export)."""

    puskesmas_id: str
    staff_checked_in: int = Field(0, ge=0)
    first_check_in_at: datetime | None = None


OfficeStatus = PuskesmasStatus  # one status vocabulary for every public service office


class ServiceOfficeState(_Live):
    """Status of one public service office (any type, puskesmas included) against its
    schedule and the working-day calendar (``ambon_core.service_status``)."""

    office_id: str
    office_type: str
    status: OfficeStatus = OfficeStatus.TIDAK_DIKETAHUI
    reason: str | None = Field(None, description="Why, as a code: holiday, outside_hours, "
                               "door_closed, no_checkin, staff_elsewhere, no_evidence, ...")
    closed_reason: str | None = Field(None, description="The holiday's name when closed for one, "
                                      "or the FHIR feed's reason (\"Renovasi gedung\")")
    hours_source: Literal["fhir", "registry"] | None = Field(
        None, description="Where today's hours came from: the FHIR feed or the registry "
        "(None: the office type's standard hours in calendar.yaml)")
    season: str = "regular"
    minutes_late: int | None = None
    waiting: int | None = None
    longest_wait_s: float | None = None
    staff_in: int | None = None
    staff_elsewhere: int | None = None
    staff_expected: int | None = None
    door_open: bool | None = None
    scheduled_open: str | None = Field(None, description="Today's opening time, HH:MM WIT")
    scheduled_close: str | None = None
    calendar_warning: str | None = None


class OfficeAttendance(_Live):
    """Today's ASN check-ins of one office's own staff (employees mapped by the roster)."""

    office_id: str
    staff_expected: int = Field(0, ge=0, description="Employees of the office on the roster")
    staff_in: int = Field(0, ge=0, description="Of them, checked in at the office")
    staff_elsewhere: int = Field(0, ge=0, description="Of them, checked in at another office")
    visitors: int = Field(0, ge=0, description="Other offices' staff checked in here")
    first_check_in_at: datetime | None = None


class TpsState(_Live):
    """Fill level of one garbage dump point (FIWARE WasteContainer.fillingLevel)."""

    tps_id: str
    fill: float | None = Field(None, ge=0.0, le=1.0)
    overflow: bool = False
    threshold: float = 0.8
    last_emptied_at: datetime | None = None
    source: str = "camera"


class IncidentStatus(StrEnum):
    """112 incident lifecycle, in order: status never moves backwards."""

    NEW = "new"
    VERIFIED = "verified"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def rank(self) -> int:
        return list(IncidentStatus).index(self)

    @property
    def is_open(self) -> bool:
        return self.rank < IncidentStatus.RESOLVED.rank


class Incident(_Live):
    """A 112 emergency, complaint or alert-derived incident (live view, no caller identity)."""

    incident_id: str
    source: str = "open311"
    category: str
    title: str
    description: str = ""
    status: IncidentStatus = IncidentStatus.NEW
    severity: int = Field(2, ge=1, le=3, description="1 rendah, 2 sedang, 3 tinggi")
    agencies: list[str] = Field(default_factory=list)
    lat: float | None = None
    lon: float | None = None
    kecamatan: str | None = None
    address: str | None = None
    reported_at: datetime = Field(default_factory=utcnow)


class AlertKind(StrEnum):
    PUSKESMAS_LATE = "puskesmas_late"
    CONGESTION = "congestion"
    ACCIDENT_CANDIDATE = "accident_candidate"
    ILLEGAL_PARKING = "illegal_parking"
    TPS_OVERFLOW = "tps_overflow"
    DUMPING = "dumping"
    QUEUE_LONG = "queue_long"
    INCIDENT = "incident"
    EARTHQUAKE = "earthquake"
    WEATHER = "weather"
    CAMERA_OFFLINE = "camera_offline"
    FEED_DEGRADED = "feed_degraded"
    OFFICE_LATE = "office_late"  # a service office other than a puskesmas not open on time
    CALL_WAITING = "call_waiting"  # a 112 call waited longer than calls_wait_alert_s
    CALL_NOT_CALLED_BACK = "call_not_called_back"  # an unanswered 112 caller, no call-back
    CALL_ABANDON_RATE = "call_abandon_rate"  # too many 112 calls unanswered in the last hour


class Alert(_Live):
    """Something the mayor or an OPD should look at; formatted for people by the UI."""

    alert_id: str
    kind: AlertKind
    entity_id: str
    severity: int = Field(2, ge=1, le=3)
    opd: str | None = Field(None, description="Department that owns it (registry OPD code)")
    params: dict[str, str | int | float | None] = Field(default_factory=dict)
    raised_at: datetime = Field(default_factory=utcnow)
    lat: float | None = None
    lon: float | None = None

    @model_validator(mode="after")
    def _owner_from_spec(self) -> Alert:
        """The owning department comes from the kind's spec (ambon_core.alert_kinds), also
        for alerts written before it was set; only incident alerts carry their own."""
        from ambon_core.alert_kinds import owner_of  # the specs import this module

        owner = owner_of(self.kind)
        if owner is not None:
            self.opd = owner
        return self


class FeedStatus(_Live):
    """Health of one OPD / national feed puller."""

    feed: str
    ok: bool = True
    last_ok_at: datetime | None = None
    last_error: str | None = None
    records: int = Field(0, description="Good records in the last document read")
    consecutive_failures: int = 0
    rejected: int = Field(0, description="Records of the last document dead-lettered")
    dead_letters: int = Field(0, description="Records dead-lettered since the worker started")
    unmapped: dict[str, int] = Field(
        default_factory=dict, description="Codes/agencies of the last document no mapping knows")
    all_rejected: bool = Field(False, description="The last document's records were all rejected")

    @property
    def degraded(self) -> bool:
        return self.consecutive_failures >= 3 or self.all_rejected


class SiteSchedule(_Live):
    """What the FHIR feeds last said of one puskesmas: held until a document changes it."""

    puskesmas_id: str
    location_id: str | None = Field(None, description="FHIR Location.id (SATUSEHAT: a UUID)")
    status: str = Field("active", description="Location.status")
    closed_reason: str | None = Field(
        None, description="Set while suspended/inactive/operationally closed (plain text)")
    hours: list[dict[str, Any]] | None = Field(
        None, description="hoursOfOperation as days_of_week/opening_time/closing_time")
    feed: str | None = None


class Heartbeat(_Live):
    """Proof of life of one worker process; written with a TTL."""

    worker: str
    pid: int
    host: str
    started_at: datetime
    state: Literal["starting", "running", "degraded", "stopping"] = "running"
    detail: dict[str, str | int | float | None] = Field(default_factory=dict)
