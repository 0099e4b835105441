"""Fault: cameras of the simulated city hang or send garbage (the simulator's fault endpoint).

The hung and the garbled camera are offline (no_signal) within 10 s, the healthy one keeps
its frame rate, and both come back by themselves when the fault ends. (A stopped camera
and the lease handover are in tests/test_camera_worker.py.)
"""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from ambon_core.domain import CameraStatus
from ambon_core.settings import ROOT
from tests.test_camera_worker import make_worker
from tests.test_faults_redis import free_port, wait_for

CAMS = ["cam-a", "cam-b", "cam-c"]


class _Base:
    url = ""


@contextlib.contextmanager
def run_sim(*args: str) -> Iterator[str]:
    """The camera simulator in its own process with ``args``; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ambon_sim.cameras", "--port", str(port),
                             "--log-level", "WARNING", *args], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, 60, 0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def sim() -> Iterator[str]:
    with run_sim("--cameras", *[f"{c}:traffic" for c in CAMS]) as base:
        yield base


def turn_worker_until(worker, store, cond, timeout: float) -> float:
    """Run the camera worker's turns until ``cond(live cameras)``; seconds it took."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        worker.run_once()
        if cond(store.read_live().cameras):
            return time.monotonic() - t0
        time.sleep(0.25)
    raise AssertionError(f"not within {timeout} s: {store.read_live().cameras}")


def fault(base: str, cam: str, mode: str) -> None:
    httpx.post(f"{base}/fault/{cam}", params={"mode": mode}, timeout=2).raise_for_status()


def test_hung_and_garbled_cameras_go_offline_others_keep_rate_all_recover(
        settings, store, session, sim: str, tmp_path) -> None:
    server = _Base()
    server.url = f"{sim}/cam"
    worker = make_worker(settings, server, CAMS, model=str(tmp_path / "capture-only.pt"))
    worker.capture_cfg = dataclasses.replace(worker.capture_cfg, watchdog_s=5.0)  # before _take

    def turn_until(cond, timeout: float) -> float:
        return turn_worker_until(worker, store, cond, timeout)

    try:
        turn_until(lambda c: all(c.get(i) and c[i].status == CameraStatus.OK and c[i].capture_fps > 1
                                 for i in CAMS), 30)
        fps_before = store.read_live().cameras["cam-a"].capture_fps
        fault(sim, "cam-b", "hang")
        fault(sim, "cam-c", "corrupt")
        offline_s = turn_until(lambda c: c["cam-b"].status == CameraStatus.NO_SIGNAL
                               and c["cam-c"].status == CameraStatus.NO_SIGNAL, 14)
        healthy = store.read_live().cameras["cam-a"]
        assert offline_s <= 11, f"offline only after {offline_s:.1f} s"
        assert healthy.status == CameraStatus.OK
        assert healthy.capture_fps >= 0.7 * fps_before, (fps_before, healthy.capture_fps)
        assert store.read_live().cameras["cam-c"].skipped_frames > 0  # garbage counted, not shown
        fault(sim, "cam-b", "none")
        fault(sim, "cam-c", "none")
        back_s = turn_until(lambda c: all(c[i].status == CameraStatus.OK for i in CAMS), 30)
        assert back_s < 20, f"came back only after {back_s:.1f} s"
    finally:
        for cid in CAMS:
            fault(sim, cid, "none")
        for cid in list(worker.held):
            worker._drop(cid)
