"""Notification outbox under load: N instructions x 2 targets, one target failing 30 %.

    .venv/bin/python bench/bench_notify.py [--instructions 1000] [--paced 200] [--rate 5]

A real notifier process (``python -m workers worker notifier``) on an embedded Redis and a
temporary SQLite DB sends to two real webhooks on loopback; instructions are written by
this process through the UI's path (instruction + outbox rows in one transaction).
Two phases, one run: ``--paced`` instructions at ``--rate`` per second (latency while the
notifier keeps up), then the rest at once (a backlog: drain throughput). Printed:
exactly-once figures per target (accepted keys, duplicates, HTTP attempts), delivery
latency (instruction written -> webhook accepted) p50/p95 per phase and target, the
backlog's drain rate, and the notifier's RSS over the run (memory flat = growth between
a quarter and the end of the deliveries). Baseline in the same run: the same Apprise
webhook send without the outbox (p50/p95 per message): the outbox's cost is the rest.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import apprise
import redis
from sqlalchemy import func, select

from ambon_core.actions import instruct
from ambon_core.contacts import add_contact
from ambon_core.db import make_engine, migrate, session_factory
from ambon_core.domain import Alert, AlertKind
from ambon_core.models import OutboxMessage
from ambon_core.redis_server import EmbeddedRedis
from ambon_core.registry import load_registry
from ambon_core.settings import ROOT, get_settings
from ambon_core.store import Store
from tests.receivers import WebhookReceiver


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 \
        else values[0]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def baseline(url: str, n: int) -> list[float]:
    """Apprise straight to the webhook, no outbox: seconds per message."""
    out = []
    for k in range(n):
        plugin = apprise.Apprise.instantiate(url)
        t0 = time.perf_counter()
        plugin.notify(body=f"baseline {k}", title="baseline")
        out.append(time.perf_counter() - t0)
    return out


def give(sessions, registry, settings, n: int, rate: float, first: int = 0) -> None:
    opds = {o.code for o in registry.opds}
    with sessions() as s:
        for i in range(first, first + n):
            pkm = registry.puskesmas[i % len(registry.puskesmas)]
            alert = Alert(alert_id=f"puskesmas_late:{pkm.id}:{i}", kind=AlertKind.PUSKESMAS_LATE,
                          entity_id=pkm.id, opd="dinkes", params={"name": pkm.name})
            instruct(s, alert, "dinkes", f"Instruksi bench {i}", "walikota", opds,
                     problem=f"{pkm.name} belum buka", place=pkm.name, registry=registry,
                     settings=settings)
            if rate > 0:  # pacing, not synchronisation
                time.sleep(max(0.0, (i - first + 1) / rate - (time.perf_counter() - give.t0)))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--instructions", type=int, default=1000)
    p.add_argument("--paced", type=int, default=200, help="instructions of the paced phase")
    p.add_argument("--rate", type=float, default=5, help="paced phase: instructions per second")
    p.add_argument("--fail", type=float, default=0.3, help="failing target's failure share")
    p.add_argument("--baseline", type=int, default=200)
    a = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    server = EmbeddedRedis(tmp / "redis")
    redis_url = server.start()
    db_url = f"sqlite:///{tmp / 'bench.db'}"
    engine = make_engine(db_url)
    migrate(engine)
    sessions = session_factory(engine)
    env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": db_url, "SIM_ENABLED": "false",
           "NOTIFY_INTERVAL_S": "0.05", "NOTIFY_RETRY_BASE_S": "0.2", "NOTIFY_RETRY_MAX_S": "2",
           "LOG_LEVEL": "WARNING"}
    os.environ.update({k: env[k] for k in ("REDIS_URL", "DATABASE_URL")})
    get_settings.cache_clear()
    settings, registry = get_settings(), load_registry()
    rng = random.Random(17)
    lock = threading.Lock()

    def flaky(key: str, attempt: int) -> bool:
        with lock:
            return rng.random() < a.fail

    with WebhookReceiver() as healthy, WebhookReceiver(fail=flaky) as failing:
        base = baseline(healthy.target("/baseline"), a.baseline)
        for record in (healthy.raw, healthy.messages, healthy.received_at, healthy.attempts):
            record.clear()
        with sessions() as s:
            add_contact(s, registry, label="sehat", url=healthy.target(), opd="dinkes", site=None,
                        actor="bench")
            add_contact(s, registry, label="gagal30", url=failing.target(), opd="dinkes",
                        site=None, actor="bench")
        notifier = subprocess.Popen([sys.executable, "-m", "workers", "worker", "notifier"],
                                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        store = Store(redis.Redis.from_url(redis_url), settings.key_prefix)
        while "notifier" not in store.read_live().heartbeats:  # started (imports, migrate)
            time.sleep(0.2)
        give.t0 = time.perf_counter()  # warm-up: Apprise loads its plugins on first use
        give(sessions, registry, settings, 1, 0, first=-1)
        while len(healthy.counts) + len(failing.counts) < 2:
            time.sleep(0.1)
        for r in (healthy, failing):
            for record in (r.raw, r.messages, r.received_at, r.attempts):
                record.clear()
        rss: list[tuple[int, float]] = []
        give.t0 = time.perf_counter()
        paced = min(a.paced, a.instructions)

        def produce() -> None:
            give(sessions, registry, settings, paced, a.rate)
            while len(healthy.counts) + len(failing.counts) < 2 * paced:
                time.sleep(0.1)  # the paced phase is delivered before the backlog comes
            produce.backlog_t0 = time.perf_counter()
            give(sessions, registry, settings, a.instructions - paced, 0, first=paced)
        producer = threading.Thread(target=produce)
        producer.start()
        total = 2 * a.instructions
        while True:
            delivered = len(healthy.counts) + len(failing.counts)
            rss.append((delivered, rss_mb(notifier.pid)))
            if delivered >= total and not producer.is_alive():
                break
            time.sleep(0.5)  # a sampling period, not synchronisation
        drain_s = time.perf_counter() - produce.backlog_t0
        notifier.terminate()
        notifier.wait(10)
    with sessions() as s:
        created = {k: c.timestamp() for k, c in s.execute(
            select(OutboxMessage.key, OutboxMessage.created_at))}
        unsent = s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status != "sent"))
        warm = s.scalars(select(OutboxMessage.key).order_by(OutboxMessage.id).limit(2)).all()
        phase = {k: "paced" if int(i) <= paced + 1 else "backlog" for k, i in s.execute(  # id 1: warm-up
            select(OutboxMessage.key, OutboxMessage.instruction_id))}
    for k in warm:
        created.pop(k, None)
    report(a, base, healthy, failing, created, phase, unsent, drain_s, rss)
    server.stop()
    return 0 if unsent == 0 else 1


def report(a, base, healthy, failing, created, phase, unsent, drain_s, rss) -> None:
    out = sys.stdout.write
    out(f"command: .venv/bin/python bench/bench_notify.py --instructions {a.instructions} "
        f"--paced {a.paced} --rate {a.rate:g} --fail {a.fail:g}\n")
    out(f"baseline (Apprise json:// direct, no outbox, n={len(base)}): "
        f"p50 {pct(base, 50) * 1000:.1f} ms, p95 {pct(base, 95) * 1000:.1f} ms per message\n")
    for name, r in (("healthy", healthy), ("failing 30%", failing)):
        dupes = sum(c - 1 for c in r.counts.values())
        out(f"{name:12} accepted {len(r.counts)} keys, duplicates {dupes}, HTTP attempts "
            f"{sum(r.attempts.values())}\n")
        for part in ("paced", "backlog"):
            lat = [r.received_at[k] - created[k] for k in r.received_at
                   if k in created and phase.get(k) == part]
            if lat:
                out(f"  {part:8} latency p50 {pct(lat, 50) * 1000:.0f} ms, "
                    f"p95 {pct(lat, 95) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms (n={len(lat)})\n")
    backlog = 2 * (a.instructions - min(a.paced, a.instructions))
    out(f"outbox rows not sent: {unsent}; backlog of {backlog} messages written and delivered "
        f"in {drain_s:.1f} s ({backlog / drain_s:.0f} messages/s)\n")
    quarter = next((mb for n, mb in rss if n >= a.instructions // 2), rss[0][1])
    out(f"notifier RSS: at 25% {quarter:.1f} MB, max {max(m for _, m in rss):.1f} MB, "
        f"end {rss[-1][1]:.1f} MB (growth 25%->end {rss[-1][1] - quarter:+.1f} MB)\n")


if __name__ == "__main__":
    sys.exit(main())
