"""Fault: Redis restarts. Workers reconnect without restarting, the supervisor rebuilds the
live state from SQL on the empty new server, and the dashboard shows a banner meanwhile.

Each test runs its own redis-server on a free loopback port (never the shared one).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from ambon_core.domain import AlertKind, IncidentStatus, PuskesmasState, PuskesmasStatus, utcnow
from ambon_core.history import record_puskesmas_change
from ambon_core.models import AlertRecord, IncidentRecord, TpsFill
from ambon_core.redis_server import _redis_binary
from ambon_core.settings import ROOT, Settings, get_settings
from ambon_core.store import Store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 20.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (redis.RedisError, OSError):
            value = None
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")


class ProcessOutput:
    """Collects a child's output lines as they come, so a test can wait for a log line
    (an event) instead of sleeping for as long as it hopes the event takes."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        for raw in proc.stdout:
            with self.changed:
                self.lines.append(raw.decode(errors="replace"))
                self.changed.notify_all()

    def wait_for(self, *needles: str, timeout: float = 30.0) -> None:
        """Block until every needle has appeared in some line."""
        def seen() -> bool:
            return all(any(n in line for line in self.lines) for n in needles)
        with self.changed:
            assert self.changed.wait_for(seen, timeout), f"never logged: {needles}"

    def text(self) -> str:
        with self.changed:
            return "".join(self.lines)


class RedisProc:
    """A private redis-server on a fixed loopback port that can be killed and started again."""

    def __init__(self, directory: Path) -> None:
        self.dir, self.port = directory, free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [_redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: redis.Redis.from_url(self.url, socket_timeout=0.5).ping(), 10, 0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProc]:
    server = RedisProc(tmp_path)
    server.start()
    yield server
    server.kill()


def seed_record(session: Session) -> None:
    """What SQL knows: an open incident, a closed one, an active quake alert, a status, a fill."""
    now = utcnow()
    for incident_id, status in (("112-open", IncidentStatus.DISPATCHED),
                                ("112-done", IncidentStatus.CLOSED)):
        session.add(IncidentRecord(incident_id=incident_id, source="open311", category="banjir",
                                   title="Banjir", status=status.value, reported_at=now,
                                   updated_at=now, agencies=["bpbd"]))
    session.add(AlertRecord(alert_id="gempa:1", kind=AlertKind.EARTHQUAKE.value, entity_id="1",
                            severity=3, params={"magnitude": 5.1}, raised_at=now))
    record_puskesmas_change(session, PuskesmasState(puskesmas_id="pkm-test",
                                                    status=PuskesmasStatus.BUKA))
    session.add(TpsFill(tps_id="tps-test", at=now, fill=0.7, source="camera"))
    session.commit()


def test_redis_restart_workers_reconnect_and_state_is_rebuilt(settings: Settings, session: Session,
                                                              own_redis: RedisProc) -> None:
    seed_record(session)
    env = {**os.environ, "REDIS_URL": own_redis.url, "DATABASE_URL": settings.database_url,
           "SIM_ENABLED": "false", "STATUS_INTERVAL_S": "1", "HEARTBEAT_TTL_S": "6",
           "LOG_LEVEL": "WARNING"}
    sup = subprocess.Popen([sys.executable, "-m", "workers", "run", "--only", "status"], cwd=ROOT,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = ProcessOutput(sup)
    store = Store(own_redis.client(), settings.key_prefix)
    try:
        def alive() -> dict | None:
            live = store.read_live()
            hb = live.heartbeats.get("status")
            sup_hb = live.heartbeats.get("supervisor")
            ok = hb and sup_hb and (utcnow() - hb.updated_at).total_seconds() < 2.5
            return {"status": hb.pid, "supervisor": sup_hb.pid, "live": live} if ok else None

        before = wait_for(alive, 40)
        assert set(before["live"].incidents) == {"112-open"}  # rebuilt at start
        own_redis.kill()
        # both the worker and the supervisor have met the outage (their log says so)
        output.wait_for("status: turn failed", "supervisor: heartbeat failed")
        own_redis.start()
        # the wait bounds are generous limits, not measurements: the figures are in soak.py
        rebuilt = wait_for(lambda: (s := store.read_live()).incidents and s, 20, 0.05)
        after = wait_for(alive, 20)
    finally:
        sup.send_signal(signal.SIGTERM)
        sup.wait(15)
        out = output.text()
    assert sup.returncode == 0, out[-2000:]
    assert set(rebuilt.incidents) == {"112-open"} and set(rebuilt.alerts) == {"gempa:1"}
    assert rebuilt.tps["tps-test"].fill == 0.7
    assert after["status"] == before["status"], "the worker was restarted instead of reconnecting"
    assert after["supervisor"] == before["supervisor"]
    assert "Traceback" not in out, out[-2000:]


def test_dashboard_banner_while_redis_is_down_then_recovers(settings: Settings,
                                                            own_redis: RedisProc,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    from ambon_core.domain import Incident

    monkeypatch.setenv("REDIS_URL", own_redis.url)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    store = Store(own_redis.client(), settings.key_prefix)
    store.put(Incident(incident_id="112-1", category="banjir", title="Banjir di Batu Merah"))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["kiosk"] = "1"  # the wall: the public view, no login
    app.run()
    assert not app.exception and not app.error
    assert app.metric, "no live tiles"
    own_redis.kill()
    st.cache_data.clear()  # the next refresh period: the shared live read is not reused
    app.run()
    assert not app.exception, app.exception
    assert app.error, "no banner while Redis is down"
    own_redis.start()
    store.put(Incident(incident_id="112-1", category="banjir", title="Banjir di Batu Merah"))
    st.cache_data.clear()
    app.run()
    assert not app.exception and not app.error
    assert app.metric
    get_settings.cache_clear()
