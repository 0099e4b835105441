"""Backups, restore and retention against the real test database and Redis.

The CLI runs as the administrator runs it (``python -m workers backup ...`` in a
subprocess); the database is SQLite here, PostgreSQL when TEST_DATABASE_URL is set
(pg_dump / pg_restore).
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from ambon_core import maintenance
from ambon_core.domain import Heartbeat, Incident
from ambon_core.models import (
    AlertRecord,
    AuditLog,
    Base,
    CameraMinute,
    IncidentRecord,
    PuskesmasStatusChange,
    TpsFill,
)
from ambon_core.settings import ROOT, Settings
from ambon_core.store import Store

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _cli(*args: str, backup_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workers", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=120,
                          env={**os.environ, "BACKUP_DIR": str(backup_dir), "BACKUP_KEEP": "3"})


def _seed_record(session: Session, now: datetime) -> None:
    session.add_all([
        IncidentRecord(incident_id="112-1", source="112", category="banjir", title="Banjir",
                       status="dispatched", agencies=["bpbd"], reported_at=now, updated_at=now),
        IncidentRecord(incident_id="112-2", source="112", category="kebakaran", title="Api",
                       status="closed", agencies=["damkar"], reported_at=now, updated_at=now,
                       closed_at=now),
        AlertRecord(alert_id="tps_overflow:tps-a", kind="tps_overflow", entity_id="tps-a",
                    params={"name": "TPS A"}, raised_at=now),
        TpsFill(tps_id="tps-a", at=now, fill=0.95),
        PuskesmasStatusChange(puskesmas_id="pkm-a", status="buka", at=now),
        AuditLog(at=now, actor="walikota", action="acknowledge", target="tps_overflow:tps-a"),
        *[CameraMinute(camera_id=f"cam-{i}", minute=now - timedelta(minutes=m), kind="traffic",
                       crossings={"in": m}, frames=120) for i in range(3) for m in range(20)],
    ])
    session.commit()


def _dump(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table, in key order: 'same rows' means this is equal."""
    with engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(t.select().order_by(*t.primary_key))]
                for t in Base.metadata.sorted_tables}


def test_backup_destroy_restore_same_rows_live_state_rebuilt(
        settings: Settings, engine: Engine, session: Session, store: Store, tmp_path: Path) -> None:
    _seed_record(session, NOW)
    before = _dump(engine)
    made = _cli("backup", "create", backup_dir=tmp_path)
    assert made.returncode == 0, made.stderr
    backup = Path(made.stdout.strip())
    assert backup.parent == tmp_path and backup.stat().st_size > 0
    with engine.begin() as conn:  # destroy: the record gone, a stranger row in its place
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        conn.execute(AuditLog.__table__.insert().values(at=NOW, actor="x", action="junk",
                                                        detail={}))
    store.put(Incident(incident_id="112-ghost", category="banjir", title="tidak ada"))
    restored = _cli("backup", "restore", str(backup), backup_dir=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert _dump(engine) == before
    live = store.read_live()
    assert set(live.incidents) == {"112-1"}  # the open one, not the ghost nor the closed one
    assert set(live.alerts) == {"tps_overflow:tps-a"}
    assert live.tps["tps-a"].fill == pytest.approx(0.95)
    assert store.rebuilt_at() is not None


def test_restore_refuses_while_workers_beat(settings: Settings, store: Store, tmp_path: Path,
                                            session: Session) -> None:
    made = _cli("backup", "create", backup_dir=tmp_path)
    store.beat(Heartbeat(worker="cameras", pid=1, host="h", started_at=NOW), 30)
    refused = _cli("backup", "restore", made.stdout.strip(), backup_dir=tmp_path)
    assert refused.returncode == 2 and "stop ambon-workers" in refused.stderr


def test_rotation_keeps_the_newest(settings: Settings, session: Session, tmp_path: Path) -> None:
    config = settings.model_copy(update={"backup_dir": tmp_path, "backup_keep": 2})
    made = [maintenance.create_backup(config, NOW + timedelta(days=d)) for d in range(4)]
    assert maintenance.backups(tmp_path) == made[2:]
    assert not list(tmp_path.glob("*.partial"))


def test_a_damaged_backup_is_refused_and_the_record_stays(
        settings: Settings, engine: Engine, session: Session, store: Store, tmp_path: Path) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("the damaged-file check is SQLite's (pg_restore refuses its own way)")
    _seed_record(session, NOW)
    before = _dump(engine)
    bad = tmp_path / "ambon-20260101T000000Z.sqlite3.gz"
    bad.write_bytes(gzip.compress(b"SQLite format 3\x00" + b"\x07" * 8192))
    result = _cli("backup", "restore", str(bad), backup_dir=tmp_path)
    assert result.returncode == 2 and str(bad) in result.stderr and "error:" in result.stderr
    assert _dump(engine) == before
    wrong = _cli("backup", "restore", str(tmp_path / "notes.txt"), backup_dir=tmp_path)
    assert wrong.returncode == 2 and "is not a sqlite backup" in wrong.stderr


def _count(session: Session, model, **where) -> int:
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return session.scalar(stmt)


def test_retention_per_table_keeps_what_the_live_state_needs(
        settings: Settings, engine: Engine, session: Session) -> None:
    """Rows are written in time order, as the workers do (the newest row = the highest id)."""
    old, older = NOW - timedelta(days=400), NOW - timedelta(days=2000)
    session.add_all([
        CameraMinute(camera_id="cam-0", minute=NOW - timedelta(days=94), kind="traffic", frames=1),
        TpsFill(tps_id="tps-a", at=old, fill=0.1),  # older than 365 d, a newer one exists
        TpsFill(tps_id="tps-quiet", at=old, fill=0.4),  # older, but the newest of its TPS
        AlertRecord(alert_id="a-old", kind="tps_overflow", entity_id="t", raised_at=older,
                    cleared_at=older),
        AlertRecord(alert_id="a-active", kind="tps_overflow", entity_id="t", raised_at=older),
        AuditLog(at=NOW - timedelta(days=1000), actor="admin", action="login"),
        AuditLog(at=older, actor="admin", action="login"),
        IncidentRecord(incident_id="112-old", source="112", category="banjir", title="lama",
                       status="closed", reported_at=older, updated_at=older, closed_at=older),
    ])
    session.commit()
    _seed_record(session, NOW)
    deleted = maintenance.apply_retention(settings, engine, now=NOW)
    assert deleted["camera_minute"] == 1 and deleted["tps_fill"] == 1
    assert deleted["alert"] == 1 and deleted["audit_log"] == 1
    assert "incident" not in deleted  # RETENTION_INCIDENT_DAYS=0: the 112 record stays
    session.expire_all()
    assert _count(session, TpsFill, tps_id="tps-quiet") == 1
    assert _count(session, AlertRecord, alert_id="a-active") == 1
    assert _count(session, AuditLog, action="login") == 1
    assert _count(session, IncidentRecord) == 3
    assert _count(session, CameraMinute) == 60
    assert maintenance.apply_retention(settings, engine, now=NOW)["camera_minute"] == 0


def test_retention_of_closed_incidents_when_set(settings: Settings, engine: Engine,
                                                session: Session) -> None:
    _seed_record(session, NOW - timedelta(days=40))
    config = settings.model_copy(update={"retention_incident_days": 30})
    assert maintenance.apply_retention(config, engine, now=NOW)["incident"] == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT incident_id FROM incident")).scalars().all() == ["112-1"]
