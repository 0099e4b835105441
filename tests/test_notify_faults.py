"""Faults of the notification path (issue 17): the notifier killed with SIGKILL in the middle
of sending, and the database gone between a send and its mark. The receiver is a real
webhook on loopback; the notifier a real process (SIGKILL) or a real worker (outage)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from ambon_core.actions import instruct
from ambon_core.contacts import add_contact
from ambon_core.db import engine_for, make_engine, migrate, session_factory
from ambon_core.models import OutboxMessage
from ambon_core.settings import ROOT
from tests.receivers import WebhookReceiver, wait_for
from tests.test_notify import CITY_OPDS, REG, fast, late_alert
from workers.notifier import NotifierWorker


def _instructions(session, settings, hooks, n: int) -> None:
    for k, hook in enumerate(hooks):
        add_contact(session, REG, label=f"Kadis {k}", url=hook.target(f"/h{k}"), opd="dinkes",
                    site=None, actor="admin")
    for i in range(n):
        pkm = REG.puskesmas[i % len(REG.puskesmas)]
        instruct(session, late_alert(pkm), "dinkes", f"Instruksi uji {i}", "walikota", CITY_OPDS,
                 registry=REG, settings=settings)


def _sent(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "sent"))


def test_sigkill_of_the_notifier_loses_nothing_and_repeats_only_the_batch_in_flight(
        settings, store, session) -> None:
    n = 30
    with WebhookReceiver(delay_s=0.05) as hook:
        _instructions(session, settings, [hook], n)
        keys = set(session.scalars(select(OutboxMessage.key)))
        env = {**os.environ, "REDIS_URL": settings.redis_url or "",
               "DATABASE_URL": settings.database_url, "SIM_ENABLED": "false",
               "NOTIFY_CLAIM_LEASE_S": "1", "NOTIFY_INTERVAL_S": "0.2", "LOG_LEVEL": "WARNING"}

        def start() -> subprocess.Popen:
            return subprocess.Popen([sys.executable, "-m", "workers", "worker", "notifier"],
                                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        first = start()
        try:
            wait_for(lambda: len(hook.counts) >= 8, 60)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            killed_at = len(hook.counts)
            assert killed_at < n  # it died in the middle
            second = start()
            try:
                wait_for(lambda: _sent(session_factory(engine_for(settings.database_url))) == n, 90)
            finally:
                second.terminate()
                second.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        assert set(hook.counts) == keys  # every message arrived
        doubled = [k for k, c in hook.counts.items() if c > 1]
        # only messages of the batch in flight can be between their send and their mark;
        # they come again with the same key, so a receiver that dedupes sees each once
        assert len(doubled) <= NotifierWorker.batch, doubled
        assert all(c <= 2 for c in hook.counts.values())
        assert len(hook.messages) == n  # after dedupe on the key: exactly once each


def test_db_outage_between_send_and_mark_sends_nothing_twice(settings, store, tmp_path: Path,
                                                             session) -> None:
    home = tmp_path / "db"
    url = f"sqlite:///{home / 'ambon.db'}"
    migrate(make_engine(url))
    s = fast(settings.model_copy(update={"database_url": url}))
    sessions = session_factory(engine_for(url))
    cut, restored = threading.Event(), threading.Event()

    def outage_on_first(key: str) -> None:
        if not cut.is_set():
            home.rename(tmp_path / "db-away")  # the DB goes away while this reply is on its way
            engine_for(url).dispose()
            cut.set()

    with WebhookReceiver(on_accept=outage_on_first, delay_s=0.02) as hook:
        with sessions() as db:
            _instructions(db, s, [hook], 2 * NotifierWorker.batch + 3)
        worker = NotifierWorker(s)
        for _ in range(3):  # the turn that hits the outage, then turns during it
            try:
                worker.run_once()
            except OperationalError as exc:  # the loop backs off on these
                assert "unable to open database" in str(exc) or "no such" in str(exc).lower()
        assert cut.is_set() and worker.unmarked  # sent, the marks wait in memory
        in_flight = len(hook.counts)
        assert in_flight <= NotifierWorker.batch  # the batch claimed before; nothing new
        assert 0 < len(worker.unmarked) <= in_flight
        (tmp_path / "db-away").rename(home)
        restored.set()
        total = 2 * NotifierWorker.batch + 3
        wait_for(lambda: _sent(sessions) == total, 60, step=worker.run_once)
        assert len(hook.counts) == total and set(hook.counts.values()) == {1}  # none twice
