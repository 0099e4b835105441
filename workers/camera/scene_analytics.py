"""Camera analytics as plug-ins, chosen by what a camera's registry entry draws.

A camera gets one analytic per kind of thing drawn on its picture: counting lines give
``LineCrossings``, ``lane`` zones ``LaneTraffic``, ``parking_slot`` zones ``ParkingSlots``,
``no_parking`` zones ``NoParking``, ``queue`` zones ``Queue``, a ``door`` zone ``Door``, a
``pile`` zone ``Pile``. None of them asks the camera's kind: a market camera with a queue
drawn counts its queue. Each one is fed every analysed frame (``update(frame)``) and
answers with typed values (fields of ``CameraState``, nothing else) and the alerts it
wants active now (``Wanted``); the pipeline merges them.

Adding an analytic: a class here with its ``zone_kind``, its values dataclass (fields
named as the ``CameraState`` fields they fill), its line in ``ANALYTICS``, the zone kind in
``ambon_core.registry.Zone``, its alert kind's spec and sentence, and its page.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from typing import Any, ClassVar

import numpy as np

from ambon_core.domain import AlertKind, Congestion
from ambon_core.registry import Tps
from ambon_core.settings import CameraSettings, camera_settings
from workers.camera import analytics as an
from workers.camera.geometry import VEHICLES, CameraGeometry, Track


@dataclass(frozen=True)
class Rules:
    """Alert thresholds (seconds / people): the fields of the same name in CameraSettings."""

    stopped_s: float = 30.0
    no_parking_s: float = 30.0
    queue_long: int = 10
    dumping_alert_s: float = 600.0
    queue_hold_s: float = 0.5  # one analysis period

    @classmethod
    def from_settings(cls, settings: CameraSettings | None = None) -> Rules:
        """The thresholds of ``settings`` (default: CAMERA_* of the environment, typed)."""
        s = settings or camera_settings()
        return cls(**{k: getattr(s, k) for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Frame:
    """What every analytic sees of one analysed frame."""

    t: float  # monotonic seconds
    image: np.ndarray
    tracks: list[Track]
    changed: bool  # False: the motion gate kept the previous tracks (nothing moved)
    local_now: datetime  # the city's clock
    geom: CameraGeometry
    book: an.TrackBook
    scale: float  # frame pixels per registry pixel
    # where this frame's detected people stand, confirmed by the tracker or not (the
    # previous frame's when the motion gate kept it)
    people: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Wanted:
    """An alert an analytic wants active now (the pipeline names and places it)."""

    kind: AlertKind
    severity: int
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Output:
    values: Any  # a dataclass whose fields are CameraState fields
    alerts: tuple[Wanted, ...] = ()

    def state_fields(self) -> dict[str, Any]:
        return asdict(self.values)


@dataclass(frozen=True)
class Setup:
    """What an analytic may need besides the frames: thresholds, reference photos, the TPS."""

    rules: Rules
    ref: Any  # ref(name, size) -> the reference photo resized to the frame, or None
    tps: Tps | None = None
    has_garbage: bool = False


class Analytic(ABC):
    """One analytic of one camera, built for one frame geometry."""

    zone_kind: ClassVar[str]  # selected when the camera has a zone of this kind

    def __init__(self, geom: CameraGeometry, setup: Setup, previous: Analytic | None = None):
        self.geom, self.setup = geom, setup

    @abstractmethod
    def update(self, frame: Frame) -> Output:
        """Values and wanted alerts after this frame."""


# ---- traffic ------------------------------------------------------------------------------
@dataclass(frozen=True)
class LineValues:
    line_counts: dict[str, dict[str, int]]


class LineCrossings(Analytic):
    """Vehicles and people crossing the counting lines (cumulative, per direction and class);
    the counts survive a change of the stream's resolution."""

    zone_kind = "line"

    def __init__(self, geom: CameraGeometry, setup: Setup, previous: Analytic | None = None):
        super().__init__(geom, setup)
        self.counter = an.LineCounter(geom.lines)
        if isinstance(previous, LineCrossings):
            self.counter.counts = previous.counter.counts
        self.crossings: list[tuple[str, str, str]] = []  # this frame's, for the minute rows

    def update(self, frame: Frame) -> Output:
        self.crossings = self.counter.update(frame.tracks) if frame.changed else []
        return Output(LineValues({k: dict(c) for k, c in self.counter.counts.items()}))


