"""Real cameras at real resolution: stream roles, decode only what is analysed, overload
made visible, and the bad inputs of issue 16 -- each a clear health state, never a frozen
frame shown as live. Streams come from the simulator's RTSP cameras (clips rendered once,
looped with stream copy, 1920x1080 main + 640x360 sub-stream)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from pydantic import ValidationError

from ambon_core.domain import CameraStatus
from ambon_core.registry import Registry, RegistryError, parse_registry
from ambon_core.settings import ROOT, CameraStreams
from tests.test_camera_capture import MjpegServer
from tests.test_camera_worker import make_worker, registry_dict
from tests.test_faults_cameras import fault, run_sim, turn_worker_until
from tests.test_faults_redis import free_port, wait_for
from tests.test_rtsp import needs_ffmpeg
from workers.camera.capture import CaptureConfig, Grabber
from workers.camera.overload import LoadMonitor, cpu_wait_ns, overload_cause, shed_factor
from workers.camera.processes import analysis_processes, camera_specs
from workers.camera.streams import camera_health
from workers.camera.worker import CameraWorker
from workers.status_report import status_report

FAST = CaptureConfig(open_timeout_s=3, read_timeout_s=2, backoff_max_s=1, restarts_per_minute=30)


# ---- registry and settings ----------------------------------------------------------------
def _registry_yaml(extra: str) -> str:
    return f"""puskesmas: []
