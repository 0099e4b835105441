"""Soak: the simulated city under load for a while; is anything growing without bound?

    .venv/bin/python bench/soak.py [--minutes 30] [--cameras 37] [--incidents 1000]
                                   [--burst-minutes 10] [--sessions 50] [--refresh-s 3]

Starts its own embedded Redis (or REDIS_URL_BENCH), a SQLite DB in a temporary directory
(or DATABASE_URL_BENCH), the camera simulator with the registry's cameras, and the
supervisor with the camera, status and feed workers. A 112 burst of ``--incidents``
incidents over ``--burst-minutes`` (shortened to 60 % of a shorter run) is written as an
Open311 file:// feed, each incident moving new -> verified -> dispatched -> on_scene ->
closed. ``--sessions`` dashboard sessions each read the whole live state every
``--refresh-s`` seconds, as components/data.live() does (one read shared across sessions
per ``--shared-cache-s``; 0 makes every session read Redis itself: the worst case).

Reports the memory growth of every process (psutil), Redis memory, stream lengths and
key count, the slowest dashboard refreshes (and how many took over 2 s), and the
incidents on record at the end. Not a CI test: it prints its figures and its command.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psutil
import redis
import yaml
from sqlalchemy import func, select

from ambon_core.db import make_engine, migrate, session_factory
from ambon_core.models import IncidentRecord
from ambon_core.redis_server import EmbeddedRedis
from ambon_core.settings import DATA_DIR, ROOT
from ambon_core.store import Store

STEPS = ["new", "verified", "dispatched", "on_scene", "resolved", "closed"]
STEP_GAP_S = (20, 60, 90, 120, 60)  # real seconds between steps of one incident
PREFIX = "ambon"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Burst:
    """The 112 burst as an Open311 document rewritten every few seconds."""

    def __init__(self, path: Path, n: int, seconds: float, seed: int = 7) -> None:
        rnd = random.Random(seed)
        self.path, self.n = path, n
        self.arrivals = sorted(rnd.uniform(0, seconds) for _ in range(n))
        self.gaps = [[g * rnd.uniform(0.5, 1.5) for g in STEP_GAP_S] for _ in range(n)]
        self.epoch = datetime.now(UTC)

    def write(self, elapsed: float) -> int:
        docs = []
        for i, arrived in enumerate(self.arrivals):
            if arrived > elapsed:
                break
            reached, t, ext = 0, arrived, {}
            for k, gap in enumerate(self.gaps[i], start=1):
                if t + gap > elapsed:
                    break
                t += gap
                reached = k
                ext[f"{STEPS[k]}_datetime"] = (self.epoch + timedelta(seconds=t)).isoformat()
            status = STEPS[reached]
            ext["status"] = status
            docs.append({
                "service_request_id": f"112-soak-{i:05d}",
                "status": "closed" if status == "closed" else "open",
                "service_code": "banjir", "service_name": "Banjir", "description": "Air naik",
                "agency_responsible": "BPBD",
                "requested_datetime": (self.epoch + timedelta(seconds=arrived)).isoformat(),
                "updated_datetime": (self.epoch + timedelta(seconds=t)).isoformat(),
                "lat": -3.69 + (i % 50) * 0.001, "long": 128.18, "address": "Kota Ambon",
                "extended_attributes": ext})
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(docs))
        os.replace(tmp, self.path)  # the feed never reads half a document
        return len(docs)


class Sessions:
    """Dashboard sessions: each reads the whole live state every ``refresh_s``."""

    def __init__(self, client: redis.Redis, n: int, refresh_s: float, shared_s: float) -> None:
        self.store = Store(client, PREFIX)
        self.n, self.refresh_s, self.shared_s = n, refresh_s, shared_s
        self._cached: tuple[int, object] | None = None
        self._read_lock = threading.Lock()
        self.halt = threading.Event()
        self.latencies: list[float] = []
        self.errors = 0
        self.lock = threading.Lock()

    def _session(self, k: int) -> None:
        self.halt.wait(k * self.refresh_s / self.n)  # spread the sessions over a period
        while not self.halt.is_set():
            t0 = time.perf_counter()
            try:
                self.live()
            except redis.RedisError:
                with self.lock:
                    self.errors += 1
            with self.lock:
                self.latencies.append(time.perf_counter() - t0)
            self.halt.wait(self.refresh_s)

    def live(self) -> object:
        """As components/data.live(): one read shared by all sessions per ``shared_s``."""
        if self.shared_s <= 0:
            return self.store.read_live()
        bucket = int(time.time() / self.shared_s)
        with self._read_lock:
            if self._cached is None or self._cached[0] != bucket:
                self._cached = (bucket, self.store.read_live())
            return self._cached[1]

    def start(self) -> None:
        for k in range(self.n):
            threading.Thread(target=self._session, args=(k,), daemon=True).start()


def process_tree(root: psutil.Process) -> dict[str, psutil.Process]:
    """Name -> process for the supervisor and its children (by their command line)."""
    out = {"supervisor": root}
    for child in root.children(recursive=True):
        try:
            cmd = child.cmdline()
        except psutil.Error:
            continue
        name = cmd[cmd.index("worker") + 1] if "worker" in cmd else Path(cmd[-1]).name
        out[name] = child
    return out


def sim_tree(pid: int) -> dict[str, psutil.Process]:
    """The camera simulator and its RTSP encoders (ffmpeg), by name."""
    sim = psutil.Process(pid)
    return {"sim-cameras": sim} | {f"sim-ffmpeg-{i}": p for i, p in enumerate(sim.children())}


def sample(procs: dict[str, psutil.Process], client: redis.Redis) -> dict:
    rss = {}
    for name, proc in procs.items():
        try:
            rss[name] = proc.memory_info().rss
        except psutil.Error:
            rss[name] = None
    streams = {k.decode(): client.xlen(k) for k in client.scan_iter(f"{PREFIX}:stream:*")}
    return {"t": time.monotonic(), "rss": rss, "redis_used": client.info("memory")["used_memory"],
            "keys": client.dbsize(), "streams": streams,
            "no_ttl": sum(1 for k in client.scan_iter(f"{PREFIX}:snapshot:*") if client.ttl(k) < 0)}


def registry_for(port: int, rtsp_port: int, cameras: int, out: Path) -> Path:
    reg = yaml.safe_load((DATA_DIR / "registry.yaml").read_text())
    reg["cameras"] = reg["cameras"][:cameras]
    for cam in reg["cameras"]:
        cam["source"] = (cam["source"].replace("127.0.0.1:8600", f"127.0.0.1:{port}")
                         .replace("127.0.0.1:8554", f"127.0.0.1:{rtsp_port}"))
    out.write_text(yaml.safe_dump(reg, sort_keys=False))
    return out


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def mb(n: int | None) -> float | None:
    return None if n is None else round(n / 2**20, 1)


def series(samples: list[dict], every_s: float = 300.0) -> dict:
    """RSS (MB) of every process at each ``every_s`` mark after warm-up, and the growth rate
    over the second half of the run (MB/h): a leak keeps its rate, warm-up does not."""
    if not samples:
        return {}
    t0, marks, out = samples[0]["t"], [], {}
    for smp in samples:
        if not marks or smp["t"] - marks[-1]["t"] >= every_s:
            marks.append(smp)
    for name in samples[-1]["rss"]:
        out[name] = {"mb_every_5_min": [mb(m["rss"].get(name)) for m in marks]}
        half = [smp for smp in samples if smp["t"] - t0 >= (samples[-1]["t"] - t0) / 2]
        pts = [(smp["t"], smp["rss"][name]) for smp in half if smp["rss"].get(name)]
        if len(pts) >= 3:
            n = len(pts)
            mx, my = sum(p[0] for p in pts) / n, sum(p[1] for p in pts) / n
            den = sum((p[0] - mx) ** 2 for p in pts)
            slope = sum((p[0] - mx) * (p[1] - my) for p in pts) / den if den else 0.0
            out[name]["second_half_mb_per_h"] = round(slope * 3600 / 2**20, 1)
    return out


def report(first: dict, last: dict, sessions: Sessions, incidents: dict, args, wall_s: float,
           samples: list[dict]) -> dict:
    lat = sorted(sessions.latencies)
    growth = {n: {"start_mb": mb(first["rss"].get(n)), "end_mb": mb(r),
                  "growth_mb": mb(r - first["rss"][n]) if r and first["rss"].get(n) else None}
              for n, r in last["rss"].items()}
    return {
        "command": "bench/soak.py " + " ".join(sys.argv[1:]),
        "minutes": args.minutes, "wall_s": round(wall_s), "cameras": args.cameras,
        "sessions": args.sessions, "refresh_s": args.refresh_s,
        "shared_cache_s": args.shared_cache_s,
        "memory_after_warmup_to_end": growth,
        "memory_series": series(samples),
        "redis": {"used_mb_start": mb(first["redis_used"]), "used_mb_end": mb(last["redis_used"]),
                  "keys_start": first["keys"], "keys_end": last["keys"],
                  "longest_stream": max(last["streams"].values(), default=0),
                  "streams": len(last["streams"]), "snapshots_without_ttl": last["no_ttl"]},
        "refreshes": {"n": len(lat), "errors": sessions.errors,
                      "p50_ms": round(lat[len(lat) // 2] * 1000, 1) if lat else None,
                      "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 1) if lat else None,
                      "max_ms": round(lat[-1] * 1000, 1) if lat else None,
                      "over_2s": sum(1 for x in lat if x > 2.0)},
        "incidents": incidents,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--cameras", type=int, default=37)
    ap.add_argument("--incidents", type=int, default=1000)
    ap.add_argument("--burst-minutes", type=float, default=10)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--refresh-s", type=float, default=3.0)
    ap.add_argument("--warmup-s", type=float, default=45)
    ap.add_argument("--shared-cache-s", type=float, default=1.0,
                    help="live read shared across sessions (UI_SHARED_CACHE_S); 0: every session reads")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ambon-soak-"))
    server = None
    redis_url = os.environ.get("REDIS_URL_BENCH")
    if not redis_url:
        server = EmbeddedRedis(tmp / "redis")
        redis_url = server.start()
    db_url = os.environ.get("DATABASE_URL_BENCH") or f"sqlite:///{tmp / 'soak.db'}"
    migrate(make_engine(db_url))
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    cam_port = free_port()
    rtsp_port = free_port()
    feed_doc = tmp / "open311.json"
    burst_s = min(args.burst_minutes * 60, args.minutes * 60 * 0.6)
    burst = Burst(feed_doc, args.incidents, burst_s)
    burst.write(0)
    (tmp / "feeds.yaml").write_text(
        f"feeds:\n- {{name: open311, url: 'file://{feed_doc}', format: open311-json, interval_s: 5}}\n")
    env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": db_url, "SIM_ENABLED": "false",
           "REGISTRY_PATH": str(registry_for(cam_port, rtsp_port, args.cameras,
                                              tmp / "registry.yaml")),
           "FEEDS_PATH": str(tmp / "feeds.yaml"), "SPOOL_DIR": str(tmp / "spool"),
           "LOG_LEVEL": "WARNING", "YOLO_OFFLINE": "1",
           "YOLO_CONFIG_DIR": str(DATA_DIR / "runtime" / "ultralytics")}
    log = (tmp / "processes.log").open("w")
    sim = subprocess.Popen([sys.executable, "-m", "ambon_sim.cameras", "--port", str(cam_port),
                            "--rtsp-port", str(rtsp_port), "--registry", env["REGISTRY_PATH"],
                            "--log-level", "WARNING"],
                           cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_http(f"http://127.0.0.1:{cam_port}/healthz", 120)
    sup = subprocess.Popen([sys.executable, "-m", "workers", "run", "--only", "cameras", "--only",
                            "status", "--only", "feeds"], cwd=ROOT, env=env, stdout=log,
                           stderr=subprocess.STDOUT)
    sessions = Sessions(redis.Redis.from_url(redis_url, max_connections=64), args.sessions,
                        args.refresh_s, args.shared_cache_s)
    started = time.monotonic()
    end = started + args.minutes * 60
    first = None
    samples = []
    try:
        sessions.start()
        while time.monotonic() < end:
            elapsed = time.monotonic() - started
            written = burst.write(elapsed)
            if elapsed >= args.warmup_s and time.monotonic() - (samples[-1]["t"] if samples else 0) >= 10:
                s = sample(process_tree(psutil.Process(sup.pid)) | sim_tree(sim.pid),
                           client)
                first = first or s
                samples.append(s)
                sys.stderr.write(f"[{elapsed:5.0f} s] incidents in feed {written}, redis "
                                 f"{mb(s['redis_used'])} MB, keys {s['keys']}, "
                                 f"refreshes {len(sessions.latencies)}\n")
            time.sleep(2)
        time.sleep(8)  # the last document is read (feed interval 5 s)
        last = sample(process_tree(psutil.Process(sup.pid)) | sim_tree(sim.pid),
                      client)
    finally:
        sessions.halt.set()
        sup.send_signal(signal.SIGTERM)
        try:
            sup.wait(15)
        except subprocess.TimeoutExpired:
            sup.kill()
        sim.terminate()
        sim.wait(10)
    with session_factory(make_engine(db_url))() as db:
        on_record = db.scalar(select(func.count()).select_from(IncidentRecord))
        closed = db.scalar(select(func.count()).select_from(IncidentRecord).where(
            IncidentRecord.status == "closed"))
    live = Store(client, PREFIX).read_live()
    incidents = {"in_feed": burst.write(time.monotonic() - started), "on_record": on_record,
                 "closed_on_record": closed, "open_live": len(live.incidents),
                 "cameras_live": len(live.cameras),
                 "cameras_ok": sum(1 for c in live.cameras.values() if c.status == "ok")}
    out = report(first or last, last, sessions, incidents, args, time.monotonic() - started,
                 samples)
    if server is not None:
        server.stop()
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    sys.stderr.write(f"logs: {tmp / 'processes.log'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
