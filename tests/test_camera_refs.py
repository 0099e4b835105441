"""Empty-site references, duplicate person boxes, queue hold, per-kind inference size."""

from __future__ import annotations

from datetime import datetime, timedelta

import cv2
import numpy as np
import pytest

from ambon_sim.cameras import SimCamera, SimCity
from ambon_sim.scenes import PILE, WIT
from workers.camera import analytics as an
from workers.camera.detector import CITY_CLASSES, PERSON, Detections, Detector, _suppress_nested
from workers.camera.geometry import Track, ZoneGeom
from workers.camera.refs import RefusedReference, capture, ref_path, sim_ref_url

CAR = CITY_CLASSES.index("car")


def _dets(boxes, confs, classes) -> Detections:
    return Detections(np.array(boxes, np.float32), np.array(confs, np.float32), np.array(classes, np.float32))


def test_duplicate_and_in_between_person_boxes_dropped_neighbours_kept():
    d = _dets([[316, 208, 330, 249],   # a person
               [316, 229, 331, 275],   # the person behind (shares < 0.4 of the box)
               [315, 215, 331, 262],   # a box on the gap between the two: dropped
               [319, 207, 332, 247],   # a shifted duplicate of the first: dropped
               [340, 205, 352, 245],   # the neighbour in the queue
               [100, 100, 160, 140], [110, 102, 170, 142]],  # two cars overlapping: kept
              [0.9, 0.8, 0.6, 0.33, 0.7, 0.9, 0.8], [PERSON] * 5 + [CAR, CAR])
    keep = _suppress_nested(d, PERSON, 0.6)
    assert keep.tolist() == [True, True, False, False, True, True, True]


def test_crowd_cameras_get_the_larger_inference_size(monkeypatch):
    det = Detector("yolo11n.yaml", "pytorch", 320)
    assert det.imgsz_for("traffic") == 320 and det.imgsz_for("puskesmas") == 480
    monkeypatch.setenv("CAMERA_CROWD_IMGSZ", "256")
    det = Detector("yolo11n.yaml", "pytorch", 320)
    assert det.imgsz_for("puskesmas") == 320  # never below the base size


def test_queue_holds_a_person_missed_for_one_period():
    book = an.TrackBook()
    a, b = Track(1, "person", (10, 10, 20, 50)), Track(2, "person", (30, 10, 40, 50))
    book.update(0.0, [a, b], [])
    book.update(0.5, [a], [])
    assert book.recent(0.5, 0.5, "person", {1}) == [(2, (35.0, 49.0))]
    assert book.recent(1.5, 0.5, "person", {1}) == []


