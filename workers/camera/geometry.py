"""Tracks, zones and lines in frame pixels; registry geometry scaled to the real frame size."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ambon_core.registry import Camera

Box = tuple[float, float, float, float]
VEHICLES = frozenset({"car", "motorcycle", "bus", "truck"})


@dataclass(frozen=True)
class Track:
    """One tracked object in one frame (``box`` = x1, y1, x2, y2 in frame pixels)."""

    track_id: int
    cls: str
    box: Box
    conf: float = 1.0

    @property
    def center(self) -> tuple[float, float]:
        x1, y1, x2, y2 = self.box
        return (x1 + x2) / 2, (y1 + y2) / 2

    @property
    def foot(self) -> tuple[float, float]:
        """Bottom centre: where the object stands on the ground plane."""
        x1, _, x2, y2 = self.box
        return (x1 + x2) / 2, y2 - 1


@dataclass
class ZoneGeom:
    """A registry zone as a polygon in actual frame pixels."""

    name: str
    kind: str
    polygon: np.ndarray  # (N, 2) float32
    area: float = field(init=False)

    def __post_init__(self) -> None:
        self.polygon = np.asarray(self.polygon, np.float32).reshape(-1, 2)
        self.area = float(abs(cv2.contourArea(self.polygon)))

    def contains(self, point: tuple[float, float]) -> bool:
        return cv2.pointPolygonTest(self.polygon, (float(point[0]), float(point[1])), False) >= 0

    def mask(self, height: int, width: int) -> np.ndarray:
        """uint8 mask (255 inside) of the zone in a height x width frame."""
        out = np.zeros((height, width), np.uint8)
        cv2.fillPoly(out, [np.round(self.polygon).astype(np.int32)], 255)
        return out

    def bbox(self) -> tuple[int, int, int, int]:
        x, y, w, h = cv2.boundingRect(np.round(self.polygon).astype(np.int32))
        return x, y, x + w, y + h


@dataclass(frozen=True)
class LineGeom:
    """A counting line; ``in`` = crossing towards the right / bottom side."""

    name: str
    a: tuple[float, float]
    b: tuple[float, float]


@dataclass
class CameraGeometry:
    """All zones and lines of one camera in the frame size actually received."""

    size: tuple[int, int]  # width, height
    zones: list[ZoneGeom]
    lines: list[LineGeom]

    def of_kind(self, kind: str) -> list[ZoneGeom]:
        return [z for z in self.zones if z.kind == kind]


class GeometryError(ValueError):
    """A zone or line does not fit the frame."""


def scale_geometry(camera: Camera, size: tuple[int, int]) -> CameraGeometry:
    """Zones and lines of ``camera`` scaled from its registry ``frame_size`` to ``size``.

    Raises GeometryError for a point outside the registry frame (the registry already
    refuses those; this guards geometry built in code).
    """
    (rw, rh), (w, h) = camera.frame_size, size
    sx, sy = w / rw, h / rh

    def pts(points: list[list[float]], name: str) -> list[tuple[float, float]]:
        for x, y in points:
            if not (0 <= x <= rw and 0 <= y <= rh):
                raise GeometryError(f"{camera.id}: '{name}' point ({x}, {y}) is outside {rw}x{rh}")
        return [(x * sx, y * sy) for x, y in points]

    zones = [ZoneGeom(z.name, z.kind, np.array(pts(z.polygon, z.name))) for z in camera.zones]
    lines = []
    for ln in camera.lines:
        a, b = pts(ln.points, ln.name)
        lines.append(LineGeom(ln.name, a, b))
    return CameraGeometry((w, h), zones, lines)
