"""Per-camera analytics as pure classes: fed tracks with a timestamp, no I/O, no drawing.

Behaviour follows the ultralytics solutions, run per camera without their annotators:
``LineCounter`` ~ ObjectCounter (a track counts once per line, direction from the side it
came from), ``zone_counts`` ~ RegionCounter, queue ~ QueueManager, ``parking`` ~
ParkingManagement (a slot is taken when a vehicle's point lies in it).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from ambon_core.domain import Congestion
from workers.camera.geometry import VEHICLES, LineGeom, Track, ZoneGeom

Point = tuple[float, float]


# ---- line crossings ---------------------------------------------------------------------
def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def crossing_direction(line: LineGeom, prev: Point, cur: Point) -> str | None:
    """'in' / 'out' when the step prev->cur crosses the line segment, else None.

    'in' is a move towards the right/bottom side of the line (registry convention).
    """
    d1, d2 = _cross(line.a, line.b, prev), _cross(line.a, line.b, cur)
    if (d1 >= 0) == (d2 >= 0):  # a point on the line belongs to one side: counted once
        return None
    if _cross(prev, cur, line.a) * _cross(prev, cur, line.b) > 0:
        return None  # crossed the infinite line beyond the segment's ends
    dx, dy = line.b[0] - line.a[0], line.b[1] - line.a[1]
    nx, ny = (dy, -dx) if dy - dx >= 0 else (-dy, dx)  # normal towards right/bottom
    move = (cur[0] - prev[0]) * nx + (cur[1] - prev[1]) * ny
    return "in" if move > 0 else "out"


class LineCounter:
    """Cumulative crossings of several lines, each track counted at most once per line.

    Per-track state (last point, lines already counted) is forgotten once a track has not
    been seen for ``forget_frames`` tracker frames: ByteTrack drops a lost track after
    ``track_buffer`` (6) frames and never reissues its id, so it cannot cross again.
    ``memory`` caps the tracks remembered (oldest-seen dropped first) whatever happens.
    """

    def __init__(self, lines: list[LineGeom], memory: int = 2000, forget_frames: int = 30):
        self.lines = lines
        self.memory, self.forget_frames = memory, forget_frames
        self.counts: dict[str, dict[str, int]] = {ln.name: {} for ln in lines}
        self.counted: dict[str, set[int]] = {ln.name: set() for ln in lines}
        self.last: dict[int, Point] = {}
        self.seen_at: dict[int, int] = {}
        self.frame = 0

    def update(self, tracks: list[Track]) -> list[tuple[str, str, str]]:
        """Feed one frame's tracks; returns the new (line, direction, class) crossings."""
        self.frame += 1
        new: list[tuple[str, str, str]] = []
        for tr in tracks:
            cur = tr.center
            prev = self.last.get(tr.track_id)
            self.last[tr.track_id] = cur
            self.seen_at[tr.track_id] = self.frame
            if prev is None:
                continue
            for ln in self.lines:
                if tr.track_id in self.counted[ln.name]:
                    continue
                way = crossing_direction(ln, prev, cur)
                if way is not None:
                    self.counted[ln.name].add(tr.track_id)
                    key = f"{way}:{tr.cls}"
                    self.counts[ln.name][key] = self.counts[ln.name].get(key, 0) + 1
                    new.append((ln.name, way, tr.cls))
        self._forget()
        return new

    def _forget(self) -> None:
        stale = [k for k, f in self.seen_at.items() if self.frame - f > self.forget_frames]
        if len(self.seen_at) - len(stale) > self.memory:
            stale = sorted(self.seen_at, key=self.seen_at.__getitem__)[:len(self.seen_at) - self.memory]
        for k in stale:
            del self.last[k], self.seen_at[k]
            for ids in self.counted.values():
                ids.discard(k)


