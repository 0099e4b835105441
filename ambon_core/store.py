"""The Redis store: the one module that knows every Redis key.

Key schema (``P`` = ``settings.key_prefix``, default ``ambon``):

=============================  ========  ====================================================
key                            type      content
=============================  ========  ====================================================
P:state:camera                 hash      camera id -> CameraState JSON (analysis + health)
P:state:puskesmas              hash      puskesmas id -> PuskesmasState JSON
P:state:tps                    hash      TPS id -> TpsState JSON
P:state:incident               hash      incident id -> Incident JSON (open incidents only)
P:state:alert                  hash      alert id -> Alert JSON (active alerts only)
P:state:feed                   hash      feed name -> FeedStatus JSON
P:state:attendance             hash      puskesmas id -> Attendance JSON (staff check-ins today)
P:state:site_schedule          hash      puskesmas id -> SiteSchedule JSON (FHIR hours/closure)
P:state:office                 hash      office id -> ServiceOfficeState JSON (every office type)
P:state:office_attendance      hash      office id -> OfficeAttendance JSON (roster check-ins today)
P:hb:<worker>                  string    Heartbeat JSON, expires after its TTL
P:workers                      set       names of workers that ever beat (liveness is P:hb:*)
P:snapshot:<camera>            string    latest *blurred* JPEG of a camera, expires (60 s)
P:sharp:requests               set       camera ids whose sharp (main-stream) picture a signed-in
                                         viewer asked for (Kamera page); the worker holding
                                         the camera takes them
P:sharp:<camera>               hash      that picture: ``jpeg`` (*blurred*, main-stream
                                         resolution), ``taken_at`` or ``error``, expires (120 s)
P:lease:camera:<camera>        string    worker name holding the camera, expires (TTL)
P:stream:camera:<camera>       stream    history of CameraState, MAXLEN ~ stream_maxlen
P:stream:events                stream    alerts raised/cleared, status changes, MAXLEN ~
P:stream:deadletter            stream    rejected feed records with the reason, MAXLEN ~
P:meta:rebuilt_at              string    when live state was last rebuilt from SQL
P:holiday                      hash      'YYYY-MM-DD' (city-wide) or 'YYYY-MM-DD:<puskesmas id>'
                                         -> reason; days a puskesmas is closed on purpose
                                         (FHIR HealthcareService.notAvailable, feeds worker)
P:calls:figures                string    CallFigures JSON of the 112 call centre (calls
                                         worker): waiting now, today, hourly, shifts; callers
                                         only as masked numbers, in the call-back list
=============================  ========  ====================================================

Every JSON value carries ``updated_at``. Writes of one entity are one MULTI/EXEC
round trip (no half-written state); a whole page reads in one pipelined round trip.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

import redis
from pydantic import BaseModel, ValidationError

from ambon_core.call_figures import CallFigures
from ambon_core.domain import (
    Alert,
    Attendance,
    CameraState,
    FeedStatus,
    Heartbeat,
    Incident,
    OfficeAttendance,
    PuskesmasState,
    ServiceOfficeState,
    SiteSchedule,
    TpsState,
    utcnow,
)

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

# entity type -> (hash name, attribute holding its id)
_ENTITIES: dict[type[BaseModel], tuple[str, str]] = {
    CameraState: ("camera", "camera_id"),
    PuskesmasState: ("puskesmas", "puskesmas_id"),
    TpsState: ("tps", "tps_id"),
    Incident: ("incident", "incident_id"),
    Alert: ("alert", "alert_id"),
    FeedStatus: ("feed", "feed"),
    Attendance: ("attendance", "puskesmas_id"),
    SiteSchedule: ("site_schedule", "puskesmas_id"),
    ServiceOfficeState: ("office", "office_id"),
    OfficeAttendance: ("office_attendance", "office_id"),
}

# Server-side join of the worker set with their TTL'd heartbeat keys, so the
# heartbeats ride in the same pipelined round trip as the state hashes.
_HEARTBEATS_LUA = """
local names = redis.call('SMEMBERS', KEYS[1])
local out = {}
for _, name in ipairs(names) do
  out[#out + 1] = name
  out[#out + 1] = redis.call('GET', ARGV[1] .. name) or false
end
return out
"""


@dataclass(frozen=True)
class SharpPicture:
    """A camera's picture from its main stream, asked for on the Kamera page: the blurred
    JPEG, or why there is none (``error``: a ``camera.sharp_error_*`` code)."""

    jpeg: bytes | None
    taken_at: datetime
    error: str | None = None


@dataclass(frozen=True)
class LiveState:
    """Everything live, as read in one round trip; ``read_at`` is the reader's clock."""

    cameras: dict[str, CameraState] = field(default_factory=dict)
    puskesmas: dict[str, PuskesmasState] = field(default_factory=dict)
    tps: dict[str, TpsState] = field(default_factory=dict)
    incidents: dict[str, Incident] = field(default_factory=dict)
    alerts: dict[str, Alert] = field(default_factory=dict)
    feeds: dict[str, FeedStatus] = field(default_factory=dict)
    attendance: dict[str, Attendance] = field(default_factory=dict)
    heartbeats: dict[str, Heartbeat | None] = field(default_factory=dict)
    offices: dict[str, ServiceOfficeState] = field(default_factory=dict)
    office_attendance: dict[str, OfficeAttendance] = field(default_factory=dict)
    read_at: datetime = field(default_factory=utcnow)
    calls: CallFigures | None = None


def _decode(model: type[M], raw: bytes | str | None, where: str) -> M | None:
    if raw is None:
        return None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        # One bad value must not blank a whole page: skip it, say where.
        log.warning("store: skipping unreadable %s: %s", where, exc.errors()[0]["msg"])
        return None


class Store:
    """Typed access to the live state in Redis."""

    def __init__(self, client: redis.Redis, prefix: str = "ambon", stream_maxlen: int = 2000):
        self.r = client
        self.p = prefix
        self.maxlen = stream_maxlen

    # ---- key names -------------------------------------------------------------
    def key_state(self, name: str) -> str:
        return f"{self.p}:state:{name}"

    def key_heartbeat(self, worker: str) -> str:
        return f"{self.p}:hb:{worker}"

    def key_snapshot(self, camera_id: str) -> str:
        return f"{self.p}:snapshot:{camera_id}"

    def key_sharp(self, camera_id: str) -> str:
        return f"{self.p}:sharp:{camera_id}"

    def key_sharp_requests(self) -> str:
        return f"{self.p}:sharp:requests"

    def key_lease(self, camera_id: str) -> str:
        return f"{self.p}:lease:camera:{camera_id}"

    def key_stream(self, name: str) -> str:
        return f"{self.p}:stream:{name}"

    def key_calls(self) -> str:
        return f"{self.p}:calls:figures"

    # ---- writers ---------------------------------------------------------------
    def put(self, *states: BaseModel, history: bool = False) -> None:
        """Write entity states atomically; with ``history`` also append camera states to
        their stream (per-minute aggregates go to SQL, the stream keeps the recent past)."""
        pipe = self.r.pipeline(transaction=True)
        for state in states:
            name, id_attr = _ENTITIES[type(state)]
            payload = state.model_dump_json()
            entity_id = getattr(state, id_attr)
            pipe.hset(self.key_state(name), entity_id, payload)
            if history and isinstance(state, CameraState):
                pipe.xadd(self.key_stream(f"camera:{entity_id}"), {"state": payload},
                          maxlen=self.maxlen, approximate=True)
        pipe.execute()

    def remove(self, model: type[BaseModel], *entity_ids: str) -> None:
        """Drop entities from the live state (a resolved incident, a cleared alert)."""
        if entity_ids:
            self.r.hdel(self.key_state(_ENTITIES[model][0]), *entity_ids)

    def event(self, kind: str, **fields: str | int | float) -> None:
        """Append to the events stream (alerts raised/cleared, status changes)."""
        body = {"kind": kind, "at": utcnow().isoformat(), **{k: str(v) for k, v in fields.items()}}
        self.r.xadd(self.key_stream("events"), body, maxlen=self.maxlen, approximate=True)

    def dead_letter(self, feed: str, record: str, reason: str) -> None:
        """Keep a rejected feed record for inspection (truncated to 4 kB)."""
        self.r.xadd(self.key_stream("deadletter"),
                    {"feed": feed, "reason": reason[:500], "record": record[:4096],
                     "at": utcnow().isoformat()},
                    maxlen=self.maxlen, approximate=True)

    def beat(self, heartbeat: Heartbeat, ttl_s: int) -> None:
        """Renew a worker's heartbeat; it disappears ``ttl_s`` after the last beat."""
        heartbeat.updated_at = utcnow()
        pipe = self.r.pipeline(transaction=True)
        pipe.set(self.key_heartbeat(heartbeat.worker), heartbeat.model_dump_json(), ex=ttl_s)
        pipe.sadd(f"{self.p}:workers", heartbeat.worker)
        pipe.execute()

    def heartbeat(self, worker: str) -> Heartbeat | None:
        """A worker's last heartbeat, or None once it expired (the worker is silent)."""
        raw = self.r.get(self.key_heartbeat(worker))
        return Heartbeat.model_validate_json(raw) if raw is not None else None

    def put_call_figures(self, figures: CallFigures) -> None:
        """Replace the 112 call-centre figures (one value: a reader never sees half of it)."""
        self.r.set(self.key_calls(), figures.model_dump_json())

    def call_figures(self) -> CallFigures | None:
        return _decode(CallFigures, self.r.get(self.key_calls()), "calls:figures")

    def put_snapshot(self, camera_id: str, jpeg: bytes, ttl_s: int = 60) -> None:
        """Store a camera's latest snapshot. Callers pass only blurred frames."""
        self.r.set(self.key_snapshot(camera_id), jpeg, ex=ttl_s)

    # ---- sharp pictures on demand (a camera's main stream, blurred) --------------
    def request_sharp(self, camera_id: str) -> None:
        """Ask the worker holding ``camera_id`` for one blurred main-stream picture;
        the previous one (or its error) is dropped so the page waits for the new one."""
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(self.key_sharp(camera_id))
        pipe.sadd(self.key_sharp_requests(), camera_id)
        pipe.execute()

    def take_sharp_requests(self, camera_ids: list[str]) -> list[str]:
        """The requests for ``camera_ids`` (the cameras this worker holds), removed from
        the set so that each is served once; other workers' cameras stay asked for."""
        if not camera_ids:
            return []
        asked = self.r.smismember(self.key_sharp_requests(), camera_ids)
        mine = [cid for cid, yes in zip(camera_ids, asked, strict=True) if yes]
        if mine:
            self.r.srem(self.key_sharp_requests(), *mine)
        return mine

    def put_sharp(self, camera_id: str, jpeg: bytes | None, taken_at: datetime,
                  error: str | None = None, ttl_s: int = 120) -> None:
        """Store a requested picture (callers pass only blurred frames) or why there is none."""
        fields: dict[str, bytes | str] = {"taken_at": taken_at.isoformat()}
        if jpeg is not None:
            fields["jpeg"] = jpeg
        if error:
            fields["error"] = error
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(self.key_sharp(camera_id))
        pipe.hset(self.key_sharp(camera_id), mapping=fields)
        pipe.expire(self.key_sharp(camera_id), ttl_s)
        pipe.execute()

    def sharp(self, camera_id: str) -> SharpPicture | None:
        """The requested picture of a camera (or its error) while it has not expired."""
        raw = self.r.hgetall(self.key_sharp(camera_id))
        if not raw or b"taken_at" not in raw:
            return None
        return SharpPicture(jpeg=raw.get(b"jpeg"),
                            taken_at=datetime.fromisoformat(raw[b"taken_at"].decode()),
                            error=raw[b"error"].decode() if b"error" in raw else None)

    def sharp_pending(self, camera_id: str) -> bool:
        """True while a request for ``camera_id`` waits for its worker."""
        return bool(self.r.sismember(self.key_sharp_requests(), camera_id))

    # ---- leases (cameras shared by several worker hosts) -------------------------
    def claim(self, camera_id: str, worker: str, ttl_s: int) -> bool:
        """Take or renew a camera lease; False if another worker holds it."""
        key = self.key_lease(camera_id)
        if self.r.set(key, worker, nx=True, ex=ttl_s):
            return True
        holder = self.r.get(key)
        if holder is not None and holder.decode() == worker:
            return bool(self.r.expire(key, ttl_s))
        return False

    def release(self, camera_id: str, worker: str) -> None:
        """Give a lease back if we still hold it."""
        key = self.key_lease(camera_id)
        holder = self.r.get(key)
        if holder is not None and holder.decode() == worker:
            self.r.delete(key)

    # ---- readers ---------------------------------------------------------------
    def read_live(self) -> LiveState:
        """All live state in ONE pipelined round trip (nine hashes and the heartbeats)."""
        names = ["camera", "puskesmas", "tps", "incident", "alert", "feed", "attendance",
                 "office", "office_attendance"]
        pipe = self.r.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self.key_state(name))
        pipe.eval(_HEARTBEATS_LUA, 1, f"{self.p}:workers", f"{self.p}:hb:")
        pipe.get(self.key_calls())
        *hashes, flat_hb, calls = pipe.execute()
        parsed = {}
        for name, raw in zip(names, hashes, strict=True):
            model = next(m for m, (n, _) in _ENTITIES.items() if n == name)
            items = {k.decode(): _decode(model, v, f"{name}:{k.decode()}") for k, v in raw.items()}
            parsed[name] = {k: v for k, v in items.items() if v is not None}
        heartbeats = {flat_hb[i].decode(): _decode(Heartbeat, flat_hb[i + 1], "heartbeat")
                      for i in range(0, len(flat_hb), 2)}
        return LiveState(cameras=parsed["camera"], puskesmas=parsed["puskesmas"],
                         tps=parsed["tps"], incidents=parsed["incident"],
                         alerts=parsed["alert"], feeds=parsed["feed"],
                         attendance=parsed["attendance"], heartbeats=heartbeats,
                         offices=parsed["office"], office_attendance=parsed["office_attendance"],
                         calls=_decode(CallFigures, calls, "calls:figures"))

    def get(self, model: type[M], entity_id: str) -> M | None:
        """One entity's live state, or None."""
        name = _ENTITIES[model][0]
        return _decode(model, self.r.hget(self.key_state(name), entity_id), f"{name}:{entity_id}")

    def snapshot(self, camera_id: str) -> bytes | None:
        """The latest blurred JPEG of a camera, if fresh."""
        return self.r.get(self.key_snapshot(camera_id))

    def camera_history(self, camera_id: str, count: int = 100) -> list[CameraState]:
        """The most recent camera states, newest first."""
        rows = self.r.xrevrange(self.key_stream(f"camera:{camera_id}"), count=count)
        states = (_decode(CameraState, fields[b"state"], camera_id) for _, fields in rows)
        return [s for s in states if s is not None]

    def events(self, count: int = 100, stream: str = "events") -> list[dict[str, str]]:
        """The most recent entries of a stream (events or deadletter), newest first."""
        rows = self.r.xrevrange(self.key_stream(stream), count=count)
        return [{k.decode(): v.decode(errors="replace") for k, v in f.items()} for _, f in rows]

    def put_holidays(self, days: dict[str, str], keep_after: date | None = None) -> None:
        """Add closure days (keys 'YYYY-MM-DD' or 'YYYY-MM-DD:<puskesmas id>' -> reason);
        with ``keep_after``, entries of earlier days are dropped in the same transaction."""
        key = f"{self.p}:holiday"
        old = [k for k in self.r.hkeys(key) if keep_after and k.decode()[:10] < keep_after.isoformat()]
        pipe = self.r.pipeline(transaction=True)
        if old:
            pipe.hdel(key, *old)
        if days:
            pipe.hset(key, mapping=days)
        pipe.execute()

    def holiday(self, day: date, puskesmas_id: str | None = None) -> str | None:
        """Why ``day`` is a closure day (city-wide, or for ``puskesmas_id``), else None."""
        keys = [day.isoformat()] + ([f"{day.isoformat()}:{puskesmas_id}"] if puskesmas_id else [])
        found = [v for v in self.r.hmget(f"{self.p}:holiday", keys) if v is not None]
        return found[0].decode() if found else None

    def holidays(self) -> dict[str, str]:
        """Every known closure day -> reason."""
        return {k.decode(): v.decode() for k, v in self.r.hgetall(f"{self.p}:holiday").items()}

    def site_schedules(self) -> dict[str, SiteSchedule]:
        """What the FHIR feeds said of each puskesmas (hours, closure), by puskesmas id."""
        raw = self.r.hgetall(self.key_state("site_schedule"))
        items = {k.decode(): _decode(SiteSchedule, v, f"site_schedule:{k.decode()}")
                 for k, v in raw.items()}
        return {k: v for k, v in items.items() if v is not None}

    def is_empty(self) -> bool:
        """True when no live state exists (a new or restarted Redis)."""
        pipe = self.r.pipeline(transaction=False)
        for name in ("incident", "puskesmas", "tps"):
            pipe.exists(self.key_state(name))
        pipe.exists(f"{self.p}:meta:rebuilt_at")
        return not any(pipe.execute())

    def rebuilt_at(self) -> str | None:
        """When live state was last rebuilt from SQL on this server; None means a new or
        restarted Redis whose live state still has to be rebuilt."""
        raw = self.r.get(f"{self.p}:meta:rebuilt_at")
        return None if raw is None else json.loads(raw)

    def mark_rebuilt(self) -> None:
        self.r.set(f"{self.p}:meta:rebuilt_at", json.dumps(utcnow().isoformat()))

    def clear_live(self) -> None:
        """Forget all live state (after a restore of the record it is rebuilt from SQL)."""
        names = ["camera", "puskesmas", "tps", "incident", "alert", "feed", "attendance"]
        self.r.delete(*[self.key_state(n) for n in names], f"{self.p}:meta:rebuilt_at")
