"""The INT8 detector: the shipped one sees what the float one sees, ``python -m workers
quantize`` makes one from the city's pictures, and bad input is one sentence, exit 2."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from ambon_core.settings import DATA_DIR, camera_settings
from ambon_sim.cameras import SimCamera, SimCity
from ambon_sim.scenes import WIT
from workers.camera.detector import CITY_CLASSES, Detections, Detector, int8_path, resolve_weights

ROOT = Path(__file__).resolve().parents[1]
FLOAT = DATA_DIR / "models" / "ambon-sim-yolo11n.onnx"
ENV = {**os.environ, "YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": str(ROOT / "data" / "runtime" / "ultralytics")}


KINDS = ("traffic", "puskesmas", "tps", "market")


def sim_pictures(n: int, kinds: tuple[str, ...] = KINDS) -> list[np.ndarray]:
    """``n`` simulator pictures per kind, 3 sim seconds apart (a busy morning)."""
    start = datetime(2026, 3, 3, 9, 0, tzinfo=WIT)
    city = SimCity([SimCamera(f"cam-{k}", k, opening_time="08:00") for k in kinds], seed=7,
                   speed=60, start=start)
    out = []
    for i in range(n):
        for k in kinds:
            scene = city.scenes[f"cam-{k}"]
            scene.advance(start + timedelta(seconds=3 * (i + 1)))
            out.append(scene.render((640, 360)))
    return out


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], axis=1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter + 1e-9)


def matched_share(ref: list[Detections], got: list[Detections]) -> float:
    """Share of ``ref``'s boxes that ``got`` has too (same class, IoU >= 0.5)."""
    hit = total = 0
    for r, g in zip(ref, got, strict=True):
        total += len(r)
        if len(r) and len(g):
            iou = np.where(r.cls[:, None] == g.cls[None, :], _iou(r.xyxy, g.xyxy), 0.0)
            hit += int((iou.max(axis=1) >= 0.5).sum())
    return hit / max(1, total)


@pytest.fixture(scope="module")
def pictures() -> list[np.ndarray]:
    return sim_pictures(6)


def test_the_shipped_int8_detector_sees_what_the_float_one_sees(monkeypatch, pictures) -> None:
    assert int8_path(FLOAT).is_file(), "data/models/ambon-sim-yolo11n.int8.onnx is shipped"
    monkeypatch.setenv("MODEL_PRECISION", "fp32")
    f32 = Detector(str(FLOAT), "onnx")
    monkeypatch.setenv("MODEL_PRECISION", "int8")
    i8 = Detector(str(FLOAT), "onnx")
    assert f32.weights == str(FLOAT) and i8.weights == str(int8_path(FLOAT))
    sizes = [i8.imgsz_for(k) for k in KINDS] * 6
    ref, got = f32(pictures, sizes), i8(pictures, sizes)
    people = CITY_CLASSES.index("person")
    assert sum(int((d.cls == people).sum()) for d in ref) > 20  # the pictures are busy
    assert matched_share(ref, got) >= 0.9 and matched_share(got, ref) >= 0.9
    assert abs(sum(map(len, got)) - sum(map(len, ref))) <= 0.1 * sum(map(len, ref))


def test_precision_picks_the_file_and_says_when_the_int8_one_is_missing(tmp_path, caplog) -> None:
    model = tmp_path / "city.onnx"
    shutil.copy(FLOAT, model)
    with caplog.at_level(logging.WARNING, logger="workers.camera.detector"):
        assert resolve_weights(str(model), "onnx", "int8") == str(model)
    assert any("city.int8.onnx does not exist" in r.message and "python -m workers quantize" in r.message
               for r in caplog.records)
    (tmp_path / "city.int8.onnx").write_bytes(b"")
    assert resolve_weights(str(tmp_path / "city.pt"), "onnx", "int8") == str(tmp_path / "city.int8.onnx")
    assert resolve_weights(str(model), "onnx", "fp32") == str(model)
    assert resolve_weights(str(model), "onnx", "int8") == str(tmp_path / "city.int8.onnx")


def test_a_bad_precision_is_one_sentence(monkeypatch) -> None:
    monkeypatch.setenv("MODEL_PRECISION", "int4")
    with pytest.raises(ValueError) as err:
        camera_settings()
    assert "MODEL_PRECISION='int4'" in str(err.value) and "\n" not in str(err.value)


def quantize_cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workers", "quantize", *map(str, args)], cwd=ROOT,
                          env=ENV, capture_output=True, text=True, timeout=600)


def write_clip(path: Path, frames: list[np.ndarray]) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for image in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode())


def test_quantize_makes_an_int8_model_from_pictures_and_clips(tmp_path, pictures) -> None:
    model = tmp_path / "city.onnx"
    shutil.copy(FLOAT, model)
    folder = tmp_path / "pictures"
    folder.mkdir()
    for i, image in enumerate(pictures[:8]):
        cv2.imwrite(str(folder / f"p{i}.jpg"), image)
    (folder / "notes.txt").write_text("not a picture")  # skipped, not fatal
    write_clip(tmp_path / "clip.mp4", pictures[8:])
    done = quantize_cli(folder, tmp_path / "clip.mp4", "--model", model, "--every", "1", "--pictures", "16")
    assert done.returncode == 0, done.stderr
    assert "calibrated on 16 pictures" in done.stdout and (tmp_path / "city.int8.onnx").is_file()
    det = Detector(str(model), "onnx")  # MODEL_PRECISION=int8, the default
    assert det.weights == str(tmp_path / "city.int8.onnx")
    ref = Detector(str(FLOAT), "onnx")
    sizes = [320] * len(pictures)
    assert matched_share(ref(pictures, sizes), det(pictures, sizes)) >= 0.85


@pytest.mark.parametrize(("make", "words"), [
    (lambda d: ([d / "missing"], FLOAT), "missing: no such file or folder."),
    (lambda d: ([d], FLOAT), "no readable picture in"),
    (lambda d: ([d], d / "nope.onnx"), "nope.onnx: no such model file."),
    (lambda d: ([d], DATA_DIR / "models" / "ambon-sim-yolo11n.pt"), "is not a float ONNX model"),
    (lambda d: ([d], int8_path(FLOAT)), "is not a float ONNX model"),
    (lambda d: ([d], d / "junk.onnx"), "could not be read as an ONNX model"),
])
def test_bad_input_is_one_sentence_and_writes_nothing(tmp_path, make, words) -> None:
    (tmp_path / "readme.txt").write_text("no pictures here")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    if "no readable picture" not in words:
        cv2.imwrite(str(tmp_path / "p.jpg"), np.full((360, 640, 3), 90, np.uint8))
    sources, model = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    done = quantize_cli(*sources, "--model", model)
    assert done.returncode == 2 and words in done.stderr, done.stderr
    assert done.stderr.startswith("quantize: ") and done.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before
