"""CameraWorker against a real Redis and DB: publishing, no_signal, model errors, leases."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ambon_core.domain import AlertKind, CameraStatus
from ambon_core.registry import Registry
from tests.test_camera_capture import MjpegServer, wait_for
from workers.camera.worker import NO_SIGNAL_S, CameraWorker

ROOT = Path(__file__).resolve().parents[1]


def registry_dict(url: str, ids: list[str], source: str = "{url}/{cid}/mjpeg") -> dict:
    cams = [{"id": cid, "name": cid, "kind": "traffic", "kecamatan": "Sirimau", "lat": -3.69,
             "lon": 128.18, "source": source.format(url=url, cid=cid),
             "zones": [{"name": "jalur", "kind": "lane",
                        "polygon": [[0, 140], [640, 140], [640, 300], [0, 300]]}],
             "lines": [{"name": "garis", "points": [[320, 140], [320, 300]]}]} for cid in ids]
    return {"puskesmas": [], "cameras": cams, "tps": [], "opds": []}


@pytest.fixture
def server():
    srv = MjpegServer()
    yield srv
    srv.close()


def make_worker(settings, server, ids, model="yolo11n.yaml", source="{url}/{cid}/mjpeg",
                **env) -> CameraWorker:
    for k, v in env.items():
        os.environ[k] = v
    try:
        s = settings.model_copy(update={"model_path": model})
        return CameraWorker(s, Registry.model_validate(registry_dict(server.url, ids, source)))
    finally:
        for k in env:
            os.environ.pop(k, None)


def turns_until(worker: CameraWorker, cond, timeout: float = 12.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.run_once()
        if cond():
            return True
        time.sleep(0.2)
    return False


def test_worker_publishes_states_snapshots_and_no_signal(settings, store, session, server):
    worker = make_worker(settings, server, ["cam-a", "cam-b"])
    try:
        assert worker.detector is not None
        assert turns_until(worker, lambda: all(
            (s := store.read_live().cameras.get(c)) is not None
            and s.status in (CameraStatus.OK, CameraStatus.OVERLOADED)  # live (a busy machine)
            and s.infer_fps > 0 for c in ("cam-a", "cam-b")), timeout=30)
        assert store.snapshot("cam-a") is not None
        hb = store.read_live().heartbeats["cameras"]
        assert hb is not None and hb.detail["cameras"] == 2
        server.modes["cam-b"] = "stop"
        assert turns_until(worker, lambda: store.read_live().cameras["cam-b"].status
                           == CameraStatus.NO_SIGNAL, timeout=30)
        # what flipped it is the age of the last frame, NO_SIGNAL_S, not the wall clock:
        held, last = worker.held["cam-b"], worker.held["cam-b"].grabber.latest()
        # (a frame that fresh is live: ok, or overloaded when this shared machine is busy)
        assert worker.state_of(held, last.mono + NO_SIGNAL_S - 0.01).status in (
            CameraStatus.OK, CameraStatus.OVERLOADED)
        assert worker.state_of(held, last.mono + NO_SIGNAL_S).status == CameraStatus.NO_SIGNAL
        assert store.snapshot("cam-b") is None  # never the last frame as if live
        cams = store.read_live().cameras
        # live (ok, or overloaded when this shared machine is busy), while cam-b is dark
        assert cams["cam-a"].status in (CameraStatus.OK, CameraStatus.OVERLOADED)
        assert cams["cam-b"].objects == {}
        worker._last_alerts = 0.0
        worker.run_once()
        kinds = {a.kind for a in store.read_live().alerts.values()}
        assert AlertKind.CAMERA_OFFLINE in kinds
    finally:
        for cid in list(worker.held):
            worker._drop(cid)


def test_missing_model_is_one_sentence_and_cameras_keep_running(settings, store, session, server,
                                                                 tmp_path):
    bad = tmp_path / "not-a-model.pt"
    bad.write_text("hello")
    for path in (str(tmp_path / "missing.pt"), str(bad)):
        worker = make_worker(settings, server, ["cam-a"], model=path)
        try:
            assert worker.detector is None and worker.model_error.count(". ") == 0
            assert path in worker.model_error
            assert turns_until(worker, lambda: (s := store.read_live().cameras.get("cam-a")) is not None
                               and s.status == CameraStatus.OK and s.capture_fps > 0)
            # no detector: the background model alone blurs, so a snapshot is published
            assert wait_for(lambda: store.snapshot("cam-a") is not None)
        finally:
            worker._drop("cam-a")
    store.r.delete(store.key_snapshot("cam-a"))
    worker = make_worker(settings, server, ["cam-a"], model=str(tmp_path / "missing.pt"),
                         CAMERA_BLUR_MOTION="false")
    try:  # no detector and no motion blur: nothing would cover a face, so no snapshot
        assert turns_until(worker, lambda: (s := store.read_live().cameras.get("cam-a")) is not None
                           and s.status == CameraStatus.OK
                           and worker.held["cam-a"].analysed_image is not None)
        worker.run_once()
        assert store.snapshot("cam-a") is None
    finally:
        worker._drop("cam-a")


def test_leases_split_cameras_and_dead_worker_is_taken_over(settings, store, session, server):
    ids = ["cam-a", "cam-b", "cam-c", "cam-d"]
    env = {"CAMERA_WORKER_MAX": "2"}
    one, two = make_worker(settings, server, ids, **env), make_worker(settings, server, ids, **env)
    two.owner += "-second"
    try:
        one.manage_leases()
        two.manage_leases()
        assert len(one.held) == 2 and len(two.held) == 2 and not set(one.held) & set(two.held)
        for cid in list(one.held):  # host one dies: leases expire after their TTL
            one.held.pop(cid).grabber.stop()
            store.r.expire(store.key_lease(cid), 1)
        two.max_cameras = 4
        time.sleep(1.2)
        two.manage_leases()
        assert set(two.held) == set(ids)
    finally:
        for w in (one, two):
            for cid in list(w.held):
                w._drop(cid)


def test_worker_process_reports_bad_model_in_one_line(settings, server, tmp_path):
    reg = tmp_path / "registry.yaml"
    reg.write_text(yaml.safe_dump(registry_dict(server.url, ["cam-a"])))
    env = {**os.environ, "REGISTRY_PATH": str(reg), "MODEL_PATH": str(tmp_path / "nope.pt"),
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "workers", "worker", "cameras"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        import redis

        from ambon_core.store import Store

        st = Store(redis.Redis.from_url(settings.redis_url), settings.key_prefix)
        assert wait_for(lambda: (s := st.read_live().cameras.get("cam-a")) is not None
                        and s.status == CameraStatus.OK, timeout=40)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0]
    errors = [ln for ln in out.splitlines() if " ERROR " in ln]
    assert len(errors) == 1 and "nope.pt does not exist" in errors[0], out[-2000:]
