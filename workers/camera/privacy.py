"""Privacy: the only frames that leave a worker are blurred here, whatever the detector sees.

Every published frame is pixelated where (1) a static privacy mask of the camera lies
(registry ``privacy_masks``: windows, doors, yards), (2) anything moved recently (a
background model per camera, :class:`MotionMask`), and (3) a person or vehicle was
detected: the whole box of a small person (its head cannot be placed reliably), the head
of a large one, the lower part of a car/bus/truck (plates sit anywhere along it when seen
at an angle) and the whole motorcycle with its rider. Frames are never written unblurred.

Why a motionless person stays covered: the background model learns slowly
(``CAMERA_BLUR_LEARN_S``), so somebody who stood still a quarter of an hour still differs
from it; every place that moved stays blurred ``CAMERA_BLUR_HOLD_S`` after its last
motion; and a detected person is blurred however long they stand. The figure measured on
the simulator is in docs/cameras.md (``bench/bench_privacy.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from workers.camera.geometry import Track

PLATE_CLASSES = frozenset({"car", "bus", "truck"})
PUBLISH_WIDTH = 640  # published snapshots are this wide (or narrower)
SMALL_PERSON_PX = 90  # at the published width: below this height the whole box is blurred
MODEL_WIDTH = 160  # the background model runs on a thumbnail this wide (cheap, denoised)
Polygon = Sequence[Sequence[float]]


def head_region(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The head of a person box, with margin (the box top may cut the hair)."""
    x1, y1, x2, y2 = box
    h, w = y2 - y1, x2 - x1
    return x1 - 0.1 * w, y1 - 0.08 * h, x2 + 0.1 * w, y1 + 0.3 * h


def plate_region(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The lower 45 % of a vehicle box, full width: front and rear plates seen at any angle."""
    x1, y1, x2, y2 = box
    return x1, y2 - 0.45 * (y2 - y1), x2, y2


def detection_regions(tracks: Sequence[Track], scale: float = 1.0,
                      small_person_px: float = SMALL_PERSON_PX) -> list[tuple[float, float, float, float]]:
    """Regions to blur for the detections (frame pixels times ``scale``)."""
    out = []
    for tr in tracks:
        box = tuple(v * scale for v in tr.box)
        if tr.cls == "person":
            small = box[3] - box[1] < small_person_px
            x1, y1, x2, y2 = box
            pad = 0.1 * (x2 - x1)
            out.append((x1 - pad, y1 - pad, x2 + pad, y2) if small else head_region(box))
        elif tr.cls == "motorcycle":
            out.append(box)
        elif tr.cls in PLATE_CLASSES:
            out.append(plate_region(box))
    return out


@dataclass(frozen=True)
class BlurConfig:
    """How a camera's frames are blurred (the CAMERA_BLUR_* settings)."""

    motion: bool = True
    learn_s: float = 3600.0
    hold_s: float = 120.0
    full_frame: float = 0.5
    period_s: float = 0.5  # analysis period: the model's learning rate is per frame

    @classmethod
    def from_settings(cls, s) -> BlurConfig:
        """From CameraSettings (its CAMERA_BLUR_* fields and the analysis period)."""
        return cls(s.blur_motion, s.blur_learn_s, s.blur_hold_s, s.blur_full_frame, s.analyse_period_s)


class MotionMask:
    """Where anything moved recently: MOG2 on a 160-px-wide thumbnail at the analysis rate,
    each foreground pixel held ``hold_s`` after it was last foreground.

    MOG2 (OpenCV's Gaussian-mixture background subtractor; our build also has KNN, but
    no bgsegm contrib) is fed an explicit learning rate of ``period / learn_s`` per frame,
    so the time a still thing takes to join the background does not depend on the
    analysis rate. ``seed`` (the camera's empty reference photo) is the first background,
    so somebody already standing still when the worker starts is foreground at once.
    """

    def __init__(self, cfg: BlurConfig, seed: np.ndarray | None = None):
        self.cfg = cfg
        self.rate = min(1.0, cfg.period_s / cfg.learn_s)
        self._mog = cv2.createBackgroundSubtractorMOG2(history=500, varThreshold=16,
                                                       detectShadows=False)
        self._last_fg: np.ndarray | None = None  # monotonic time each thumbnail pixel was last fg
        self._seed = seed
        self.full = True  # until the first frame is learnt, the whole frame is blurred
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))

    @staticmethod
    def thumb(image: np.ndarray) -> np.ndarray:
        h = max(1, round(image.shape[0] * MODEL_WIDTH / image.shape[1]))
        return cv2.resize(image, (MODEL_WIDTH, h), interpolation=cv2.INTER_AREA)

    def observe(self, image: np.ndarray, t: float) -> None:
        """Learn one analysed frame taken at monotonic time ``t``."""
        small = self.thumb(image)
        if self._last_fg is None or self._last_fg.shape != small.shape[:2]:
            self._last_fg = np.full(small.shape[:2], -np.inf)
            self._mog.apply(self._seed_for(small), learningRate=1.0)
        fg = self._mog.apply(small, learningRate=self.rate)
        share = float(np.count_nonzero(fg)) / fg.size
        self.full = share > self.cfg.full_frame
        if self.full:  # lighting changed or the camera moved: blur it all, relearn quickly
            self._mog.apply(small, learningRate=min(1.0, 20 * self.rate))
        fg = cv2.dilate(fg, self._kernel, iterations=2)
        self._last_fg[fg > 0] = t

    def _seed_for(self, small: np.ndarray) -> np.ndarray:
        if self._seed is None:
            return small
        return cv2.resize(self._seed, small.shape[1::-1], interpolation=cv2.INTER_AREA)

    def mask(self, size: tuple[int, int], t: float) -> np.ndarray:
        """uint8 mask (255 = blur) at ``size`` (width, height): recent motion, boxed.

        Each connected moving blob becomes its bounding box with a margin above it (the
        head of a person whose body moved may match the background colour)."""
        w, h = size
        out = np.zeros((h, w), np.uint8)
        if self._last_fg is None or self.full:
            out[:] = 255
            return out
        recent = ((t - self._last_fg) <= self.cfg.hold_s).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(recent, connectivity=8)
        sx, sy = w / recent.shape[1], h / recent.shape[0]
        for x, y, bw, bh, _area in stats[1:n]:
            x1, y1 = int((x - 1) * sx), int((y - 1 - 0.25 * bh) * sy)
            cv2.rectangle(out, (max(0, x1), max(0, y1)),
                          (min(w - 1, int((x + bw + 1) * sx)), min(h - 1, int((y + bh + 1) * sy))),
                          255, -1)
        return out


