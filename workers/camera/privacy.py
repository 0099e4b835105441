"""Privacy: the only frames that leave a worker are blurred here (faces and plates).

Heads are the top quarter of a person box (pixelated); plates are the bottom-centre of
car/bus/truck boxes (and the rear of motorcycles), Gaussian-blurred. Frames are never
written unblurred anywhere.
"""

from __future__ import annotations

import cv2
import numpy as np

from workers.camera.geometry import Track

PLATE_CLASSES = frozenset({"car", "bus", "truck", "motorcycle"})


def head_region(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    h = y2 - y1
    return x1, y1 - 0.05 * h, x2, y1 + 0.3 * h


def plate_region(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    return x1 + 0.15 * w, y2 - 0.4 * h, x2 - 0.15 * w, y2


def _clip(region: tuple[float, float, float, float], w: int, h: int) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = region
    return (max(0, int(x1)), max(0, int(y1)), min(w, int(np.ceil(x2))), min(h, int(np.ceil(y2))))


def pixelate(img: np.ndarray, region: tuple[float, float, float, float], cells: int = 4) -> None:
    x1, y1, x2, y2 = _clip(region, img.shape[1], img.shape[0])
    if x2 - x1 < 2 or y2 - y1 < 2:
        return
    roi = img[y1:y2, x1:x2]
    small = cv2.resize(roi, (cells, max(1, cells * (y2 - y1) // max(1, x2 - x1))),
                       interpolation=cv2.INTER_AREA)
    img[y1:y2, x1:x2] = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)


def gaussian(img: np.ndarray, region: tuple[float, float, float, float]) -> None:
    x1, y1, x2, y2 = _clip(region, img.shape[1], img.shape[0])
    if x2 - x1 < 2 or y2 - y1 < 2:
        return
    k = max(3, ((min(x2 - x1, y2 - y1) // 2) | 1))
    img[y1:y2, x1:x2] = cv2.GaussianBlur(img[y1:y2, x1:x2], (k, k), 0)


def blur_frame(image: np.ndarray, tracks: list[Track]) -> np.ndarray:
    """A copy of ``image`` with every head and plate region blurred."""
    out = image.copy()
    for tr in tracks:
        if tr.cls == "person":
            pixelate(out, head_region(tr.box))
        elif tr.cls in PLATE_CLASSES:
            gaussian(out, plate_region(tr.box))
    return out


def snapshot_jpeg(image: np.ndarray, tracks: list[Track], width: int = 640, quality: int = 70) -> bytes:
    """Blurred, downscaled JPEG for the dashboard (``store.put_snapshot``)."""
    out = blur_frame(image, tracks)
    if out.shape[1] > width:
        out = cv2.resize(out, (width, round(out.shape[0] * width / out.shape[1])),
                         interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()
