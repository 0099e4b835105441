"""OpenCV drawing primitives of the simulated city: objects, backgrounds, lighting.

Every function draws into a BGR ``uint8`` image in place (or returns a new one) and
takes the object's *foot point* (bottom centre, pixels) and a perspective scale.
Nothing here keeps state or does I/O.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

Color = tuple[int, int, int]

WIDTH = 640
HEIGHT = 360

SKIN = [(140, 170, 205), (110, 140, 180), (90, 115, 150), (160, 190, 225)]
SHIRT = [(40, 40, 200), (200, 80, 30), (30, 160, 30), (220, 220, 220), (30, 30, 30),
         (0, 200, 230), (160, 60, 160), (120, 90, 60), (230, 170, 60), (60, 60, 140)]
CAR = [(230, 230, 230), (40, 40, 40), (160, 160, 160), (40, 40, 170), (140, 70, 20),
       (20, 100, 30), (200, 200, 190), (60, 30, 110)]
ANGKOT = [(20, 20, 200), (200, 120, 0), (0, 200, 230), (40, 150, 30), (180, 0, 160),
          (0, 120, 255), (230, 200, 40)]
CARGO = [(0, 190, 240), (30, 140, 30), (0, 110, 230), (180, 180, 180), (40, 60, 140)]
GARBAGE = [(30, 30, 30), (200, 120, 40), (230, 230, 230), (40, 140, 40), (0, 120, 230),
           (50, 80, 120), (150, 60, 150), (0, 200, 220), (70, 70, 90)]


def _p(x: float, y: float) -> tuple[int, int]:
    """Round a point to integer pixel coordinates."""
    return int(round(x)), int(round(y))


def _wheel(img: np.ndarray, x: float, y: float, r: float) -> None:
    """Draw a tyre with a hub."""
    cv2.circle(img, _p(x, y), max(2, int(r)), (25, 25, 25), -1, cv2.LINE_AA)
    cv2.circle(img, _p(x, y), max(1, int(r * 0.45)), (150, 150, 150), -1, cv2.LINE_AA)


def draw_person(img: np.ndarray, x: float, y: float, s: float, shirt: Color, skin: Color,
                phase: float, bag: Color | None = None) -> None:
    """Draw a walking person standing on (x, y); ``phase`` animates the legs."""
    h = 40 * s
    leg = 0.42 * h
    swing = math.sin(phase) * 5 * s
    hip = (x, y - leg)
    pants = (60, 50, 40)
    t = max(2, int(3 * s))
    cv2.line(img, _p(*hip), _p(x - swing, y), pants, t, cv2.LINE_AA)
    cv2.line(img, _p(*hip), _p(x + swing, y), pants, t, cv2.LINE_AA)
    bw = 6 * s
    top = y - 0.8 * h
    cv2.rectangle(img, _p(x - bw, top), _p(x + bw, y - leg + 1), shirt, -1)
    cv2.line(img, _p(x - bw, top + 2), _p(x - bw - swing * 0.5, y - leg), skin, t, cv2.LINE_AA)
    cv2.circle(img, _p(x, y - 0.89 * h), max(2, int(4.2 * s)), skin, -1, cv2.LINE_AA)
    cv2.circle(img, _p(x, y - 0.92 * h), max(2, int(4.2 * s)), (30, 30, 30), -1, cv2.LINE_AA)
    cv2.circle(img, _p(x, y - 0.87 * h), max(2, int(3.6 * s)), skin, -1, cv2.LINE_AA)
    if bag is not None:
        cv2.circle(img, _p(x + bw + 4 * s, y - leg), max(3, int(6 * s)), bag, -1, cv2.LINE_AA)


def draw_motorcycle(img: np.ndarray, x: float, y: float, s: float, direction: int,
                    body: Color, shirt: Color, helmet: Color) -> None:
    """Draw a motorcycle with its rider; ``direction`` is +1 (facing right) or -1."""
    r = 6 * s
    half = 17 * s
    _wheel(img, x - half + r, y - r, r)
    _wheel(img, x + half - r, y - r, r)
    d = direction
    pts = np.array([_p(x - half + 2, y - 2 * r), _p(x + d * 4 * s, y - 2.6 * r),
                    _p(x + half - 2, y - 2 * r), _p(x + d * 2 * s, y - r)], np.int32)
    cv2.fillConvexPoly(img, pts, body, cv2.LINE_AA)
    cv2.line(img, _p(x + d * (half - r), y - r), _p(x + d * (half - 3 * s), y - 3.4 * r),
             (60, 60, 60), max(1, int(2 * s)), cv2.LINE_AA)
    seat_y = y - 2.6 * r
    cv2.rectangle(img, _p(x - d * 6 * s - 4 * s, seat_y - 14 * s),
                  _p(x - d * 6 * s + 4 * s, seat_y), shirt, -1)
    cv2.line(img, _p(x - d * 6 * s, seat_y - 10 * s), _p(x + d * (half - 4 * s), seat_y - 4 * s),
             shirt, max(2, int(2.5 * s)), cv2.LINE_AA)
    cv2.circle(img, _p(x - d * 5 * s, seat_y - 18 * s), max(2, int(4.5 * s)), helmet, -1,
               cv2.LINE_AA)


def draw_car(img: np.ndarray, x: float, y: float, s: float, direction: int, body: Color,
             length: float = 84, night: bool = False) -> None:
    """Draw a sedan/hatchback seen from the side."""
    half = length * s / 2
    r = 7 * s
    body_top = y - 22 * s
    cv2.rectangle(img, _p(x - half, body_top), _p(x + half, y - r * 0.6), body, -1)
    d = direction
    cab = np.array([_p(x - half * 0.55 - d * 4 * s, body_top), _p(x - half * 0.35, y - 36 * s),
                    _p(x + half * 0.3, y - 36 * s), _p(x + half * 0.6 + d * 4 * s, body_top)],
                   np.int32)
    cv2.fillConvexPoly(img, cab, body, cv2.LINE_AA)
    win = np.array([_p(x - half * 0.45, body_top - 1), _p(x - half * 0.3, y - 33 * s),
                    _p(x + half * 0.25, y - 33 * s), _p(x + half * 0.5, body_top - 1)], np.int32)
    cv2.fillConvexPoly(img, win, (120, 100, 80), cv2.LINE_AA)
    cv2.line(img, _p(x, body_top), _p(x, y - 33 * s), body, max(1, int(2 * s)))
    _wheel(img, x - half * 0.62, y - r, r)
    _wheel(img, x + half * 0.62, y - r, r)
    _lights(img, x + d * half, body_top + 5 * s, s, night)


def _lights(img: np.ndarray, x: float, y: float, s: float, night: bool) -> None:
    """Draw a headlight, glowing at night."""
    color = (200, 255, 255) if night else (170, 220, 230)
    cv2.circle(img, _p(x, y), max(2, int((5 if night else 2.5) * s)), color, -1, cv2.LINE_AA)


def draw_angkot(img: np.ndarray, x: float, y: float, s: float, direction: int, body: Color,
                stripe: Color, night: bool = False) -> None:
    """Draw an Ambon *angkot* (boxy public minibus with a side stripe and a window row)."""
    half = 48 * s
    r = 7 * s
    top = y - 44 * s
    cv2.rectangle(img, _p(x - half, top), _p(x + half, y - r * 0.6), body, -1)
    d = direction
    nose = np.array([_p(x + d * half, top + 10 * s), _p(x + d * (half + 6 * s), top + 18 * s),
                     _p(x + d * (half + 6 * s), y - r * 0.6), _p(x + d * half, y - r * 0.6)],
                    np.int32)
    cv2.fillConvexPoly(img, nose, body, cv2.LINE_AA)
    cv2.rectangle(img, _p(x - half, y - 17 * s), _p(x + half, y - 13 * s), stripe, -1)
    n = 5
    for i in range(n):
        wx = x - half + 5 * s + i * (2 * half - 10 * s) / n
        cv2.rectangle(img, _p(wx, top + 5 * s), _p(wx + (2 * half - 10 * s) / n - 3 * s,
                      top + 17 * s), (110, 90, 70), -1)
    cv2.rectangle(img, _p(x - half * 0.3, top + 20 * s), _p(x - half * 0.05, y - r), (70, 60, 50),
                  -1)
    _wheel(img, x - half * 0.65, y - r, r)
    _wheel(img, x + half * 0.65, y - r, r)
    _lights(img, x + d * (half + 5 * s), top + 26 * s, s, night)


def draw_truck(img: np.ndarray, x: float, y: float, s: float, direction: int, cab: Color,
               cargo: Color, length: float = 128, night: bool = False) -> None:
    """Draw a truck: cab at the front, a tall cargo box behind."""
    half = length * s / 2
    r = 8 * s
    d = direction
    cab_w = 30 * s
    front = x + d * half
    box_x0, box_x1 = sorted((x - d * half, front - d * cab_w))
    cv2.rectangle(img, _p(box_x0, y - 56 * s), _p(box_x1, y - r), cargo, -1)
    cv2.rectangle(img, _p(box_x0, y - 56 * s), _p(box_x1, y - r), (40, 40, 40), 1)
    cab_x0, cab_x1 = sorted((front - d * (cab_w - 2 * s), front))
    cv2.rectangle(img, _p(cab_x0, y - 40 * s), _p(cab_x1, y - r), cab, -1)
    wx0, wx1 = sorted((front - d * 12 * s, front - d * 2 * s))
    cv2.rectangle(img, _p(wx0, y - 36 * s), _p(wx1, y - 24 * s), (120, 100, 80), -1)
    cv2.rectangle(img, _p(min(x - half, front), y - r - 4 * s), _p(max(x + half, front), y - r),
                  (50, 50, 50), -1)
    for fx in (0.75, 0.35, -0.7):
        _wheel(img, x + d * half * fx, y - r, r)
    _lights(img, front, y - 18 * s, s, night)


def blob_polygon(rng: np.random.Generator, cx: float, cy: float, r: float) -> np.ndarray:
    """Return an irregular closed polygon (a garbage bag or lump) around (cx, cy)."""
    n = int(rng.integers(6, 11))
    ang = np.sort(rng.uniform(0, 2 * math.pi, n))
    rad = r * rng.uniform(0.6, 1.15, n)
    pts = np.stack([cx + rad * np.cos(ang), cy + 0.7 * rad * np.sin(ang)], axis=1)
    return np.round(pts).astype(np.int32)


def draw_blob(img: np.ndarray, poly: np.ndarray, color: Color) -> None:
    """Draw one garbage lump with a dark outline and a highlight."""
    cv2.fillPoly(img, [poly], color, cv2.LINE_AA)
    cv2.polylines(img, [poly], True, (20, 20, 20), 1, cv2.LINE_AA)
    c = poly.mean(axis=0)
    hi = tuple(min(255, int(v * 0.5 + 120)) for v in color)
    cv2.circle(img, _p(c[0] - 2, c[1] - 3), 2, hi, -1)


def _noise_texture(shape: tuple[int, int], seed: int, scale: float) -> np.ndarray:
    """A deterministic grey noise texture, for asphalt, paving and walls."""
    rng = np.random.default_rng(seed)
    return rng.normal(0, scale, shape).astype(np.float32)


def textured(color: Color, h: int, w: int, seed: int, scale: float = 6.0) -> np.ndarray:
    """Return an ``h x w`` patch of ``color`` with a fixed grain."""
    base = np.empty((h, w, 3), np.float32)
    base[:] = color
    base += _noise_texture((h, w), seed, scale)[..., None]
    return np.clip(base, 0, 255).astype(np.uint8)


def daylight(hour: float) -> float:
    """Global brightness for a fractional hour of the day (1 = noon, ~0.35 = night)."""
    if 6.5 <= hour <= 17.5:
        return 1.0
    if 5.5 <= hour < 6.5:
        return 0.35 + 0.65 * (hour - 5.5)
    if 17.5 < hour <= 18.75:
        return 1.0 - 0.65 * (hour - 17.5) / 1.25
    return 0.35


def apply_lighting(img: np.ndarray, gain: float) -> np.ndarray:
    """Scale brightness and add a warm sodium-lamp tint at night."""
    out = cv2.convertScaleAbs(img, alpha=gain, beta=0)
    if gain < 0.8:
        out = cv2.add(out, np.full_like(out, (0, 8, 18), dtype=np.uint8))
    return out


def signed_noise(h: int, w: int, seed: int, amp: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Two non-negative uint8 noise planes (add one, subtract the other) of size h x w."""
    rng = np.random.default_rng(seed)
    n = rng.integers(-amp, amp + 1, (h, w + 64, 1), dtype=np.int16)
    n = np.repeat(n, 3, axis=2)
    pos = np.clip(n, 0, None).astype(np.uint8)
    neg = np.clip(-n, 0, None).astype(np.uint8)
    return pos, neg


def add_noise(img: np.ndarray, pos: np.ndarray, neg: np.ndarray, offset: int) -> np.ndarray:
    """Add sensor noise from :func:`signed_noise` planes, shifted by ``offset`` columns."""
    h, w = img.shape[:2]
    o = offset % 64
    out = cv2.add(img, pos[:h, o:o + w])
    return cv2.subtract(out, neg[:h, o:o + w])