def test_sim_empty_reference_and_capture(tmp_path):
    start = datetime(2026, 3, 3, 9, 30, tzinfo=WIT)
    city = SimCity([SimCamera("cam-t", "tps")], seed=7, speed=60, start=start)
    scene = city.scenes["cam-t"]
    lumps = len(scene.blobs)
    empty = cv2.imdecode(np.frombuffer(city.reference_jpeg("cam-t", "empty"), np.uint8), cv2.IMREAD_COLOR)
    assert len(scene.blobs) == lumps > 0  # the scene itself is untouched
    frame = cv2.imdecode(np.frombuffer(city.jpeg("cam-t").data, np.uint8), cv2.IMREAD_COLOR)
    x0, y0, x1, y1 = PILE
    pile = ZoneGeom("tumpukan", "pile", np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for poly, _ in scene.blobs:  # lumps one by one: overlaps counted once
        cv2.fillPoly(mask, [poly - np.array([x0, y0], np.int32)], 255)
    union = np.count_nonzero(mask) / mask.size
    assert abs(an.fill_from_pixels(frame, empty, pile) - union) < 0.03
    assert an.fill_from_pixels(empty, empty, pile) < 0.01
    assert sim_ref_url("http://h:8600/cam/cam-t/mjpeg?fps=5") == "http://h:8600/cam/cam-t/empty.jpg"
    assert sim_ref_url("rtsp://cam/stream") is None
    src = tmp_path / "frame.jpg"
    cv2.imwrite(str(src), empty)
    out = capture("cam-t", "empty", url=str(src), ref_dir=tmp_path / "refs")
    assert out == ref_path("cam-t", "empty", tmp_path / "refs") and cv2.imread(str(out)) is not None


def test_sim_door_closed_reference_shuts_the_door_and_leaves_the_scene(tmp_path):
    start = datetime(2026, 3, 3, 10, 0, tzinfo=WIT)  # a Tuesday, long after opening time
    city = SimCity([SimCamera("cam-p", "puskesmas", opening_time="08:00")], seed=7, speed=60,
                   start=start)
    scene = city.scenes["cam-p"]
    door = scene.door
    assert door > 0.5  # open now
    shut = cv2.imdecode(np.frombuffer(city.reference_jpeg("cam-p", "door_closed"), np.uint8),
                        cv2.IMREAD_COLOR)
    empty = cv2.imdecode(np.frombuffer(city.reference_jpeg("cam-p", "empty"), np.uint8),
                         cv2.IMREAD_COLOR)
    assert scene.door == door  # the scene itself is untouched
    doorway = (slice(60, 200), slice(280, 360))
    assert np.abs(shut[doorway].astype(int) - empty[doorway].astype(int)).mean() > 20
    outside = (slice(210, 360), slice(0, 640))
    assert np.abs(shut[outside].astype(int) - empty[outside].astype(int)).mean() < 2


def test_worker_takes_missing_sim_references_once(tmp_path):
    from tests.test_faults_cameras import run_sim
    from workers.camera.refs import ensure_sim_refs

    refs = tmp_path / "refs"
    with run_sim("--cameras", "cam-t:tps", "cam-p:puskesmas:08:00", "cam-l:traffic") as base:
        assert ensure_sim_refs("cam-t", "tps", f"{base}/cam/cam-t/mjpeg", refs) == ["empty"]
        assert ensure_sim_refs("cam-p", "puskesmas", f"{base}/cam/cam-p/mjpeg", refs) == ["door_closed"]
        assert ensure_sim_refs("cam-l", "traffic", f"{base}/cam/cam-l/mjpeg", refs) == []
        assert ensure_sim_refs("cam-t", "tps", f"{base}/cam/cam-t/mjpeg", refs) == []  # has it
        assert ensure_sim_refs("cam-x", "tps", "rtsp://10.0.0.5/stream1", refs) == []  # a real one
    assert sorted(p.name for p in refs.iterdir()) == ["cam-p.door_closed.jpg", "cam-t.empty.jpg"]
    # the simulator gone: a warning, no file, nothing else
    assert ensure_sim_refs("cam-u", "market", f"{base}/cam/cam-u/mjpeg", refs) == []
    assert not ref_path("cam-u", "empty", refs).exists()


def test_sim_installer_writes_references_and_the_worker_picks_them_up_from_disk(
        settings, store, session, tmp_path, monkeypatch):
    """The camera worker may take a camera before the simulator wrote its references: it
    reads them from disk when they appear and starts that camera's analysis afresh; it never
    asks the simulator (the turn does no network for references)."""
    import subprocess
    import sys

    from ambon_core.registry import Registry
    from ambon_core.settings import ROOT
    from tests.test_camera_worker import registry_dict
    from tests.test_faults_redis import free_port, wait_for
    from workers.camera.worker import CameraWorker

    refs = tmp_path / "refs"
    monkeypatch.setenv("CAMERA_REF_DIR", str(refs))
    port = free_port()
    reg = registry_dict(f"http://127.0.0.1:{port}/cam", ["cam-t"])
    reg["cameras"][0] |= {"kind": "tps", "zones": [{"name": "tumpukan", "kind": "pile",
                                                    "polygon": [[100, 150], [400, 150], [400, 330],
                                                                [100, 330]]}], "lines": []}
    worker = CameraWorker(settings.model_copy(update={"sim_enabled": True,
                                                      "model_path": str(tmp_path / "none.pt")}),
                          Registry.model_validate(reg))
    sim = None
    try:
        worker.run_once()  # takes cam-t; the simulator is not there yet
        held = worker.held["cam-t"]
        assert "empty" not in held.pipeline.refs
        sim = subprocess.Popen([sys.executable, "-m", "ambon_sim.cameras", "--port", str(port),
                                "--cameras", "cam-t:tps", "cam-p:puskesmas:08:00",
                                "--refs-dir", str(refs), "--log-level", "WARNING"], cwd=ROOT)
        wait_for(lambda: ref_path("cam-p", "door_closed", refs).exists(), 60, 0.2)
        assert sorted(p.name for p in refs.iterdir()) == [
            "cam-p.door_closed.jpg", "cam-p.empty.jpg", "cam-t.empty.jpg"]

        def reloaded() -> bool:
            worker._refs_checked = 0.0  # due now, not in 30 s
            worker.run_once()
            return "empty" in worker.held["cam-t"].pipeline.refs

        wait_for(reloaded, 30, 0.5)
        assert worker.held["cam-t"].blur is not None
    finally:
        for cid in list(worker.held):
            worker._drop(cid)
        if sim is not None:
            sim.terminate()
            sim.wait(10)


def test_the_analysis_turn_never_asks_a_camera_for_references(settings, store, session, tmp_path,
                                                              monkeypatch):
    """Under the simulated city, a camera without references used to be asked for them
    inside the turn (up to 3 s per camera, stalling every camera). A server that records
    every request line and then hangs: the stream is requested, a reference never."""
    import socket
    import threading

    from ambon_core.registry import Registry
    from tests.test_camera_worker import registry_dict
    from tests.test_faults_redis import wait_for
    from workers.camera.worker import CameraWorker

    monkeypatch.setenv("CAMERA_REF_DIR", str(tmp_path / "refs"))
    listener = socket.create_server(("127.0.0.1", 0))
    requests: list[str] = []
    held_open: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held_open.append(conn)
            requests.append(conn.recv(4096).split(b"\r\n")[0].decode())

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/cam"
    reg = registry_dict(url, ["cam-t"])
    reg["cameras"][0]["kind"] = "tps"
    reg["cameras"][0] |= {"zones": [], "lines": []}
    worker = CameraWorker(settings.model_copy(update={"sim_enabled": True,
                                                      "model_path": str(tmp_path / "none.pt")}),
                          Registry.model_validate(reg))
    try:
        for _ in range(3):
            worker._refs_checked = 0.0
            worker.run_once()
        assert wait_for(lambda: any("/cam/cam-t/mjpeg" in r for r in requests), 10, 0.05)
        for _ in range(3):
            worker._refs_checked = 0.0
            worker.run_once()
        assert not [r for r in requests if ".jpg" in r], requests
    finally:
        for cid in list(worker.held):
            worker._drop(cid)
        listener.close()
        for conn in held_open:
            conn.close()


# ---- a reference is a frame on disk: refused with a person or motion in view (issue 12) ----
def _sim_frames(kind: str, start_hhmm: str, n: int, empty: bool = False) -> list[np.ndarray]:
    hh, mm = map(int, start_hhmm.split(":"))
    start = datetime(2026, 3, 3, hh, mm, tzinfo=WIT)
    city = SimCity([SimCamera("cam-r", kind, opening_time="08:00")], seed=7, speed=60, start=start)
    if empty:
        return [cv2.imdecode(np.frombuffer(city.reference_jpeg("cam-r"), np.uint8), cv2.IMREAD_COLOR)]
    out = []
    for i in range(n):
        city.scenes["cam-r"].advance(start + timedelta(seconds=30 * i))
        out.append(city.scenes["cam-r"].render())
    return out


@pytest.fixture(scope="module")
def demo_detector():
    from ambon_core.settings import DATA_DIR

    return Detector(str(DATA_DIR / "models" / "ambon-sim-yolo11n.onnx"), "onnx", 320)


def test_reference_refused_when_something_moves(tmp_path, demo_detector) -> None:
    clip = tmp_path / "street.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 4, (640, 360))
    for frame in _sim_frames("traffic", "09:00", 12):
        writer.write(frame)
    writer.release()
    with pytest.raises(RefusedReference, match="something moves in view"):
        capture("cam-r", "empty", url=str(clip), ref_dir=tmp_path / "refs", detector=demo_detector,
                masks=[])
    assert not (tmp_path / "refs").exists()  # nothing kept


def test_reference_refused_when_a_person_stands_in_view(tmp_path, demo_detector) -> None:
    still = tmp_path / "queue.jpg"
    cv2.imwrite(str(still), _sim_frames("puskesmas", "09:00", 1)[0])  # people waiting, still
    with pytest.raises(RefusedReference, match=r"person\(s\) detected in view"):
        capture("cam-r", "door_closed", url=str(still), ref_dir=tmp_path / "refs",
                detector=demo_detector, masks=[])
    assert not (tmp_path / "refs").exists()


def test_an_empty_view_is_taken_with_its_privacy_masks_pixelated(tmp_path, demo_detector) -> None:
    empty = _sim_frames("tps", "09:00", 1, empty=True)[0]
    src = tmp_path / "empty.jpg"
    cv2.imwrite(str(src), empty)
    out = capture("cam-r", "empty", url=str(src), ref_dir=tmp_path / "refs", detector=demo_detector,
                  masks=[[[0, 0], [200, 0], [200, 100], [0, 100]]])
    kept = cv2.imread(str(out)).astype(int)
    assert np.abs(kept[150:, 250:] - empty[150:, 250:]).mean() < 3  # the view itself
    from tests.test_camera_privacy import inside_cell_edges

    grey = cv2.cvtColor(kept.astype(np.uint8), cv2.COLOR_BGR2GRAY)
    raw = cv2.cvtColor(empty, cv2.COLOR_BGR2GRAY)
    assert inside_cell_edges(grey[:96, :192]) < 0.5 < inside_cell_edges(raw[:96, :192])


def test_refs_command_says_why_in_one_sentence(tmp_path) -> None:
    import subprocess
    import sys

    from ambon_core.settings import ROOT

    still = tmp_path / "queue.jpg"
    cv2.imwrite(str(still), _sim_frames("puskesmas", "09:00", 1)[0])
    res = subprocess.run([sys.executable, "-m", "workers.camera.refs", "cam-r", "--url", str(still),
                          "--dir", str(tmp_path / "refs")], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1].startswith("refs: cam-r: not taken: ")
    assert not (tmp_path / "refs").exists()
