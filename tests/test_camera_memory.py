"""Per-camera state stays bounded however long a camera runs (tracks come and go)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from ambon_core.domain import CameraKind
from ambon_core.registry import Camera
from workers.camera import analytics as an
from workers.camera.detector import CITY_CLASSES, Detections
from workers.camera.geometry import LineGeom, Track
from workers.camera.pipeline import CameraPipeline
from workers.camera.tracking import CameraTracker

CAR = CITY_CLASSES.index("car")
VLINE = LineGeom("garis", (320, 140), (320, 300))


def convoy(i: int) -> Detections:
    """Frame i: a new car enters every 3rd frame at the left and drives 50 px/frame right,
    leaving at x > 640 (~4 live cars and a steady churn of finished tracks)."""
    boxes = [[x, 200, x + 40, 230] for k in range(0, i + 1, 3) if (x := 50.0 * (i - k)) < 640]
    n = len(boxes)
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(n, 0.9, np.float32),
                      np.full(n, CAR, np.float32))


def test_tracker_keeps_only_recent_removed_tracks():
    tracker = CameraTracker()
    ids: set[int] = set()
    for i in range(400):
        ids |= {t.track_id for t in tracker.update(convoy(i))}
        bt = tracker.tracker
        assert len(bt.removed_stracks) <= 3 * 12  # removals of the last 3 frames only
        assert len(bt.lost_stracks) <= 20
    assert len(ids) > 120  # hundreds of tracks came and went
    # no Kalman state is a view into a shared batch array (which would keep it alive)
    for t in bt.tracked_stracks + bt.lost_stracks:
        assert t.covariance.base is None and t.mean.base is None


def test_removed_track_is_not_refound():
    tracker = CameraTracker()
    box = Detections(np.array([[100, 200, 140, 230]], np.float32), np.array([0.9], np.float32),
                     np.array([CAR], np.float32))
    first = {t.track_id for _ in range(3) for t in tracker.update(box)}
    for _ in range(12):  # lost for longer than track_buffer (6 frames): removed
        tracker.update(Detections.empty())
    again = {t.track_id for _ in range(3) for t in tracker.update(box)}
    assert first and again and not first & again


def test_line_counter_forgets_tracks_not_seen_for_a_while():
    counter = an.LineCounter([VLINE], forget_frames=10)
    for tid in range(1, 500):  # each track crosses the line and is never seen again
        counter.update([Track(tid, "car", (290, 200, 310, 230))])
        counter.update([Track(tid, "car", (330, 200, 350, 230))])
    assert counter.counts["garis"] == {"in:car": 499}
    assert len(counter.last) <= 11 and len(counter.seen_at) <= 11
    assert len(counter.counted["garis"]) <= 11


def test_line_counter_still_counts_a_track_once_while_remembered():
    counter = an.LineCounter([VLINE], forget_frames=10)
    for x in (300, 340, 300, 340, 300, 340):  # jitters over the line
        counter.update([Track(1, "car", (x - 10, 200, x + 10, 230))])
    assert counter.counts["garis"] == {"in:car": 1}


def test_line_counter_memory_cap():
    counter = an.LineCounter([VLINE], memory=50, forget_frames=10_000)
    for tid in range(200):
        counter.update([Track(tid, "car", (0, 0, 10, 10))])
    assert len(counter.last) == 50 and max(counter.last) == 199


def test_pipeline_state_bounded_over_many_frames():
    cam = Camera.model_validate(dict(
        id="cam-mem", name="m", kind=CameraKind.TRAFFIC, source="x.mp4", kecamatan="Sirimau", lat=-3.69,
        lon=128.18, zones=[{"name": "jalur", "kind": "lane", "polygon": [[0, 140], [640, 140], [640, 300],
                                                                          [0, 300]]}],
        lines=[{"name": "garis", "points": [[320, 140], [320, 300]]}]))
    pipe = CameraPipeline(cam)
    image = np.zeros((360, 640, 3), np.uint8)
    t0 = datetime(2026, 3, 3, 9, 0)
    for i in range(600):  # 5 minutes at 2 fps, a car entering every frame
        pipe.analyse(i / 2, image, convoy(i), t0 + timedelta(seconds=i / 2))
        pipe.take_finished_minute()
    assert pipe.counter is not None and len(pipe.counter.last) <= 60
    assert len(pipe.book.lives) <= 30
    assert len(pipe.tracker.tracker.removed_stracks) <= 40
    assert sum(pipe.counter.counts["garis"].values()) > 180
