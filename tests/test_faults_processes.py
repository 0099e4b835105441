"""Faults of processes: a worker SIGKILLed under the supervisor, and a graceful SIGTERM.

Real processes on loopback: the supervisor (`python -m workers run`) with the camera,
status and feed workers, an in-test MJPEG camera server and a file:// Open311 feed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis
import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ambon_core.domain import CameraState, CameraStatus
from ambon_core.models import IncidentRecord
from ambon_core.settings import ROOT, Settings
from ambon_core.store import Store
from tests.test_camera_capture import MjpegServer
from tests.test_camera_worker import registry_dict
from tests.test_faults_database import WIT, open311
from tests.test_faults_redis import wait_for

CAMS = ["cam-a", "cam-b", "cam-c"]


class TornReader(threading.Thread):
    """Reads the camera hash as fast as it can; counts values that do not parse."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        super().__init__(daemon=True)
        self.client, self.key = client, key
        self.reads = self.torn = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            for raw in self.client.hgetall(self.key).values():
                try:
                    CameraState.model_validate_json(raw)
                except ValidationError:
                    self.torn += 1
            self.reads += 1
            time.sleep(0.01)


def test_sigkill_restart_lease_handover_then_graceful_sigterm(
        settings: Settings, store: Store, session: Session, tmp_path: Path) -> None:
    cams = MjpegServer()
    reg = tmp_path / "registry.yaml"
    reg.write_text(yaml.safe_dump(registry_dict(cams.url, CAMS)))
    doc = tmp_path / "open311.json"
    from datetime import datetime

    doc.write_bytes(open311({f"112-{i}": "verified" for i in range(20)},
                            datetime(2026, 11, 23, 8, tzinfo=WIT)))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n- {{name: open311, url: 'file://{doc}', format: open311-json,"
                     " interval_s: 1}\n")
    env = {**os.environ, "REDIS_URL": settings.redis_url or "", "SIM_ENABLED": "false",
           "DATABASE_URL": settings.database_url, "REGISTRY_PATH": str(reg),
           "FEEDS_PATH": str(feeds), "MODEL_PATH": str(tmp_path / "no-model.pt"),
           "CAMERA_LEASE_TTL_S": "3", "STATUS_INTERVAL_S": "1", "HEARTBEAT_TTL_S": "6",
           "SPOOL_DIR": str(tmp_path / "spool"), "LOG_LEVEL": "WARNING"}
    sup = subprocess.Popen([sys.executable, "-m", "workers", "run", "--only", "cameras",
                            "--only", "status", "--only", "feeds"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    reader = TornReader(redis.Redis.from_url(settings.redis_url), store.key_state("camera"))
    reader.start()
    try:
        def cameras_by(owner_pid: int | None = None) -> int | None:
            live = store.read_live()
            hb = live.heartbeats.get("cameras")
            states = [live.cameras.get(c) for c in CAMS]
            if hb is None or any(s is None or s.status != CameraStatus.OK or s.age_s() > 2
                                 for s in states):
                return None
            if not all(s.worker and s.worker.endswith(f":{hb.pid}") for s in states):
                return None
            return hb.pid if hb.pid != owner_pid else None

        first = wait_for(lambda: cameras_by() and len(store.read_live().incidents) == 20
                         and cameras_by(), 60)
        os.kill(first, signal.SIGKILL)
        killed_at = time.monotonic()
        wait_for(lambda: any(pid != first and "cameras" in cmd for pid, cmd in _children(sup.pid)),
                 10, 0.05)
        restarted_s = time.monotonic() - killed_at  # the new process exists
        wait_for(lambda: (hb := store.read_live().heartbeats.get("cameras")) and hb.pid != first,
                 20, 0.1)
        working_s = time.monotonic() - killed_at  # ... and has imported, connected and beaten
        second = wait_for(lambda: cameras_by(first), 20, 0.1)
        handover_s = time.monotonic() - killed_at
        others_ok = store.read_live().heartbeats["status"] is not None
        sup.send_signal(signal.SIGTERM)
        stop_at = time.monotonic()
        out = sup.communicate(timeout=20)[0].decode(errors="replace")
        stopped_s = time.monotonic() - stop_at
    finally:
        reader.halt.set()
        if sup.poll() is None:
            sup.kill()
        cams.close()
    assert sup.returncode == 0, out[-3000:]
    assert restarted_s < 3, f"supervisor restarted the camera worker after {restarted_s:.1f} s"
    assert working_s < 15, f"the new camera worker beat only after {working_s:.1f} s"
    assert handover_s < 12, f"leases passed on after {handover_s:.1f} s"
    assert second != first and others_ok
    assert reader.reads > 100 and reader.torn == 0  # no half-written state ever visible
    assert stopped_s < 10, f"SIGTERM took {stopped_s:.1f} s"
    for cid in CAMS:  # a warm stop gives the leases back at once
        assert store.r.get(store.key_lease(cid)) is None
    beats = {n: hb for n, hb in store.read_live().heartbeats.items() if hb is not None}
    assert {beats[n].state for n in ("cameras", "status", "feeds") if n in beats} <= {"stopping"}
    for pid in (first, second):
        assert not _alive(pid)
    # acknowledged = shown live: every incident the dashboard showed is on record once
    ids = session.scalars(select(IncidentRecord.incident_id)).all()
    assert sorted(ids) == sorted(f"open311-112-{i}" for i in range(20))
    assert not list((tmp_path / "spool").glob("*/segment-*"))  # nothing left waiting
    assert "Traceback" not in out, out[-3000:]


def _children(ppid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the live children of ``ppid``, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid and fields[0] != "Z":
                cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append((int(stat.parent.name), cmd))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of the (now gone) supervisor counts as stopped
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False
