"""A worker is a small supervised loop: do one turn, beat, wait; back off on errors."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from abc import ABC, abstractmethod
from functools import cached_property

import redis
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ambon_core.db import engine_for, session_factory
from ambon_core.domain import Heartbeat, utcnow
from ambon_core.redis_server import connect
from ambon_core.registry import Registry, load_registry
from ambon_core.settings import Settings, get_settings
from ambon_core.spool import HistoryWriter, spool_max_bytes, spool_root
from ambon_core.store import Store

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 30.0


class LoopWorker(ABC):
    """Base of every periodic worker. Subclasses implement ``turn()``."""

    name: str = "worker"
    interval_s: float = 5.0

    def __init__(self, settings: Settings | None = None, registry: Registry | None = None):
        self.settings = settings or get_settings()
        self.registry = registry or load_registry(self.settings.registry_path)
        self.stop = threading.Event()
        self.started_at = utcnow()
        self.failures = 0
        self.detail: dict[str, str | int | float | None] = {}

    @cached_property
    def store(self) -> Store:
        client = connect(self.settings, check=False)
        return Store(client, self.settings.key_prefix, self.settings.stream_maxlen)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(engine_for(self.settings.database_url))

    @cached_property
    def history(self) -> HistoryWriter:
        """The SQL record, spooled on disk while the database is unreachable."""
        return HistoryWriter(self.sessions, spool_root() / self.name, spool_max_bytes())

    @abstractmethod
    def turn(self) -> None:
        """One unit of work; raise to signal failure (the loop backs off)."""

    def beat(self, state: str = "running") -> None:
        detail = dict(self.detail)
        if "history" in self.__dict__ and (self.history.pending or self.history.dropped):
            detail.update(spooled=self.history.pending, spool_dropped=self.history.dropped)
        hb = Heartbeat(worker=self.name, pid=os.getpid(), host=socket.gethostname(),
                       started_at=self.started_at, state=state, detail=detail)  # type: ignore[arg-type]
        self.store.beat(hb, self.settings.heartbeat_ttl_s)

    def run_once(self) -> None:
        self.turn()
        if "history" in self.__dict__:
            self.history.drain()  # the spool is replayed even in a quiet turn
        self.beat()

    def run(self) -> None:
        """Loop until ``stop`` is set; SIGTERM/SIGINT set it (warm shutdown)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop.set())
        log.info("%s: started (every %.1f s)", self.name, self.interval_s)
        wait = 0.0
        while not self.stop.wait(wait):
            try:
                self.run_once()
                self.failures, wait = 0, self.interval_s
            except (redis.RedisError, OSError, SQLAlchemyError) as exc:
                self.failures += 1
                # retry at least every third of the heartbeat TTL: back before shown dead
                cap = min(MAX_BACKOFF_S, max(self.interval_s, self.settings.heartbeat_ttl_s / 3))
                wait = min(cap, self.interval_s * 2 ** min(self.failures, 6))
                log.warning("%s: turn failed (%s); retrying in %.0f s", self.name, exc, wait)
                self._try_beat("degraded")
        self._try_beat("stopping")
        log.info("%s: stopped", self.name)

    def _try_beat(self, state: str) -> None:
        try:
            self.beat(state)
        except (redis.RedisError, OSError):
            pass  # Redis itself is what failed; the next good turn beats again
