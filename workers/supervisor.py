"""The supervisor: starts every configured child, restarts the dead and the stuck, stops them all.

Restarts back off (1, 2, 4 ... 30 s) and at most RESTART_BUDGET per minute per
child. A child that beats for itself but whose heartbeat has expired while Redis
answered is stuck (alive but doing nothing, e.g. blocked inside a native call): it
is killed and restarted like a dead one, as Frigate's watchdog does for a detector.
SIGTERM/SIGINT: terminate every child, kill what is left after the grace.
Under systemd (``Type=notify``) it says READY=1 once the children are started and
WATCHDOG=1 with each heartbeat turn, so a supervisor that hangs is restarted.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import redis
from sqlalchemy.exc import SQLAlchemyError

from ambon_core.db import engine_for, session_factory
from ambon_core.domain import Heartbeat, utcnow
from ambon_core.history import rebuild_live_state
from ambon_core.settings import ROOT, Settings
from ambon_core.store import Store
from workers.catalog import ChildSpec

log = logging.getLogger(__name__)
RESTART_BUDGET = 5  # restarts per child per minute, as Frigate's watchdog
GRACE_S = 8.0


def sd_notify(state: str) -> bool:
    """Send ``state`` ("READY=1", "WATCHDOG=1", ...) to systemd's ``NOTIFY_SOCKET``.

    The protocol is one datagram on a unix socket (sd_notify(3)); a name starting with
    "@" is in the abstract namespace. False when not under systemd or the send failed.
    """
    path = os.environ.get("NOTIFY_SOCKET", "")
    if not path:
        return False
    address = "\0" + path[1:] if path.startswith("@") else path
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.sendto(state.encode(), address)
        except OSError as exc:
            log.warning("supervisor: cannot notify systemd (%s)", exc)
            return False
    return True


@dataclass
class Child:
    spec: ChildSpec
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    next_start: float = 0.0
    failures: int = 0
    restarts: deque[float] = field(default_factory=lambda: deque(maxlen=RESTART_BUDGET))


class Supervisor:
    """Keeps the children alive and beats for itself and for children that cannot."""

    def __init__(self, specs: list[ChildSpec], store: Store, settings: Settings):
        self.children = [Child(s) for s in specs]
        self.store = store
        self.settings = settings
        self.stop = threading.Event()
        self.started = utcnow()
        # Since when Redis has answered without a break: children cannot beat while it is
        # down, so silence only counts once Redis has been back for a heartbeat TTL.
        self.redis_up_since: float | None = None

    def _spawn(self, child: Child) -> None:
        env = {**os.environ, **child.spec.env, "PYTHONUNBUFFERED": "1"}
        child.proc = subprocess.Popen(child.spec.argv, cwd=ROOT, env=env)
        child.started_at = time.monotonic()
        log.info("supervisor: started %s (pid %s)", child.spec.name, child.proc.pid)

    def _check(self, child: Child, now: float) -> None:
        if child.proc is not None and child.proc.poll() is None:
            if self._stuck(child, now):
                log.warning("supervisor: %s (pid %s) alive but silent for %d s; restarting it",
                            child.spec.name, child.proc.pid, self.settings.heartbeat_ttl_s)
                child.proc.kill()  # stuck: it may not be able to handle SIGTERM
                child.proc.wait()
            else:
                if now - child.started_at > 60:
                    child.failures = 0  # it has been stable: forget old failures
                return
        if child.proc is not None:
            log.warning("supervisor: %s exited with %s", child.spec.name, child.proc.returncode)
            child.proc, child.failures = None, child.failures + 1
            child.next_start = now + min(30.0, 2.0 ** (child.failures - 1))
        recent = [t for t in child.restarts if now - t < 60]
        if now >= child.next_start and len(recent) < RESTART_BUDGET:
            child.restarts.append(now)
            self._spawn(child)

    def _stuck(self, child: Child, now: float) -> bool:
        """True when a self-beating child has been silent for a whole heartbeat TTL, counted
        from its start (plus the start-up grace) and from Redis's return, whichever is later."""
        if not child.spec.beats_itself or self.redis_up_since is None:
            return False
        quiet_from = max(child.started_at + self.settings.supervisor_startup_grace_s,
                         self.redis_up_since)
        if now - quiet_from < self.settings.heartbeat_ttl_s:
            return False
        try:
            return self.store.heartbeat(child.spec.name) is None
        except (redis.RedisError, OSError):
            return False  # cannot tell; _watch_redis notices the outage

    def _watch_redis(self, now: float) -> None:
        try:
            self.store.r.ping()
            if self.redis_up_since is None:
                self.redis_up_since = now
        except (redis.RedisError, OSError):
            self.redis_up_since = None

    def _beat(self) -> None:
        host, pid = socket.gethostname(), os.getpid()
        beats = [Heartbeat(worker="supervisor", pid=pid, host=host, started_at=self.started,
                           detail={"children": len(self.children)})]
        for child in self.children:
            if not child.spec.beats_itself and child.proc and child.proc.poll() is None:
                beats.append(Heartbeat(worker=child.spec.name, pid=child.proc.pid, host=host,
                                       started_at=self.started, detail={"via": "supervisor"}))
        for hb in beats:
            self.store.beat(hb, self.settings.heartbeat_ttl_s)

    def _rebuild_if_lost(self) -> None:
        """A Redis that came back empty (restart, failover) gets the live state rebuilt from
        SQL within a second, before the first page reads it bare; workers write on top."""
        try:
            if self.store.rebuilt_at() is not None:
                return
            with session_factory(engine_for(self.settings.database_url))() as session:
                counts = rebuild_live_state(session, self.store)
            log.warning("supervisor: Redis came back empty; live state rebuilt from SQL %s", counts)
        except (redis.RedisError, OSError):
            pass  # still down: the workers back off, we look again in a second
        except SQLAlchemyError as exc:
            log.warning("supervisor: cannot rebuild live state yet (%s)", exc)

    def run(self) -> int:
        """Run until signalled; returns the exit code."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop.set())
        for child in self.children:
            self._spawn(child)
            child.restarts.append(time.monotonic())
        sd_notify(f"READY=1\nSTATUS=supervising {len(self.children)} children")
        last_beat = 0.0
        while not self.stop.wait(1.0):
            now = time.monotonic()
            self._watch_redis(now)
            for child in self.children:
                self._check(child, now)
            self._rebuild_if_lost()
            if now - last_beat >= 2.0:
                try:
                    self._beat()
                    last_beat = now
                except (redis.RedisError, OSError) as exc:
                    log.warning("supervisor: heartbeat failed (%s)", exc)
                # the loop turned: a Redis outage is ridden out by backoff, not by a restart
                sd_notify("WATCHDOG=1")
        sd_notify("STOPPING=1")
        self.shutdown()
        return 0

    def shutdown(self) -> None:
        """Warm shutdown: SIGTERM to all, then SIGKILL after the grace period."""
        live = [c.proc for c in self.children if c.proc and c.proc.poll() is None]
        for proc in live:
            proc.terminate()
        deadline = time.monotonic() + GRACE_S
        for proc in live:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("supervisor: killing pid %s after %.0f s", proc.pid, GRACE_S)
                proc.kill()
        log.info("supervisor: all children stopped")
