"""The feed worker against the feed simulator in a subprocess: faults, degradation, catch-up."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ambon_core.domain import AlertKind, FeedStatus
from ambon_core.models import IncidentRecord
from ambon_core.settings import ROOT, Settings
from ambon_core.store import Store
from workers.feeds import open311
from workers.feeds.config import make_feed
from workers.feeds.poller import FetchError, Validators, fetch
from workers.feeds.worker import FeedWorker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sim() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ambon_sim.feeds", "--port", str(port), "--speed", "60",
                             "--seed", "7", "--log-level", "WARNING"], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=0.5).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(5)


def fault(base: str, feed: str, mode: str) -> None:
    httpx.post(f"{base}/fault/{feed}", params={"mode": mode}, timeout=2).raise_for_status()


def feeds_yaml(tmp_path: Path, base: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(f"""feeds:
- {{name: open311, url: "{base}/open311/requests.json", format: open311-json}}
- {{name: gempa, url: "{base}/bmkg/autogempa.xml", format: bmkg-xml}}
- {{name: absensi, url: "{base}/asn/attendance.json", format: attendance-json}}
- {{name: dlh, url: "{base}/dlh/trips.csv", format: dlh-trips}}
""")
    return path


def worker(settings: Settings, tmp_path: Path, base: str) -> FeedWorker:
    return FeedWorker(settings, feeds_path=feeds_yaml(tmp_path, base), retry_wait_s=0.01,
                      overrides={"timeout_s": 2, "retries": 2, "interval_s": 1})


def poll_all(w: FeedWorker) -> None:
    for run in w.runs.values():
        run.next_due = 0.0  # ignore the feed's own backoff: the test drives the clock
    w.run_once()


def test_conditional_get_and_size_cap(sim: str) -> None:
    cfg = make_feed(name="x", url=f"{sim}/fhir/Location", format="fhir-location", retries=1, timeout_s=2)
    with httpx.Client() as client:
        first = fetch(client, cfg)
        assert first.status == 200 and first.validators.etag
        assert fetch(client, cfg, first.validators).status == 304
        assert fetch(client, cfg, Validators(last_modified=first.validators.last_modified)).status == 304
        fault(sim, "fhir", "huge")
        try:
            started = time.monotonic()
            with pytest.raises(FetchError, match=r"/fhir/Location: .*max_bytes=10485760"):
                fetch(client, cfg.model_copy(update={"max_bytes": 10 * 1024 * 1024}))
            assert time.monotonic() - started < 5
        finally:
            fault(sim, "fhir", "none")


def missed_during_outage(sim: str, session: Session, within_s: float = 30) -> set[str]:
    """Incident ids the source has now and our record does not, waiting (polling the
    source, not sleeping a guess) until the simulated city has produced at least one."""
    session.rollback()
    known = set(session.scalars(select(IncidentRecord.incident_id)))
    deadline = time.monotonic() + within_s
    while True:
        body = httpx.get(f"{sim}/open311/requests.json", timeout=2).content
        missed = {i.incident_id for i in open311.parse(body).records} - known
        if missed:
            return missed
        assert time.monotonic() < deadline, f"the simulated city made no new report in {within_s} s"
        time.sleep(0.1)


def test_outage_degrades_one_feed_then_catches_up(settings: Settings, store: Store, session: Session,
                                                  tmp_path: Path, sim: str) -> None:
    w = worker(settings, tmp_path, sim)
    poll_all(w)
    live = store.read_live()
    assert all(f.ok for f in live.feeds.values()), {f.feed: f.last_error for f in live.feeds.values()}
    assert live.incidents
    before = session.scalar(select(func.count()).select_from(IncidentRecord))
    for mode in ("500", "hang", "html"):
        fault(sim, "open311", mode)
        poll_all(w)
    feeds = store.read_live().feeds
    assert feeds["open311"].degraded and feeds["open311"].consecutive_failures == 3
    assert feeds["open311"].last_error and feeds["absensi"].ok and not feeds["absensi"].degraded
    assert any(a.kind is AlertKind.FEED_DEGRADED for a in store.read_live().alerts.values())
    fault(sim, "open311", "none")
    missed = missed_during_outage(sim, session)  # the city moved on while the feed was down
    poll_all(w)
    status = store.get(FeedStatus, "open311")
    assert status.ok and status.consecutive_failures == 0 and status.last_ok_at is not None
    assert status.last_error is None  # a success clears the error of the outage
    assert not any(a.kind is AlertKind.FEED_DEGRADED for a in store.read_live().alerts.values())
    session.rollback()
    ids = session.scalars(select(IncidentRecord.incident_id)).all()
    assert missed and missed <= set(ids)  # caught up: what happened meanwhile is on record
    assert len(ids) == len(set(ids)) and len(ids) > before


@pytest.mark.parametrize("mode", ["truncated", "wrongtypes", "duplicates"])
def test_bad_documents_never_overwrite_good_state(settings: Settings, store: Store, session: Session,
                                                  tmp_path: Path, sim: str, mode: str) -> None:
    w = worker(settings, tmp_path, sim)
    poll_all(w)
    good = {k: v.status for k, v in store.read_live().incidents.items()}
    fault(sim, "open311", mode)
    try:
        poll_all(w)
    finally:
        fault(sim, "open311", "none")
    live = {k: v.status for k, v in store.read_live().incidents.items()}
    ids = session.scalars(select(IncidentRecord.incident_id)).all()
    assert len(ids) == len(set(ids))
    assert live  # the good records of a bad document still count; nothing was blanked
    status = store.get(FeedStatus, "open311")
    if mode == "truncated":
        assert not status.ok and "unreadable" in status.last_error
        assert live == good
    else:
        assert status.ok
    if mode == "wrongtypes":
        dead = store.events(stream="deadletter")
        assert dead and {d["feed"] for d in dead} == {"open311"}
