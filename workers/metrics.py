"""Prometheus metrics for whoever keeps the server alive (not for the command centre).

Served by the supervisor process on ``127.0.0.1:METRICS_PORT`` (default 9108; 0 = off)
with prometheus_client. Everything is read at scrape time, so a scrape shows the system
as it is and the workers carry no metrics code of their own:

- per camera: capture/analysis fps, inference ms, reconnects, age of the last frame,
  from the camera states in Redis;
- per feed: age of the last good poll, consecutive failures, ok;
- per worker: heartbeat alive, resident memory of each supervised process (psutil);
- spool bytes waiting for the database, Redis and DB round-trip latency;
- the notification outbox: messages per status (pending, sending, sent, invalid) and the
  age of the oldest message still to deliver (a stuck notifier shows as a growing age).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text

from ambon_core.db import engine_for
from ambon_core.domain import utcnow
from ambon_core.models import OutboxMessage
from ambon_core.settings import Settings
from ambon_core.store import Store

log = logging.getLogger(__name__)
NS = "ambon"


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{NS}_{name}", doc, labels=labels)


def _timed(call) -> float:
    """Seconds one call takes; NaN when it fails (a scrape must not fail with it)."""
    start = time.perf_counter()
    try:
        call()
    except Exception:
        return float("nan")
    return time.perf_counter() - start


def spool_bytes(folder: Path) -> int:
    """Bytes of history writes waiting in the spool for the database."""
    if not folder.exists():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _process_name(proc: psutil.Process) -> str:
    """The worker name of a supervised process from its command line."""
    args = proc.cmdline()
    if "worker" in args and args.index("worker") + 1 < len(args):
        return args[args.index("worker") + 1]
    if "streamlit" in " ".join(args):
        return "ui"
    module = next((a for a in args if a.startswith("workers.")), None)
    return module.removeprefix("workers.").replace(".", "-") if module else proc.name()


class AmbonCollector(Collector):
    """Reads the live state, the spool and the processes at each scrape."""

    def __init__(self, store: Store, settings: Settings, root_pid: int | None = None):
        self.store, self.settings = store, settings
        self.root = psutil.Process(root_pid) if root_pid else psutil.Process()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._latency()
        try:
            live = self.store.read_live()
        except Exception:
            live = None
        if live is not None:
            yield from self._cameras(live)
            yield from self._feeds(live)
            alive = _gauge("worker_alive", "1 while the worker's heartbeat is fresh", ["worker"])
            for name, hb in sorted(live.heartbeats.items()):
                alive.add_metric([name], 0.0 if hb is None else 1.0)
            yield alive
        spool = _gauge("spool_bytes", "History writes waiting for the database")
        spool.add_metric([], spool_bytes(self.settings.spool_dir))
        yield spool
        yield from self._outbox()
        yield self._memory()

    def _latency(self) -> Iterator[GaugeMetricFamily]:
        redis_s = _gauge("redis_ping_seconds", "Round trip of a Redis PING (NaN: unreachable)")
        redis_s.add_metric([], _timed(self.store.r.ping))
        db_s = _gauge("db_ping_seconds", "Round trip of SELECT 1 on the record (NaN: unreachable)")
        engine = engine_for(self.settings.database_url)

        def select_one() -> None:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        db_s.add_metric([], _timed(select_one))
        return iter([redis_s, db_s])

    def _cameras(self, live) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        families = {
            "capture_fps": _gauge("camera_capture_fps", "Frames read per second", ["camera"]),
            "infer_fps": _gauge("camera_analysed_fps", "Frames analysed per second", ["camera"]),
            "infer_ms": _gauge("camera_inference_ms", "Detector time per frame, ms", ["camera"]),
            "reconnects": _gauge("camera_reconnects", "Reconnects since the worker started",
                                 ["camera"]),
        }
        age = _gauge("camera_frame_age_seconds", "Seconds since the last frame", ["camera"])
        for cam_id, state in sorted(live.cameras.items()):
            for field, family in families.items():
                family.add_metric([cam_id], float(getattr(state, field)))
            last = state.last_frame_at
            age.add_metric([cam_id], (now - last).total_seconds() if last else float("nan"))
        return iter([*families.values(), age])

    def _feeds(self, live) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        lag = _gauge("feed_lag_seconds", "Seconds since the feed's last good poll", ["feed"])
        errors = _gauge("feed_consecutive_failures", "Failed polls in a row", ["feed"])
        ok = _gauge("feed_ok", "1 when the last poll succeeded", ["feed"])
        for name, status in sorted(live.feeds.items()):
            last = status.last_ok_at
            lag.add_metric([name], (now - last).total_seconds() if last else float("nan"))
            errors.add_metric([name], status.consecutive_failures)
            ok.add_metric([name], 1.0 if status.ok else 0.0)
        return iter([lag, errors, ok])

    def _outbox(self) -> Iterator[GaugeMetricFamily]:
        """Outbox depth from the record; nothing when the database is away (the
        ``db_ping_seconds`` NaN already says so)."""
        try:
            with engine_for(self.settings.database_url).connect() as conn:
                counts = dict(conn.execute(select(OutboxMessage.status, func.count())
                                           .group_by(OutboxMessage.status)).all())
                oldest = conn.execute(select(func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.status.in_(("pending", "sending")))).scalar()
        except Exception as exc:  # a scrape must not fail with the database
            log.debug("metrics: outbox not read (%s)", type(exc).__name__)
            return iter(())
        depth = _gauge("outbox_messages", "Notification messages by status", ["status"])
        for status in ("pending", "sending", "sent", "invalid"):
            depth.add_metric([status], counts.get(status, 0))
        age = _gauge("outbox_oldest_undelivered_seconds",
                     "Age of the oldest pending or sending message (0: none)")
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=utcnow().tzinfo)  # SQLite keeps no zone; stored as UTC
        age.add_metric([], (utcnow() - oldest).total_seconds() if oldest else 0.0)
        return iter([depth, age])

    def _memory(self) -> GaugeMetricFamily:
        rss = _gauge("process_resident_bytes", "Resident memory of each supervised process",
                     ["process", "pid"])
        for proc in [self.root, *self.root.children(recursive=True)]:
            try:
                name = "supervisor" if proc.pid == self.root.pid else _process_name(proc)
                rss.add_metric([name, str(proc.pid)], proc.memory_info().rss)
            except psutil.Error:
                continue  # it exited during the scrape
        return rss


def serve(store: Store, settings: Settings) -> CollectorRegistry | None:
    """Start the endpoint on loopback in a daemon thread; None when METRICS_PORT is 0."""
    if settings.metrics_port == 0:
        return None
    registry = CollectorRegistry()
    registry.register(AmbonCollector(store, settings))
    try:
        start_http_server(settings.metrics_port, addr="127.0.0.1", registry=registry)
    except OSError as exc:  # the port is taken: the city runs on without metrics
        log.warning("metrics: cannot listen on 127.0.0.1:%s (%s); set METRICS_PORT",
                    settings.metrics_port, exc)
        return None
    log.info("metrics on http://127.0.0.1:%s/metrics", settings.metrics_port)
    return registry