# ---- zones, dwell, speed ------------------------------------------------------------------
def zone_counts(tracks: list[Track], zones: list[ZoneGeom]) -> dict[str, dict[str, int]]:
    """zone -> class -> objects whose foot point is inside (RegionCounter)."""
    out: dict[str, dict[str, int]] = {z.name: {} for z in zones}
    for tr in tracks:
        for z in zones:
            if z.contains(tr.foot):
                out[z.name][tr.cls] = out[z.name].get(tr.cls, 0) + 1
    return out


@dataclass
class _TrackLife:
    first_seen: float
    last_seen: float
    anchor: Point  # where it last started standing still
    still_since: float
    foot: Point = (0.0, 0.0)
    cls: str = ""
    path: deque[tuple[float, Point]] = field(default_factory=lambda: deque(maxlen=8))
    zone_since: dict[str, float] = field(default_factory=dict)


class TrackBook:
    """Per-track timing: time in each zone, time standing still, speed in px/s."""

    def __init__(self, still_px: float = 12.0, forget_s: float = 5.0):
        self.still_px = still_px
        self.forget_s = forget_s
        self.lives: dict[int, _TrackLife] = {}

    def update(self, t: float, tracks: list[Track], zones: list[ZoneGeom]) -> None:
        for tr in tracks:
            foot = tr.foot
            life = self.lives.get(tr.track_id)
            if life is None:
                life = self.lives[tr.track_id] = _TrackLife(t, t, foot, t)
            life.last_seen = t
            life.foot, life.cls = foot, tr.cls
            life.path.append((t, tr.center))
            if np.hypot(foot[0] - life.anchor[0], foot[1] - life.anchor[1]) > self.still_px:
                life.anchor, life.still_since = foot, t
            for z in zones:
                if z.contains(foot):
                    life.zone_since.setdefault(z.name, t)
                else:
                    life.zone_since.pop(z.name, None)
        self.lives = {k: v for k, v in self.lives.items() if t - v.last_seen <= self.forget_s}

    def recent(self, t: float, hold_s: float, cls: str, exclude: set[int]) -> list[tuple[int, Point]]:
        """(track id, last foot point) of ``cls`` tracks not in ``exclude`` seen within
        ``hold_s`` before ``t``: someone standing in a crowd whom the detector missed in
        this frame is still there."""
        return [(k, v.foot) for k, v in self.lives.items()
                if k not in exclude and v.cls == cls and t - v.last_seen <= hold_s]

    def dwell(self, track_id: int, zone: str, t: float) -> float:
        life = self.lives.get(track_id)
        since = life.zone_since.get(zone) if life else None
        return 0.0 if since is None else t - since

    def still_for(self, track_id: int, t: float) -> float:
        life = self.lives.get(track_id)
        return 0.0 if life is None else t - life.still_since

    def speed(self, track_id: int) -> float | None:
        """Mean speed over the recent path in px/s (None until seen twice)."""
        life = self.lives.get(track_id)
        if life is None or len(life.path) < 2:
            return None
        (t0, p0), (t1, p1) = life.path[0], life.path[-1]
        return float(np.hypot(p1[0] - p0[0], p1[1] - p0[1]) / (t1 - t0)) if t1 > t0 else None


# ---- traffic ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CongestionThresholds:
    """Occupancy (0..1 of lane area) and mean speed (px/s at the registry frame size)."""

    padat_occupancy: float = 0.25
    macet_occupancy: float = 0.45
    padat_speed: float = 45.0
    macet_speed: float = 15.0


def congestion_level(occupancy: float, mean_speed: float | None,
                     th: CongestionThresholds = CongestionThresholds()) -> Congestion:
    """lancar / padat / macet from lane occupancy and mean vehicle speed.

    Jammed needs both a full lane and crawling traffic (a full lane moving fast is dense,
    an empty lane is free whatever the few vehicles do).
    """
    slow = mean_speed is not None and mean_speed <= th.macet_speed
    if occupancy >= th.macet_occupancy and (slow or mean_speed is None):
        return Congestion.MACET
    if occupancy >= th.padat_occupancy or (
            occupancy >= th.padat_occupancy / 2 and mean_speed is not None
            and mean_speed <= th.padat_speed):
        return Congestion.PADAT
    return Congestion.LANCAR


