"""The 112 call files: truth of a simulated day, catching up a big queue_log, following it.

    .venv/bin/python bench/bench_calls.py [--lines 5000000] [--days 1] [--lag-samples 20]

1. truth: simulated days of the 112 centre (ambon_sim/callcentre.py) written as queue_log
   + Master.csv, read back through the calls pipeline; every figure against the truth.
2. catch-up: a queue_log of ``--lines`` lines (~100 bytes each: 5 M lines ~ 500 MB, written
   under /tmp and deleted after) read once from the start; baseline in the same run: the
   same file through the reader alone (whole lines, no parsing) and through reader + parser.
   RSS sampled along the way (constant memory = RSS flat as the offset grows).
3. follow: lines appended one by one while the calls worker loop runs at its real interval
   (1 s); lag = line written -> figure in Redis. The page adds at most ui_refresh_s.

Embedded Redis and a temporary SQLite DB; nothing of the city's data is touched.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis

from ambon_core.call_figures import CallRules, percentile
from ambon_core.db import make_engine, migrate, session_factory
from ambon_core.redis_server import EmbeddedRedis
from ambon_core.store import Store
from ambon_sim.callcentre import simulate_day
from workers.feeds import asterisk
from workers.feeds.calls_ingest import CallsIngest, CallSource
from workers.feeds.tail import follow

WIT = ZoneInfo("Asia/Jayapura")


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _ingest(store: Store, db: str, sources: list[CallSource], clock=None) -> CallsIngest:
    engine = make_engine(db)
    migrate(engine)
    return CallsIngest(store, session_factory(engine), CallRules(tz=WIT), sources,
                       hash_key=b"bench", clock=clock)


def bench_truth(store: Store, tmp: Path, days: int) -> None:
    print("== truth: simulated days read back (figure: truth / read) ==")
    for n in range(days):
        day = date(2026, 12, 1) + timedelta(days=n)
        sim = simulate_day(7, day)
        end = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=WIT).astimezone(UTC)
        cut = int(end.timestamp())
        folder = tmp / f"truth-{n}"
        folder.mkdir()
        (folder / "queue_log").write_text("".join(f"{ln}\n" for at, ln in sim.queue_log if at <= cut))
        (folder / "Master.csv").write_text("".join(f"{ln}\n" for at, ln in sim.cdr if at <= cut))
        store.r.flushdb()
        ingest = _ingest(store, f"sqlite:///{folder / 'calls.db'}",
                         [CallSource("q", folder / "queue_log", "queue_log"),
                          CallSource("c", folder / "Master.csv", "cdr")], clock=lambda e=end: e)
        ingest.poll()
        fig = store.call_figures()
        holds = [float(c.hold_s) for c in sim.truth if c.outcome == "answered"]
        left = [float(c.wait_s) for c in sim.truth if c.outcome != "answered"]
        rows = [("calls", len(sim.truth), fig.calls_today),
                ("answered", len(holds), fig.answered_today),
                ("unanswered", len(left), fig.abandoned_today),
                ("answer median s", statistics.median(holds), fig.answer_median_s),
                ("answer p90 s", percentile(holds, 90), fig.answer_p90_s),
                ("gave up after, median s", statistics.median(left) if left else None,
                 fig.abandon_wait_median_s)]
        storm = f"storm {sorted(sim.storm_hours)}" if sim.storm_hours else "no storm"
        print(f"{day} ({storm}):")
        for name, truth, read in rows:
            print(f"  {name:26s} {truth!s:>10} / {read!s:<10} {'exact' if truth == read else 'DIFF'}")


def write_big_log(path: Path, lines: int) -> int:
    """A queue_log of ``lines`` lines (~100 bytes each), calls of 4 lines, in time order."""
    start = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    queue, agent = "112-ambon-gawat-darurat", "Local/7012@from-queue/n"
    with path.open("w", buffering=1 << 22) as fh:
        for k in range(lines // 4):
            t = start + k * 150  # one call after the other: the lines stay in time order
            uid = f"{t}.{k:07d}"
            fh.write(f"{t}|{uid}|{queue}|NONE|ENTERQUEUE||0812{k % 10**8:08d}|1|\n"
                     f"{t + 3}|{uid}|{queue}|{agent}|RINGNOANSWER|15000|\n"
                     f"{t + 9}|{uid}|{queue}|{agent}|CONNECT|9|{uid}7|4\n"
                     f"{t + 140}|{uid}|{queue}|{agent}|COMPLETECALLER|9|131|1\n")
    return path.stat().st_size


def _timed(label: str, fn) -> float:
    wall, cpu = time.perf_counter(), time.process_time()
    n = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  {label:40s} {n:>9} lines {wall:7.1f} s wall {cpu:7.1f} s CPU "
          f"{n / wall:>9,.0f} lines/s ({n / max(cpu, 1e-9):,.0f} per CPU s)")
    return n / max(cpu, 1e-9)  # a shared machine: CPU time is what the code costs


def bench_catch_up(store: Store, tmp: Path, lines: int) -> None:
    print(f"== catch-up: a {lines:,}-line queue_log ==")
    path = Path(tempfile.gettempdir()) / f"bench-calls-{os.getpid()}" / "queue_log"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        size = write_big_log(path, lines)
        print(f"  file: {path} ({size / 1e6:,.0f} MB)  RSS at start {rss_mb():.0f} MB")
        read_only = _timed("baseline: reader only", lambda: sum(
            len(c.lines) for c in follow(path, None)))
        parse_only = _timed("baseline: reader + parser", lambda: sum(
            len(asterisk.parse_queue_log(c.lines).records) for c in follow(path, None)))
        ingest = _ingest(store, f"sqlite:///{tmp / 'big.db'}",
                         [CallSource("big", path, "queue_log")])
        samples: list[tuple[int, float]] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(2.0):
                samples.append((ingest_offset(), rss_mb()))

        def ingest_offset() -> int:
            from workers.feeds import calls_store

            with ingest.sessions() as s:
                state = calls_store.load_offset(s, "big")
            return state.offset if state else 0

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        full = _timed("full: read + parse + book + SQL + Redis", lambda: ingest.poll().lines)
        stop.set()
        watcher.join()
        print(f"  per CPU s: full / reader-only = {full / read_only:.3f}, full / reader+parser = "
              f"{full / parse_only:.2f}")
        print("  RSS while catching up (offset MB -> RSS MB): " + ", ".join(
            f"{o / 1e6:.0f}->{r:.0f}" for o, r in samples[:: max(1, len(samples) // 8)]))
        rss = [r for _, r in samples[len(samples) // 5:]] or [rss_mb()]
        print(f"  RSS after the first fifth: min {min(rss):.0f} MB, max {max(rss):.0f} MB "
              f"(file {size / 1e6:,.0f} MB)")
        bench_follow(store, ingest, path)
    finally:
        for p in path.parent.glob("*"):
            p.unlink()
        path.parent.rmdir()


def bench_follow(store: Store, ingest: CallsIngest, path: Path, samples: int = 20) -> None:
    print(f"== follow: {samples} lines appended, worker loop at 1 s ==")
    stop = threading.Event()

    def loop() -> None:  # the calls worker's loop, at its interval
        while not stop.wait(1.0):
            ingest.poll()

    reader = threading.Thread(target=loop, daemon=True)
    reader.start()
    lags = []
    for k in range(samples):
        now = datetime.now(UTC)
        uid = f"{int(now.timestamp())}.{k}"
        with path.open("a") as fh:
            fh.write(f"{int(now.timestamp())}|{uid}|112|NONE|ENTERQUEUE||0811000{k:04d}|1\n")
        written = time.perf_counter()
        while True:  # poll Redis for the figure that counts this call
            fig = store.call_figures()
            if fig is not None and fig.waiting_now >= k + 1:
                lags.append(time.perf_counter() - written)
                break
            time.sleep(0.01)
        time.sleep(0.37 * (k % 3))  # spread the writes over the worker's interval
    stop.set()
    reader.join()
    print(f"  lag line -> Redis: median {statistics.median(lags):.2f} s, max {max(lags):.2f} s "
          f"(page: + at most ui_refresh_s = 3 s)   RSS {rss_mb():.0f} MB")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--lines", type=int, default=5_000_000)
    p.add_argument("--days", type=int, default=2)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        server = EmbeddedRedis(tmp / "redis")
        client = redis.Redis.from_url(server.start())
        store = Store(client, "bench")
        try:
            bench_truth(store, tmp, args.days)
            store.r.flushdb()
            bench_catch_up(store, tmp, args.lines)
        finally:
            client.close()
            server.stop()


if __name__ == "__main__":
    main()
