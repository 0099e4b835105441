"""The detector: one ultralytics model per worker process, batched over cameras.

Class names of the model (COCO ``yolo11n.pt`` or the Ambon demo model) map to the
city's classes; anything unmapped is dropped. Motion gating skips frames that did not
change since the camera's last analysed frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ambon_core.settings import camera_settings

log = logging.getLogger(__name__)

CITY_CLASSES = ("person", "car", "motorcycle", "bus", "truck", "garbage")
# model class name -> city class. An angkot is a minibus: the city counts it as "bus".
DEFAULT_CLASS_MAP: dict[str, str] = {
    "person": "person", "pedestrian": "person",
    "car": "car", "van": "car",
    "motorcycle": "motorcycle", "motorbike": "motorcycle", "motor": "motorcycle",
    "bus": "bus", "angkot": "bus", "minibus": "bus",
    "truck": "truck",
    "garbage": "garbage", "trash": "garbage", "waste": "garbage",
}


PERSON = CITY_CLASSES.index("person")


def _suppress_nested(d: Detections, cls: int, max_overlap: float, max_iou: float = 0.5) -> np.ndarray:
    """Keep-mask dropping a ``cls`` box whose intersection with a more confident ``cls``
    box exceeds ``max_overlap`` of the smaller box, or whose IoU with it exceeds ``max_iou``.

    On small standing people (~14 px wide) NMS at IoU 0.7 keeps two or three boxes per
    person (narrow boxes shifted by a few pixels overlap < 0.7), and the model also fires
    on the gap between two people standing one behind the other (a box half over each):
    a queue of 14 was counted as 18-20. Two real people in a queue share < 0.4 of the
    smaller box (the one in front hides the other's legs only).
    """
    keep = np.ones(len(d), bool)
    idx = np.flatnonzero(d.cls == cls)
    if len(idx) < 2:
        return keep
    idx = idx[np.argsort(-d.conf[idx])]
    b = d.xyxy[idx]
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    for i in range(len(idx)):
        if not keep[idx[i]]:
            continue
        j = np.arange(i + 1, len(idx))
        iw = np.clip(np.minimum(b[i, 2], b[j, 2]) - np.maximum(b[i, 0], b[j, 0]), 0, None)
        ih = np.clip(np.minimum(b[i, 3], b[j, 3]) - np.maximum(b[i, 1], b[j, 1]), 0, None)
        inter = iw * ih
        over = inter / np.maximum(1e-6, np.minimum(area[i], area[j]))
        iou = inter / np.maximum(1e-6, area[i] + area[j] - inter)
        keep[idx[j[(over > max_overlap) | (iou > max_iou)]]] = False
    return keep


DEMO_MODEL_PREFIX = "ambon-sim-"  # data/models/ambon-sim-yolo11n.*: trained on the simulator only


def is_demo_model(weights: str) -> bool:
    """True for the shipped demo model (any of its exports), which has never seen real CCTV."""
    return Path(weights).name.startswith(DEMO_MODEL_PREFIX)


class ModelError(RuntimeError):
    """The detector cannot be loaded; the message is one sentence naming what to fix."""


def class_map_from_env() -> dict[str, str]:
    """DEFAULT_CLASS_MAP updated with ``CAMERA_CLASS_MAP`` (JSON object) when set."""
    return {**DEFAULT_CLASS_MAP, **camera_settings().class_map}


@dataclass(frozen=True)
class Detections:
    """Detections of one frame as NumPy arrays (the shape BYTETracker.update expects)."""

    xyxy: np.ndarray  # (N, 4) float32, frame pixels
    conf: np.ndarray  # (N,)
    cls: np.ndarray  # (N,) float, index into CITY_CLASSES

    @property
    def xywh(self) -> np.ndarray:
        x1, y1, x2, y2 = self.xyxy.T
        return np.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=1)

    def __len__(self) -> int:
        return len(self.conf)

    def feet(self, city_class: str) -> tuple[tuple[float, float], ...]:
        """Where each ``city_class`` box stands (bottom centre, as ``Track.foot``)."""
        rows = self.xyxy[self.cls == CITY_CLASSES.index(city_class)]
        return tuple(((float(x1) + float(x2)) / 2, float(y2) - 1) for x1, _, x2, y2 in rows)

    def __getitem__(self, idx: np.ndarray) -> Detections:
        return Detections(self.xyxy[idx], self.conf[idx], self.cls[idx])

    @staticmethod
    def empty() -> Detections:
        return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.float32))


def int8_path(onnx_path: Path) -> Path:
    """Where the INT8 export of an ONNX model lives: ``X.onnx`` -> ``X.int8.onnx``."""
    if onnx_path.name.endswith(".int8.onnx"):
        return onnx_path
    return onnx_path.with_name(onnx_path.name.removesuffix(".onnx") + ".int8.onnx")


def resolve_weights(path: str, fmt: str, precision: str = "fp32") -> str:
    """The weights file to load for ``fmt`` (a ``.pt`` path with a sibling ``.onnx`` /
    ``_openvino_model`` export is accepted for those formats; without the export the
    ``.pt`` itself is used, with a warning, so a plain ``MODEL_PATH=yolo11n.pt`` works).
    ``precision`` int8 (ONNX only) takes the model's ``.int8.onnx`` when there is one."""
    p = Path(path)
    if fmt not in ("pytorch", "onnx", "openvino"):
        raise ModelError(f"MODEL_FORMAT '{fmt}' is not one of pytorch, onnx, openvino.")
    want = p
    if fmt == "onnx" and p.suffix != ".onnx":
        want = p.with_suffix(".onnx")
    elif fmt == "openvino" and not p.name.endswith("_openvino_model"):
        want = p.with_name(p.stem + "_openvino_model")
    if fmt == "onnx" and precision == "int8":
        if (quantized := int8_path(want)).exists():
            return str(quantized)
        if want.exists():
            log.warning("detector: MODEL_PRECISION=int8 but %s does not exist (make it with "
                        "python -m workers quantize); using %s", quantized.name, want.name)
    if want.exists():
        return str(want)
    if want != p and p.exists():
        log.warning("detector: %s not found, using %s with PyTorch (export it for MODEL_FORMAT=%s)",
                    want, p, fmt)
        return str(p)
    raise ModelError(f"The detector model {p} does not exist; set MODEL_PATH to a YOLO "
                     f"weights file (or export it to {fmt}).")


class Detector:
    """An ultralytics YOLO model with the city's class mapping, called on batches of frames."""

    def __init__(self, model_path: str, model_format: str = "pytorch", imgsz: int = 320,
                 conf: float = 0.25, class_map: dict[str, str] | None = None, batch: int = 8,
                 iou: float | None = None):
        from ultralytics import YOLO

        self.imgsz, self.conf, self.batch = imgsz, conf, batch
        # NMS IoU (ultralytics' 0.7; 0.5 merged vehicles riding side by side: -3.5 % line
        # crossings). Duplicate person boxes are removed after NMS (_suppress_nested).
        tunables = camera_settings()
        self.iou = iou if iou is not None else tunables.detector_nms_iou
        self.person_overlap = tunables.detector_person_overlap
        self.crowd_imgsz, self.onnx_threads = tunables.crowd_imgsz, tunables.onnx_threads
        weights = (model_path if model_path.endswith(".yaml")
                   else resolve_weights(model_path, model_format, tunables.model_precision))
        if weights.endswith((".pt", ".yaml")):
            model_format = "pytorch"
        self.weights, self.is_demo = weights, is_demo_model(weights)
        try:
            self.model = YOLO(weights, task="detect")
            names = self.model.names if model_format == "pytorch" else None
        except Exception as exc:
            raise ModelError(f"The detector model {weights} could not be loaded "
                             f"({type(exc).__name__}); is it a YOLO {model_format} file?") from None
        self.names: dict[int, str] = dict(names or {})
        self.class_map = class_map or class_map_from_env()
        self._lut: dict[int, int] = {}
        if self.names:
            self._build_lut()
        if model_format == "onnx":
            self._tune_onnx(weights)

    def _tune_onnx(self, weights: str) -> None:
        """Replace ultralytics' ONNX Runtime session by one that does not spin.

        The default session busy-waits its idle threads: on the 2-core machine that
        doubled the CPU time per frame (12.6 -> 6.4 ms at 320x192). One intra-op thread
        (``ONNX_THREADS``) and no spinning; the worker batches cameras instead.
        """
        import onnxruntime as ort

        self(  # creates the predictor and its backend
            [np.zeros((self.imgsz, self.imgsz, 3), np.uint8)])
        backend = getattr(getattr(self.model.predictor, "model", None), "backend", None)
        if backend is None or not hasattr(backend, "session"):
            return
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.onnx_threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        backend.session = ort.InferenceSession(weights, opts, providers=["CPUExecutionProvider"])

    def _build_lut(self) -> None:
        self._lut = {i: CITY_CLASSES.index(self.class_map[n]) for i, n in self.names.items()
                     if self.class_map.get(n) in CITY_CLASSES}
        if not self._lut:
            log.warning("detector: none of the model's classes maps to a city class")

    @property
    def has_garbage(self) -> bool:
        return CITY_CLASSES.index("garbage") in self._lut.values()

    def imgsz_for(self, kind: str) -> int:
        """Inference size for a camera kind: ``CAMERA_CROWD_IMGSZ`` (480) for puskesmas
        queues, whose people are ~14 px wide (at 320 the model misses or doubles one in
        five in a queue of 15; 480 costs ~2x per frame on those cameras only)."""
        if kind == "puskesmas":
            return max(self.imgsz, self.crowd_imgsz)
        return self.imgsz

    def __call__(self, frames: list[np.ndarray], sizes: list[int] | None = None) -> list[Detections]:
        """Detect on several frames (one forward pass per ``batch`` frames of one size;
        ``sizes``: inference size per frame, default ``imgsz``)."""
        sizes = sizes or [self.imgsz] * len(frames)
        out: list[Detections | None] = [None] * len(frames)
        for size in sorted(set(sizes)):
            idx = [i for i, s in enumerate(sizes) if s == size]
            for k in range(0, len(idx), self.batch):
                part = idx[k:k + self.batch]
                results = self.model.predict([frames[i] for i in part], imgsz=size, conf=self.conf,
                                             iou=self.iou, verbose=False, batch=self.batch)
                if not self.names:  # exported models only know their names after the first call
                    self.names = dict(results[0].names)
                    self._build_lut()
                for i, r in zip(part, results, strict=True):
                    out[i] = self._convert(r.boxes.cpu().numpy())
        return [d if d is not None else Detections.empty() for d in out]

    def _convert(self, boxes) -> Detections:
        if len(boxes) == 0:
            return Detections.empty()
        cls = boxes.cls.astype(int)
        keep = np.array([c in self._lut for c in cls], bool)
        mapped = np.array([self._lut.get(c, -1) for c in cls], np.float32)
        d = Detections(boxes.xyxy[keep].astype(np.float32), boxes.conf[keep].astype(np.float32),
                       mapped[keep])
        return d[_suppress_nested(d, PERSON, self.person_overlap)] if self.person_overlap < 1 else d


class MotionGate:
    """Cheap change test on a 64x36 grey thumbnail: was there motion since the last
    analysed frame? Sensor noise averages out in the downscale."""

    def __init__(self, threshold: float = 8.0, min_pixels: int = 2, max_skip_s: float = 30.0):
        self.threshold, self.min_pixels, self.max_skip_s = threshold, min_pixels, max_skip_s
        self._ref: np.ndarray | None = None
        self._ref_t = 0.0

    @staticmethod
    def thumb(image: np.ndarray) -> np.ndarray:
        small = cv2.resize(image, (64, 36), interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)

    def changed(self, image: np.ndarray, t: float) -> bool:
        """True when the frame differs from the last one that passed (or is too old)."""
        th = self.thumb(image)
        if self._ref is None or t - self._ref_t >= self.max_skip_s or th.shape != self._ref.shape:
            self._ref, self._ref_t = th, t
            return True
        gain = (float(th.mean()) + 1) / (float(self._ref.mean()) + 1)  # flicker, auto-exposure
        moved = int(np.count_nonzero(np.abs(th - self._ref * gain) > self.threshold))
        if moved < self.min_pixels:
            return False
        self._ref, self._ref_t = th, t
        return True
