"""The Redis store against a real Redis server: keys, TTLs, streams, one-trip reads."""

from __future__ import annotations

import time

import redis

from ambon_core.domain import (
    Alert,
    AlertKind,
    CameraKind,
    CameraState,
    Heartbeat,
    Incident,
    PuskesmasState,
    PuskesmasStatus,
    utcnow,
)
from ambon_core.store import Store


class CountingConnection(redis.Connection):
    """A real connection that counts the packets it sends (one per round trip)."""

    sent = 0

    def send_packed_command(self, command, check_health=True):
        CountingConnection.sent += 1
        return super().send_packed_command(command, check_health)


class CountingUnixConnection(redis.UnixDomainSocketConnection):
    def send_packed_command(self, command, check_health=True):
        CountingConnection.sent += 1
        return super().send_packed_command(command, check_health)


def _seed(store: Store) -> None:
    store.put(CameraState(camera_id="cam-a", kind=CameraKind.TRAFFIC, objects={"car": 3}),
              PuskesmasState(puskesmas_id="pkm-a", status=PuskesmasStatus.BUKA),
              Incident(incident_id="112-1", category="banjir", title="Banjir Batu Merah"),
              Alert(alert_id="x", kind=AlertKind.INCIDENT, entity_id="112-1"))
    store.beat(Heartbeat(worker="w1", pid=1, host="h", started_at=utcnow()), ttl_s=30)


def test_put_and_read_live_roundtrip(store: Store) -> None:
    _seed(store)
    live = store.read_live()
    assert live.cameras["cam-a"].objects == {"car": 3}
    assert live.puskesmas["pkm-a"].status == PuskesmasStatus.BUKA
    assert live.incidents["112-1"].title == "Banjir Batu Merah"
    assert live.heartbeats["w1"] is not None and live.heartbeats["w1"].worker == "w1"
    assert live.cameras["cam-a"].age_s() < 5  # every value carries updated_at


def test_whole_page_read_is_one_round_trip(store: Store, settings) -> None:
    _seed(store)
    url = settings.redis_url
    cls = CountingUnixConnection if url.startswith("unix") else CountingConnection
    pool = redis.ConnectionPool.from_url(url, connection_class=cls)
    counted = Store(redis.Redis(connection_pool=pool), store.p)
    counted.r.ping()
    CountingConnection.sent = 0
    live = counted.read_live()
    assert CountingConnection.sent == 1
    assert set(live.cameras) == {"cam-a"}


def test_heartbeat_expires_with_its_ttl(store: Store) -> None:
    store.beat(Heartbeat(worker="short", pid=1, host="h", started_at=utcnow()), ttl_s=1)
    assert store.read_live().heartbeats["short"] is not None
    time.sleep(1.3)
    assert store.read_live().heartbeats["short"] is None  # known worker, now dead


def test_camera_history_stream_is_trimmed(store: Store) -> None:
    small = Store(store.r, store.p, stream_maxlen=100)
    for i in range(1000):
        small.put(CameraState(camera_id="cam-a", kind=CameraKind.TRAFFIC, objects={"car": i}),
                  history=True)
    length = store.r.xlen(small.key_stream("camera:cam-a"))
    assert 100 <= length < 400  # MAXLEN ~ trims in whole macro nodes
    assert small.camera_history("cam-a", 1)[0].objects == {"car": 999}


def test_unreadable_value_is_skipped_not_fatal(store: Store) -> None:
    _seed(store)
    store.r.hset(store.key_state("camera"), "cam-bad", b"{not json")
    live = store.read_live()
    assert "cam-bad" not in live.cameras and "cam-a" in live.cameras


def test_leases_are_exclusive_and_expire(store: Store) -> None:
    assert store.claim("cam-a", "w1", ttl_s=1)
    assert not store.claim("cam-a", "w2", ttl_s=1)
    assert store.claim("cam-a", "w1", ttl_s=1)  # renew
    time.sleep(1.2)
    assert store.claim("cam-a", "w2", ttl_s=5)  # a dead holder's camera is taken over
    store.release("cam-a", "w1")  # not the holder: nothing happens
    assert store.r.get(store.key_lease("cam-a")) == b"w2"


def test_dead_letter_and_events_streams(store: Store) -> None:
    store.dead_letter("open311", '{"id": 1}', "lat: outside Indonesia")
    store.event("alert_raised", alert_id="a1")
    assert store.events(stream="deadletter")[0]["reason"] == "lat: outside Indonesia"
    assert store.events()[0]["alert_id"] == "a1"


def test_remove_drops_entities(store: Store) -> None:
    _seed(store)
    store.remove(Incident, "112-1")
    assert store.get(Incident, "112-1") is None
    assert store.is_empty() is False
