"""The supervisor restarts a child that is alive but stuck (its heartbeat expired).

Real processes and the real Redis of the test: the child beats once through the Store,
then blocks forever ignoring SIGTERM, as a worker wedged inside a native call would.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable

import pytest
import redis

from ambon_core.settings import Settings
from ambon_core.store import Store
from workers.catalog import ChildSpec
from workers.supervisor import Supervisor

BEAT_THEN_HANG = """
import signal, sys, threading
from ambon_core.domain import Heartbeat
from ambon_core.redis_server import connect
from ambon_core.settings import get_settings
from ambon_core.store import Store
signal.signal(signal.SIGTERM, signal.SIG_IGN)
s = get_settings()
store = Store(connect(s), s.key_prefix, s.stream_maxlen)
period = float(sys.argv[1])
while True:
    store.beat(Heartbeat(worker="wedged", pid=__import__("os").getpid(), host="h",
                         started_at=__import__("ambon_core.domain").domain.utcnow()), 1)
    if period <= 0:
        threading.Event().wait()  # wedged: alive, silent, deaf to SIGTERM
    threading.Event().wait(period)
"""


def _supervisor(settings: Settings, store: Store, beat_every_s: float) -> Supervisor:
    tuned = settings.model_copy(update={"heartbeat_ttl_s": 1, "supervisor_startup_grace_s": 0})
    spec = ChildSpec("wedged", [sys.executable, "-c", BEAT_THEN_HANG, str(beat_every_s)],
                     env={"REDIS_URL": settings.redis_url or ""})
    return Supervisor([spec], store, tuned)


def _turn_until(sup: Supervisor, done, limit_s: float = 60.0) -> None:
    """Run the supervisor's 1 s check turn (faster here) until ``done()`` holds."""
    deadline = time.monotonic() + limit_s
    while not done():
        assert time.monotonic() < deadline, "condition not reached"
        sup.stop.wait(0.05)
        now = time.monotonic()
        sup._watch_redis(now)
        for child in sup.children:
            sup._check(child, now)


def _first_beat(sup: Supervisor, store: Store) -> int:
    child = sup.children[0]
    sup._spawn(child)
    child.restarts.append(time.monotonic())
    _turn_until(sup, lambda: store.heartbeat("wedged") is not None)
    return child.proc.pid


def test_a_wedged_child_is_killed_and_restarted(settings: Settings, store: Store) -> None:
    sup = _supervisor(settings, store, beat_every_s=0)
    first = _first_beat(sup, store)
    try:
        _turn_until(sup, lambda: (hb := store.heartbeat("wedged")) is not None and hb.pid != first)
        with pytest.raises(ProcessLookupError):
            os.kill(first, 0)  # the wedged one is gone, not left beside the new one
        assert len(sup.children[0].restarts) == 2  # counted against the restart budget
    finally:
        sup.children[0].proc.kill()


def _three_ttls() -> Callable[[], bool]:
    """Done after three heartbeat TTLs of supervisor turns (what must NOT happen has had
    three chances to)."""
    end = time.monotonic() + 3.0
    return lambda: time.monotonic() > end


def test_a_beating_child_is_left_alone(settings: Settings, store: Store) -> None:
    sup = _supervisor(settings, store, beat_every_s=0.2)
    first = _first_beat(sup, store)
    try:
        _turn_until(sup, _three_ttls())
        assert sup.children[0].proc.pid == first and sup.children[0].proc.poll() is None
    finally:
        sup.children[0].proc.kill()


def test_silence_while_redis_is_unreachable_is_not_stuck(settings: Settings, store: Store) -> None:
    """The child cannot beat while Redis is away: killing it then would restart every
    worker at once after each Redis outage."""
    sup = _supervisor(settings, store, beat_every_s=0)
    first = _first_beat(sup, store)
    with socket.socket() as probe:  # a port nobody listens on: a Redis that is down
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    sup.store = Store(redis.Redis(port=dead_port, socket_connect_timeout=0.2), "x", 10)
    try:
        _turn_until(sup, _three_ttls())
        assert sup.redis_up_since is None
        assert sup.children[0].proc.pid == first and sup.children[0].proc.poll() is None
    finally:
        sup.children[0].proc.kill()
