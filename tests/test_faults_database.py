"""Fault: the SQL database is unreachable. Workers keep publishing live state to Redis,
spool their history writes on disk, and replay them in order when the database returns:
nothing lost, nothing written twice.

PostgreSQL (``TEST_DATABASE_URL``) is reached through a loopback TCP proxy that the test
stops and starts; SQLite through a directory that the test renames away and back.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from ambon_core.db import engine_for, make_engine, migrate, session_factory
from ambon_core.domain import Attendance, PuskesmasStatus
from ambon_core.models import CameraMinute, IncidentRecord, IncidentStatusChange, PuskesmasStatusChange
from ambon_core.settings import Settings
from ambon_core.spool import HistoryWriter
from ambon_core.store import Store
from tests.test_faults_redis import free_port
from workers.feeds.worker import FeedWorker
from workers.site_status import SiteStatusWorker

WIT = ZoneInfo("Asia/Jayapura")
MONDAY_0920 = datetime(2026, 11, 23, 9, 20, tzinfo=WIT)


class TcpProxy:
    """A loopback TCP forwarder; ``stop()`` refuses new connections and cuts open ones."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.base_events.Server | None = None
        self.open: set[asyncio.StreamWriter] = set()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def _call(self, coro) -> None:
        asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def start(self) -> None:
        self._call(self._start())

    def stop(self) -> None:
        self._call(self._stop())

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self.open):
            writer.transport.abort()
        self.open.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.open |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@dataclass
class Outage:
    url: str
    cut: object
    restore: object


@pytest.fixture(params=["sqlite", "postgresql"])
def outage_db(request: pytest.FixtureRequest, tmp_path: Path, engine: Engine) -> Iterator[Outage]:
    if request.param == "postgresql":
        real = os.environ.get("TEST_DATABASE_URL", "")
        if not real.startswith("postgresql"):
            pytest.skip("TEST_DATABASE_URL is not PostgreSQL")
        target = make_url(real)
        proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
        proxy.start()
        url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        yield Outage(url, proxy.stop, proxy.start)
        proxy.stop()
        with engine.begin() as conn:  # the shared test DB: leave it empty for the next test
            for table in ("incident_status_change", "incident", "puskesmas_status_change",
                          "camera_minute", "tps_fill", "alert"):
                conn.exec_driver_sql(f"DELETE FROM {table}")
        return
    home = tmp_path / "db"
    url = f"sqlite:///{home / 'history.db'}"
    migrate(make_engine(url))

    def cut() -> None:
        home.rename(tmp_path / "db-away")
        engine_for(url).dispose()  # open connections would survive a rename

    def restore() -> None:
        (tmp_path / "db-away").rename(home)

    yield Outage(url, cut, restore)


def open311(records: dict[str, str], t0: datetime) -> bytes:
    """An Open311 document: incident id -> 112 status, steps a minute apart from ``t0``."""
    steps = ["new", "verified", "dispatched", "on_scene", "resolved", "closed"]
    docs = []
    for n, (rid, status) in enumerate(sorted(records.items())):
        start = t0 + timedelta(minutes=n)
        ext = {"status": status}
        for k, step in enumerate(steps[1:steps.index(status) + 1], start=1):
            ext[f"{step}_datetime"] = (start + timedelta(minutes=k)).isoformat()
        docs.append({"service_request_id": rid, "status": "closed" if status == "closed" else "open",
                     "service_code": "banjir", "service_name": "Banjir", "description": "Air naik",
                     "agency_responsible": "BPBD", "requested_datetime": start.isoformat(),
                     "updated_datetime": (start + timedelta(minutes=steps.index(status))).isoformat(),
                     "lat": -3.69, "long": 128.18, "address": "Batu Merah",
                     "extended_attributes": ext})
    return json.dumps(docs).encode()


def _attendance(store: Store, worker: SiteStatusWorker, staff: int) -> None:
    at = MONDAY_0920.astimezone(UTC)
    store.put(*[Attendance(puskesmas_id=p.id, staff_checked_in=staff, updated_at=at)
                for p in worker.registry.puskesmas])


