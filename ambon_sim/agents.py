"""Moving things of the simulated city (people and vehicles) and their geometry.

An :class:`Agent` is positioned by its *foot point* ``(x, y)`` (bottom centre in base
640x360 pixels); its drawn size follows :func:`perspective` so that nearer (lower)
objects look bigger.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ambon_sim import draw

CLASSES: tuple[str, ...] = ("person", "car", "motorcycle", "bus", "truck", "garbage")
VEHICLES = frozenset({"car", "motorcycle", "bus", "truck"})


def perspective(y: float) -> float:
    """Scale of an object whose foot point is at row ``y`` (slight perspective)."""
    return 0.7 + 0.5 * y / draw.HEIGHT


@dataclass
class Agent:
    """One person or vehicle with a tiny state machine (``state`` and ``until``)."""

    tid: int
    cls: str
    x: float
    y: float
    speed: float
    direction: int = 1
    size: float = 1.0
    colors: tuple[Any, ...] = ()
    length: float = 84.0
    state: str = "drive"
    until: float = 0.0
    lane: str | None = None
    target: tuple[float, float] | None = None
    phase: float = 0.0
    crossed: bool = False
    bag: tuple[int, int, int] | None = None
    cur_speed: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scale(self) -> float:
        """Effective drawing scale (perspective times the agent's own size factor)."""
        return perspective(self.y) * self.size

    def extent(self) -> tuple[float, float, float, float]:
        """Full (unclipped) box ``x1, y1, x2, y2`` of the drawn object in base pixels."""
        s = self.scale
        x, y, d = self.x, self.y, self.direction
        if self.cls == "person":
            right = 16 * s if self.bag is not None else 7 * s
            return x - 7 * s, y - 41 * s, x + right, y
        if self.cls == "motorcycle":
            return x - 17 * s, y - 38 * s, x + 17 * s, y
        if self.cls == "car":
            half = self.length * s / 2
            return x - half - 1, y - 36 * s, x + half + 1, y
        if self.cls == "bus":
            half = 48 * s
            return x - half - (6 * s if d < 0 else 0), y - 44 * s, x + half + (
                6 * s if d > 0 else 0), y
        half = self.length * s / 2
        return x - half, y - 56 * s, x + half, y

    def front(self) -> float:
        """x of the leading edge in the direction of travel."""
        x1, _, x2, _ = self.extent()
        return x2 if self.direction > 0 else x1

    def back(self) -> float:
        """x of the trailing edge in the direction of travel."""
        x1, _, x2, _ = self.extent()
        return x1 if self.direction > 0 else x2

    def move_towards(self, tx: float, ty: float, dist: float) -> bool:
        """Move up to ``dist`` pixels towards (tx, ty); return True on arrival."""
        dx, dy = tx - self.x, ty - self.y
        n = math.hypot(dx, dy)
        if n <= dist or n < 1e-6:
            self.x, self.y = tx, ty
            return True
        self.x += dx / n * dist
        self.y += dy / n * dist
        if abs(dx) > 0.5:
            self.direction = 1 if dx > 0 else -1
        return False

    def draw(self, img: np.ndarray, night: bool) -> None:
        """Draw this agent into ``img``."""
        s, x, y, d, c = self.scale, self.x, self.y, self.direction, self.colors
        if self.cls == "person":
            draw.draw_person(img, x, y, s, c[0], c[1], self.phase, self.bag)
        elif self.cls == "motorcycle":
            draw.draw_motorcycle(img, x, y, s, d, c[0], c[1], c[2])
        elif self.cls == "car":
            draw.draw_car(img, x, y, s, d, c[0], self.length, night)
        elif self.cls == "bus":
            draw.draw_angkot(img, x, y, s, d, c[0], c[1], night)
        else:
            draw.draw_truck(img, x, y, s, d, c[0], c[1], self.length, night)


def clip_box(box: tuple[float, float, float, float], w: int = draw.WIDTH,
             h: int = draw.HEIGHT) -> tuple[list[float], float] | None:
    """Clip a box to the frame; return ``(box, visible_fraction)`` or None if off-frame."""
    x1, y1, x2, y2 = box
    area = max(1e-6, (x2 - x1) * (y2 - y1))
    cx1, cy1, cx2, cy2 = max(0.0, x1), max(0.0, y1), min(float(w), x2), min(float(h), y2)
    if cx2 - cx1 < 3 or cy2 - cy1 < 3:
        return None
    frac = (cx2 - cx1) * (cy2 - cy1) / area
    return [round(cx1, 1), round(cy1, 1), round(cx2, 1), round(cy2, 1)], round(frac, 3)


def new_vehicle(rng: np.random.Generator, tid: int, cls: str, x: float, y: float,
                direction: int, speed_factor: float = 1.0) -> Agent:
    """Create a vehicle of class ``cls`` with random colours, size and desired speed."""
    speeds = {"motorcycle": (95, 160), "car": (85, 135), "bus": (70, 115), "truck": (55, 90)}
    lo, hi = speeds[cls]
    speed = float(rng.uniform(lo, hi)) * speed_factor
    size = float(rng.uniform(0.92, 1.08))
    length = 84.0
    if cls == "motorcycle":
        colors: tuple[Any, ...] = (_pick(rng, draw.CAR), _pick(rng, draw.SHIRT),
                                   _pick(rng, draw.SHIRT))
    elif cls == "car":
        colors = (_pick(rng, draw.CAR),)
        length = float(rng.uniform(74, 96))
    elif cls == "bus":
        colors = (_pick(rng, draw.ANGKOT), _pick(rng, draw.SHIRT))
    else:
        colors = ((40, 110, 200) if rng.random() < 0.5 else (200, 200, 200),
                  _pick(rng, draw.CARGO))
        length = float(rng.uniform(115, 140))
    return Agent(tid=tid, cls=cls, x=x, y=y, speed=speed, direction=direction, size=size,
                 colors=colors, length=length, cur_speed=speed)


def new_person(rng: np.random.Generator, tid: int, x: float, y: float, direction: int,
               bag: bool = False) -> Agent:
    """Create a walking person with random clothes, skin tone and pace."""
    return Agent(tid=tid, cls="person", x=x, y=y, speed=float(rng.uniform(32, 55)),
                 direction=direction, size=float(rng.uniform(0.88, 1.1)),
                 colors=(_pick(rng, draw.SHIRT), _pick(rng, draw.SKIN)), state="walk",
                 phase=float(rng.uniform(0, 6.28)),
                 bag=_pick(rng, draw.GARBAGE) if bag else None)


def _pick(rng: np.random.Generator, options: list[Any]) -> Any:
    """Pick one element of ``options`` using ``rng``."""
    return options[int(rng.integers(len(options)))]
