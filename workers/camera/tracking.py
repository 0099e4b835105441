"""ByteTrack per camera, on detections from batched ``predict`` calls.

``model.track(persist=True)`` keeps one tracker list on the shared predictor, so two
cameras fed through one model would mix their tracks; each camera here owns its own
``BYTETracker``. Association uses buffered IoU (C-BIoU, Yang et al. 2023): boxes are
widened before the IoU, so a fast motorcycle still matches its track at 2 analysed
frames per second, where plain IoU between consecutive boxes is zero.

Two changes for low analysis rates (2-4 fps), where a motorcycle moves 1-3 box widths
between frames: the Kalman filter lets the velocity change fast (ByteTrack's default,
tuned for 30 fps, keeps a new track's velocity near zero for many frames, so its
prediction lags and neighbours in a group swap ids), and a new track is confirmed on its
second detection with the same threshold as a confirmed one (ByteTrack's stricter 0.7
cost drops fast new tracks: each frame starts another one, and the line is never counted).
"""

from __future__ import annotations

import numpy as np
from ultralytics.trackers.byte_tracker import BYTETracker, STrack, TrackState
from ultralytics.trackers.utils import matching
from ultralytics.trackers.utils.kalman_filter import KalmanFilterXYAH
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


class LowRateKalman(KalmanFilterXYAH):
    """KalmanFilterXYAH whose velocity noise (per box height) suits a few frames per second."""

    def __init__(self, velocity_weight: float = 1.0 / 160):
        super().__init__()
        self._std_weight_velocity = velocity_weight


class BufferedByteTracker(BYTETracker):
    """BYTETracker whose association cost is 1 - buffered IoU, same class only."""

    buffer = 2.0
    # velocity noise per box height and frame: 0.2 learns a motorcycle's 3 widths/frame in
    # 2-3 frames (ultralytics default 1/160). With the sim's truth boxes at 2 fps over 5
    # traffic scenes x 120 s: 1/160 -> 403/417 crossings counted, 0.2 -> 416/417.
    velocity_weight = 0.2
    unconfirmed_thresh = BYTETRACK_ARGS["match_thresh"]
    removed_keep_frames = 3  # removals of this and the 2 previous frames (see update)

    def get_kalmanfilter(self) -> KalmanFilterXYAH:
        return LowRateKalman(self.velocity_weight)

    def multi_predict(self, tracks: list[STrack]) -> None:
        """STrack.multi_predict with this tracker's filter (not the class-wide shared one)."""
        if not tracks:
            return
        mean = np.asarray([t.mean for t in tracks])
        cov = np.asarray([t.covariance for t in tracks])
        for i, t in enumerate(tracks):
            if t.state != TrackState.Tracked:
                mean[i][7] = 0
        mean, cov = self.kalman_filter.multi_predict(mean, cov)
        for t, m, c in zip(tracks, mean, cov, strict=True):
            # copies: a row view would keep the whole (N, 8, 8) batch array alive for as
            # long as any one of the N tracks lives (lost and removed tracks included)
            t.mean, t.covariance = m.copy(), c.copy()

    def update(self, results, img=None, feats=None, **kwargs) -> np.ndarray:
        """BYTETracker.update, keeping removed tracks for ``removed_keep_frames`` only.

        ultralytics keeps the last 1000 removed tracks per tracker (each with its Kalman
        state): on a busy traffic camera that list filled over tens of minutes, ~1-3 MB per
        camera. It is only read to drop just-removed tracks from the lost pool on the next
        frame, so the removals of the last few frames are all it needs.
        """
        out = super().update(results, img, feats, **kwargs)
        for t in self.removed_stracks_frame:
            t.removed_frame = self.frame_id
        self.removed_stracks = [t for t in self.removed_stracks
                                if self.frame_id - getattr(t, "removed_frame", self.frame_id)
                                < self.removed_keep_frames]
        return out

    def _unconfirmed_association(self, unconfirmed, u_detection, detections, activated, removed):
        detections = [detections[i] for i in u_detection]
        if not unconfirmed:
            return list(range(len(detections))), detections
        dists = self.get_dists(unconfirmed, detections)
        matches, u_unconfirmed, u_detection = matching.linear_assignment(
            dists, thresh=self.unconfirmed_thresh)
        for it, idet in matches:
            unconfirmed[it].update(detections[idet], self.frame_id)
            activated.append(unconfirmed[it])
        for it in u_unconfirmed:
            unconfirmed[it].mark_removed()
            removed.append(unconfirmed[it])
        return u_detection, detections

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

    def __init__(self, buffer: float | None = None, velocity_weight: float | None = None,
                 **overrides: float):
        args = IterableSimpleNamespace(**{**BYTETRACK_ARGS, **overrides})
        tracker_cls = BufferedByteTracker
        if velocity_weight is not None:
            tracker_cls = type("TunedByteTracker", (BufferedByteTracker,),
                               {"velocity_weight": velocity_weight})
        self.tracker = tracker_cls(args)
        self.tracker.buffer = buffer if buffer is not None else BufferedByteTracker.buffer

    def update(self, dets: Detections) -> list[Track]:
        out = self.tracker.update(dets)
        return [Track(int(r[4]), CITY_CLASSES[int(r[6])], (float(r[0]), float(r[1]), float(r[2]),
                      float(r[3])), float(r[5])) for r in out]

    def reset(self) -> None:
        self.tracker.reset()
