"""Simulated CCTV: scene determinism and truth geometry, and the camera server over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from ambon_sim.scenes import (
    LINE_X,
    WIT,
    ZONES,
    DoorSchedule,
    PileScene,
    TrafficScene,
    in_rect,
    make_scene,
)

ROOT = Path(__file__).resolve().parents[1]
DAY = datetime(2026, 3, 3, tzinfo=WIT)  # a Tuesday


def at(hour: int, minute: int = 0) -> datetime:
    """A sim time on the test day."""
    return DAY + timedelta(hours=hour, minutes=minute)


# ---- scenes -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["traffic", "puskesmas", "tps", "market"])
def test_scene_is_deterministic_for_a_seed(kind: str) -> None:
    a = make_scene(kind, "cam-x", 7, start=at(7), speed=60)
    b = make_scene(kind, "cam-x", 7, start=at(7), speed=60)
    a.advance(at(7, 20))
    for m in range(1, 21):  # advancing in small hops gives the same state as one jump
        b.advance(at(7, m))
    assert a.truth() == b.truth()
    assert np.array_equal(a.render(), b.render())
    c = make_scene(kind, "cam-x", 8, start=at(7), speed=60)
    c.advance(at(7, 20))
    assert c.truth()["objects"] != a.truth()["objects"]


def test_frames_have_the_fixed_geometry() -> None:
    scene = make_scene("traffic", "cam-t", 7, start=at(8), speed=60)
    scene.advance(at(8, 5))
    assert scene.render().shape == (360, 640, 3)
    assert scene.render((1280, 720)).shape == (720, 1280, 3)
    truth = scene.truth()
    assert truth["lines"]["garis_hitung"] == [[320, 140], [320, 300]]
    assert set(truth["zones"]) == {"jalur", "larangan_parkir", "parkir_1", "parkir_2",
                                   "parkir_3", "parkir_4"}
    assert truth["objects"], "rush hour should show vehicles"
    for o in truth["objects"]:
        x1, y1, x2, y2 = o["bbox"]
        assert 0 <= x1 < x2 <= 640 and 0 <= y1 < y2 <= 360


def test_each_crossing_is_counted_once_and_matches_geometry() -> None:
    scene = make_scene("traffic", "cam-t", 3, start=at(7, 30), speed=60)
    assert isinstance(scene, TrafficScene)
    seen: dict[str, dict[str, int]] = {"in": {}, "out": {}}
    crossed: set[int] = set()
    last = {a.tid: a.x for a in scene.agents.values()}
    t = at(7, 30)
    for _ in range(1500):  # 150 visual seconds, stepped one step at a time
        t += timedelta(seconds=scene.dt_sim)
        scene.advance(t)
        for a in scene.agents.values():
            old = last.get(a.tid)
            if old is not None and a.cls != "person" and (old - LINE_X) * (a.x - LINE_X) <= 0 \
                    and old != a.x and a.tid not in crossed:
                crossed.add(a.tid)
                way = "in" if a.x > old else "out"
                seen[way][a.cls] = seen[way].get(a.cls, 0) + 1
        last = {a.tid: a.x for a in scene.agents.values()}
    counts = scene.truth()["counts"]["garis_hitung"]
    assert sum(sum(v.values()) for v in counts.values()) >= 20
    assert counts == {k: dict(sorted(v.items())) for k, v in seen.items()}


def test_traffic_events_match_what_is_on_screen() -> None:
    scene = make_scene("traffic", "cam-t", 7, start=at(5), speed=60)
    seen: set[str] = set()
    t = at(5)
    while t < at(21):
        t += timedelta(minutes=1)
        scene.advance(t)
        truth = scene.truth()
        objs = {o["track_id"]: o for o in truth["objects"]}
        for ev in truth["events"]:
            seen.add(ev["type"])
            if ev["type"] == "illegal_parking":
                assert ev["track_id"] in truth["occupancy"]["larangan_parkir"]
            if ev["type"] == "stopped_vehicle" and ev["track_id"] in objs:
                assert objs[ev["track_id"]]["state"] == "stopped"
        for name, busy in truth["traffic"]["slots_occupied"].items():
            assert busy == bool(truth["occupancy"][name])
    assert {"jam", "stopped_vehicle", "illegal_parking"} <= seen


def test_queue_length_equals_persons_in_queue_zone() -> None:
    sched = DoorSchedule(opening_time="08:00", force="closed")
    scene = make_scene("puskesmas", "cam-p", 7, schedule=sched, start=at(6, 45), speed=60)
    poly = ZONES["puskesmas"]["antrean"][1]
    for minute in (15, 45, 75, 100):
        scene.advance(at(7, minute - 15) + timedelta(minutes=15))
        truth = scene.truth()
        people = [o for o in truth["objects"] if o["class"] == "person"]
        inside = [o for o in people
                  if in_rect((o["bbox"][0] + o["bbox"][2]) / 2, o["bbox"][3] - 1, poly)]
        assert truth["queue_length"] == len(inside)
        assert truth["occupancy"]["antrean"] == [o["track_id"] for o in inside]
    assert truth["queue_length"] >= 5, "a closed puskesmas at 08:40 has people waiting"
    assert truth["door_open"] is False
    assert any(e["type"] == "not_open_on_time" for e in truth["events"])


@pytest.mark.parametrize(("force", "closed_at", "open_at"), [
    ("on_time", at(7, 58), at(8, 3)),
    ("late:30", at(8, 20), at(8, 35)),
    ("closed", at(10), None),
])
def test_door_follows_the_plan(force: str, closed_at: datetime, open_at: datetime | None) -> None:
    sched = DoorSchedule(opening_time="08:00", closing_time="14:00", force=force)
    scene = make_scene("puskesmas", "cam-p", 1, schedule=sched, start=at(7, 30), speed=60)
    scene.advance(closed_at)
    assert scene.truth()["door_open"] is False
    if open_at is not None:
        scene.advance(open_at)
        assert scene.truth()["door_open"] is True
        scene.advance(at(14, 5))
        assert scene.truth()["door_open"] is False
    assert scene.truth()["puskesmas"]["plan"]["status"] == force.split(":")[0]


def test_pile_fill_grows_then_drops_after_the_truck() -> None:
    scene = make_scene("tps", "cam-g", 11, start=at(3), speed=600)
    assert isinstance(scene, PileScene)
    visit = scene.truck_visits(DAY.date())
    assert visit, "seed 11 has a morning truck on the test day"
    fills = []
    for t in (at(3), visit[0] - timedelta(minutes=1), visit[0] + timedelta(hours=2)):
        scene.advance(t)
        fill = scene.truth()["pile_fill"]
        assert 0.0 <= fill <= 1.0
        fills.append(fill)
    assert fills[1] > fills[0], "pile grows before the truck"
    assert fills[2] < fills[1] * 0.6, "the truck takes most of it"
    scene.advance(visit[1] - timedelta(minutes=1) if len(visit) > 1 else at(21))
    assert scene.truth()["pile_fill"] > fills[2], "it grows again until the next visit"
    assert any(e["type"] == "collection" for e in scene.truth()["event_log"])


def test_dumping_outside_hours_is_an_event() -> None:
    scene = make_scene("market", "cam-m", 5, start=at(6), speed=600)
    scene.advance(at(18))
    log = [e for e in scene.truth()["event_log"] if e["type"] in ("dumping", "illegal_dumping")]
    assert any(e["type"] == "illegal_dumping" for e in log)
    assert all(e.get("allowed") is False for e in log if e["type"] == "dumping"
               and 6 <= datetime.fromisoformat(e["start"]).hour < 18)


# ---- server -------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = _free_port()
    env = dict(os.environ, YOLO_OFFLINE="1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ambon_sim.cameras", "--port", str(port), "--speed", "60",
         "--seed", "7", "--start", "2026-03-03T07:30", "--cameras",
         "cam-t:traffic,cam-p:puskesmas:08:00,cam-g:tps,cam-f:traffic"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("camera server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _fault(base: str, cam: str, mode: str) -> None:
    r = httpx.post(f"{base}/fault/{cam}", params={"mode": mode}, timeout=2)
    assert r.status_code == 200 and r.json()["mode"] == mode


def _parts(base: str, cam: str, n: int, timeout: float = 5.0) -> list[bytes]:
    """Read ``n`` JPEG parts of the MJPEG stream of ``cam`` with httpx."""
    parts: list[bytes] = []
    with httpx.stream("GET", f"{base}/cam/{cam}/mjpeg", params={"fps": 10},
                      timeout=timeout) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("multipart/x-mixed-replace")
        buf = b""
        for chunk in r.iter_bytes():
            buf += chunk
            while True:
                head_end = buf.find(b"\r\n\r\n")
                if head_end < 0:
                    break
                headers = buf[:head_end].decode("latin-1")
                assert headers.lstrip().startswith("--frame")
                length = int(headers.lower().split("content-length:")[1].split()[0])
                if len(buf) < head_end + 4 + length + 2:
                    break
                parts.append(buf[head_end + 4:head_end + 4 + length])
                buf = buf[head_end + 4 + length + 2:]
                if len(parts) >= n:
                    return parts
    return parts


def test_health_and_truth(server: str) -> None:
    health = httpx.get(f"{server}/healthz", timeout=2).json()
    assert health["ok"] and health["cameras"] == ["cam-f", "cam-g", "cam-p", "cam-t"]
    assert health["sim_time"].startswith("2026-03-03T07:")
    truth = httpx.get(f"{server}/truth/cam-t", timeout=2).json()
    assert truth["kind"] == "traffic" and truth["frame_size"] == [640, 360]
    assert datetime.fromisoformat(truth["sim_time"]).utcoffset() == timedelta(hours=9)
    every = httpx.get(f"{server}/truth", timeout=5).json()
    assert set(every) == {"cam-f", "cam-g", "cam-p", "cam-t"}
    assert every["cam-p"]["queue_length"] is not None and every["cam-g"]["pile_fill"] >= 0
    assert httpx.get(f"{server}/truth/nope", timeout=2).status_code == 404


def test_snapshot_is_a_valid_jpeg(server: str) -> None:
    r = httpx.get(f"{server}/cam/cam-p/snapshot.jpg", timeout=3)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    img = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None and img.shape == (360, 640, 3)
    assert int(r.headers["x-sim-step"]) > 0 and r.headers["x-sim-time"].startswith("2026-03-03")


def test_mjpeg_stream_parses_with_httpx(server: str) -> None:
    parts = _parts(server, "cam-t", 3)
    assert len(parts) == 3
    for p in parts:
        img = cv2.imdecode(np.frombuffer(p, np.uint8), cv2.IMREAD_COLOR)
        assert img is not None and img.shape == (360, 640, 3)


def test_mjpeg_stream_opens_with_opencv(server: str) -> None:
    cap = cv2.VideoCapture(f"{server}/cam/cam-g/mjpeg")
    if not cap.isOpened():
        pytest.skip("this OpenCV build cannot open MJPEG over HTTP")
    try:
        ok, frame = cap.read()
        assert ok and frame.shape == (360, 640, 3)
    finally:
        cap.release()


def test_fault_stop(server: str) -> None:
    _fault(server, "cam-f", "stop")
    try:
        assert httpx.get(f"{server}/cam/cam-f/snapshot.jpg", timeout=2).status_code == 404
        assert httpx.get(f"{server}/cam/cam-f/mjpeg", timeout=2).status_code == 404
    finally:
        _fault(server, "cam-f", "none")
    assert httpx.get(f"{server}/cam/cam-f/snapshot.jpg", timeout=2).status_code == 200


def test_fault_stop_closes_an_open_stream(server: str) -> None:
    with httpx.stream("GET", f"{server}/cam/cam-f/mjpeg", params={"fps": 10}, timeout=3) as r:
        it = r.iter_bytes()
        next(it)
        _fault(server, "cam-f", "stop")
        started = time.monotonic()
        for _ in it:  # drains, then the server closes the connection
            assert time.monotonic() - started < 3
    _fault(server, "cam-f", "none")


def test_fault_corrupt(server: str) -> None:
    _fault(server, "cam-f", "corrupt")
    try:
        parts = _parts(server, "cam-f", 2)
        assert len(parts) == 2
        assert all(cv2.imdecode(np.frombuffer(p, np.uint8), cv2.IMREAD_COLOR) is None
                   for p in parts)
    finally:
        _fault(server, "cam-f", "none")
    good = _parts(server, "cam-f", 1)[0]
    assert cv2.imdecode(np.frombuffer(good, np.uint8), cv2.IMREAD_COLOR) is not None


def test_fault_resize(server: str) -> None:
    _fault(server, "cam-f", "resize")
    try:
        img = cv2.imdecode(np.frombuffer(_parts(server, "cam-f", 1)[0], np.uint8), 1)
        assert img.shape == (720, 1280, 3)
        assert httpx.get(f"{server}/truth/cam-f", timeout=2).json()["frame_size"] == [1280, 720]
    finally:
        _fault(server, "cam-f", "none")


def test_fault_hang(server: str) -> None:
    _fault(server, "cam-f", "hang")
    try:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{server}/cam/cam-f/snapshot.jpg", timeout=httpx.Timeout(2, read=0.8))
        with pytest.raises(httpx.ReadTimeout):
            _parts(server, "cam-f", 1, timeout=0.8)
    finally:
        _fault(server, "cam-f", "none")
    assert httpx.get(f"{server}/healthz", timeout=2).status_code == 200


def test_fault_rejects_unknown_mode(server: str) -> None:
    r = httpx.post(f"{server}/fault/cam-f", params={"mode": "melt"}, timeout=2)
    assert r.status_code == 400


# ---- camera list ----------------------------------------------------------------------
def test_camera_list_from_cli_and_registry() -> None:
    from types import SimpleNamespace as NS

    from ambon_sim.cameras import cameras_from_registry, parse_cameras

    cams = parse_cameras("cam-a:traffic, cam-b:puskesmas:07:30 cam-c:market")
    assert [(c.id, c.kind, c.opening_time) for c in cams] == [
        ("cam-a", "traffic", None), ("cam-b", "puskesmas", "07:30"), ("cam-c", "market", None)]
    with pytest.raises(ValueError):
        parse_cameras("cam-x:airport")
    hours = [NS(days_of_week=["mon", "tue"], opening_time="07:30", closing_time="12:00"),
             NS(days_of_week=["sat"], opening_time="07:30", closing_time="11:00")]
    reg = NS(
        puskesmas=[NS(id="pkm-a", hours=hours)],
        tps=[NS(id="tps-a", dumping_hours=("19:00", "05:00"))],
        cameras=[
            NS(id="cam-p", kind="puskesmas", site="pkm-a",
               source="http://127.0.0.1:8600/cam/cam-p/mjpeg"),
            NS(id="cam-g", kind="tps", site="tps-a", source="http://127.0.0.1:8600/cam/cam-g/mjpeg"),
            NS(id="cam-real", kind="traffic", site=None, source="rtsp://10.0.0.5/stream1"),
        ])
    got = {c.id: c for c in cameras_from_registry(reg)}
    assert set(got) == {"cam-p", "cam-g"}
    sched = got["cam-p"].schedule()
    assert sched.opening_time == "07:30" and sched.days_of_week == ("mon", "tue", "sat")
    assert got["cam-g"].schedule().dump_start == "19:00"


def test_project_registry_has_sim_cameras() -> None:
    from ambon_sim.cameras import load_registry_cameras

    cams = load_registry_cameras()
    assert {c.kind for c in cams} == {"traffic", "puskesmas", "tps", "market"}
