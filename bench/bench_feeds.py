"""Ingest throughput of a 10 000-record Open311 document: parse only vs parse + SQL + Redis.

    .venv/bin/python bench/bench_feeds.py [--records 10000] [--runs 5]

Uses an embedded Redis and a temporary SQLite DB (or DATABASE_URL_BENCH for PostgreSQL);
each full run starts from empty tables (first-time ingest: inserts) and is then repeated
on the same data (re-ingest: the idempotent no-change path).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis
from sqlalchemy import text

from ambon_core.db import make_engine, migrate, session_factory
from ambon_core.models import Base
from ambon_core.redis_server import EmbeddedRedis
from ambon_core.store import Store
from ambon_sim import feed_world
from workers.feeds import open311
from workers.feeds.lifecycle import upsert_incidents


def document(n: int) -> bytes:
    epoch = datetime(2026, 11, 1, tzinfo=UTC)
    now = epoch + timedelta(minutes=feed_world.INCIDENT_SLOT_MIN * (n + 2))
    recs = []
    for k in range(n):
        inc = feed_world.incident(7, k, epoch)
        status, updated = inc.state_at(now)
        recs.append({"service_request_id": f"B-{k}", "status": "closed" if status in ("resolved", "closed")
                     else "open", "service_code": inc.code, "service_name": inc.name,
                     "description": inc.description, "agency_responsible": inc.agencies,
                     "requested_datetime": feed_world.iso(inc.steps["new"]),
                     "updated_datetime": feed_world.iso(updated), "lat": inc.lat, "long": inc.lon,
                     "address": inc.place, "extended_attributes": {"status": status}})
    return json.dumps(recs).encode()


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--records", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    body = document(args.records)
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"document: {args.records} Open311 records, {len(body) / 1e6:.1f} MB JSON")
    parse_s = [timed(lambda: open311.parse(body)) for _ in range(args.runs)]
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis")
        store = Store(redis.Redis.from_url(server.start()))
        engine = make_engine(os.environ.get("DATABASE_URL_BENCH") or f"sqlite:///{tmp}/bench.db")
        migrate(engine)
        first_s, again_s = [], []
        try:
            for _ in range(args.runs):
                with engine.begin() as conn:
                    for table in reversed(Base.metadata.sorted_tables):
                        conn.execute(table.delete())
                    conn.execute(text("SELECT 1"))
                store.r.flushdb()

                def full() -> None:
                    result = open311.parse(body)
                    with session_factory(engine)() as session:
                        upsert_incidents(session, store, result.records, result.extra["times"])

                first_s.append(timed(full))
                again_s.append(timed(full))
        finally:
            server.stop()
    for label, runs in (("parse only", parse_s), ("parse+SQL+Redis, first ingest", first_s),
                        ("parse+SQL+Redis, re-ingest (no change)", again_s)):
        med = statistics.median(runs)
        print(f"{label:40s} median {med:7.3f} s  {args.records / med:9.0f} records/s  "
              f"(runs: {', '.join(f'{r:.3f}' for r in runs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