@dataclass(frozen=True)
class LaneValues:
    occupancy: float
    mean_speed_px_s: float | None
    congestion: Congestion | None


class LaneTraffic(Analytic):
    """Occupancy, speed and congestion of the lanes; a vehicle standing still in a lane is an
    accident candidate, except in a jam (everybody stands)."""

    zone_kind = "lane"

    def update(self, frame: Frame) -> Output:
        lanes = self.geom.of_kind("lane")
        in_lane = [tr for tr in frame.tracks if tr.cls in VEHICLES
                   and any(z.contains(tr.foot) for z in lanes)]
        speeds = [s for tr in in_lane if (s := frame.book.speed(tr.track_id)) is not None]
        mean_speed = float(np.mean(speeds)) / frame.scale if speeds else None
        occ = an.lane_occupancy(in_lane, lanes, self.geom.size)
        level = an.congestion_level(occ, mean_speed)
        stopped = [tr for tr in in_lane
                   if frame.book.still_for(tr.track_id, frame.t) >= self.setup.rules.stopped_s]
        alerts = []
        if level == Congestion.MACET:
            alerts.append(Wanted(AlertKind.CONGESTION, 2, {"level": "macet",
                                                           "occupancy": round(occ, 3)}))
        elif stopped:
            alerts.append(Wanted(AlertKind.ACCIDENT_CANDIDATE, 3, {"vehicles": len(stopped)}))
        return Output(LaneValues(round(occ, 3), mean_speed, level), tuple(alerts))


@dataclass(frozen=True)
class ParkingValues:
    parking_occupied: int
    parking_total: int


class ParkingSlots(Analytic):
    """Smart parking: a slot is taken while a vehicle's point lies in it."""

    zone_kind = "parking_slot"

    def update(self, frame: Frame) -> Output:
        slots = an.parking([tr for tr in frame.tracks if tr.cls in VEHICLES],
                           self.geom.of_kind("parking_slot"))
        return Output(ParkingValues(sum(slots.values()), len(slots)))


@dataclass(frozen=True)
class NoValues:
    pass


class NoParking(Analytic):
    """A vehicle that stays in a no-parking zone longer than CAMERA_NO_PARKING_S."""

    zone_kind = "no_parking"

    def update(self, frame: Frame) -> Output:
        limit = self.setup.rules.no_parking_s
        illegal = [tr for tr in frame.tracks if tr.cls in VEHICLES
                   for z in self.geom.of_kind("no_parking")
                   if frame.book.dwell(tr.track_id, z.name, frame.t) >= limit]
        alerts = (Wanted(AlertKind.ILLEGAL_PARKING, 1, {"vehicles": len(illegal)}),) if illegal else ()
        return Output(NoValues(), alerts)


# ---- sites --------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueValues:
    queue_len: int
    longest_wait_s: float


class Queue(Analytic):
    """People waiting in the queue zones and the longest wait.

    The count is what this frame shows: the people detected in the zone now, or -- when
    the detector misses some -- the tracked ones plus those missed for a period
    (``queue_hold_s``), whichever is more. Tracks alone would count a newcomer, or someone
    who shuffled forward and lost their track, only from their second frame on: at a site
    camera's 0.5 fps that is 2 s late and the queue reads short. The wait needs the tracks.
    """

    zone_kind = "queue"

    def update(self, frame: Frame) -> Output:
        rules, queues = self.setup.rules, self.geom.of_kind("queue")
        persons = [tr for tr in frame.tracks if tr.cls == "person"]
        waiting = [p for p in persons if any(z.contains(p.foot) for z in queues)]
        waits = [max(frame.book.dwell(p.track_id, z.name, frame.t) for z in queues) for p in waiting]
        held = [k for k, foot in frame.book.recent(frame.t, rules.queue_hold_s, "person",
                                                   {p.track_id for p in persons})
                if any(z.contains(foot) for z in queues)] if rules.queue_hold_s > 0 else []
        seen_now = sum(1 for foot in frame.people if any(z.contains(foot) for z in queues))
        values = QueueValues(max(seen_now, len(waiting) + len(held)),
                             round(max(waits), 1) if waits else 0.0)
        alerts = ((Wanted(AlertKind.QUEUE_LONG, 2, {"waiting": values.queue_len,
                                                    "longest_wait_s": values.longest_wait_s}),)
                  if values.queue_len >= rules.queue_long else ())
        return Output(values, alerts)


