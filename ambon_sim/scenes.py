"""Pure scene simulation of the Ambon sim cameras: no I/O, deterministic from a seed.

Use :func:`make_scene`, then ``scene.advance(sim_time)``, ``scene.render()`` and
``scene.truth()``.

Two clocks: *sim time* (WIT wall clock of the simulated city, ``start + real * speed``)
drives schedules and arrival rates; *visual time* (``sim seconds / speed``) drives
motion, so that objects move at believable pixel speeds whatever the speed. Durations
of events are drawn in sim minutes with a floor in visual seconds (so a detector has
time to see them). The state advances in fixed steps of ``STEP_VIS`` visual seconds,
so the state at a given sim time does not depend on how often ``advance`` is called.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from ambon_sim import draw
from ambon_sim.agents import VEHICLES, Agent, clip_box, new_person, new_vehicle

WIT = ZoneInfo("Asia/Jayapura")
STEP_VIS = 0.1
KINDS = ("traffic", "puskesmas", "tps", "market")

Polygon = list[list[int]]
LINE_X = 320
LANE_A = (140, 220)
LANE_B = (220, 300)
ZONES: dict[str, dict[str, tuple[str, Polygon]]] = {
    "traffic": {
        "jalur": ("lane", [[0, 140], [640, 140], [640, 300], [0, 300]]),
        "larangan_parkir": ("no_parking", [[400, 302], [636, 302], [636, 356], [400, 356]]),
        **{f"parkir_{i + 1}": ("parking_slot", [[20 + 90 * i, 80], [110 + 90 * i, 80],
                                                [110 + 90 * i, 138], [20 + 90 * i, 138]])
           for i in range(4)},
    },
    "puskesmas": {
        "pintu": ("door", [[280, 60], [360, 60], [360, 200], [280, 200]]),
        "antrean": ("queue", [[160, 205], [480, 205], [480, 350], [160, 350]]),
    },
    "tps": {"tumpukan": ("pile", [[200, 120], [520, 120], [520, 330], [200, 330]])},
    "market": {"tumpukan": ("pile", [[200, 120], [520, 120], [520, 330], [200, 330]])},
}
LINES: dict[str, dict[str, list[list[int]]]] = {
    "traffic": {"garis_hitung": [[LINE_X, 140], [LINE_X, 300]]},
}
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def hhmm(value: str) -> time:
    """Parse ``"HH:MM"``."""
    h, m = value.split(":")
    return time(int(h), int(m))


def in_rect(x: float, y: float, poly: Polygon) -> bool:
    """True when (x, y) is inside the axis-aligned rectangle given as a 4-point polygon."""
    xs = [p[0] for p in poly]
    ys = [p[1] for p in poly]
    return min(xs) <= x <= max(xs) and min(ys) <= y <= max(ys)


def gauss(h: float, mu: float, sigma: float) -> float:
    """Unnormalised Gaussian bump used for daily profiles."""
    return math.exp(-(((h - mu) / sigma) ** 2))


@dataclass(frozen=True)
class DoorSchedule:
    """Opening hours of a puskesmas and how often it opens late or not at all.

    ``force`` pins the plan for every day: ``"on_time"``, ``"late:<minutes>"`` or
    ``"closed"`` (useful in tests and demos).
    """

    opening_time: str = "08:00"
    closing_time: str = "14:00"
    days_of_week: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat")
    p_late: float = 0.25
    p_closed: float = 0.08
    force: str | None = None


@dataclass(frozen=True)
class PileSchedule:
    """Allowed dumping hours (``start``-``end``, may wrap midnight) of a TPS or market."""

    dump_start: str = "18:00"
    dump_end: str = "06:00"

    def allowed(self, t: datetime) -> bool:
        """True when dumping is allowed at ``t``."""
        a, b, now = hhmm(self.dump_start), hhmm(self.dump_end), t.time()
        return a <= now < b if a < b else now >= a or now < b


class Scene:
    """Common clock, agent bookkeeping, events and rendering of every sim camera."""

    kind = "base"

    def __init__(self, camera_id: str, seed: int, start: datetime, speed: float) -> None:
        self.camera_id = camera_id
        self.seed = seed
        self.speed = float(speed)
        self.dt_sim = STEP_VIS * self.speed
        self.start = start.astimezone(WIT)
        self.now = self.start
        self.steps = 0
        self._cam_hash = zlib.crc32(camera_id.encode())
        self.rng = np.random.default_rng([seed, self._cam_hash])
        self.agents: dict[int, Agent] = {}
        self._next_tid = 100
        self.events: list[dict[str, Any]] = []
        self.event_log: list[dict[str, Any]] = []
        self._event_seq = 0
        self._bg: np.ndarray | None = None
        self._noise = draw.signed_noise(draw.HEIGHT, draw.WIDTH, seed + self._cam_hash % 1000)

    # ---- clock -------------------------------------------------------------------
    @property
    def hour(self) -> float:
        """Fractional hour of the current sim time (WIT)."""
        return self.now.hour + self.now.minute / 60 + self.now.second / 3600

    def day_rng(self, day: date, salt: int) -> np.random.Generator:
        """A generator fixed by seed, camera, date and ``salt`` (per-day decisions)."""
        return np.random.default_rng([self.seed, self._cam_hash, day.toordinal(), salt])

    def advance(self, sim_time: datetime) -> None:
        """Step the simulation forward to ``sim_time`` (earlier times are ignored)."""
        target = sim_time.astimezone(WIT)
        while self.now + timedelta(seconds=self.dt_sim) <= target:
            self.steps += 1
            self.now = self.start + timedelta(seconds=self.steps * self.dt_sim)
            self.step()

    def step(self) -> None:
        """Advance one fixed step; subclasses override."""

    def sim_duration(self, lo_min: float, hi_min: float, floor_vis_s: float) -> float:
        """Random duration in sim seconds, at least ``floor_vis_s`` visual seconds."""
        return max(float(self.rng.uniform(lo_min, hi_min)) * 60, floor_vis_s * self.speed)

    def ts(self) -> float:
        """Sim time as a POSIX timestamp."""
        return self.now.timestamp()

    def poisson(self, rate_per_s: float, dt_s: float) -> bool:
        """One Bernoulli draw approximating a Poisson arrival in ``dt_s``."""
        return bool(self.rng.random() < 1 - math.exp(-rate_per_s * dt_s))

    def new_tid(self) -> int:
        """Allocate a fresh track id."""
        self._next_tid += 1
        return self._next_tid

    # ---- events ------------------------------------------------------------------
    def open_event(self, kind: str, track_id: int | None, zone: str | None,
                   **extra: Any) -> dict[str, Any]:
        """Start an active event and record it in the log."""
        self._event_seq += 1
        ev = {"id": f"{self.camera_id}-{self._event_seq}", "type": kind, "track_id": track_id,
              "zone": zone, "start": self.now.isoformat(), "end": None, **extra}
        self.events.append(ev)
        self.event_log.append(ev)
        self.event_log[:] = self.event_log[-50:]
        return ev

    def close_event(self, ev: dict[str, Any]) -> None:
        """End an active event."""
        ev["end"] = self.now.isoformat()
        if ev in self.events:
            self.events.remove(ev)

    # ---- rendering -----------------------------------------------------------------
    def background(self) -> np.ndarray:
        """The static background, built once."""
        if self._bg is None:
            self._bg = self.build_background()
        return self._bg

    def build_background(self) -> np.ndarray:
        """Subclasses draw their static scene here."""
        return draw.textured((120, 120, 120), draw.HEIGHT, draw.WIDTH, self.seed)

    def draw_static_dynamic(self, img: np.ndarray) -> None:
        """Draw scene parts that change but are not agents (door, pile)."""

    def render(self, size: tuple[int, int] = (draw.WIDTH, draw.HEIGHT)) -> np.ndarray:
        """Render the current state as a BGR frame of ``size`` (width, height)."""
        img = self.background().copy()
        self.draw_static_dynamic(img)
        night = draw.daylight(self.hour) < 0.6
        for agent in sorted(self.agents.values(), key=lambda a: (a.y, a.tid)):
            agent.draw(img, night)
        flicker = 1.0 + 0.03 * math.sin(self.steps * 0.7)
        img = draw.apply_lighting(img, draw.daylight(self.hour) * flicker)
        img = draw.add_noise(img, self._noise[0], self._noise[1], self.steps * 7)
        if size != (draw.WIDTH, draw.HEIGHT):
            img = cv2.resize(img, size, interpolation=cv2.INTER_LINEAR)
        return img

    # ---- truth ---------------------------------------------------------------------
    def objects(self) -> list[dict[str, Any]]:
        """Visible objects with class, clipped box (base pixels), track id and state."""
        out: list[dict[str, Any]] = []
        for a in sorted(self.agents.values(), key=lambda a: a.tid):
            clipped = clip_box(a.extent())
            if clipped is None:
                continue
            box, frac = clipped
            out.append({"track_id": a.tid, "class": a.cls, "bbox": box, "visible": frac,
                        "state": a.state})
        return out + self.extra_objects()

    def extra_objects(self) -> list[dict[str, Any]]:
        """Non-agent objects (garbage); subclasses override."""
        return []

    def truth(self) -> dict[str, Any]:
        """Ground truth of the current state (see the module docs of ``cameras``)."""
        objs = self.objects()
        return {
            "camera_id": self.camera_id,
            "kind": self.kind,
            "seed": self.seed,
            "sim_time": self.now.isoformat(),
            "step": self.steps,
            "speed": self.speed,
            "base_size": [draw.WIDTH, draw.HEIGHT],
            "zones": {k: {"kind": v[0], "polygon": v[1]} for k, v in ZONES[self.kind].items()},
            "lines": LINES.get(self.kind, {}),
            "objects": objs,
            "counts": self.counts(),
            "queue_length": None,
            "door_open": None,
            "pile_fill": None,
            "occupancy": self.occupancy(objs),
            "events": [dict(e) for e in self.events],
            "event_log": [dict(e) for e in self.event_log[-20:]],
        } | self.kind_truth()

    def counts(self) -> dict[str, Any]:
        """Cumulative line crossings; subclasses with lines override."""
        return {}

    def occupancy(self, objs: list[dict[str, Any]]) -> dict[str, list[int]]:
        """Track ids of objects whose foot point lies in each zone."""
        occ: dict[str, list[int]] = {}
        for name, (_, poly) in ZONES[self.kind].items():
            occ[name] = [o["track_id"] for o in objs
                         if in_rect((o["bbox"][0] + o["bbox"][2]) / 2, o["bbox"][3] - 1, poly)]
        return occ

    def kind_truth(self) -> dict[str, Any]:
        """Kind-specific truth fields."""
        return {}


# ==== traffic =========================================================================
class TrafficScene(Scene):
    """Pole camera over a two-lane road with kerb parking and a no-parking strip."""

    kind = "traffic"
    MIX = (("motorcycle", 0.55), ("car", 0.25), ("bus", 0.12), ("truck", 0.08))

    def __init__(self, camera_id: str, seed: int, start: datetime, speed: float) -> None:
        super().__init__(camera_id, seed, start, speed)
        self.crossings: dict[str, dict[str, int]] = {"in": {}, "out": {}}
        self.jam_until = {"A": 0.0, "B": 0.0}
        self.jam_factor = {"A": 1.0, "B": 1.0}
        self.jam_events: dict[str, dict[str, Any] | None] = {"A": None, "B": None}
        self.slots: list[int | None] = [None, None, None, None]
        self.illegal: int | None = None
        self.stopped: int | None = None

    def density(self) -> float:
        """Relative traffic density (0..1) for the current hour and weekday."""
        h = self.hour
        day = 0.45 * (1 / (1 + math.exp(-(h - 6) * 2)) - 1 / (1 + math.exp(-(h - 21.5) * 2)))
        d = 0.08 + day + 0.6 * gauss(h, 8, 0.9) + 0.6 * gauss(h, 17, 0.9)
        if self.now.weekday() == 6:
            d *= 0.6
        return min(1.0, d)

    def step(self) -> None:
        """Spawn, move, count and run the jam / stop / parking episodes."""
        self._episodes()
        for lane in ("A", "B"):
            if self.poisson(1.1 * self.density(), STEP_VIS):
                self._spawn_lane(lane)
        if self.poisson(0.12 * max(0.2, self.density()), STEP_VIS):
            y = float(self.rng.uniform(352, 359))
            d = 1 if self.rng.random() < 0.5 else -1
            p = new_person(self.rng, self.new_tid(), -10 if d > 0 else 650, y, d)
            self.agents[p.tid] = p
        for a in list(self.agents.values()):
            self._move(a)

    # ---- spawning ----------------------------------------------------------------
    def _lane_y(self, lane: str, cls: str) -> float:
        """Random foot row in a lane; motorcycles may ride along the lane's far side."""
        lo, hi = LANE_A if lane == "A" else LANE_B
        if cls == "motorcycle":
            return float(self.rng.uniform(lo + 50, hi - 4))
        return float(self.rng.uniform(hi - 12, hi - 5))

    def _pick_class(self) -> str:
        """Random vehicle class from the Ambon mix."""
        r, acc = self.rng.random(), 0.0
        for cls, p in self.MIX:
            acc += p
            if r < acc:
                return cls
        return "motorcycle"

    def _spawn_lane(self, lane: str, cls: str | None = None) -> Agent | None:
        """Spawn a vehicle at the entry edge of ``lane`` if there is room."""
        cls = cls or self._pick_class()
        d = 1 if lane == "A" else -1
        v = new_vehicle(self.rng, self.new_tid(), cls, 0.0, self._lane_y(lane, cls), d)
        x1, _, x2, _ = v.extent()
        v.x = -(x2 - x1) / 2 - 2 if d > 0 else draw.WIDTH + (x2 - x1) / 2 + 2
        v.lane = lane
        for o in self._lane_members(lane):
            if self._conflicts(v, o) and abs(o.x - v.x) < (x2 - x1) + o.length * 0.6 + 12:
                return None
        self.agents[v.tid] = v
        return v

    def _lane_members(self, lane: str) -> list[Agent]:
        """Vehicles currently using ``lane`` (not parked)."""
        return [a for a in self.agents.values()
                if a.lane == lane and a.state in ("drive", "stopped", "pull_in", "pull_out")]

    @staticmethod
    def _conflicts(a: Agent, b: Agent) -> bool:
        """Whether ``b`` blocks ``a`` (motorcycles filter past vehicles on the other side)."""
        if b.state == "stopped" and a.cls != "motorcycle" and b.cls == "motorcycle":
            return False
        if a.cls == "motorcycle" or b.cls == "motorcycle":
            return abs(a.y - b.y) < 14
        return True

    # ---- motion ------------------------------------------------------------------
    def _leader_gap(self, a: Agent) -> float:
        """Free pixels ahead of ``a`` to the nearest conflicting vehicle in its lane."""
        gap = 1e9
        for o in self._lane_members(a.lane or ""):
            if o is a or not self._conflicts(a, o):
                continue
            ahead = (o.x - a.x) * a.direction
            if ahead <= 0:
                continue
            gap = min(gap, (o.back() - a.front()) * a.direction)
        return gap

    def _move(self, a: Agent) -> None:
        """Move one agent according to its state."""
        if a.cls == "person":
            a.x += a.direction * a.speed * STEP_VIS
            a.phase += a.speed * STEP_VIS * 0.25
            if a.x < -30 or a.x > draw.WIDTH + 30:
                del self.agents[a.tid]
            return
        if a.state in ("parked", "stopped"):
            a.cur_speed = 0.0
            if a.state == "stopped" and a.target is not None:
                a.move_towards(a.x, a.target[1], 8 * STEP_VIS)
            return
        if a.state in ("pull_in", "pull_out"):
            self._pull(a)
            return
        self._drive(a)

    def _drive(self, a: Agent) -> None:
        """Car-following drive along the lane, counting line crossings."""
        lane = a.lane or "A"
        want = a.speed * (self.jam_factor[lane] if self.ts() < self.jam_until[lane] else 1.0)
        gap = self._leader_gap(a)
        v = max(0.0, min(want, (gap - 6) / 0.6))
        a.cur_speed = v
        old = a.x
        a.x += a.direction * v * STEP_VIS
        if a.target is not None and a.extra.get("park") and (a.x - a.target[0]) * a.direction >= 0:
            a.x = a.target[0]
            a.state = "pull_in"
        if not a.crossed and (old - LINE_X) * (a.x - LINE_X) <= 0 and old != a.x:
            a.crossed = True
            way = "in" if a.direction > 0 else "out"
            self.crossings[way][a.cls] = self.crossings[way].get(a.cls, 0) + 1
        if a.x < -160 or a.x > draw.WIDTH + 160:
            del self.agents[a.tid]

    def _pull(self, a: Agent) -> None:
        """Manoeuvre between the lane and a kerb spot."""
        assert a.target is not None
        if a.state == "pull_in":
            if a.move_towards(a.target[0], a.target[1], 22 * STEP_VIS):
                a.state = "parked"
                a.direction = a.extra["dir"]
            return
        back = a.extra["lane_y"]
        if a.move_towards(a.x + a.extra["dir"] * 3, back, 22 * STEP_VIS) or abs(a.y - back) < 1:
            a.y = back
            a.state = "drive"
            a.target = None
            a.extra.pop("park", None)
        a.direction = a.extra["dir"]

    # ---- episodes ----------------------------------------------------------------
    def _episodes(self) -> None:
        """Jams, a stopped vehicle, illegal parking and slot parking."""
        self._jams()
        self._stopped_vehicle()
        self._illegal_parking()
        self._slot_parking()

    def _jams(self) -> None:
        """Start and end congestion episodes (more likely at peak hours)."""
        for lane in ("A", "B"):
            ev = self.jam_events[lane]
            if ev is not None and self.ts() >= self.jam_until[lane]:
                self.close_event(ev)
                self.jam_events[lane] = None
            rate = (0.15 + 1.2 * self.density() ** 3) / 3600
            if ev is None and self.ts() >= self.jam_until[lane] and self.poisson(rate, self.dt_sim):
                self.jam_until[lane] = self.ts() + self.sim_duration(5, 25, 25)
                self.jam_factor[lane] = float(self.rng.uniform(0.08, 0.3))
                self.jam_events[lane] = self.open_event("jam", None, "jalur", lane=lane)

    def _stopped_vehicle(self) -> None:
        """Now and then one vehicle stops in its lane for minutes (accident candidate)."""
        a = self.agents.get(self.stopped) if self.stopped is not None else None
        if a is not None and self.ts() >= a.until:
            a.state = "drive"
            a.target = None
            self.close_event(a.extra.pop("event"))
            self.stopped = None
        elif self.stopped is not None and a is None:
            self.stopped = None
        if self.stopped is not None or not self.poisson(0.45 / 3600, self.dt_sim):
            return
        cands = [c for c in self.agents.values() if c.cls in VEHICLES and c.state == "drive"
                 and 80 < c.x < 560 and not c.extra.get("park")]
        if not cands:
            return
        a = cands[int(self.rng.integers(len(cands)))]
        a.state = "stopped"
        a.until = self.ts() + self.sim_duration(3, 15, 40)
        edge = (LANE_A[0] + 48) if a.lane == "A" else (LANE_B[1] - 2)
        a.target = (a.x, float(edge))
        a.extra["event"] = self.open_event("stopped_vehicle", a.tid, "jalur", **{"class": a.cls})
        self.stopped = a.tid

    def _illegal_parking(self) -> None:
        """A car comes along lane B and parks in the no-parking strip for a while."""
        a = self.agents.get(self.illegal) if self.illegal is not None else None
        if self.illegal is not None and a is None:
            self.illegal = None
        if a is not None:
            if a.state == "parked" and "event" not in a.extra:
                a.until = self.ts() + self.sim_duration(5, 30, 40)
                a.extra["event"] = self.open_event("illegal_parking", a.tid, "larangan_parkir",
                                                   **{"class": a.cls})
            elif a.state == "parked" and self.ts() >= a.until:
                a.state = "pull_out"
                self.close_event(a.extra.pop("event"))
            elif a.state == "drive" and "event" not in a.extra and not a.extra.get("park"):
                self.illegal = None
            return
        if not 6 <= self.hour < 21 or not self.poisson(0.35 / 3600, self.dt_sim):
            return
        v = self._spawn_lane("B", "car")
        if v is not None:
            self._send_to_kerb(v, float(self.rng.uniform(450, 585)), 350.0)
            self.illegal = v.tid

    def _send_to_kerb(self, v: Agent, x: float, y: float) -> None:
        """Make a freshly spawned vehicle drive to ``x`` then pull into the kerb at ``y``."""
        v.target = (x, y)
        v.extra.update(park=True, dir=v.direction, lane_y=v.y)

    def _slot_parking(self) -> None:
        """Cars come into the four kerb slots above lane A and leave after a while."""
        for i, tid in enumerate(self.slots):
            a = self.agents.get(tid) if tid is not None else None
            if tid is not None and (a is None or (a.state == "drive" and not a.extra.get("park"))):
                self.slots[i] = None
                continue
            if a is not None:
                if a.state == "parked" and a.until == 0.0:
                    a.until = self.ts() + self.sim_duration(15, 120, 30)
                elif a.state == "parked" and self.ts() >= a.until:
                    a.state = "pull_out"
                continue
            rate = (0.9 if 7 <= self.hour < 20 else 0.08) / 3600
            if self.poisson(rate, self.dt_sim):
                v = self._spawn_lane("A", "car")
                if v is not None:
                    self._send_to_kerb(v, 65.0 + 90 * i, 134.0)
                    self.slots[i] = v.tid

    # ---- drawing and truth -------------------------------------------------------
    def build_background(self) -> np.ndarray:
        """Shops, kerb parking, a two-lane road and the no-parking kerb."""
        img = draw.textured((175, 185, 190), draw.HEIGHT, draw.WIDTH, self.seed, 5)
        shop = [(60, 140, 200), (200, 200, 150), (120, 160, 90), (180, 120, 160), (90, 90, 160)]
        for i, x in enumerate(range(0, 640, 128)):
            cv2.rectangle(img, (x, 0), (x + 124, 76), shop[(i + self.seed) % len(shop)], -1)
            cv2.rectangle(img, (x + 14, 28), (x + 110, 72), (60, 50, 45), -1)
            cv2.rectangle(img, (x + 4, 6), (x + 120, 20), (240, 240, 240), -1)
        img[78:140] = draw.textured((150, 150, 150), 62, 640, self.seed + 1, 5)
        for i in range(5):
            cv2.line(img, (20 + 90 * i, 80), (20 + 90 * i, 138), (235, 235, 235), 2)
        cv2.line(img, (20, 138), (380, 138), (235, 235, 235), 1)
        img[140:300] = draw.textured((78, 78, 80), 160, 640, self.seed + 2, 7)
        cv2.line(img, (0, 142), (640, 142), (230, 230, 230), 2)
        cv2.line(img, (0, 298), (640, 298), (230, 230, 230), 2)
        for x in range(0, 640, 48):
            cv2.line(img, (x, 220), (x + 26, 220), (235, 235, 235), 2)
        img[300:360] = draw.textured((150, 155, 160), 60, 640, self.seed + 3, 5)
        for x in range(400, 636, 24):
            color = (0, 0, 200) if (x // 24) % 2 else (240, 240, 240)
            cv2.rectangle(img, (x, 300), (x + 24, 305), color, -1)
        cv2.circle(img, (628, 318), 9, (0, 0, 210), -1)
        cv2.circle(img, (628, 318), 6, (240, 240, 240), -1)
        cv2.line(img, (623, 313), (633, 323), (0, 0, 210), 2)
        return img

    def counts(self) -> dict[str, Any]:
        """Cumulative crossings of ``garis_hitung``: in = left→right (lane A), out = right→left."""
        return {"garis_hitung": {k: dict(sorted(v.items())) for k, v in self.crossings.items()}}

    def kind_truth(self) -> dict[str, Any]:
        """Traffic extras: density, jam state and parking slot occupancy."""
        occ = self.occupancy(self.objects())
        return {"traffic": {
            "density": round(self.density(), 3),
            "jam": {lane: self.ts() < self.jam_until[lane] for lane in ("A", "B")},
            "slots_occupied": {f"parkir_{i + 1}": bool(occ[f"parkir_{i + 1}"]) for i in range(4)},
        }}


# ==== puskesmas =======================================================================
class PuskesmasScene(Scene):
    """Entrance of a health centre: a door that opens (or not) and a waiting crowd."""

    kind = "puskesmas"
    DOOR = (320.0, 203.0)

    def __init__(self, camera_id: str, seed: int, start: datetime, speed: float,
                 schedule: DoorSchedule | None = None) -> None:
        super().__init__(camera_id, seed, start, speed)
        self.schedule = schedule or DoorSchedule()
        self.door = 0.0
        self.spots = [(178.0 + 24 * c, 245.0 + 33 * r) for r in range(4) for c in range(12)]
        self.overflow = [(float(x), float(y)) for x in (30, 60, 90, 120, 520, 550, 580, 610)
                         for y in (270, 310, 345)]
        self.taken: dict[tuple[float, float], int] = {}
        self.waiting: list[int] = []
        self.next_service = 0.0
        self.pending_exits: list[float] = []
        self._plan_cache: dict[date, dict[str, Any]] = {}
        self._closed_event: dict[str, Any] | None = None

    def plan(self, day: date) -> dict[str, Any]:
        """The door plan of ``day``: status and planned/actual opening times."""
        if day in self._plan_cache:
            return self._plan_cache[day]
        sch = self.schedule
        opening = datetime.combine(day, hhmm(sch.opening_time), WIT)
        closing = datetime.combine(day, hhmm(sch.closing_time), WIT)
        r = self.day_rng(day, 1)
        u, late = float(r.random()), int(r.integers(15, 121))
        if DAY_NAMES[day.weekday()] not in sch.days_of_week:
            status = "no_service_day"
        elif sch.force:
            status = sch.force.split(":")[0]
            late = int(sch.force.split(":")[1]) if status == "late" else late
        else:
            status = "closed" if u < sch.p_closed else "late" if u < sch.p_closed + sch.p_late \
                else "on_time"
        actual = {"on_time": opening, "late": opening + timedelta(minutes=late)}.get(status)
        p = {"date": day.isoformat(), "status": status, "opening_time": sch.opening_time,
             "closing_time": sch.closing_time, "opens_at": actual, "closes_at": closing}
        self._plan_cache[day] = p
        return p

    def door_should_be_open(self) -> bool:
        """Whether the plan says the door is open now."""
        p = self.plan(self.now.date())
        return p["opens_at"] is not None and p["opens_at"] <= self.now < p["closes_at"]

    def arrival_rate(self) -> float:
        """Patients arriving per sim second (they follow the *published* hours)."""
        p = self.plan(self.now.date())
        if p["status"] == "no_service_day":
            return 0.002 / 60
        o = datetime.combine(self.now.date(), hhmm(self.schedule.opening_time), WIT)
        mins = (self.now - o).total_seconds() / 60
        close = (p["closes_at"] - o).total_seconds() / 60
        if -100 <= mins < 0:
            return (0.08 + 0.25 * (mins + 100) / 100) / 60
        if 0 <= mins < close - 60:
            return 0.22 / 60
        if close - 60 <= mins < close:
            return 0.05 / 60
        return 0.004 / 60

    def step(self) -> None:
        """Door, arrivals, service through the door, leaving and walking."""
        self._door()
        if self.poisson(self.arrival_rate(), self.dt_sim) and len(self.agents) < 60:
            self._arrive()
        self._serve()
        self._exits()
        for a in list(self.agents.values()):
            self._walk(a)

    def _door(self) -> None:
        """Animate the door towards its planned state; log a closed-at-opening event."""
        want = 1.0 if self.door_should_be_open() else 0.0
        self.door += max(-STEP_VIS / 2, min(STEP_VIS / 2, want - self.door))
        p = self.plan(self.now.date())
        published = datetime.combine(self.now.date(), hhmm(self.schedule.opening_time), WIT)
        late = p["status"] in ("late", "closed") and published <= self.now < p["closes_at"]
        if late and self.door < 0.5 and self._closed_event is None:
            self._closed_event = self.open_event("not_open_on_time", None, "pintu",
                                                 plan=p["status"])
        if self._closed_event is not None and (not late or self.door >= 0.5):
            self.close_event(self._closed_event)
            self._closed_event = None

    def _arrive(self) -> None:
        """A patient walks in from a side edge towards a free waiting spot."""
        d = 1 if self.rng.random() < 0.5 else -1
        p = new_person(self.rng, self.new_tid(), -12 if d > 0 else 652,
                       float(self.rng.uniform(300, 356)), d)
        free = [s for s in self.spots if s not in self.taken]
        spot = free[min(len(free) - 1, int(self.rng.integers(0, 6)))] if free else None
        if spot is None:
            free_o = [s for s in self.overflow if s not in self.taken]
            if not free_o:
                return
            spot = free_o[int(self.rng.integers(len(free_o)))]
        self.taken[spot] = p.tid
        jitter = (float(self.rng.uniform(-4, 4)), float(self.rng.uniform(-4, 4)))
        p.target = (spot[0] + jitter[0], spot[1] + jitter[1])
        p.extra.update(spot=spot, patience=self.ts() + self.sim_duration(40, 150, 60))
        p.state = "to_spot"
        self.agents[p.tid] = p
        self.waiting.append(p.tid)

    def _serve(self) -> None:
        """When the door is open, call the longest-waiting patient in now and then."""
        if self.door < 0.9 or self.ts() < self.next_service:
            return
        for tid in self.waiting:
            a = self.agents.get(tid)
            if a is not None and a.state == "wait":
                self._release_spot(a)
                a.state = "to_door"
                a.target = self.DOOR
                self.waiting.remove(tid)
                self.next_service = self.ts() + float(self.rng.exponential(150))
                return

    def _release_spot(self, a: Agent) -> None:
        """Free the waiting spot held by ``a``."""
        spot = a.extra.pop("spot", None)
        if spot is not None:
            self.taken.pop(spot, None)

    def _exits(self) -> None:
        """Patients who were served come out of the door and walk away."""
        if self.pending_exits and self.ts() >= self.pending_exits[0]:
            self.pending_exits.pop(0)
            p = new_person(self.rng, self.new_tid(), self.DOOR[0], self.DOOR[1] - 1, 1)
            p.state = "leave"
            p.target = (-20.0 if self.rng.random() < 0.5 else 660.0,
                        float(self.rng.uniform(300, 356)))
            self.agents[p.tid] = p

    def _walk(self, a: Agent) -> None:
        """Move a person according to their state."""
        if a.state == "wait":
            if self.ts() >= a.extra.get("patience", math.inf):
                self._release_spot(a)
                if a.tid in self.waiting:
                    self.waiting.remove(a.tid)
                a.state = "leave"
                a.target = (-20.0 if a.x < 320 else 660.0, float(self.rng.uniform(300, 356)))
            return
        assert a.target is not None
        arrived = a.move_towards(a.target[0], a.target[1], a.speed * STEP_VIS)
        a.phase += a.speed * STEP_VIS * 0.25
        if not arrived:
            return
        if a.state == "to_spot":
            a.state = "wait"
        elif a.state == "to_door":
            del self.agents[a.tid]
            self.pending_exits.append(self.ts() + self.sim_duration(15, 45, 20))
            self.pending_exits.sort()
        elif a.state == "leave":
            del self.agents[a.tid]

    def build_background(self) -> np.ndarray:
        """Facade with sign, windows and door frame; paved front yard."""
        img = draw.textured((200, 225, 205), draw.HEIGHT, draw.WIDTH, self.seed, 4)
        img[:200] = draw.textured((190, 230, 190), 200, 640, self.seed + 1, 4)
        cv2.rectangle(img, (0, 0), (640, 14), (60, 120, 60), -1)
        cv2.rectangle(img, (180, 20), (460, 50), (240, 240, 240), -1)
        cv2.putText(img, "PUSKESMAS", (215, 45), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (40, 110, 40),
                    2, cv2.LINE_AA)
        for x in (40, 130, 400, 490, 570):
            cv2.rectangle(img, (x, 80), (x + 55, 150), (120, 100, 80), -1)
            cv2.rectangle(img, (x, 80), (x + 55, 150), (240, 240, 240), 3)
        cv2.rectangle(img, (274, 54), (366, 200), (230, 230, 230), -1)
        img[200:360] = draw.textured((170, 180, 185), 160, 640, self.seed + 2, 6)
        for y in range(210, 360, 30):
            cv2.line(img, (0, y), (640, y), (150, 160, 165), 1)
        cv2.rectangle(img, (250, 200), (390, 206), (120, 120, 120), -1)
        return img

    def draw_static_dynamic(self, img: np.ndarray) -> None:
        """The door: a solid panel when closed, dark interior with swung leaves when open."""
        cv2.rectangle(img, (280, 60), (360, 200), (35, 30, 28), -1)
        leaf = 40 * (1 - self.door)
        if leaf > 1:
            cv2.rectangle(img, (280, 60), (int(280 + leaf), 200), (50, 100, 150), -1)
            cv2.rectangle(img, (int(360 - leaf), 60), (360, 200), (50, 100, 150), -1)
            cv2.line(img, (320, 60), (320, 200), (30, 60, 90), 2)
        edge = max(3, int(10 * self.door))
        if self.door > 0.05:
            cv2.rectangle(img, (280, 60), (280 + edge, 200), (70, 120, 170), -1)
            cv2.rectangle(img, (360 - edge, 60), (360, 200), (70, 120, 170), -1)

    def kind_truth(self) -> dict[str, Any]:
        """Door state, queue length (persons with foot point in ``antrean``) and the plan."""
        p = self.plan(self.now.date())
        poly = ZONES["puskesmas"]["antrean"][1]
        queue = sum(1 for a in self.agents.values() if a.cls == "person" and in_rect(
            a.x, a.y - 1, poly))
        return {"door_open": self.door >= 0.5, "queue_length": queue, "puskesmas": {
            "door_fraction": round(self.door, 2),
            "plan": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in p.items()},
            "waiting": len(self.waiting)}}