def lane_occupancy(tracks: list[Track], lanes: list[ZoneGeom], size: tuple[int, int]) -> float:
    """Fraction of the lane area covered by vehicle boxes (union, so overlaps count once)."""
    if not lanes:
        return 0.0
    w, h = size
    lane_mask = np.zeros((h, w), np.uint8)
    for z in lanes:
        lane_mask |= z.mask(h, w)
    boxes = np.zeros_like(lane_mask)
    for tr in tracks:
        if tr.cls in VEHICLES:
            x1, y1, x2, y2 = (int(round(v)) for v in tr.box)
            boxes[max(0, y1):max(0, y2), max(0, x1):max(0, x2)] = 255
    area = int(np.count_nonzero(lane_mask))
    return float(np.count_nonzero(lane_mask & boxes)) / area if area else 0.0


def parking(tracks: list[Track], slots: list[ZoneGeom]) -> dict[str, bool]:
    """slot -> taken, a slot being taken when a vehicle's foot point lies in it."""
    return {s.name: any(tr.cls in VEHICLES and s.contains(tr.foot) for tr in tracks) for s in slots}


# ---- puskesmas --------------------------------------------------------------------------
class DoorWatch:
    """Door open from the door zone: pixel change against a closed-door reference, else
    people passing through it recently; None when neither says anything."""

    def __init__(self, zone: ZoneGeom, closed_ref: np.ndarray | None = None,
                 change_threshold: float = 0.35, passage_window_s: float = 120.0):
        self.zone = zone
        self.closed_ref = closed_ref
        self.threshold = change_threshold
        self.window = passage_window_s
        self.last_passage: float | None = None

    def update(self, t: float, frame: np.ndarray | None, persons: list[Track]) -> bool | None:
        if any(self.zone.contains(p.foot) or self.zone.contains(p.center) for p in persons):
            self.last_passage = t
        if frame is not None and self.closed_ref is not None:
            return panel_change(frame, self.closed_ref, self.zone) >= self.threshold
        if self.last_passage is not None and t - self.last_passage <= self.window:
            return True
        return None


def panel_change(frame: np.ndarray, ref: np.ndarray, zone: ZoneGeom) -> float:
    """Fraction of the zone's pixels that differ from the reference (brightness-normalised)."""
    x1, y1, x2, y2 = zone.bbox()
    if ref.shape[:2] != frame.shape[:2]:
        ref = cv2.resize(ref, (frame.shape[1], frame.shape[0]))
    a = frame[y1:y2, x1:x2].astype(np.float32)
    b = ref[y1:y2, x1:x2].astype(np.float32)
    gain = (float(np.median(frame)) + 1) / (float(np.median(ref)) + 1)
    diff = np.abs(a - b * gain).max(axis=2) > 40
    m = zone.mask(frame.shape[0], frame.shape[1])[y1:y2, x1:x2] > 0
    return float(np.count_nonzero(diff & m)) / max(1, int(np.count_nonzero(m)))


# ---- TPS / market -------------------------------------------------------------------------
def fill_from_boxes(boxes: list[tuple[float, float, float, float]], pile: ZoneGeom,
                    size: tuple[int, int]) -> float:
    """Fraction of the pile zone covered by the union of garbage boxes."""
    w, h = size
    zone = pile.mask(h, w)
    cover = np.zeros_like(zone)
    for x1, y1, x2, y2 in boxes:
        cover[max(0, int(y1)):max(0, int(y2)), max(0, int(x1)):max(0, int(x2))] = 255
    return float(np.count_nonzero(zone & cover)) / max(1, int(np.count_nonzero(zone)))