tps: []
opds: []
cameras:
  - id: cam-a
    name: A
    kind: traffic
    kecamatan: Sirimau
    lat: -3.69
    lon: 128.18
    source: rtsp://10.0.0.5/main
{extra}"""


def test_detect_source_is_the_analysed_stream_and_is_validated() -> None:
    reg = parse_registry(_registry_yaml("    detect_source: rtsp://10.0.0.5/sub\n"))
    assert reg.cameras[0].analysis_source == "rtsp://10.0.0.5/sub"
    assert parse_registry(_registry_yaml("")).cameras[0].analysis_source == "rtsp://10.0.0.5/main"
    for bad, words in (('""', "detect_source is empty"), ("rtsp://10.0.0.5/main", "same URL as source"),
                       ("/srv/clip.mp4", "must be a stream URL")):
        with pytest.raises(RegistryError) as err:
            parse_registry(_registry_yaml(f"    detect_source: {bad}\n"), "registry.yaml")
        assert "registry.yaml:" in str(err.value) and words in str(err.value)


def test_camera_stream_settings_are_typed() -> None:
    assert CameraStreams(traffic_fps=5).target_fps("traffic") == 5.0
    assert CameraStreams().target_fps("tps") == 0.5 and "tps" in CameraStreams().keyframes_only
    assert CameraStreams().target_fps("puskesmas") == 0.5 and "puskesmas" in CameraStreams().keyframes_only
    with pytest.raises(ValidationError):
        CameraStreams(traffic_fps=0)
    with pytest.raises(ValidationError):
        CameraStreams(hwaccel="magic")


def _taken(grabber: Grabber, stamps: list[float]) -> list[float]:
    return [t for t in stamps if grabber.due(t)]


def test_the_cadence_takes_its_share_of_key_frames_without_aliasing_or_bursts() -> None:
    """0.5 fps from a key frame every 1.5 s (a few ms of jitter) is 0.5 fps, not the ~0.33
    a fixed schedule gave (any key frame a little early was skipped for the next)."""
    rng = np.random.default_rng(3)
    keys = list(np.arange(0, 120, 1.5) + rng.uniform(-0.005, 0.005, 80))
    taken = _taken(Grabber("k", "rtsp://x", analyse_fps=0.5), keys)
    assert len(taken) == 60 and max(np.diff(taken)) <= 3.01  # 3 key frames of 4, never 2 skipped
    frames = list(np.arange(0, 60, 0.05))  # a 20 fps sub-stream analysed at 2 fps
    taken = _taken(Grabber("t", "rtsp://x", analyse_fps=2.0), frames)
    assert len(taken) == 120 and min(np.diff(taken)) > 0.45
    g = Grabber("g", "rtsp://x", analyse_fps=2.0)
    before = _taken(g, list(np.arange(0, 10, 0.05)))
    after = _taken(g, list(np.arange(30, 40, 0.05)))  # 20 s without pictures, then back
    assert len(before) == 20 and 20 <= len(after) <= 21 and min(np.diff(after)) > 0.2


def test_one_analysis_process_per_core_sharing_the_cameras() -> None:
    assert analysis_processes(37, cores=2) == 2 and analysis_processes(37, cores=16) == 4
    assert analysis_processes(2, cores=2) == 1  # two cameras fit one core
    specs = camera_specs(["python", "-m", "workers", "worker", "cameras"], 37)
    if len(specs) > 1:  # on a multi-core host
        assert [s.env["CAMERA_WORKER_MAX"] for s in specs][0] == str(-(-37 // len(specs)))
        assert len({s.env["CAMERA_WORKER_NAME"] for s in specs}) == len(specs)


# ---- overload logic -----------------------------------------------------------------------
def test_overload_cause_and_shed_order() -> None:
    assert overload_cause(1.9, 2.0, 2.0, 0.1) is None  # 95 % of the target
    assert overload_cause(1.0, 2.0, 2.0, 0.7) == "cpu"  # threads waited for a core
    assert overload_cause(1.0, 2.0, 1.0, 0.1) == "decode"  # the frames did not arrive
    assert overload_cause(1.0, 2.0, 2.0, 0.1) == "inference"  # they did; analysis had no time
    # slow scenes first: sites halve, then quarter, before traffic gives anything up
    assert [shed_factor(level, "tps") for level in range(5)] == [1.0, 0.5, 0.25, 0.25, 0.25]
    assert [shed_factor(level, "traffic") for level in range(5)] == [1.0, 1.0, 1.0, 0.5, 0.25]


def test_load_monitor_sheds_when_busy_and_steps_back_after_slack() -> None:
    mon = LoadMonitor()
    for i in range(20):
        mon.record_turn(100.0 + i * 0.5, 0.5, 0.5)  # every turn used its whole period
    assert mon.busy_share(110.0) == pytest.approx(1.0)
    assert mon.update_level(110.0, starved=False) == 1
    assert mon.update_level(112.0, starved=True) == 1  # at most one step per 5 s
    assert mon.update_level(115.5, starved=True) == 2
    mon.turns.clear()
    for i in range(100):
        mon.record_turn(120.0 + i * 0.5, 0.05, 0.5)
    assert mon.update_level(130.0, starved=False) == 2  # slack starts counting
    assert mon.update_level(161.0, starved=False) == 1  # after 30 s of slack
    run, _wait = cpu_wait_ns()
    assert run > 0  # the kernel's per-thread schedstat is readable here


class _SteadyGrabber:
    """The grabber's side that the load watch reads: frames delivered at ``fps``."""

    keyframes_only = False

    def __init__(self, fps: float):
        self.fps, self.cadences = fps, []

    def delivered_fps(self, window: float) -> float:
        return self.fps

    def set_cadence(self, fps: float) -> None:
        self.cadences.append(fps)