class PrivacyBlur:
    """One camera's blur: static masks, the motion mask and the detections, combined."""

    def __init__(self, masks: Sequence[Polygon] = (), frame_size: tuple[int, int] = (640, 360),
                 cfg: BlurConfig = BlurConfig(), seed: np.ndarray | None = None):
        self.masks = [np.asarray(m, np.float32) for m in masks]
        self.registry_size = frame_size
        self.cfg = cfg
        self.motion = MotionMask(cfg, seed) if cfg.motion else None
        self._static: dict[tuple[int, int], np.ndarray] = {}

    def observe(self, image: np.ndarray, t: float) -> None:
        """Feed an analysed frame to the background model (every analysis turn)."""
        if self.motion is not None:
            self.motion.observe(image, t)

    def static_mask(self, size: tuple[int, int]) -> np.ndarray:
        """The privacy masks drawn at ``size`` (cached per size)."""
        if size not in self._static:
            out = np.zeros((size[1], size[0]), np.uint8)
            sx, sy = size[0] / self.registry_size[0], size[1] / self.registry_size[1]
            polys = [np.round(m * (sx, sy)).astype(np.int32) for m in self.masks]
            if polys:
                cv2.fillPoly(out, polys, 255)
            self._static[size] = out
        return self._static[size]

    def mask(self, size: tuple[int, int], frame_width: int, tracks: Sequence[Track],
             t: float) -> np.ndarray:
        """Every pixel to blur at ``size``; ``tracks`` are in frame pixels (``frame_width``)."""
        out = self.static_mask(size).copy()
        if self.motion is not None:
            out |= self.motion.mask(size, t)
        scale = size[0] / frame_width
        for x1, y1, x2, y2 in detection_regions(tracks, scale):
            cv2.rectangle(out, (int(x1), int(y1)), (int(np.ceil(x2)), int(np.ceil(y2))), 255, -1)
        return out

    def publishable(self, image: np.ndarray, tracks: Sequence[Track], t: float,
                    width: int = PUBLISH_WIDTH) -> np.ndarray:
        """The frame as it may leave the worker: downscaled to ``width``, blurred."""
        out = image
        if image.shape[1] > width:
            out = cv2.resize(image, (width, round(image.shape[0] * width / image.shape[1])),
                             interpolation=cv2.INTER_AREA)
        mask = self.mask((out.shape[1], out.shape[0]), image.shape[1], tracks, t)
        return pixelate_where(out, mask)


def pixelate_where(image: np.ndarray, mask: np.ndarray, cell_px: int = 16) -> np.ndarray:
    """A copy of ``image`` with the pixels under ``mask`` replaced by ``cell_px`` blocks
    (16 px at the published 640 width: a face near the camera, ~40 px there, keeps 2-3
    blocks across; the cells line up with JPEG's 8-px grid, so they stay flat in the file)."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, w // cell_px), max(1, h // cell_px)),
                       interpolation=cv2.INTER_AREA)
    blocks = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    out = image.copy()
    cv2.copyTo(blocks, mask, out)
    return out


def encode_jpeg(image: np.ndarray, quality: int = 70) -> bytes:
    """JPEG bytes of an already blurred frame."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def snapshot_jpeg(image: np.ndarray, tracks: Sequence[Track], blur: PrivacyBlur | None = None,
                  t: float = 0.0, width: int = PUBLISH_WIDTH, quality: int = 70) -> bytes:
    """Blurred, downscaled JPEG for the dashboard (``store.put_snapshot``). Without a
    camera's ``blur`` (no background model yet) the whole frame is pixelated."""
    if blur is None:
        blur = PrivacyBlur(cfg=BlurConfig(motion=True))  # never learnt: everything blurred
    return encode_jpeg(blur.publishable(image, tracks, t, width), quality)
