"""Server-side cost of one overview refresh, and the Redis round trips it takes.

Seeds a real (embedded) Redis like a busy city: 37 cameras, 22 puskesmas, 11 TPS,
500 open incidents, 40 alerts and 8 worker heartbeats. Then, in the same run, times:

* ``ours``: one pipelined ``Store.read_live()`` + the overview's summaries and map layers;
* ``naive``: the same data read entity by entity (one HGET per item, one GET per
  heartbeat), as a page that asks Redis for each value would;

Prints medians, ratios and round trips. Usage:

    .venv/bin/python bench/bench_overview.py [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ambon_core.domain import (
    Alert,
    AlertKind,
    CameraKind,
    CameraState,
    CameraStatus,
    Congestion,
    Heartbeat,
    Incident,
    PuskesmasState,
    PuskesmasStatus,
    TpsState,
    utcnow,
)
from ambon_core.redis_server import EmbeddedRedis
from ambon_core.registry import load_registry
from ambon_core.settings import DATA_DIR
from ambon_core.store import Store

ROUND_TRIPS = 0


class CountingConnection(redis.UnixDomainSocketConnection):
    """A real connection that counts packets sent: one per round trip."""

    def send_packed_command(self, command, check_health=True):
        global ROUND_TRIPS
        ROUND_TRIPS += 1
        return super().send_packed_command(command, check_health)


def seed(store: Store) -> None:
    reg = load_registry(DATA_DIR / "registry.yaml")
    states: list = [CameraState(camera_id=c.id, kind=c.kind, status=CameraStatus.OK,
                                congestion=Congestion.PADAT if c.kind == CameraKind.TRAFFIC else None,
                                objects={"car": 4, "motorcycle": 11}) for c in reg.cameras]
    states += [PuskesmasState(puskesmas_id=p.id, status=PuskesmasStatus.BUKA, waiting=3)
               for p in reg.puskesmas]
    states += [TpsState(tps_id=t.id, fill=0.5) for t in reg.tps]
    states += [Incident(incident_id=f"112-{i}", category="banjir", title=f"Banjir {i}",
                        severity=1 + i % 3, lat=-3.69 + i * 1e-4, lon=128.18, kecamatan="Sirimau")
               for i in range(500)]
    states += [Alert(alert_id=f"a{i}", kind=AlertKind.INCIDENT, entity_id=f"112-{i}")
               for i in range(40)]
    store.put(*states)
    for i in range(8):
        store.beat(Heartbeat(worker=f"w{i}", pid=i, host="h", started_at=utcnow()), ttl_s=60)


def naive_read(store: Store) -> int:
    """Entity-by-entity reads; returns the number of values read."""
    n = 0
    for name in ("camera", "puskesmas", "tps", "incident", "alert", "feed", "attendance"):
        for key in store.r.hkeys(store.key_state(name)):
            n += store.r.hget(store.key_state(name), key) is not None
    for worker in store.r.smembers(f"{store.p}:workers"):
        n += store.r.get(store.key_heartbeat(worker.decode())) is not None
    return n


def ours(store: Store, reg) -> None:
    from components.city_map import city_layers
    from components.summaries import incident_table, kpis

    live = store.read_live()
    kpis(live, reg)
    incident_table(live)
    city_layers(live, reg, lang_text=lambda key: key)


def timed(fn, runs: int) -> tuple[float, int]:
    """Median seconds of ``fn`` and the round trips of one call."""
    global ROUND_TRIPS
    times, trips = [], 0
    for _ in range(runs):
        ROUND_TRIPS = 0
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        trips = ROUND_TRIPS
    return statistics.median(times), trips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    print(f"$ .venv/bin/python bench/bench_overview.py --runs {args.runs}")
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp))
        server.start()
        try:
            pool = redis.ConnectionPool(connection_class=CountingConnection,
                                        path=str(server.socket))
            store = Store(redis.Redis(connection_pool=pool))
            seed(store)
            store.r.ping()
            read_s, read_trips = timed(store.read_live, args.runs)
            reg = load_registry(DATA_DIR / "registry.yaml")
            ours_s, ours_trips = timed(lambda: ours(store, reg), args.runs)
            naive_s, naive_trips = timed(lambda: naive_read(store), args.runs)
            print("city: 37 cameras, 22 puskesmas, 11 TPS, 500 open incidents, 40 alerts, "
                  "8 heartbeats")
            print(f"read_live (one pipeline)      median {read_s * 1e3:7.2f} ms  "
                  f"round trips {read_trips}")
            print(f"overview refresh (read+summaries+map layers) median {ours_s * 1e3:7.2f} ms  "
                  f"round trips {ours_trips}")
            print(f"naive per-value reads         median {naive_s * 1e3:7.2f} ms  "
                  f"round trips {naive_trips}")
            print(f"ratio naive/ours (read only): {naive_s / read_s:.1f}x time, "
                  f"{naive_trips / max(1, read_trips):.0f}x round trips")
            print("(the live read is also shared across sessions for ~1 s: N screens on one page "
                  "cost one read per second)")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
