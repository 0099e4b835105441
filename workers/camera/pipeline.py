"""One camera's analysis: tracks in, CameraState values, wanted alerts and minute rows out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path

import cv2
import numpy as np

from ambon_core.domain import Alert, AlertKind, CameraKind, Congestion
from ambon_core.registry import Camera, Tps
from ambon_core.settings import CameraSettings, camera_settings
from workers.camera import analytics as an
from workers.camera.detector import Detections
from workers.camera.geometry import VEHICLES, CameraGeometry, Track, scale_geometry
from workers.camera.tracking import CameraTracker


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


def load_refs(camera_id: str, ref_dir: Path | None = None) -> dict[str, np.ndarray]:
    """Reference images of a camera: ``<id>.empty.jpg`` (empty site) and
    ``<id>.door_closed.jpg``, from CAMERA_REF_DIR (default data/camera_refs)."""
    base = ref_dir or camera_settings().ref_dir
    refs = {}
    for name in ("empty", "door_closed"):
        path = base / f"{camera_id}.{name}.jpg"
        img = cv2.imread(str(path)) if path.is_file() else None
        if img is not None:
            refs[name] = img
    return refs


def _allowed(hours: tuple[str, str], now: time) -> bool:
    a, b = time.fromisoformat(hours[0]), time.fromisoformat(hours[1])
    return a <= now < b if a < b else now >= a or now < b


@dataclass
class MinuteAgg:
    minute: datetime
    crossings: dict[str, dict[str, int]] = field(default_factory=dict)
    object_sums: dict[str, int] = field(default_factory=dict)
    frames: int = 0
    congestion: str | None = None
    queue_max: int | None = None
    fill: float | None = None


_CONGESTION_RANK = {None: -1, "lancar": 0, "padat": 1, "macet": 2}


class CameraPipeline:
    """Per-camera state machine; call ``analyse`` for each analysed (or gated) frame."""

    def __init__(self, camera: Camera, tps: Tps | None = None, refs: dict[str, np.ndarray] | None = None,
                 rules: Rules | None = None, has_garbage: bool = False):
        self.camera, self.tps, self.refs = camera, tps, refs or {}
        self.rules = rules or Rules()
        self.has_garbage = has_garbage
        self.tracker = CameraTracker()
        self.book = an.TrackBook()
        self.geom: CameraGeometry | None = None
        self.counter: an.LineCounter | None = None
        self.door: an.DoorWatch | None = None
        self.dumping: an.DumpingWatch | None = None
        self.tracks: list[Track] = []
        self.values: dict = {}
        self.dump_events: list[tuple[float, dict]] = []
        self.agg: MinuteAgg | None = None
        self.finished: MinuteAgg | None = None
        self._changed = True

    def ensure_geometry(self, size: tuple[int, int]) -> None:
        """(Re)build zones for the actual frame size; counts survive a resolution change."""
        if self.geom is not None and self.geom.size == size:
            return
        old = self.counter.counts if self.counter else None
        self.geom = scale_geometry(self.camera, size)
        self.counter = an.LineCounter(self.geom.lines)
        if old:
            self.counter.counts = old
        self.tracker.reset()
        doors, piles = self.geom.of_kind("door"), self.geom.of_kind("pile")
        self.door = an.DoorWatch(doors[0], self._ref("door_closed", size)) if doors else None
        self.dumping = an.DumpingWatch(piles[0]) if piles else None

    def _ref(self, name: str, size: tuple[int, int]) -> np.ndarray | None:
        ref = self.refs.get(name)
        if ref is None:
            return None
        if ref.shape[1::-1] != size:  # resized once per frame size, not per frame
            ref = self.refs[name] = cv2.resize(ref, size)
        return ref

    @property
    def scale(self) -> float:
        """Frame pixels per registry pixel (speeds are published at registry scale)."""
        assert self.geom is not None
        return self.geom.size[0] / self.camera.frame_size[0]

    def analyse(self, t: float, image: np.ndarray, dets: Detections | None,
                local_now: datetime) -> list[tuple[str, str, str]]:
        """One analysed frame at monotonic time ``t``; ``dets`` None = unchanged frame
        (motion gate): the previous tracks stand, timers keep running."""
        self.ensure_geometry((image.shape[1], image.shape[0]))
        assert self.geom is not None and self.counter is not None
        self._changed = dets is not None
        if dets is not None:
            self.tracks = self.tracker.update(dets)
        crossings = self.counter.update(self.tracks) if dets is not None else []
        self.book.update(t, self.tracks, self.geom.zones)
        kind = self.camera.kind
        v: dict = {"objects": self._objects()}
        if kind == CameraKind.TRAFFIC:
            v |= self._traffic(t)
        elif kind == CameraKind.PUSKESMAS:
            v |= self._puskesmas(t, image)
        else:
            v |= self._pile(t, image, local_now)
        self.values = v
        self._aggregate(local_now, crossings)
        return crossings

    def _objects(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for tr in self.tracks:
            out[tr.cls] = out.get(tr.cls, 0) + 1
        return out

    def _traffic(self, t: float) -> dict:
        assert self.geom is not None and self.counter is not None
        lanes = self.geom.of_kind("lane")
        vehicles = [tr for tr in self.tracks if tr.cls in VEHICLES]
        in_lane = [tr for tr in vehicles if any(z.contains(tr.foot) for z in lanes)]
        speeds = [s for tr in in_lane if (s := self.book.speed(tr.track_id)) is not None]
        mean_speed = float(np.mean(speeds)) / self.scale if speeds else None
        occ = an.lane_occupancy(in_lane, lanes, self.geom.size)
        slots = an.parking(vehicles, self.geom.of_kind("parking_slot"))
        level = an.congestion_level(occ, mean_speed) if lanes else None
        stopped = [tr for tr in in_lane if self.book.still_for(tr.track_id, t) >= self.rules.stopped_s]
        illegal = [tr for tr in vehicles for z in self.geom.of_kind("no_parking")
                   if self.book.dwell(tr.track_id, z.name, t) >= self.rules.no_parking_s]
        return {"line_counts": {k: dict(c) for k, c in self.counter.counts.items()},
                "occupancy": round(occ, 3), "mean_speed_px_s": mean_speed, "congestion": level,
                "parking_occupied": sum(slots.values()) if slots else None,
                "parking_total": len(slots) or None,
                "_stopped": 0 if level == Congestion.MACET else len(stopped),
                "_illegal": len(illegal)}

    def _puskesmas(self, t: float, image: np.ndarray) -> dict:
        assert self.geom is not None
        persons = [tr for tr in self.tracks if tr.cls == "person"]
        queues = self.geom.of_kind("queue")
        waiting = [p for p in persons if any(z.contains(p.foot) for z in queues)]
        waits = [max(self.book.dwell(p.track_id, z.name, t) for z in queues) for p in waiting]
        # a person in the queue missed by the detector for a frame or two still stands there
        held = [k for k, foot in self.book.recent(t, self.rules.queue_hold_s, "person",
                                                  {p.track_id for p in persons})
                if any(z.contains(foot) for z in queues)] if self.rules.queue_hold_s > 0 else []
        door = self.door.update(t, image, persons) if self.door else None
        return {"queue_len": len(waiting) + len(held) if queues else None,
                "longest_wait_s": round(max(waits), 1) if waits else (0.0 if queues else None),
                "door_open": door}

    def _pile(self, t: float, image: np.ndarray, local_now: datetime) -> dict:
        assert self.geom is not None
        piles = self.geom.of_kind("pile")
        if not piles:
            return {}
        garbage = [tr for tr in self.tracks if tr.cls == "garbage"]
        others = [tr.box for tr in self.tracks if tr.cls != "garbage"]
        empty = self._ref("empty", self.geom.size)
        if not self._changed and "fill" in self.values:  # motion-gated: the pile did not change
            fill: float | None = self.values["fill"]
        elif empty is not None:
            fill = an.fill_from_pixels(image, empty, piles[0], exclude=others)
        elif self.has_garbage:
            fill = an.fill_from_boxes([g.box for g in garbage], piles[0], self.geom.size)
        else:
            fill = None
        persons = [tr for tr in self.tracks if tr.cls == "person"]
        assert self.dumping is not None
        hours = self.tps.dumping_hours if self.tps else ("18:00", "06:00")
        for ev in self.dumping.update(t, persons, garbage, fill, self.book):
            if not _allowed(hours, local_now.time()):
                self.dump_events.append((t, {**ev, "local_time": local_now.strftime("%H:%M")}))
        self.dump_events = [(s, e) for s, e in self.dump_events if t - s <= self.rules.dumping_alert_s]
        threshold = self.tps.overflow_threshold if self.tps else 0.8
        return {"fill": None if fill is None else round(min(1.0, fill), 3),
                "_overflow": fill is not None and fill >= threshold}

    # ---- alerts and minute rows -------------------------------------------------------------
    def alerts(self) -> list[Alert]:
        """The alerts this camera wants active now (stable ids: one per camera and kind)."""
        cam, v, out = self.camera, self.values, []

        def alert(kind: AlertKind, severity: int, **params) -> None:
            out.append(Alert(alert_id=f"{kind.value}:{cam.id}", kind=kind, entity_id=cam.id,
                             severity=severity, lat=cam.lat, lon=cam.lon,
                             params={"camera": cam.name, **params}))

        if v.get("_stopped"):
            alert(AlertKind.ACCIDENT_CANDIDATE, 3, vehicles=v["_stopped"])
        if v.get("_illegal"):
            alert(AlertKind.ILLEGAL_PARKING, 1, vehicles=v["_illegal"])
        if v.get("congestion") == Congestion.MACET:
            alert(AlertKind.CONGESTION, 2, level="macet", occupancy=v.get("occupancy"))
        if (v.get("queue_len") or 0) >= self.rules.queue_long:
            alert(AlertKind.QUEUE_LONG, 2, waiting=v["queue_len"], longest_wait_s=v.get("longest_wait_s"))
        if self.dump_events:
            alert(AlertKind.DUMPING, 2, events=len(self.dump_events),
                  local_time=self.dump_events[-1][1]["local_time"])
        return out

    def _aggregate(self, local_now: datetime, crossings: list[tuple[str, str, str]]) -> None:
        minute = local_now.replace(second=0, microsecond=0)
        if self.agg is None or self.agg.minute != minute:
            self.finished = self.agg
            self.agg = MinuteAgg(minute)
        a, v = self.agg, self.values
        a.frames += 1
        for line, way, cls in crossings:
            a.crossings.setdefault(line, {})
            a.crossings[line][f"{way}:{cls}"] = a.crossings[line].get(f"{way}:{cls}", 0) + 1
        for cls, n in v["objects"].items():
            a.object_sums[cls] = a.object_sums.get(cls, 0) + n
        if _CONGESTION_RANK[v.get("congestion")] > _CONGESTION_RANK[a.congestion]:
            a.congestion = v.get("congestion")
        if v.get("queue_len") is not None:
            a.queue_max = max(a.queue_max or 0, v["queue_len"])
        if v.get("fill") is not None:
            a.fill = v["fill"]

    def take_finished_minute(self) -> MinuteAgg | None:
        done, self.finished = self.finished, None
        return done


def minute_row(camera: Camera, agg: MinuteAgg) -> dict:
    """CameraMinute column values for a finished minute (minute stored in UTC)."""
    frames = max(1, agg.frames)
    return {"camera_id": camera.id, "minute": agg.minute.astimezone(UTC),
            "kind": camera.kind.value, "crossings": agg.crossings,
            "objects_mean": {k: round(n / frames, 2) for k, n in agg.object_sums.items()},
            "congestion": agg.congestion, "queue_max": agg.queue_max, "fill": agg.fill,
            "frames": agg.frames}