def test_a_shed_worker_that_keeps_up_steps_back_and_still_shows_overloaded() -> None:
    """Shed to the last level, a traffic camera analysed at its shed rate (0.5 of 2 fps)
    with an idle loop: it is shown ``overloaded`` (below its configured cadence), yet the
    level steps back after 30 s of slack instead of staying shed forever, and on to 0 as
    the camera keeps up with each new rate."""
    from types import SimpleNamespace

    from ambon_core.domain import CameraKind
    from workers.camera.load_watch import target_fps, watch_load

    cam = SimpleNamespace(kind=CameraKind.TRAFFIC)
    held = SimpleNamespace(camera=cam, grabber=_SteadyGrabber(20.0), taken_at=0.0, analysed=[],
                           overload=None, behind=None)
    worker = SimpleNamespace(streams=CameraStreams(), load=LoadMonitor(level=4), period_s=0.5,
                             held={"cam-a": held}, detector=object())
    levels, shown = [], []
    for i in range(800):  # 400 s of turns; analysed at whatever rate the worker wants now
        now = 100.0 + 0.5 * i
        if not held.analysed or now - held.analysed[-1] >= 1 / target_fps(worker, held) - 1e-9:
            held.analysed = [t for t in held.analysed if now - t <= 10] + [now]
        watch_load(worker, now, 0.02)
        levels.append(worker.load.level)
        shown.append(held.overload)
    assert levels[60] == 4 and shown[60] in ("inference", "cpu")  # shed, and shown overloaded
    assert levels == sorted(levels, reverse=True)  # never shed again: it kept up each time
    assert levels[-1] == 0 and shown[-1] is None  # back at full rate, ok
    assert held.grabber.cadences[-1] == 2.0  # the capture was told each new cadence


def test_a_slow_camera_reads_its_real_rate_not_zero() -> None:
    """A TPS camera shed to 1/4 of 0.5 fps is analysed every 8 s: over a 10 s window it
    would read 0 fps (fewer than two frames); over three of its periods it reads 0.125."""
    from workers.camera.worker import _rate

    stamps = [100.0 + 8 * i for i in range(5)]  # 100 .. 132; the next one comes at 140
    assert _rate(stamps, 139.5, 10.0) == 0.0  # only 132 within 10 s
    assert _rate(stamps, 139.5, max(10.0, 3.0 / 0.125)) == pytest.approx(0.125)


def test_health_states_of_stream_failures() -> None:
    ok, no = CameraStatus.OK, CameraStatus.NO_SIGNAL
    assert camera_health(True, True, None, None, None).status == ok
    assert camera_health(True, True, "cpu", None, None) == camera_health(True, True, "cpu", None, True)
    assert camera_health(True, True, "cpu", None, None).status == CameraStatus.OVERLOADED
    assert camera_health(False, True, None, None, True) == type(camera_health(True, True, None, None, None))(
        no, "detect_down")
    assert camera_health(True, True, None, None, False).cause == "main_down"
    assert camera_health(True, True, None, None, False).status == ok  # analysis is fine
    assert camera_health(False, True, None, "no_keyframe", True).cause == "no_keyframe"
    assert camera_health(False, False, None, None, None).status == CameraStatus.STARTING


# ---- decode only what is analysed ---------------------------------------------------------
def test_file_capture_grabs_every_frame_and_converts_only_the_analysed(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (160, 90))
    for i in range(25):
        writer.write(np.full((90, 160, 3), i * 8, np.uint8))
    writer.release()
    g = Grabber("cam-f", str(path), FAST, analyse_fps=2.0)
    g.start()
    try:
        assert wait_for(lambda: g.decoded >= 60, 20, 0.05)
        assert g.frames <= g.decoded / 5  # ~2 of every 25 pictures became arrays
        assert g.frames >= 2 and g.cpu_s > 0
    finally:
        g.stop()
        g.join(5)


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[str, str]]:
    """(http base, rtsp base) of a simulator with one traffic and one TPS camera on RTSP."""
    port = free_port()
    with run_sim("--cameras", "cam-t:traffic", "cam-p:tps", "--rtsp-cameras", "all",
                 "--rtsp-port", str(port), "--clip-seconds", "2") as base:
        wait_for(lambda: all(httpx.get(f"{base}/healthz", timeout=1).json()["rtsp"].values()), 90, 0.3)
        yield base, f"rtsp://127.0.0.1:{port}/cam"