@dataclass(frozen=True)
class DoorValues:
    door_open: bool | None


class Door(Analytic):
    """Whether the entrance door is open (against the shut-door photo when there is one)."""

    zone_kind = "door"

    def __init__(self, geom: CameraGeometry, setup: Setup, previous: Analytic | None = None):
        super().__init__(geom, setup)
        self.watch = an.DoorWatch(geom.of_kind("door")[0], setup.ref("door_closed", geom.size))

    def update(self, frame: Frame) -> Output:
        persons = [tr for tr in frame.tracks if tr.cls == "person"]
        return Output(DoorValues(self.watch.update(frame.t, frame.image, persons)))


@dataclass(frozen=True)
class PileValues:
    fill: float | None


def _allowed(hours: tuple[str, str], now: time) -> bool:
    a, b = time.fromisoformat(hours[0]), time.fromisoformat(hours[1])
    return a <= now < b if a < b else now >= a or now < b


class Pile(Analytic):
    """How full the dump point is (against the empty-site photo, else garbage boxes) and
    dumping outside the TPS's dumping hours."""

    zone_kind = "pile"

    def __init__(self, geom: CameraGeometry, setup: Setup, previous: Analytic | None = None):
        super().__init__(geom, setup)
        self.pile = geom.of_kind("pile")[0]
        self.dumping = an.DumpingWatch(self.pile)
        self.dump_events: list[tuple[float, dict]] = []
        self.fill: float | None = None
        self.fill_known = False

    def _fill(self, frame: Frame) -> float | None:
        if not frame.changed and self.fill_known:  # motion-gated: the pile did not change
            return self.fill
        garbage = [tr.box for tr in frame.tracks if tr.cls == "garbage"]
        others = [tr.box for tr in frame.tracks if tr.cls != "garbage"]
        empty = self.setup.ref("empty", self.geom.size)
        if empty is not None:
            return an.fill_from_pixels(frame.image, empty, self.pile, exclude=others)
        if self.setup.has_garbage:
            return an.fill_from_boxes(garbage, self.pile, self.geom.size)
        return None

    def update(self, frame: Frame) -> Output:
        fill = self._fill(frame)
        self.fill, self.fill_known = fill, True
        persons = [tr for tr in frame.tracks if tr.cls == "person"]
        garbage = [tr for tr in frame.tracks if tr.cls == "garbage"]
        tps = self.setup.tps
        hours = tps.dumping_hours if tps else ("18:00", "06:00")
        for ev in self.dumping.update(frame.t, persons, garbage, fill, frame.book):
            if not _allowed(hours, frame.local_now.time()):
                self.dump_events.append((frame.t, {**ev, "local_time":
                                                   frame.local_now.strftime("%H:%M")}))
        keep = self.setup.rules.dumping_alert_s
        self.dump_events = [(s, e) for s, e in self.dump_events if frame.t - s <= keep]
        alerts = ((Wanted(AlertKind.DUMPING, 2, {"events": len(self.dump_events),
                                                 "local_time": self.dump_events[-1][1]["local_time"]}),)
                  if self.dump_events else ())
        return Output(PileValues(None if fill is None else round(min(1.0, fill), 3)), alerts)


ANALYTICS: tuple[type[Analytic], ...] = (LineCrossings, LaneTraffic, ParkingSlots, NoParking,
                                         Queue, Door, Pile)


def analytics_for(geom: CameraGeometry, setup: Setup,
                  previous: dict[str, Analytic] | None = None) -> dict[str, Analytic]:
    """One analytic per kind of thing drawn on the camera (lines, and each zone kind)."""
    drawn = {z.kind for z in geom.zones} | ({"line"} if geom.lines else set())
    old = previous or {}
    return {cls.zone_kind: cls(geom, setup, old.get(cls.zone_kind))
            for cls in ANALYTICS if cls.zone_kind in drawn}