# ==== TPS and market ==================================================================
PILE = (200, 120, 520, 330)


class PileScene(Scene):
    """A garbage point (TPS) or a market dump spot: a pile that grows and gets collected."""

    kind = "tps"
    ANCHOR = (360.0, 312.0)

    def __init__(self, camera_id: str, seed: int, start: datetime, speed: float,
                 schedule: PileSchedule | None = None, market: bool = False) -> None:
        super().__init__(camera_id, seed, start, speed)
        self.kind = "market" if market else "tps"
        self.schedule = schedule or PileSchedule()
        self.blobs: list[tuple[np.ndarray, tuple[int, int, int]]] = []
        self.strays: list[tuple[int, np.ndarray, tuple[int, int, int]]] = []
        self._fill: float | None = None
        self._visits: dict[date, list[datetime]] = {}
        self.truck: int | None = None
        self.collect_event: dict[str, Any] | None = None
        self.pile_tid = 1
        self._seed_pile(int(self.rng.integers(10, 60)))

    # ---- pile ----------------------------------------------------------------------
    def _seed_pile(self, n: int) -> None:
        """Start with ``n`` lumps already in the pile."""
        for _ in range(n):
            self.add_blob()

    def add_blob(self, at: tuple[float, float] | None = None) -> None:
        """Add one lump to the pile, near ``at`` or grown outward from the anchor."""
        if self.fill() >= 0.96 and at is None:
            return
        r = float(self.rng.uniform(15, 32))
        if at is None:
            k = math.sqrt(len(self.blobs) + 1)
            ang = float(self.rng.uniform(math.pi, 2 * math.pi))
            rad = float(self.rng.uniform(0, 1)) ** 0.5
            cx = self.ANCHOR[0] + math.cos(ang) * rad * min(175, 25 + 15 * k)
            cy = self.ANCHOR[1] + math.sin(ang) * rad * min(200, 15 + 11 * k)
            at = (min(PILE[2] - r * 0.6, max(PILE[0] + r * 0.6, cx)),
                  min(PILE[3] - r * 0.5, max(PILE[1] + r * 0.5, cy)))
        color = draw.GARBAGE[int(self.rng.integers(len(draw.GARBAGE)))]
        self.blobs.append((draw.blob_polygon(self.rng, at[0], at[1], r), color))
        self._fill = None

    def fill(self) -> float:
        """Garbage area inside ``tumpukan`` divided by the zone area (0..1)."""
        if self._fill is None:
            x0, y0, x1, y1 = PILE
            mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
            polys = [p - np.array([x0, y0], np.int32) for p, _ in self.blobs]
            polys += [p - np.array([x0, y0], np.int32) for _, p, _ in self.strays]
            for poly in polys:  # one call per lump: a joint fillPoly leaves overlaps empty
                cv2.fillPoly(mask, [poly], 255)
            self._fill = float(np.count_nonzero(mask)) / mask.size
        return self._fill

    def truck_visits(self, day: date) -> list[datetime]:
        """Collection truck arrival times of ``day`` (morning usually, afternoon sometimes)."""
        if day not in self._visits:
            r = self.day_rng(day, 2)
            visits = []
            if r.random() < 0.85:
                visits.append(datetime.combine(day, time(6), WIT) + timedelta(
                    minutes=float(r.uniform(0, 150))))
            if r.random() < (0.7 if self.kind == "market" else 0.45):
                visits.append(datetime.combine(day, time(14), WIT) + timedelta(
                    minutes=float(r.uniform(0, 120))))
            self._visits[day] = visits
        return self._visits[day]

    def growth_rate(self) -> float:
        """Lumps added per sim second by the (unseen) daily waste flow."""
        h = self.hour
        per_hour = 3.0 + (26.0 if self.kind == "market" else 20.0) * (
            gauss(h, 10, 3) + 0.6 * gauss(h, 18.5, 1.5))
        return per_hour / 3600

    # ---- step ----------------------------------------------------------------------
    def step(self) -> None:
        """Pile growth, walkers, dumpers and the collection truck."""
        if self.poisson(self.growth_rate(), self.dt_sim):
            self.add_blob()
        self._truck()
        walk_rate = (0.35 if self.kind == "market" else 0.1) * max(
            0.15, draw.daylight(self.hour) - 0.2)
        if self.poisson(walk_rate, STEP_VIS):
            self._spawn_walker(bag=False)
        allowed = self.schedule.allowed(self.now)
        dump_rate = (1.5 if allowed else 0.3) / 3600
        if self.poisson(dump_rate, self.dt_sim):
            self._spawn_walker(bag=True)
        for a in list(self.agents.values()):
            self._move(a)
        for ev in list(self.events):
            if ev["type"] == "illegal_dumping" and self.ts() >= ev["_until"]:
                self.close_event(ev)

    def _spawn_walker(self, bag: bool) -> None:
        """A passer-by (or a dumper carrying a bag) on a sidewalk or a market aisle."""
        d = 1 if self.rng.random() < 0.5 else -1
        if self.kind == "market" and not bag and self.rng.random() < 0.5:
            x = float(self.rng.choice([90.0, 150.0, 560.0, 610.0]) + self.rng.uniform(-12, 12))
            p = new_person(self.rng, self.new_tid(), x, 125.0 if d > 0 else 372.0, d)
            p.target = (x, 380.0 if d > 0 else 118.0)
        else:
            y = float(self.rng.uniform(340, 358)) if self.rng.random() < 0.7 else float(
                self.rng.uniform(112, 118))
            p = new_person(self.rng, self.new_tid(), -12.0 if d > 0 else 652.0, y, d, bag=bag)
            p.target = (660.0 if d > 0 else -20.0, y)
        if bag:
            p.state = "to_drop"
            drop_x = float(self.rng.uniform(215, 505))
            edge = self._pile_edge(drop_x)
            outside = self.rng.random() < 0.3
            drop_y = float(self.rng.uniform(334, 345)) if outside else edge
            p.extra.update(drop=(drop_x, drop_y), exit=p.target)
            p.target = (drop_x, drop_y + 12)
        self.agents[p.tid] = p

    def _pile_edge(self, x: float) -> float:
        """A row just below the current pile top at column ``x`` (where a bag lands)."""
        tops = [float(p[:, 1].min()) for p, _ in self.blobs if abs(p[:, 0].mean() - x) < 40]
        return min(PILE[3] - 12.0, max(PILE[1] + 15.0, (min(tops) if tops else PILE[3] - 20) + 8))

    def _move(self, a: Agent) -> None:
        """Walkers, dumpers and the truck."""
        if a.cls == "truck":
            self._move_truck(a)
            return
        assert a.target is not None
        arrived = a.move_towards(a.target[0], a.target[1], a.speed * STEP_VIS)
        a.phase += a.speed * STEP_VIS * 0.25
        if not arrived:
            return
        if a.state == "to_drop":
            a.state = "dropping"
            a.until = self.ts() + 1.5 * self.speed
            a.target = (a.x, a.y)
        elif a.state == "dropping" and self.ts() >= a.until:
            self._drop(a)
        elif a.state == "walk":
            del self.agents[a.tid]

    def _drop(self, a: Agent) -> None:
        """The dumper leaves their bag: a new lump (in the pile or beside it)."""
        drop = a.extra["drop"]
        if in_rect(drop[0], drop[1], [[PILE[0], PILE[1]], [PILE[2], PILE[3]]]):
            self.add_blob(drop)
        else:
            color = a.bag or draw.GARBAGE[0]
            poly = draw.blob_polygon(self.rng, drop[0], drop[1], float(self.rng.uniform(11, 16)))
            self.strays.append((self.new_tid(), poly, color))
            self._fill = None
        a.bag = None
        a.state = "walk"
        a.target = a.extra["exit"]
        allowed = self.schedule.allowed(self.now)
        self.event_log.append({"id": f"{self.camera_id}-d{a.tid}", "type": "dumping",
                               "track_id": a.tid, "zone": "tumpukan", "allowed": allowed,
                               "start": self.now.isoformat(), "end": self.now.isoformat()})
        if not allowed:
            ev = self.open_event("illegal_dumping", a.tid, "tumpukan")
            ev["_until"] = self.ts() + self.sim_duration(10, 10, 20)

    # ---- collection truck --------------------------------------------------------
    def _truck(self) -> None:
        """Send the garbage truck when a visit is due."""
        if self.truck is not None:
            return
        for v in self.truck_visits(self.now.date()):
            if v <= self.now < v + timedelta(seconds=self.dt_sim):
                t = new_vehicle(self.rng, self.new_tid(), "truck", -80.0, 108.0, 1)
                t.colors = ((230, 230, 230), (0, 140, 255))
                t.state = "arrive"
                t.speed = 80.0
                self.agents[t.tid] = t
                self.truck = t.tid

    def _move_truck(self, t: Agent) -> None:
        """Drive in, collect (the pile shrinks), drive out."""
        if t.state == "arrive":
            if t.move_towards(360.0, t.y, t.speed * STEP_VIS):
                t.state = "collect"
                t.until = self.ts() + self.sim_duration(10, 25, 25)
                t.extra["start"] = self.ts()
                t.extra["keep"] = int(len(self.blobs) * float(self.rng.uniform(0.0, 0.12)))
                self.collect_event = self.open_event("collection", t.tid, "tumpukan")
            return
        if t.state == "collect":
            self._collect(t)
            return
        if t.move_towards(760.0, t.y, t.speed * STEP_VIS):
            del self.agents[t.tid]
            self.truck = None

    def _collect(self, t: Agent) -> None:
        """Remove lumps progressively, outer ones first, until only ``keep`` remain."""
        left = max(1e-6, t.until - self.ts())
        excess = len(self.blobs) - t.extra["keep"]
        n = math.ceil(excess * min(1.0, self.dt_sim / left)) if excess > 0 else 0
        if n > 0:
            ax, ay = self.ANCHOR
            self.blobs.sort(key=lambda b: -math.hypot(*(b[0].mean(axis=0) - (ax, ay))))
            del self.blobs[:n]
            self._fill = None
        if self.strays:
            self.strays.clear()
            self._fill = None
        if self.ts() >= t.until:
            t.state = "leave"
            if self.collect_event is not None:
                self.close_event(self.collect_event)
                self.collect_event = None

    # ---- drawing and truth -------------------------------------------------------
    def build_background(self) -> np.ndarray:
        """Street above, a concrete dump pad with low walls, sidewalk (and stalls)."""
        img = draw.textured((120, 140, 150), draw.HEIGHT, draw.WIDTH, self.seed, 6)
        img[0:110] = draw.textured((80, 80, 82), 110, 640, self.seed + 1, 6)
        img[110:120] = (170, 170, 170)
        img[120:330, 200:520] = draw.textured((150, 155, 150), 210, 320, self.seed + 2, 8)
        cv2.rectangle(img, (190, 150), (200, 330), (70, 80, 140), -1)
        cv2.rectangle(img, (520, 150), (530, 330), (70, 80, 140), -1)
        img[330:360] = draw.textured((175, 175, 175), 30, 640, self.seed + 3, 5)
        if self.kind == "market":
            awn = [(0, 0, 200), (200, 120, 0), (0, 160, 0), (0, 180, 230)]
            for i, y in enumerate(range(120, 330, 52)):
                for x0 in (0, 540):
                    cv2.rectangle(img, (x0, y), (x0 + 100, y + 46), (90, 120, 150), -1)
                    cv2.rectangle(img, (x0, y), (x0 + 100, y + 12), awn[(i + x0) % 4], -1)
                    for k in range(4):
                        cv2.circle(img, (x0 + 15 + 22 * k, y + 30), 6,
                                   draw.SHIRT[(i + k) % len(draw.SHIRT)], -1)
        else:
            cv2.putText(img, "TPS", (24, 200), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (30, 90, 30), 2)
        return img

    def draw_static_dynamic(self, img: np.ndarray) -> None:
        """Pile lumps (back to front) and stray bags."""
        for poly, color in sorted(self.blobs, key=lambda b: float(b[0][:, 1].max())):
            draw.draw_blob(img, poly, color)
        for _, poly, color in self.strays:
            draw.draw_blob(img, poly, color)

    def extra_objects(self) -> list[dict[str, Any]]:
        """The pile as one ``garbage`` object plus each stray bag."""
        out: list[dict[str, Any]] = []
        if self.blobs:
            pts = np.concatenate([p for p, _ in self.blobs])
            box = (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()),
                   float(pts[:, 1].max()))
            clipped = clip_box(box)
            if clipped is not None:
                out.append({"track_id": self.pile_tid, "class": "garbage", "bbox": clipped[0],
                            "visible": clipped[1], "state": "pile"})
        for tid, poly, _ in self.strays:
            box = (float(poly[:, 0].min()), float(poly[:, 1].min()), float(poly[:, 0].max()),
                   float(poly[:, 1].max()))
            clipped = clip_box(box)
            if clipped is not None:
                out.append({"track_id": tid, "class": "garbage", "bbox": clipped[0],
                            "visible": clipped[1], "state": "stray"})
        return out

    def kind_truth(self) -> dict[str, Any]:
        """Pile fill fraction, truck visits of the day and dumping rule."""
        return {"pile_fill": round(self.fill(), 4), "pile": {
            "lumps": len(self.blobs), "strays": len(self.strays),
            "truck_visits": [v.isoformat() for v in self.truck_visits(self.now.date())],
            "collecting": self.collect_event is not None,
            "dump_allowed_now": self.schedule.allowed(self.now),
            "dump_hours": [self.schedule.dump_start, self.schedule.dump_end]}}

    def truth(self) -> dict[str, Any]:
        """Truth without private event fields."""
        t = super().truth()
        for key in ("events", "event_log"):
            t[key] = [{k: v for k, v in e.items() if not k.startswith("_")} for e in t[key]]
        return t


def make_scene(kind: str, camera_id: str, seed: int, schedule: Any = None,
               start: datetime | None = None, speed: float = 60.0) -> Scene:
    """Create the scene of a sim camera.

    ``kind`` is one of :data:`KINDS`; ``schedule`` is a :class:`DoorSchedule` (puskesmas)
    or :class:`PileSchedule` (tps/market); ``start`` is the sim start time (default:
    today 06:30 WIT); ``speed`` is sim seconds per real second.
    """
    if start is None:
        start = datetime.combine(datetime.now(WIT).date(), time(6, 30), WIT)
    if kind == "traffic":
        return TrafficScene(camera_id, seed, start, speed)
    if kind == "puskesmas":
        return PuskesmasScene(camera_id, seed, start, speed, schedule)
    if kind in ("tps", "market"):
        return PileScene(camera_id, seed, start, speed, schedule, market=kind == "market")
    raise ValueError(f"unknown sim camera kind: {kind!r}")
