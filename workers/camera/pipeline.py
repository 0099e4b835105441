"""One camera's analysis: tracks in, CameraState values, wanted alerts and minute rows out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from ambon_core.domain import Alert
from ambon_core.registry import Camera, Tps
from ambon_core.settings import camera_settings
from workers.camera import analytics as an
from workers.camera.detector import Detections
from workers.camera.geometry import CameraGeometry, Track, scale_geometry
from workers.camera.scene_analytics import (
    Analytic,
    Frame,
    LineCrossings,
    Pile,
    Rules,
    Setup,
    Wanted,
    analytics_for,
)
from workers.camera.tracking import CameraTracker

__all__ = ["CameraPipeline", "MinuteAgg", "Rules", "load_refs", "minute_row"]


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
    """Per-camera state machine; call ``analyse`` for each analysed (or gated) frame.

    What is computed comes from the analytics the camera's drawing selects
    (``scene_analytics.analytics_for``), not from the camera's kind."""

    def __init__(self, camera: Camera, tps: Tps | None = None, refs: dict[str, np.ndarray] | None = None,
                 rules: Rules | None = None, has_garbage: bool = False):
        self.camera, self.tps, self.refs = camera, tps, refs or {}
        self.rules = rules or Rules()
        self.has_garbage = has_garbage
        self.tracker = CameraTracker()
        self.book = an.TrackBook()
        self.geom: CameraGeometry | None = None
        self.analytics: dict[str, Analytic] = {}
        self.tracks: list[Track] = []
        self.people: tuple[tuple[float, float], ...] = ()  # this frame's detected feet
        self.values: dict = {}  # CameraState fields, nothing else
        self.wanted: list[Wanted] = []
        self.agg: MinuteAgg | None = None
        self.finished: MinuteAgg | None = None

    def ensure_geometry(self, size: tuple[int, int]) -> None:
        """(Re)build zones and analytics for the actual frame size; line counts survive a
        resolution change."""
        if self.geom is not None and self.geom.size == size:
            return
        self.geom = scale_geometry(self.camera, size)
        self.tracker.reset()
        setup = Setup(self.rules, self._ref, self.tps, self.has_garbage)
        self.analytics = analytics_for(self.geom, setup, self.analytics)

    def _ref(self, name: str, size: tuple[int, int]) -> np.ndarray | None:
        ref = self.refs.get(name)
        if ref is None:
            return None
        if ref.shape[1::-1] != size:  # resized once per frame size, not per frame
            ref = self.refs[name] = cv2.resize(ref, size)
        return ref

    # what benches and tests look into (the analytics own them)
    @property
    def counter(self) -> an.LineCounter | None:
        lines = self.analytics.get("line")
        return lines.counter if isinstance(lines, LineCrossings) else None

    @property
    def dumping(self) -> an.DumpingWatch | None:
        pile = self.analytics.get("pile")
        return pile.dumping if isinstance(pile, Pile) else None

    @property
    def dump_events(self) -> list[tuple[float, dict]]:
        pile = self.analytics.get("pile")
        return pile.dump_events if isinstance(pile, Pile) else []

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
        assert self.geom is not None
        if dets is not None:
            self.tracks = self.tracker.update(dets)
            self.people = dets.feet("person")
        self.book.update(t, self.tracks, self.geom.zones)
        frame = Frame(t, image, self.tracks, dets is not None, local_now, self.geom, self.book,
                      self.scale, self.people)
        values: dict = {"objects": self._objects()}
        wanted: list[Wanted] = []
        for analytic in self.analytics.values():
            out = analytic.update(frame)
            values |= out.state_fields()
            wanted += out.alerts
        self.values, self.wanted = values, wanted
        lines = self.analytics.get("line")
        crossings = lines.crossings if isinstance(lines, LineCrossings) else []
        self._aggregate(local_now, crossings)
        return crossings

    def _objects(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for tr in self.tracks:
            out[tr.cls] = out.get(tr.cls, 0) + 1
        return out

    # ---- alerts and minute rows -------------------------------------------------------------
    def alerts(self) -> list[Alert]:
        """The alerts this camera wants active now (stable ids: one per camera and kind)."""
        cam = self.camera
        return [Alert(alert_id=f"{w.kind.value}:{cam.id}", kind=w.kind, entity_id=cam.id,
                      severity=w.severity, lat=cam.lat, lon=cam.lon,
                      params={"camera": cam.name, **w.params}) for w in self.wanted]

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