@needs_ffmpeg
def test_sim_streams_like_a_real_camera_and_keyframes_only_decodes_one_per_gop(sim) -> None:
    base, rtsp = sim
    main = Grabber("cam-t", f"{rtsp}/cam-t", FAST, analyse_fps=2.0)
    sub = Grabber("cam-t", f"{rtsp}/cam-t/sub", FAST, analyse_fps=2.0)
    keys = Grabber("cam-p", f"{rtsp}/cam-p/sub", FAST, keyframes_only=True)
    for g in (main, sub, keys):
        g.start()
    try:
        assert wait_for(lambda: sub.decoded >= 60 and main.decoded >= 60 and keys.frames >= 3, 40, 0.2)
        assert main.stream_size == (1920, 1080) and sub.stream_size == (640, 360)
        assert main.codec == sub.codec == "h264"
        assert sub.frames <= sub.decoded / 4  # the rest were decoded, never converted
        assert keys.decoded == keys.frames and keys.decoded <= 0.2 * sub.decoded  # 1 per 30
        truth = httpx.get(f"{base}/truth/cam-t").json()
        assert "clip_frame" in truth and "garis_hitung" in truth["counts"]
    finally:
        for g in (main, sub, keys):
            g.stop()


@needs_ffmpeg
def test_codec_change_to_h265_is_followed_and_counted(sim) -> None:
    base, rtsp = sim
    g = Grabber("cam-t", f"{rtsp}/cam-t/sub", FAST, analyse_fps=2.0)
    g.start()
    try:
        assert wait_for(lambda: g.frames >= 2, 30, 0.2)
        fault(base, "cam-t", "hevc")
        assert wait_for(lambda: g.codec == "hevc" and g.latest() is not None
                        and time.monotonic() - g.latest().mono < 1.0, 60, 0.2)
        assert g.stream_changes >= 1 and g.latest().image.shape == (360, 640, 3)
    finally:
        fault(base, "cam-t", "none")
        g.stop()


def _worker(settings, tmp_path, cams: list[dict], **update) -> CameraWorker:
    reg = registry_dict("", [])
    reg["cameras"] = cams
    s = settings.model_copy(update={"model_path": str(tmp_path / "capture-only.pt")})
    worker = CameraWorker(s, Registry.model_validate(reg))
    worker.capture_cfg = dataclasses.replace(worker.capture_cfg, **{**dataclasses.asdict(FAST), **update})
    return worker


def _cam(cid: str, kind: str, source: str, detect: str | None = None) -> dict:
    cam = {"id": cid, "name": cid, "kind": kind, "kecamatan": "Sirimau", "lat": -3.69, "lon": 128.18,
           "source": source}
    return cam | ({"detect_source": detect} if detect else {})


@needs_ffmpeg
def test_stream_roles_each_failure_is_a_clear_state(settings, store, session, sim, tmp_path) -> None:
    base, rtsp = sim
    worker = _worker(settings, tmp_path, [
        _cam("cam-t", "traffic", f"{rtsp}/cam-t", f"{rtsp}/cam-t/sub"),  # both up
        _cam("cam-d", "traffic", f"{rtsp}/cam-t", f"{rtsp}/cam-gone/sub"),  # sub down, main up
        _cam("cam-m", "traffic", f"{rtsp}/cam-gone", f"{rtsp}/cam-t/sub"),  # main down, sub up
    ])
    try:
        turn_worker_until(worker, store, lambda c: len(c) == 3 and c["cam-t"].status == CameraStatus.OK
                          and c["cam-d"].status == CameraStatus.NO_SIGNAL
                          # the main-stream probe checks one camera at a time: wait for both
                          and c["cam-d"].health_cause == "detect_down"
                          and c["cam-m"].health_cause == "main_down", 60)
        cams = store.read_live().cameras
        assert cams["cam-t"].health_cause is None
        assert cams["cam-m"].status == CameraStatus.OK  # analysed from its sub-stream
        assert cams["cam-t"].stream == "h264 640x360"
        assert store.snapshot("cam-d") is None
        report = status_report(store.read_live(), settings)
        assert report["cameras"]["cam-d"]["health_cause"] == "detect_down"
    finally:
        for cid in list(worker.held):
            worker._drop(cid)
        worker.probe.stop()


