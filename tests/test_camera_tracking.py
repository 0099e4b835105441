"""Tracker at the worker's low analysis rate: fast motorcycles in a group keep their ids."""

from __future__ import annotations

import numpy as np
import pytest

from workers.camera import analytics as an
from workers.camera.detector import CITY_CLASSES, Detections
from workers.camera.geometry import LineGeom, ZoneGeom
from workers.camera.tracking import CameraTracker, LowRateKalman

MOTO = CITY_CLASSES.index("motorcycle")


def group_frames(n: int = 10) -> list[Detections]:
    """Three 30x24 motorcycles riding left to right in one lane at 2 fps, 60-90 px/frame
    (2-3 box widths), rows 8 px apart, starting bunched at the left edge."""
    rides = [(0.0, 190.0, 90.0), (40.0, 198.0, 75.0), (-30.0, 206.0, 60.0)]  # x0, foot y, px/frame
    out = [Detections.empty(), Detections.empty()]  # the group arrives on a running tracker
    for i in range(n):
        boxes = [[x0 + v * i, y - 24, x0 + v * i + 30, y] for x0, y, v in rides if x0 + v * i + 30 <= 640]
        n_ = len(boxes)
        out.append(Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(n_, 0.85, np.float32),
                              np.full(n_, MOTO, np.float32)))
    return out


def count(tracker: CameraTracker) -> tuple[int, set[int]]:
    counter = an.LineCounter([LineGeom("garis", (320, 140), (320, 300))])
    ids: set[int] = set()
    for dets in group_frames():
        tracks = tracker.update(dets)
        ids |= {t.track_id for t in tracks}
        counter.update(tracks)
    return sum(counter.counts["garis"].values()), ids


def test_fast_group_counted_once_each_with_three_ids():
    crossed, ids = count(CameraTracker())
    assert crossed == 3
    assert len(ids) <= 4  # at most one id change, and never one that double-counts


def test_bytetrack_defaults_lose_the_fast_group():
    """The regression fixed: ByteTrack's strict confirmation (cost 0.7) drops new fast tracks."""
    slow = CameraTracker(velocity_weight=1.0 / 160)
    slow.tracker.unconfirmed_thresh = 0.7
    crossed, _ = count(slow)
    assert crossed < 3


def test_low_rate_kalman_learns_the_velocity_in_a_few_frames():
    kf = LowRateKalman(0.2)
    mean, cov = kf.initiate(np.array([100.0, 200.0, 1.25, 24.0]))
    for i in range(1, 4):
        mean, cov = kf.predict(mean, cov)
        mean, cov = kf.update(mean, cov, np.array([100.0 + 80 * i, 200.0, 1.25, 24.0]))
    assert mean[4] == pytest.approx(80, rel=0.25)  # px per frame


def test_fill_from_pixels_zone_touching_the_frame_edge():
    pile = ZoneGeom("tumpukan", "pile", np.array([[0, 200], [400, 200], [400, 400], [0, 400]]))
    empty = np.full((400, 400, 3), 100, np.uint8)
    empty[:100] = 60  # the gain comes from outside the zone
    frame = empty.copy()
    frame[300:400, 0:400] = (20, 180, 220)  # garbage covers the lower half of the zone
    assert an.fill_from_pixels(frame, empty, pile) == pytest.approx(0.5, abs=0.03)
    half = an.fill_from_pixels(frame, empty, pile, exclude=[(0, 300, 200, 400)])
    assert half == pytest.approx(0.25, abs=0.03)
