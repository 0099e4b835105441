"""Growth of the record per day at 37 cameras, and the disk a year needs with retention.

    .venv/bin/python bench/bench_retention.py [--days 1] [--database-url URL]

Writes DAYS simulated days into a fresh, migrated database through the workers' own
history operations (the camera worker's ``camera_minutes`` rows built by its
``minute_row``, the status worker's ``tps_fills`` and ``puskesmas_changes``) plus the
alerts, audit rows and incidents of a busy day, then measures bytes per table (SQLite:
``dbstat``; PostgreSQL: ``pg_total_relation_size``) and the gzipped backup of the day.
The year figure applies the RETENTION_*_DAYS defaults; the baseline in the same run is
the same year kept whole (no retention).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, func, select, text

from ambon_core import maintenance
from ambon_core.db import make_engine, migrate, session_factory
from ambon_core.domain import PuskesmasState, PuskesmasStatus, TpsState
from ambon_core.history import audit, record_alert_cleared, record_alert_raised
from ambon_core.models import Base, IncidentRecord, IncidentStatusChange
from ambon_core.registry import load_registry
from ambon_core.settings import Settings
from ambon_core.spool import OPS
from workers.camera import worker as _camera_worker  # noqa: F401 (registers camera_minutes)
from workers.camera.pipeline import MinuteAgg, minute_row

# a busy day of the city, besides the cameras (stated, not measured: the record of a
# real year will tell; the camera minutes dominate by two orders of magnitude)
TPS_FILL_ROWS = 60  # a TPS filling 0 -> 1 in steps of FILL_RECORD_STEP (0.02), emptied once
PKM_CHANGES = 4  # belum buka -> buka -> tutup, and one unknown spell
ALERTS, AUDIT_ROWS, INCIDENTS = 300, 400, 60
CLASSES = {"traffic": ["car", "motorcycle", "bus", "truck"], "puskesmas": ["person"],
           "tps": ["person", "truck"], "market": ["person", "car", "motorcycle"]}


def _agg(camera, minute: datetime, rng: random.Random) -> MinuteAgg:
    classes = CLASSES.get(camera.kind.value, ["person"])
    crossings = {line.name: {f"{d}:{c}": rng.randint(0, 40) for d in ("in", "out") for c in classes}
                 for line in camera.lines}
    return MinuteAgg(minute=minute, crossings=crossings, frames=120,
                     object_sums={c: rng.randint(0, 120 * 15) for c in classes},
                     congestion=rng.choice(["lancar", "padat", "macet"])
                     if camera.kind.value == "traffic" else None,
                     queue_max=rng.randint(0, 30) if camera.kind.value == "puskesmas" else None,
                     fill=round(rng.random(), 3) if camera.kind.value in ("tps", "market") else None)


def write_day(engine: Engine, day: datetime, rng: random.Random) -> dict[str, int]:
    """One day of the record through the workers' own history operations."""
    reg = load_registry()
    sessions = session_factory(engine)
    with sessions() as session:
        for m in range(1440):  # one batch a minute, as the camera worker writes
            minute = day + timedelta(minutes=m)
            OPS["camera_minutes"](session, {"rows": [minute_row(c, _agg(c, minute, rng))
                                                     for c in reg.cameras]})
            if m % 60 == 59:
                session.commit()
        for tps in reg.tps:
            OPS["tps_fills"](session, {"states": [TpsState(
                tps_id=tps.id, fill=min(1.0, i / TPS_FILL_ROWS),
                updated_at=day + timedelta(minutes=i * 24)).model_dump(mode="json")
                for i in range(TPS_FILL_ROWS)]})
        for pkm in reg.puskesmas:
            OPS["puskesmas_changes"](session, {"states": [PuskesmasState(
                puskesmas_id=pkm.id, status=PuskesmasStatus.BUKA, waiting=rng.randint(0, 30),
                updated_at=day + timedelta(hours=i * 3)).model_dump(mode="json")
                for i in range(PKM_CHANGES)]})
        _events(session, day, rng)
        session.commit()
    return {t.name: _count(engine, t) for t in Base.metadata.sorted_tables}