@needs_ffmpeg
def test_no_key_frame_for_too_long_is_no_signal_not_a_frozen_frame(settings, store, session, sim,
                                                                   tmp_path) -> None:
    base, rtsp = sim
    worker = _worker(settings, tmp_path, [_cam("cam-p", "tps", f"{rtsp}/cam-p/sub")],
                     keyframe_timeout_s=4.0)
    try:
        turn_worker_until(worker, store,
                          lambda c: c.get("cam-p") and c["cam-p"].status == CameraStatus.OK, 30)
        fault(base, "cam-p", "nokey")
        turn_worker_until(worker, store, lambda c: c["cam-p"].status == CameraStatus.NO_SIGNAL, 25)
        assert store.read_live().cameras["cam-p"].health_cause == "no_keyframe"
        assert worker.held["cam-p"].grabber.latest() is None  # nothing of it is shown as live
        fault(base, "cam-p", "none")
        turn_worker_until(worker, store, lambda c: c["cam-p"].status == CameraStatus.OK, 30)
    finally:
        fault(base, "cam-p", "none")
        for cid in list(worker.held):
            worker._drop(cid)


def test_camera_that_cannot_deliver_its_target_rate_is_overloaded(settings, store, session) -> None:
    server = MjpegServer()  # 10 frames per second
    worker = make_worker(settings, server, ["cam-o"])
    worker.streams = worker.streams.model_copy(update={"traffic_fps": 20.0})
    try:
        assert worker.detector is not None
        turn_worker_until(worker, store, lambda c: c.get("cam-o") is not None
                          and c["cam-o"].status == CameraStatus.OVERLOADED, 40)
        state = store.read_live().cameras["cam-o"]
        assert state.health_cause in ("decode", "cpu") and state.target_fps == 20.0
        assert store.snapshot("cam-o") is not None  # slow, not dead: its frames are fresh
        hb = store.read_live().heartbeats["cameras"].detail
        assert hb["cpu_analysis_s"] > 0 and hb["latency_p95_ms"] >= hb["latency_p50_ms"] > 0
    finally:
        for cid in list(worker.held):
            worker._drop(cid)
        server.close()


def test_sample_registry_names_sub_streams_for_its_rtsp_cameras() -> None:
    from ambon_core.registry import load_registry

    reg = load_registry(ROOT / "data" / "registry.yaml")
    rtsp = [c for c in reg.cameras if c.source.startswith("rtsp://")]
    assert rtsp and all(c.detect_source == f"{c.source}/sub" for c in rtsp)


def test_kamera_page_shows_overloaded_and_its_cause(store, session) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from ambon_core.domain import CameraKind, CameraState
    from components.nav import PAGES
    from tests.login import login

    st.cache_data.clear()
    st.cache_resource.clear()
    at = login(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60), session, "walikota")
    st.cache_data.clear()
    store.put(CameraState(camera_id="cam-lalin-01", kind=CameraKind.TRAFFIC, status=CameraStatus.OVERLOADED,
                          health_cause="cpu", infer_fps=0.7, target_fps=2.0),
              CameraState(camera_id="cam-lalin-02", kind=CameraKind.TRAFFIC, status=CameraStatus.NO_SIGNAL,
                          health_cause="detect_down"))
    at.run()
    at.switch_page(PAGES["kamera"][0]).run()
    assert not at.exception, at.exception
    text = "\n".join(str(m.value) for m in at.markdown)
    assert "Kelebihan beban" in text and "CPU server penuh" in text
    assert "sub\\-stream mati, stream utama hidup" in text or "sub-stream mati, stream utama hidup" in text


def test_cpu_wait_share_still_measured_when_a_starved_turn_outlasts_the_window() -> None:
    mon = LoadMonitor(window_s=10.0)
    mon._sched.extend([(0.0, 0, 0), (30.0, 1_000_000_000, 3_000_000_000)])  # one 30 s turn
    assert mon.cpu_wait_share(30.0) == pytest.approx(0.75)
    mon.turns.extend([(0.0, 0.5, 0.5), (30.0, 30.0, 0.5)])
    assert mon.busy_share(30.0) > 0.9
