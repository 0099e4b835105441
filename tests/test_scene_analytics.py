"""Camera analytics are plug-ins chosen by what the camera's drawing has, not by its kind;
each gives typed CameraState values and the alerts it wants (no private keys in a dict)."""

from __future__ import annotations

import dataclasses
import typing
from datetime import datetime, timedelta

import numpy as np
import pytest

from ambon_core.domain import AlertKind, CameraKind, CameraState
from ambon_core.registry import Camera, load_registry
from ambon_core.settings import DATA_DIR
from workers.camera.detector import CITY_CLASSES, Detections
from workers.camera.pipeline import CameraPipeline, Rules
from workers.camera.scene_analytics import ANALYTICS

PERSON = float(CITY_CLASSES.index("person"))
QUEUE = [[100, 100], [500, 100], [500, 340], [100, 340]]


def _people(n: int) -> Detections:
    """``n`` people standing side by side inside QUEUE."""
    boxes = [[120 + 30 * k, 150, 140 + 30 * k, 300] for k in range(n)]
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(n, 0.9, np.float32),
                      np.full(n, PERSON, np.float32))


def _camera(kind: CameraKind, zones: list[dict]) -> Camera:
    return Camera.model_validate(dict(id="cam-x", name="Kamera X", kind=kind, source="x.mp4",
                                      kecamatan="Sirimau", lat=-3.69, lon=128.18, zones=zones))


def test_every_analytic_fills_only_camera_state_fields() -> None:
    for analytic in ANALYTICS:
        values_type = typing.get_type_hints(analytic.update)["return"]
        assert values_type.__name__ == "Output"
    state_fields = set(CameraState.model_fields)
    from workers.camera import scene_analytics as sa

    for name in dir(sa):
        obj = getattr(sa, name)
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and name.endswith("Values"):
            assert {f.name for f in dataclasses.fields(obj)} <= state_fields, name


def test_the_drawing_selects_the_analytics() -> None:
    reg = load_registry(DATA_DIR / "registry.yaml")
    image = np.zeros((360, 640, 3), np.uint8)
    for cam in reg.cameras:
        pipe = CameraPipeline(cam)
        pipe.ensure_geometry(cam.frame_size)
        drawn = {z.kind for z in cam.zones} | ({"line"} if cam.lines else set())
        assert set(pipe.analytics) == drawn, cam.id
    # a market camera with a queue drawn counts its queue: the kind decides nothing
    market = _camera(CameraKind.MARKET, [{"name": "antre", "kind": "queue", "polygon": QUEUE}])
    pipe = CameraPipeline(market, rules=Rules(queue_long=3, queue_hold_s=0))
    t0 = datetime(2026, 11, 23, 9, 0)
    for i in range(4):
        pipe.analyse(i * 0.5, image, _people(4), t0 + timedelta(seconds=i * 0.5))
    assert pipe.values["queue_len"] == 4 and "fill" not in pipe.values
    assert [a.kind for a in pipe.alerts()] == [AlertKind.QUEUE_LONG]
    CameraState(camera_id="cam-x", kind=CameraKind.MARKET, **pipe.values)  # typed, complete


@pytest.mark.parametrize("kind", list(CameraKind))
def test_a_camera_with_nothing_drawn_counts_objects_only(kind: CameraKind) -> None:
    pipe = CameraPipeline(_camera(kind, []))
    pipe.analyse(0.0, np.zeros((360, 640, 3), np.uint8), _people(2), datetime(2026, 11, 23, 9))
    assert pipe.values == {"objects": {"person": 2}} and pipe.alerts() == []


def test_the_queue_counts_who_the_frame_shows_not_only_confirmed_tracks() -> None:
    """At a site camera's 0.5 fps a newcomer (or someone who shuffled forward and lost
    their track) is a track only from their second frame: the count must not wait for it."""
    market = _camera(CameraKind.MARKET, [{"name": "antre", "kind": "queue", "polygon": QUEUE}])
    pipe = CameraPipeline(market, rules=Rules(queue_long=30, queue_hold_s=2.0))
    image = np.zeros((360, 640, 3), np.uint8)
    t0 = datetime(2026, 11, 23, 9, 0)
    pipe.analyse(0.0, image, _people(3), t0)
    pipe.analyse(2.0, image, _people(3), t0 + timedelta(seconds=2))
    assert pipe.values["queue_len"] == 3
    pipe.analyse(4.0, image, _people(5), t0 + timedelta(seconds=4))  # two arrive
    assert len([t for t in pipe.tracks if t.cls == "person"]) == 3  # not yet confirmed
    assert pipe.values["queue_len"] == 5
    # everyone takes a long step: the old tracks are lost (held), new ones unconfirmed;
    # each person still counts once
    moved = _people(5)
    moved.xyxy[:, [1, 3]] += 30
    moved.xyxy[:, [0, 2]] += 15
    pipe.analyse(6.0, image, moved, t0 + timedelta(seconds=6))
    assert pipe.values["queue_len"] == 5
    pipe.analyse(8.0, image, Detections.empty(), t0 + timedelta(seconds=8))  # all missed once
    assert pipe.values["queue_len"] <= 5
    pipe.analyse(12.0, image, Detections.empty(), t0 + timedelta(seconds=12))
    assert pipe.values["queue_len"] == 0  # they left: held for one period, no longer