def _events(session, day: datetime, rng: random.Random) -> None:
    from ambon_core.domain import Alert, AlertKind

    for i in range(ALERTS):
        at = day + timedelta(minutes=rng.randint(0, 1400))
        alert = Alert(alert_id=f"tps_overflow:tps-{i}-{day:%j}", kind=AlertKind.TPS_OVERFLOW,
                      entity_id=f"tps-{i}", severity=2, raised_at=at, updated_at=at,
                      params={"name": f"TPS {i}", "fill": 0.93})
        record_alert_raised(session, alert)
        record_alert_cleared(session, alert.alert_id, at + timedelta(minutes=30))
    for i in range(AUDIT_ROWS):
        audit(session, "walikota", "acknowledge", f"tps_overflow:tps-{i}", note="sudah dilihat")
    for i in range(INCIDENTS):
        at = day + timedelta(minutes=rng.randint(0, 1400))
        row = IncidentRecord(incident_id=f"112-{day:%j}-{i}", source="open311", category="banjir",
                             title="Genangan air di jalan", description="Air setinggi 30 cm" * 3,
                             status="closed", agencies=["bpbd"], lat=-3.69, lon=128.18,
                             kecamatan="Sirimau", address="Jl. Pattimura", reported_at=at,
                             updated_at=at, closed_at=at + timedelta(hours=2))
        session.add(row)
        session.flush()
        session.add_all([IncidentStatusChange(incident_pk=row.id, status=s, at=at, agency="bpbd")
                         for s in ("verified", "dispatched", "on_scene", "closed")])


def _count(engine: Engine, table) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def table_bytes(engine: Engine) -> dict[str, int]:
    """Bytes of each table with its indexes."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return {t.name: conn.scalar(text("SELECT pg_total_relation_size(:t)"), {"t": t.name})
                    for t in Base.metadata.sorted_tables}
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        rows = conn.execute(text("SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat d JOIN "
                                 "sqlite_master m ON m.name = d.name GROUP BY m.tbl_name")).all()
    return {name: int(size) for name, size in rows}


def year_bytes(per_day: dict[str, float], settings: Settings, retention: bool) -> float:
    days = {rule.table.__tablename__: getattr(settings, rule.setting) for rule in maintenance.RULES}
    return sum(b * (min(365, days.get(t) or 365) if retention else 365) for t, b in per_day.items())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=1)
    ap.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ambon-retention-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    migrate(engine)
    empty = table_bytes(engine)
    rng = random.Random(19)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for d in range(args.days):
        rows = write_day(engine, start + timedelta(days=d), rng)
    grown = table_bytes(engine)
    per_day = {t: (grown.get(t, 0) - empty.get(t, 0)) / args.days for t in grown}
    settings = Settings(database_url=url, backup_dir=tmp / "backups")
    backup = maintenance.create_backup(settings)
    mb = 1024 * 1024
    print(f"record growth per day at 37 cameras ({engine.dialect.name}, {args.days} day(s)):")
    for table, size in sorted(per_day.items(), key=lambda kv: -kv[1]):
        if size > 0:
            print(f"  {table:24} {rows.get(table, 0) / args.days:9.0f} rows/day  "
                  f"{size / mb:7.2f} MB/day")
    total = sum(per_day.values())
    kept, whole = year_bytes(per_day, settings, True), year_bytes(per_day, settings, False)
    print(f"  total {total / mb:.1f} MB/day; backup of it gzipped {backup.stat().st_size / mb:.1f} MB")
    print(f"a year with the retention defaults: {kept / 1024**3:.2f} GB; "
          f"kept whole (baseline): {whole / 1024**3:.2f} GB ({whole / kept:.1f}x)")
    print(f"command: .venv/bin/python bench/bench_retention.py --days {args.days}"
          + (" --database-url URL" if args.database_url else ""))


if __name__ == "__main__":
    main()
