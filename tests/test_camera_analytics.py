"""Camera analytics as pure functions: crossings, dwell, congestion, fill, geometry."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ambon_core.domain import CameraKind, Congestion
from ambon_core.registry import Camera
from workers.camera import analytics as an
from workers.camera.detector import MotionGate
from workers.camera.geometry import GeometryError, LineGeom, Track, ZoneGeom, scale_geometry
from workers.camera.privacy import BlurConfig, PrivacyBlur

VLINE = LineGeom("garis", (320, 140), (320, 300))


def car(tid: int, x: float, y: float = 220, cls: str = "car", w: float = 60, h: float = 30) -> Track:
    return Track(tid, cls, (x - w / 2, y - h, x + w / 2, y))


def camera(**kw) -> Camera:
    base = dict(id="cam-test", name="t", kind=CameraKind.TRAFFIC, source="x.mp4", kecamatan="Sirimau",
                lat=-3.69, lon=128.18, zones=[{"name": "jalur", "kind": "lane",
                                               "polygon": [[0, 140], [640, 140], [640, 300], [0, 300]]}],
                lines=[{"name": "garis", "points": [[320, 140], [320, 300]]}])
    return Camera.model_validate(base | kw)


def test_crossing_counted_once_per_track_with_direction():
    counter = an.LineCounter([VLINE])
    for x in (200, 280, 330, 310, 340, 400):  # jitters back and forth over the line
        counter.update([car(1, x), car(2, 640 - x, cls="motorcycle")])
    assert counter.counts["garis"] == {"in:car": 1, "out:motorcycle": 1}


def test_crossing_beyond_line_end_and_first_sighting_not_counted():
    counter = an.LineCounter([VLINE])
    counter.update([car(1, 300, y=340 + 30)])
    counter.update([car(1, 340, y=340 + 30)])  # centre below the segment's end
    counter.update([car(2, 350)])  # first seen past the line
    counter.update([car(2, 420)])
    assert counter.counts["garis"] == {}


def test_crossing_direction_horizontal_line_top_to_bottom_is_in():
    line = LineGeom("h", (0, 100), (640, 100))
    assert an.crossing_direction(line, (50, 90), (50, 110)) == "in"
    assert an.crossing_direction(line, (50, 110), (50, 90)) == "out"
    assert an.crossing_direction(line, (50, 80), (50, 90)) is None


def test_dwell_and_still_time_in_zone():
    zone = ZoneGeom("larangan", "no_parking", np.array([[400, 300], [640, 300], [640, 360], [400, 360]]))
    book = an.TrackBook()
    for t in range(0, 40, 2):
        book.update(float(t), [car(7, 500, y=340)], [zone])
    assert book.dwell(7, "larangan", 38.0) == pytest.approx(38.0)
    assert book.still_for(7, 38.0) == pytest.approx(38.0)
    book.update(40.0, [car(7, 300, y=250)], [zone])  # drove off
    assert book.dwell(7, "larangan", 40.0) == 0.0
    assert book.still_for(7, 40.0) == 0.0


@pytest.mark.parametrize(("occ", "speed", "level"), [
    (0.05, 120.0, Congestion.LANCAR), (0.30, 80.0, Congestion.PADAT), (0.15, 20.0, Congestion.PADAT),
    (0.60, 5.0, Congestion.MACET), (0.60, 90.0, Congestion.PADAT), (0.0, None, Congestion.LANCAR)])
def test_congestion_thresholds(occ, speed, level):
    assert an.congestion_level(occ, speed) == level


def test_lane_occupancy_union_and_parking():
    lane = ZoneGeom("jalur", "lane", np.array([[0, 0], [100, 0], [100, 100], [0, 100]]))
    tracks = [Track(1, "car", (0, 0, 50, 100)), Track(2, "truck", (25, 0, 50, 100)),
              Track(3, "person", (50, 0, 100, 100))]
    assert an.lane_occupancy(tracks, [lane], (200, 200)) == pytest.approx(0.5, abs=0.02)
    slot = ZoneGeom("p1", "parking_slot", np.array([[0, 50], [60, 50], [60, 101], [0, 101]]))
    assert an.parking(tracks, [slot]) == {"p1": True}
    assert an.parking([tracks[2]], [slot]) == {"p1": False}


def test_fill_fraction_from_boxes_and_pixels():
    pile = ZoneGeom("tumpukan", "pile", np.array([[100, 100], [300, 100], [300, 300], [100, 300]]))
    assert an.fill_from_boxes([(100, 100, 200, 300)], pile, (400, 400)) == pytest.approx(0.5, abs=0.01)
    empty = np.full((400, 400, 3), 120, np.uint8)
    frame = (empty * 0.8).astype(np.uint8)  # darker: lighting changed, not garbage
    cv2.rectangle(frame, (100, 200), (299, 299), (30, 160, 200), -1)
    assert an.fill_from_pixels(frame, empty, pile) == pytest.approx(0.5, abs=0.03)
    person = (150, 200, 200, 300)
    assert an.fill_from_pixels(frame, empty, pile, exclude=[person]) == pytest.approx(0.375, abs=0.03)


def test_door_from_reference_and_from_passages():
    door = ZoneGeom("pintu", "door", np.array([[280, 60], [360, 60], [360, 200], [280, 200]]))
    closed = np.full((360, 640, 3), 200, np.uint8)
    cv2.rectangle(closed, (280, 60), (360, 200), (50, 100, 150), -1)
    opened = closed.copy()
    cv2.rectangle(opened, (285, 60), (355, 200), (35, 30, 28), -1)
    watch = an.DoorWatch(door, closed)
    assert watch.update(0.0, closed, []) is False
    assert watch.update(1.0, opened, []) is True
    no_ref = an.DoorWatch(door, None, passage_window_s=60)
    assert no_ref.update(0.0, closed, []) is None
    assert no_ref.update(1.0, closed, [Track(1, "person", (300, 120, 330, 195))]) is True
    assert no_ref.update(100.0, closed, []) is None


def test_dumping_needs_material_left_behind():
    pile = ZoneGeom("tumpukan", "pile", np.array([[200, 120], [520, 120], [520, 330], [200, 330]]))
    watch, book = an.DumpingWatch(pile), an.TrackBook()
    person = Track(5, "person", (290, 280, 310, 340))
    events = []
    for t, fill in ((0.0, 0.30), (1.0, 0.30), (2.0, 0.30)):
        book.update(t, [person], [pile])
        events += watch.update(t, [person], [], fill, book)
    walked = Track(5, "person", (390, 280, 410, 340))
    book.update(3.0, [walked], [pile])
    events += watch.update(3.0, [walked], [], 0.32, book)
    assert len(events) == 1 and events[0]["track_id"] == 5
    # a passer-by who stops and leaves without adding anything is no dumping
    watch2, book2 = an.DumpingWatch(pile), an.TrackBook()
    for t in (0.0, 1.0, 2.0):
        book2.update(t, [person], [pile])
        assert watch2.update(t, [person], [], 0.30, book2) == []
    book2.update(3.0, [walked], [pile])
    assert watch2.update(3.0, [walked], [], 0.30, book2) == []


def test_zones_scaled_to_actual_frame_size_and_outside_rejected():
    geom = scale_geometry(camera(), (1280, 720))
    lane = geom.of_kind("lane")[0]
    assert lane.polygon.tolist()[0] == [0.0, 280.0]
    assert geom.lines[0].a == (640.0, 280.0)
    with pytest.raises(ValueError, match="outside the frame"):
        camera(lines=[{"name": "x", "points": [[0, 0], [700, 10]]}])
    cam = camera().model_copy(update={"frame_size": (320, 180)})
    with pytest.raises(GeometryError, match="outside 320x180"):
        scale_geometry(cam, (640, 360))


def test_motion_gate_ignores_noise_and_flicker_but_sees_a_car():
    rng = np.random.default_rng(1)
    base = rng.integers(80, 160, (360, 640, 3), dtype=np.uint8)
    gate = MotionGate()
    assert gate.changed(base, 0.0)
    noisy = np.clip(base.astype(int) * 1.03 + rng.integers(-6, 7, base.shape), 0, 255).astype(np.uint8)
    assert not gate.changed(noisy, 0.5)
    moved = base.copy()
    cv2.rectangle(moved, (300, 200), (360, 240), (20, 20, 200), -1)
    assert gate.changed(moved, 1.0)
    assert gate.changed(moved, 40.0)  # too long without analysis: analyse anyway


def test_detections_alone_blur_head_and_plate_only():
    """With motion blur off (CAMERA_BLUR_MOTION=false) the detections are the only cover."""
    rng = np.random.default_rng(2)
    img = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)
    person, vehicle = Track(1, "person", (100, 100, 140, 200)), Track(2, "car", (300, 200, 400, 260))
    out = PrivacyBlur(cfg=BlurConfig(motion=False)).publishable(img, [person, vehicle], 0.0)
    assert not np.array_equal(out[100:120, 100:140], img[100:120, 100:140])  # head
    assert not np.array_equal(out[240:260, 330:370], img[240:260, 330:370])  # plate
    assert np.array_equal(out[160:200, 100:140], img[160:200, 100:140])  # legs untouched
    assert np.array_equal(out[0:50, 500:640], img[0:50, 500:640])
