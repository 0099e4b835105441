"""The workers' Prometheus endpoint: a real supervisor process serving it on loopback,
scraped over HTTP and parsed with prometheus_client's own text parser."""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ambon_core.domain import CameraKind, CameraState, CameraStatus, FeedStatus, utcnow
from ambon_core.settings import ROOT, Settings
from ambon_core.store import Store
from workers.metrics import AmbonCollector


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _seed(store: Store) -> None:
    now = utcnow()
    store.put(CameraState(camera_id="cam-lalin-01", kind=CameraKind.TRAFFIC,
                          status=CameraStatus.OK, capture_fps=12.5, infer_fps=2.0, infer_ms=41.5,
                          reconnects=3, last_frame_at=now - timedelta(seconds=4)),
              FeedStatus(feed="open311", ok=False, last_ok_at=now - timedelta(minutes=10),
                         consecutive_failures=4, last_error="timeout"))


def test_supervisor_serves_metrics_on_loopback(settings: Settings, store: Store,
                                               tmp_path: Path) -> None:
    _seed(store)
    spool = tmp_path / "spool" / "feeds"
    spool.mkdir(parents=True)
    (spool / "000001.json").write_bytes(b"x" * 1234)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "workers", "run", "--only", "status"],
                            cwd=ROOT, env={**os.environ, "METRICS_PORT": str(port),
                                           "SPOOL_DIR": str(tmp_path / "spool")},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        samples, deadline = {}, time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                samples = _samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
            except httpx.HTTPError:
                samples = {}
            if samples.get(("ambon_worker_alive", (("worker", "supervisor"),))) == 1 and any(
                    k[0] == "ambon_process_resident_bytes" and ("process", "status") in k[1]
                    for k in samples):
                break
            time.sleep(0.5)  # poll interval while the supervisor starts
        cam = (("camera", "cam-lalin-01"),)
        assert samples[("ambon_camera_inference_ms", cam)] == 41.5
        assert samples[("ambon_camera_analysed_fps", cam)] == 2.0
        assert samples[("ambon_camera_reconnects", cam)] == 3
        assert 3 <= samples[("ambon_camera_frame_age_seconds", cam)] < 120
        feed = (("feed", "open311"),)
        assert samples[("ambon_feed_consecutive_failures", feed)] == 4
        assert samples[("ambon_feed_ok", feed)] == 0 and samples[("ambon_feed_lag_seconds", feed)] >= 600
        assert samples[("ambon_spool_bytes", ())] == 1234
        assert 0 < samples[("ambon_redis_ping_seconds", ())] < 5
        assert 0 < samples[("ambon_db_ping_seconds", ())] < 5
        assert samples[("ambon_worker_alive", (("worker", "supervisor"),))] == 1
        memory = {dict(k[1])["process"]: v for k, v in samples.items()
                  if k[0] == "ambon_process_resident_bytes"}
        assert memory["supervisor"] > 10e6 and memory["status"] > 10e6
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_metrics_only_on_loopback(settings: Settings, store: Store) -> None:
    """Not reachable on the machine's other addresses (the administrator tunnels or runs
    Prometheus on the server)."""
    from workers.metrics import serve

    port = _free_port()
    assert serve(store, settings.model_copy(update={"metrics_port": port})) is not None
    assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 200
    addresses = {a.address for nic in __import__("psutil").net_if_addrs().values() for a in nic
                 if a.family == socket.AF_INET and not a.address.startswith("127.")}
    for address in addresses:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{address}:{port}/metrics", timeout=2)


def test_a_scrape_survives_redis_and_db_away(settings: Settings, tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there
    dead = Store(redis.Redis(host="127.0.0.1", port=port, socket_timeout=1), "ambon", 100)
    config = settings.model_copy(update={"database_url": f"postgresql+psycopg://x@127.0.0.1:{port}/x",
                                         "spool_dir": tmp_path})
    registry = CollectorRegistry()
    registry.register(AmbonCollector(dead, config))
    samples = _samples(generate_latest(registry).decode())
    assert math.isnan(samples[("ambon_redis_ping_seconds", ())])
    assert math.isnan(samples[("ambon_db_ping_seconds", ())])
    assert samples[("ambon_spool_bytes", ())] == 0


def test_outbox_depth_and_age_of_the_oldest_undelivered(settings: Settings, store: Store,
                                                         session) -> None:
    """Two targets for one instruction: both pending, then one sent by the notifier's
    bookkeeping; the gauges follow the table."""
    from sqlalchemy import update

    from ambon_core.contacts import add_contact
    from ambon_core.models import OutboxMessage
    from tests.test_notify import PKM, REG, give

    for label, target in (("Kapus", "json://127.0.0.1:9/a"), ("Piket", "json://127.0.0.1:9/b")):
        add_contact(session, REG, label=label, url=target, opd="dinkes", site=PKM.id, actor="admin")
    give(session, settings)
    registry = CollectorRegistry()
    registry.register(AmbonCollector(store, settings))
    samples = _samples(generate_latest(registry).decode())
    assert samples[("ambon_outbox_messages", (("status", "pending"),))] == 2
    assert samples[("ambon_outbox_messages", (("status", "sent"),))] == 0
    assert 0 <= samples[("ambon_outbox_oldest_undelivered_seconds", ())] < 600
    session.execute(update(OutboxMessage).values(status="sent"))
    session.commit()
    samples = _samples(generate_latest(registry).decode())
    assert samples[("ambon_outbox_messages", (("status", "sent"),))] == 2
    assert samples[("ambon_outbox_oldest_undelivered_seconds", ())] == 0


def test_grafana_dashboard_uses_only_metrics_that_exist(settings: Settings, store: Store) -> None:
    import json
    import re

    _seed(store)
    registry = CollectorRegistry()
    registry.register(AmbonCollector(store, settings))
    served = {f.name for f in text_string_to_metric_families(generate_latest(registry).decode())}
    doc = json.loads((ROOT / "deploy" / "grafana" / "ambon-dashboard.json").read_text())
    used = {name for panel in doc["panels"] for target in panel["targets"]
            for name in re.findall(r"ambon_[a-z_]+", target["expr"])}
    assert used and used <= served, used - served
    assert len({p["id"] for p in doc["panels"]}) == len(doc["panels"])
