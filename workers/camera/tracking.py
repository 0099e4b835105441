"""ByteTrack per camera, on detections from batched ``predict`` calls.

``model.track(persist=True)`` keeps one tracker list on the shared predictor, so two
cameras fed through one model would mix their tracks; each camera here owns its own
``BYTETracker``. Association uses buffered IoU (C-BIoU, Yang et al. 2023): boxes are
widened before the IoU, so a fast motorcycle still matches its track at 2 analysed
frames per second, where plain IoU between consecutive boxes is zero.
"""

from __future__ import annotations

import numpy as np
from ultralytics.trackers.byte_tracker import BYTETracker, STrack
from ultralytics.utils import IterableSimpleNamespace

from workers.camera.detector import CITY_CLASSES, Detections
from workers.camera.geometry import Track

BYTETRACK_ARGS = dict(tracker_type="bytetrack", track_high_thresh=0.25, track_low_thresh=0.1,
                      new_track_thresh=0.3, track_buffer=6, match_thresh=0.9, fuse_score=True)


def _buffered(tlbr: np.ndarray, b: float) -> np.ndarray:
    w, h = tlbr[:, 2] - tlbr[:, 0], tlbr[:, 3] - tlbr[:, 1]
    return np.stack([tlbr[:, 0] - b * w, tlbr[:, 1] - b * h / 4, tlbr[:, 2] + b * w,
                     tlbr[:, 3] + b * h / 4], axis=1)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-9)


class BufferedByteTracker(BYTETracker):
    """BYTETracker whose association cost is 1 - buffered IoU, same class only."""

    buffer = 2.0

    def get_dists(self, tracks: list[STrack], detections: list[STrack]) -> np.ndarray:
        a = np.array([t.xyxy for t in tracks], np.float32).reshape(-1, 4)
        b = np.array([d.xyxy for d in detections], np.float32).reshape(-1, 4)
        iou = _iou(_buffered(a, self.buffer), _buffered(b, self.buffer))
        if len(tracks) and len(detections):
            same = np.array([t.cls for t in tracks])[:, None] == np.array([d.cls for d in detections])[None]
            iou = np.where(same, iou, 0.0)
            if self.args.fuse_score:
                iou = iou * np.array([d.score for d in detections])[None, :]
        return 1.0 - iou


class CameraTracker:
    """One camera's tracker: detections in, city-class tracks out."""

    def __init__(self, buffer: float | None = None, **overrides: float):
        args = IterableSimpleNamespace(**{**BYTETRACK_ARGS, **overrides})
        self.tracker = BufferedByteTracker(args)
        self.tracker.buffer = buffer if buffer is not None else BufferedByteTracker.buffer

    def update(self, dets: Detections) -> list[Track]:
        out = self.tracker.update(dets)
        return [Track(int(r[4]), CITY_CLASSES[int(r[6])], (float(r[0]), float(r[1]), float(r[2]),
                      float(r[3])), float(r[5])) for r in out]

    def reset(self) -> None:
        self.tracker.reset()