def fill_from_pixels(frame: np.ndarray, empty_ref: np.ndarray, pile: ZoneGeom,
                     exclude: list[tuple[float, float, float, float]] = (),
                     within: list[tuple[float, float, float, float]] | None = None) -> float:
    """Fraction of the pile zone whose pixels differ from the empty-site reference.

    ``exclude`` boxes (people, vehicles) are not counted as garbage; ``within`` restricts
    the count to garbage boxes when the model detects garbage.
    """
    h, w = frame.shape[:2]
    if empty_ref.shape[:2] != (h, w):
        empty_ref = cv2.resize(empty_ref, (w, h))
    zone = pile.mask(h, w)
    # brightness gain from the pixels outside the zone (every 4th pixel is plenty)
    outside = zone[::4, ::4] == 0
    gain = ((float(np.median(frame[::4, ::4][outside])) + 1)
            / (float(np.median(empty_ref[::4, ::4][outside])) + 1))
    # the work is done on the zone's bounding box only (+3 px for the 5x5 blur and 3x3 opening)
    bx1, by1, bx2, by2 = pile.bbox()
    x1, y1, x2, y2 = max(0, bx1 - 3), max(0, by1 - 3), min(w, bx2 + 3), min(h, by2 + 3)
    crop = frame[y1:y2, x1:x2]
    ref = cv2.convertScaleAbs(empty_ref[y1:y2, x1:x2], alpha=gain)
    diff = cv2.absdiff(cv2.GaussianBlur(crop, (5, 5), 0), cv2.GaussianBlur(ref, (5, 5), 0)).max(axis=2)
    changed = (diff > 28).astype(np.uint8) * 255
    changed = cv2.morphologyEx(changed, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    if within is not None:
        keep = np.zeros_like(changed)
        for bx1, by1, bx2, by2 in within:
            keep[max(0, int(by1) - y1):max(0, int(by2) - y1),
                 max(0, int(bx1) - x1):max(0, int(bx2) - x1)] = 255
        changed &= keep
    for bx1, by1, bx2, by2 in exclude:
        changed[max(0, int(by1) - y1):max(0, int(by2) - y1), max(0, int(bx1) - x1):max(0, int(bx2) - x1)] = 0
    return float(np.count_nonzero(changed & zone[y1:y2, x1:x2])) / max(1, int(np.count_nonzero(zone)))


class DumpingWatch:
    """A person who stands still near the pile and leaves it having added material.

    The added material shows as a fill rise (pixels or boxes) or a new garbage track
    near where they stood. Returns each event once, with whether it was allowed.
    """

    def __init__(self, pile: ZoneGeom, still_s: float = 1.0, min_rise: float = 0.003,
                 near_px: float = 60.0):
        self.pile = pile
        self.still_s, self.min_rise, self.near_px = still_s, min_rise, near_px
        x1, y1, x2, y2 = pile.bbox()
        self.area = (x1 - near_px, y1 - near_px, x2 + near_px, y2 + near_px)
        self.pending: dict[int, tuple[float, Point, float, set[int]]] = {}

    def update(self, t: float, persons: list[Track], garbage: list[Track], fill: float | None,
               book: TrackBook) -> list[dict[str, float | int]]:
        events: list[dict[str, float | int]] = []
        here = {p.track_id: p for p in persons}
        garbage_ids = {g.track_id for g in garbage}
        for p in persons:
            x, y = p.foot
            near = self.area[0] <= x <= self.area[2] and self.area[1] <= y <= self.area[3]
            if near and p.track_id not in self.pending and book.still_for(p.track_id, t) >= self.still_s:
                self.pending[p.track_id] = (t, p.foot, fill or 0.0, set(garbage_ids))
        for tid, (_since, spot, fill0, before) in list(self.pending.items()):
            p = here.get(tid)
            left = p is None or np.hypot(p.foot[0] - spot[0], p.foot[1] - spot[1]) > 40
            if not left:
                continue
            del self.pending[tid]
            new_garbage = any(g.track_id not in before and np.hypot(
                g.center[0] - spot[0], g.center[1] - spot[1]) < self.near_px * 1.5 for g in garbage)
            if new_garbage or (fill is not None and fill - fill0 >= self.min_rise):
                events.append({"track_id": tid, "at": t, "x": spot[0], "y": spot[1]})
        return events