def test_db_outage_spools_then_replays_without_loss(settings: Settings, store: Store,
                                                    outage_db: Outage, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOOL_DIR", str(tmp_path / "spool"))
    s = settings.model_copy(update={"database_url": outage_db.url})
    status = SiteStatusWorker(s)
    status.clock = lambda: MONDAY_0920.astimezone(UTC)
    doc = tmp_path / "open311.json"
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n- {{name: open311, url: 'file://{doc}', format: open311-json}}\n")
    feed = FeedWorker(s, feeds_path=feeds, overrides={"interval_s": 1})
    for w in (status, feed):
        w.history.retry_s = 0.05
    t0 = datetime(2026, 11, 23, 8, 0, tzinfo=WIT)
    expected_changes = 0

    def turn(staff: int, incidents: dict[str, str] | None = None) -> None:
        nonlocal expected_changes
        before = {k: v.status for k, v in store.read_live().puskesmas.items()}
        _attendance(store, status, staff)
        status.run_once()
        after = store.read_live().puskesmas
        expected_changes += sum(1 for k, v in after.items() if before.get(k) != v.status)
        if incidents is not None:
            doc.write_bytes(open311(incidents, t0))
            feed.runs["open311"].next_due = 0.0
            feed.run_once()

    turn(3, {f"112-{i}": "new" for i in range(10)})  # the database is up
    outage_db.cut()
    for k in range(6):  # the outage: doors open and shut, 112 keeps taking calls
        turn(0 if k % 2 == 0 else 3,
             {**{f"112-{i}": ("dispatched" if k < 3 else "closed") for i in range(10)},
              **{f"112-{i}": "verified" for i in range(10, 10 + 5 * (k + 1))}})
        live = store.read_live()
        want = PuskesmasStatus.BELUM_BUKA if k % 2 == 0 else PuskesmasStatus.BUKA
        assert any(p.status == want for p in live.puskesmas.values())  # live state still moves
        assert status.failures == 0 and feed.failures == 0
    assert status.history.pending > 0 and feed.history.pending > 0
    assert live.heartbeats["status"].detail["spooled"] == status.history.pending
    assert set(live.incidents) == {f"open311-112-{i}" for i in range(10, 40)}  # closed ones left
    spooled = tmp_path / "spool-copy"
    shutil.copytree(tmp_path / "spool", spooled)
    outage_db.restore()
    time.sleep(0.1)  # past the writers' retry interval
    turn(3)  # the first turn after the outage replays the spool, then writes its own
    feed.run_once()
    assert status.history.pending == 0 and feed.history.pending == 0

    sessions = session_factory(engine_for(outage_db.url))

    def counts() -> tuple[int, dict[str, str], int, int]:
        with sessions() as db:
            changes = db.scalar(select(func.count()).select_from(PuskesmasStatusChange))
            incidents = dict(db.execute(select(IncidentRecord.incident_id, IncidentRecord.status)).all())
            steps = db.scalar(select(func.count()).select_from(IncidentStatusChange))
            distinct = len(set(db.execute(select(IncidentStatusChange.incident_pk,
                                                 IncidentStatusChange.status)).all()))
        return changes, incidents, steps, distinct

    changes, incidents, steps, distinct = counts()
    assert changes == expected_changes, f"{expected_changes - changes} status change(s) lost"
    assert incidents == {**{f"open311-112-{i}": "closed" for i in range(10)},
                         **{f"open311-112-{i}": "verified" for i in range(10, 40)}}
    assert steps == distinct  # every step once
    for name in ("status", "feeds"):  # the same spool replayed again changes nothing
        HistoryWriter(sessions, spooled / name).drain(force=True)
    assert counts() == (changes, incidents, steps, distinct)


def test_an_hour_of_history_fits_the_spool_and_replays(tmp_path: Path, outage_db: Outage) -> None:
    """37 cameras x 60 finished minutes while the database is away, replayed in order."""
    import workers.camera.worker  # noqa: F401  (registers the camera_minutes operation)

    sessions = session_factory(engine_for(outage_db.url))
    writer = HistoryWriter(sessions, tmp_path / "spool", max_bytes=8 * 1024 * 1024, retry_s=0)
    outage_db.cut()
    start = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    for m in range(60):
        rows = [{"camera_id": f"cam-{c:02d}", "minute": start + timedelta(minutes=m),
                 "kind": "traffic", "crossings": {"garis": {"in:car": m, "out:motorcycle": c}},
                 "objects_mean": {"car": 3.5}, "congestion": "lancar", "queue_max": None,
                 "fill": None, "frames": 120} for c in range(37)]
        assert not writer.write("camera_minutes", {"rows": rows}).written
    size = sum(p.stat().st_size for p in (tmp_path / "spool").glob("segment-*"))
    assert writer.pending == 60 and writer.dropped == 0 and size < 2 * 1024 * 1024
    outage_db.restore()
    assert writer.drain(force=True) and writer.pending == 0
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(CameraMinute)) == 37 * 60
        row = db.scalar(select(CameraMinute).where(CameraMinute.camera_id == "cam-05",
                                                   CameraMinute.minute == start + timedelta(minutes=59)))
        assert row.crossings == {"garis": {"in:car": 59, "out:motorcycle": 5}}
        db.execute(CameraMinute.__table__.delete())
        db.commit()


def test_spool_cap_drops_oldest_loudly(tmp_path: Path, outage_db: Outage,
                                       caplog: pytest.LogCaptureFixture) -> None:
    import ambon_core.spool as spool

    sessions = session_factory(engine_for(outage_db.url))
    outage_db.cut()
    try:
        old = spool.SEGMENT_BYTES
        spool.SEGMENT_BYTES = 2000
        writer = HistoryWriter(sessions, tmp_path / "spool", max_bytes=6000, retry_s=60)
        for i in range(100):
            writer.write("tps_fills", {"states": [{"tps_id": f"tps-{i}", "fill": 0.5}]})
    finally:
        spool.SEGMENT_BYTES = old
        outage_db.restore()
    size = sum(p.stat().st_size for p in (tmp_path / "spool").glob("segment-*"))
    assert size <= 6000 + 2000 and writer.dropped > 0
    assert writer.pending + writer.dropped == 100
    assert "dropped" in caplog.text
    assert HistoryWriter(sessions, tmp_path / "spool").pending == writer.pending  # survives restart
