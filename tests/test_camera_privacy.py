"""Privacy by construction in the camera worker: a blur that needs no detection, static
privacy masks, the demo model kept off real cameras, and the production (COCO) model path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from ambon_core.domain import CameraStatus
from ambon_core.settings import DATA_DIR
from tests.test_camera_capture import MjpegServer, wait_for
from tests.test_camera_worker import make_worker, turns_until
from workers.camera.geometry import Track
from workers.camera.privacy import BlurConfig, PrivacyBlur, detection_regions

DEMO_ONNX = DATA_DIR / "models" / "ambon-sim-yolo11n.onnx"


def noisy_background(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((360, 640, 3), 110, np.uint8)
    cv2.rectangle(img, (0, 200), (640, 360), (80, 90, 100), -1)
    return cv2.add(img, rng.integers(0, 6, img.shape, np.uint8))


def with_person(img: np.ndarray, x: int, y: int = 300) -> np.ndarray:
    out = img.copy()
    cv2.rectangle(out, (x - 7, y - 32), (x + 7, y), (40, 40, 200), -1)
    cv2.circle(out, (x, y - 37), 5, (140, 170, 205), -1)
    return out


def head_covered(mask: np.ndarray, x: int, y: int = 300) -> float:
    return float(np.count_nonzero(mask[y - 43:y - 31, x - 6:x + 7])) / (12 * 13)


def test_a_walking_person_the_detector_misses_is_blurred() -> None:
    blur = PrivacyBlur(cfg=BlurConfig(), seed=noisy_background())
    for i in range(12):  # walks 10 px per analysed frame; no detection at all
        t, x = i * 0.5, 100 + 10 * i
        blur.observe(with_person(noisy_background(i), x), t)
        mask = blur.mask((640, 360), 640, [], t)
        assert head_covered(mask, x) == 1.0, i
    assert np.count_nonzero(mask) / mask.size < 0.1  # the rest of the view stays sharp


def test_before_learning_anything_the_whole_frame_is_blurred() -> None:
    blur = PrivacyBlur(cfg=BlurConfig())
    assert np.all(blur.mask((640, 360), 640, [], 0.0) == 255)


def test_a_person_standing_still_stays_blurred_for_minutes_without_a_detector() -> None:
    """Walks in, then stands still 5 minutes (600 analysed frames at 2 fps): still covered,
    by the slow background (CAMERA_BLUR_LEARN_S) and the hold after the last motion."""
    blur = PrivacyBlur(cfg=BlurConfig(), seed=noisy_background())
    t = 0.0
    for i in range(606):
        t = i * 0.5
        blur.observe(with_person(noisy_background(i), min(300, 240 + 10 * i)), t)
    assert head_covered(blur.mask((640, 360), 640, [], t), 300) == 1.0
    off = PrivacyBlur(cfg=BlurConfig(learn_s=10, hold_s=0), seed=noisy_background())
    for i in range(606):  # control: a fast-learning model without hold has let them go
        off.observe(with_person(noisy_background(i), min(300, 240 + 10 * i)), i * 0.5)
    assert head_covered(off.mask((640, 360), 640, [], t), 300) < 0.5


def test_privacy_masks_are_always_blurred_at_any_frame_size() -> None:
    window = [[500, 10], [630, 10], [630, 70], [500, 70]]
    blur = PrivacyBlur([window], (640, 360), BlurConfig(motion=False))
    small = blur.mask((640, 360), 640, [], 0.0)
    assert np.all(small[10:70, 500:630] == 255) and np.count_nonzero(small) == 61 * 131
    big = blur.mask((1280, 720), 1280, [], 0.0)  # the camera streams at 1280x720
    assert np.all(big[20:140, 1000:1260] == 255) and not big[200:, :].any()
    frame = noisy_background()
    cv2.putText(frame, "WAJAH", (505, 50), cv2.FONT_HERSHEY_SIMPLEX, 1, (255, 255, 255), 2)
    out = blur.publishable(frame, [], 0.0)
    assert np.abs(out[10:70, 500:630].astype(int) - frame[10:70, 500:630]).mean() > 5
    assert np.array_equal(out[200:, :], frame[200:, :])  # outside masks and motion: untouched


def test_detection_regions_whole_small_people_heads_of_large_ones_and_plates() -> None:
    small, large = Track(1, "person", (100, 100, 114, 140)), Track(2, "person", (300, 50, 360, 250))
    car, moto = Track(3, "car", (0, 200, 100, 260)), Track(4, "motorcycle", (400, 200, 440, 240))
    regions = detection_regions([small, large, car, moto])
    assert regions[0][1] < 100 and regions[0][3] == 140  # whole box (and a margin)
    assert regions[1][3] < 120  # head only
    assert regions[2] == (0, 260 - 0.45 * 60, 100, 260)  # the lower 45 %, full width
    assert regions[3] == moto.box  # rider and plate


# ---- the demo model and real cameras -------------------------------------------------------
@pytest.fixture
def server():
    srv = MjpegServer()
    yield srv
    srv.close()


def _running(worker, store, cid: str = "cam-a") -> bool:
    s = store.read_live().cameras.get(cid)
    return s is not None and s.status == CameraStatus.OK and worker.held[cid].analysed


def test_demo_model_values_are_not_published_for_a_real_camera(settings, store, session, server):
    worker = make_worker(settings, server, ["cam-a"], model=str(DEMO_ONNX))
    try:
        assert worker.detector is not None and worker.detector.is_demo  # the shipped model loads
        assert turns_until(worker, lambda: _running(worker, store), timeout=30)
        state = store.read_live().cameras["cam-a"]
        assert state.analysis_withheld == "demo_model" and state.objects == {}
        assert state.line_counts == {} and state.congestion is None
        assert wait_for(lambda: (worker.run_once(), store.snapshot("cam-a"))[1] is not None, 10)
    finally:
        worker._drop("cam-a")


def test_demo_model_runs_on_the_simulator_and_when_allowed(settings, store, session, server):
    sim_like = "{url}/cam/{cid}/mjpeg"  # a loopback /cam/<id>/ source: the simulated city
    allowed = {"ALLOW_DEMO_MODEL_ON_REAL_CAMERAS": "true"}
    for source, env in ((sim_like, {}), ("{url}/{cid}/mjpeg", allowed)):
        worker = make_worker(settings, server, ["cam-a"], model=str(DEMO_ONNX), source=source, **env)
        try:
            assert turns_until(worker, lambda w=worker: _running(w, store), timeout=30)
            state = store.read_live().cameras["cam-a"]
            assert state.analysis_withheld is None and state.occupancy is not None, source
        finally:
            worker._drop("cam-a")


def test_kamera_page_says_why_values_are_withheld(store, session) -> None:
    from streamlit.testing.v1 import AppTest

    from ambon_core.domain import CameraKind, CameraState
    from components.nav import PAGES
    from tests.login import login
    from tests.test_privacy import APP

    store.put(CameraState(camera_id="cam-lalin-01", kind=CameraKind.TRAFFIC,
                          status=CameraStatus.OK, analysis_withheld="demo_model"))
    at = login(AppTest.from_file(APP, default_timeout=60), session, "walikota")
    at.switch_page(PAGES["kamera"][0]).run()
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "model demo: tidak untuk kamera nyata; pasang yolo11n.pt atau model kota" in captions


# ---- the production model path: COCO classes, ONNX export, batching, through the worker ----
@pytest.fixture(scope="module")
def coco_onnx(tmp_path_factory) -> Path:
    """yolo11n.yaml (80 classes, named from ultralytics' own coco.yaml) with random weights,
    exported to ONNX the way docs/cameras.md says (imgsz 320, dynamic batch, simplified),
    offline: every proxy points at a closed port, so a download attempt would fail it."""
    folder = tmp_path_factory.mktemp("coco")
    script = ("import pathlib, ultralytics, yaml\nfrom ultralytics import YOLO\n"
              "m = YOLO('yolo11n.yaml', task='detect')\n"  # the COCO names, as yolo11n.pt has them
              "coco = pathlib.Path(ultralytics.__file__).parent / 'cfg/datasets/coco.yaml'\n"
              "m.model.names = yaml.safe_load(coco.read_text())['names']\n"
              f"m.save(r'{folder / 'coco-random.pt'}')\n"
              f"YOLO(r'{folder / 'coco-random.pt'}').export(format='onnx', imgsz=320, dynamic=True, "
              "simplify=True)\n")
    dead = "http://127.0.0.1:9"
    env = {**os.environ, "YOLO_OFFLINE": "1", "HTTP_PROXY": dead, "HTTPS_PROXY": dead,
           "ALL_PROXY": dead, "http_proxy": dead, "https_proxy": dead}
    res = subprocess.run([sys.executable, "-c", script], cwd=folder, env=env, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert sorted(p.name for p in folder.iterdir()) == ["coco-random.onnx", "coco-random.pt"]
    return folder / "coco-random.onnx"


def test_coco_onnx_model_maps_classes_and_batches(coco_onnx: Path) -> None:
    from workers.camera.detector import CITY_CLASSES, Detector

    det = Detector(str(coco_onnx), "onnx", 320)
    assert not det.is_demo and len(det.names) == 80
    city = {det.names[i]: CITY_CLASSES[c] for i, c in det._lut.items()}
    assert city == {"person": "person", "car": "car", "motorcycle": "motorcycle", "bus": "bus",
                    "truck": "truck"}  # the other 75 COCO classes are dropped
    frames = [noisy_background(i) for i in range(11)]
    out = det(frames, [320] * 6 + [480] * 5)  # two sizes, more frames than one batch of 8
    assert len(out) == 11
    assert all(set(d.cls.astype(int).tolist()) <= set(det._lut.values()) for d in out)


def test_coco_onnx_model_through_the_worker(settings, store, session, server, coco_onnx) -> None:
    worker = make_worker(settings, server, ["cam-a", "cam-b"], model=str(coco_onnx))
    try:
        assert worker.detector is not None and not worker.detector.is_demo
        assert turns_until(worker, lambda: all(_running(worker, store, c)
                                               for c in ("cam-a", "cam-b")), timeout=40)
        cams = store.read_live().cameras
        assert all(cams[c].analysis_withheld is None and cams[c].occupancy is not None
                   for c in ("cam-a", "cam-b"))
        assert wait_for(lambda: (worker.run_once(), store.snapshot("cam-b"))[1] is not None, 10)
    finally:
        for cid in list(worker.held):
            worker._drop(cid)



def test_worker_publishes_the_registry_privacy_masks_blurred(settings, store, session, server):
    """The mask of the registry reaches the published snapshot (motion blur off, so the
    mask is the only cover of the camera's changing number text); control: without it the
    text is sharp."""
    from ambon_core.registry import Registry
    from tests.test_camera_worker import registry_dict
    from workers.camera.worker import CameraWorker

    def published_edges(masks: list) -> float:
        reg = registry_dict(server.url, ["cam-a"])
        reg["cameras"][0]["privacy_masks"] = masks
        os.environ["CAMERA_BLUR_MOTION"] = "false"
        try:
            worker = CameraWorker(settings.model_copy(update={"model_path": "yolo11n.yaml"}),
                                  Registry.model_validate(reg))
        finally:
            os.environ.pop("CAMERA_BLUR_MOTION")
        store.r.delete(store.key_snapshot("cam-a"))
        try:
            assert turns_until(worker, lambda: store.snapshot("cam-a") is not None, timeout=30)
        finally:
            worker._drop("cam-a")
        img = cv2.imdecode(np.frombuffer(store.snapshot("cam-a"), np.uint8), cv2.IMREAD_GRAYSCALE)
        return inside_cell_edges(img[56:112, 48:256])  # where MjpegServer writes the number

    assert published_edges([]) > 1.0  # the number, sharp
    assert published_edges([{"name": "teks", "polygon": [[40, 50], [260, 50], [260, 115],
                                                        [40, 115]]}]) < 0.3  # 16-px blocks


def inside_cell_edges(grey: np.ndarray) -> float:
    """Mean horizontal step between neighbours inside the 16-px cells of the blur's grid
    (``grey`` starts on a cell edge): ~0 on a pixelated region, large across sharp text."""
    steps = np.abs(np.diff(grey.astype(int), axis=1))
    inside = (np.arange(steps.shape[1]) % 16) != 15
    return float(steps[:, inside].mean())
