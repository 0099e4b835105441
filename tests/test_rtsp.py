"""RTSP cameras: the simulator publishes H.264 over RTSP (ambon_sim.rtsp, Debian's ffmpeg)
and the camera worker reads it with OpenCV's FFmpeg backend, as it will read the city's
IP cameras. A hung stream must not block ``read()`` forever, a stopped one must go
"no signal" within 10 s, and both must come back by themselves.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from ambon_core.domain import CameraStatus
from ambon_sim.rtsp import _path_of, _stream_path, ffmpeg_binary, starts_key_frame
from tests.test_camera_worker import make_worker
from tests.test_faults_cameras import fault, run_sim, turn_worker_until
from tests.test_faults_redis import free_port, wait_for
from workers.camera.capture import CaptureConfig, Grabber

# Without ffmpeg the simulator cannot encode; `make test` installs it, so CI must have it.
needs_ffmpeg = pytest.mark.skipif(ffmpeg_binary() is None and not os.environ.get("CI"),
                                  reason="needs ffmpeg (make test installs Debian's)")
CAMS = ["cam-r", "cam-s"]


@pytest.fixture(scope="module")
def rtsp_sim() -> Iterator[tuple[str, str]]:
    """(http base, rtsp base) of a simulator publishing two traffic cameras over RTSP."""
    port = free_port()
    with run_sim("--cameras", *[f"{c}:traffic" for c in CAMS], "--rtsp-cameras", ",".join(CAMS),
                 "--rtsp-port", str(port), "--clip-seconds", "2") as base:
        wait_for(lambda: all(httpx.get(f"{base}/healthz", timeout=1).json()["rtsp"].values()),
                 30, 0.2)
        yield base, f"rtsp://127.0.0.1:{port}/cam"


def rtp(payload: bytes) -> bytes:
    return bytes([0x80, 96]) + b"\x00" * 10 + payload


def test_key_frame_detection_and_paths() -> None:
    assert starts_key_frame(rtp(bytes([0x65, 1, 2])))  # IDR
    assert starts_key_frame(rtp(bytes([0x67, 1, 2])))  # SPS
    assert not starts_key_frame(rtp(bytes([0x41, 1, 2])))  # P slice
    assert starts_key_frame(rtp(bytes([0x7C, 0x85, 0])))  # FU-A start of an IDR
    assert not starts_key_frame(rtp(bytes([0x7C, 0x05, 0])))  # FU-A middle
    assert starts_key_frame(rtp(bytes([0x78, 0, 2, 0x67, 0, 0, 2, 0x68, 0])))  # STAP-A SPS+PPS
    assert not starts_key_frame(b"\x80")  # truncated packet
    assert _path_of("rtsp://u:p@h:8554/cam/x/streamid=0?a=1") == "/cam/x/streamid=0"
    assert _stream_path("/cam/x/streamid=0") == "/cam/x" and _stream_path("/cam/x") == "/cam/x"


@needs_ffmpeg
def test_grabber_reads_h264_and_survives_hang_resize_and_stop(rtsp_sim) -> None:
    base, rtsp = rtsp_sim
    grab = Grabber("cam-r", f"{rtsp}/cam-r/sub",
                   CaptureConfig(open_timeout_s=3, read_timeout_s=2, backoff_max_s=1,
                                 restarts_per_minute=30))
    grab.start()
    try:
        wait_for(lambda: grab.frames >= 5, 20, 0.1)
        assert grab.latest().image.shape == (360, 640, 3)
        # hang: the connection stays open and nothing comes; read() must time out
        fault(base, "cam-r", "hang")
        reconnects = grab.reconnects
        wait_for(lambda: grab.reconnects > reconnects, 12, 0.2)
        frames = grab.frames
        time.sleep(1.0)
        assert grab.frames <= frames + 1  # nothing new while hung
        fault(base, "cam-r", "none")
        wait_for(lambda: grab.frames >= frames + 5, 25, 0.2)
        # the camera switches to 1280x720: the decoder follows
        fault(base, "cam-r", "resize")
        wait_for(lambda: grab.latest().image.shape == (720, 1280, 3), 25, 0.2)
        # stop: the stream ends and DESCRIBE answers 404 until the camera is back
        fault(base, "cam-r", "stop")
        reconnects = grab.reconnects
        wait_for(lambda: grab.reconnects >= reconnects + 2, 15, 0.2)
        assert "cannot open" in (grab.last_error or "") or "ended" in (grab.last_error or "")
        frames = grab.frames
        fault(base, "cam-r", "none")
        wait_for(lambda: grab.frames >= frames + 5, 30, 0.2)
        assert grab.latest().image.shape == (360, 640, 3)
    finally:
        fault(base, "cam-r", "none")
        grab.stop()
        grab.join(10)
    assert not grab.is_alive()


@needs_ffmpeg
def test_camera_worker_marks_hung_rtsp_camera_offline_and_recovers(
        settings, store, session, rtsp_sim, tmp_path) -> None:
    base, rtsp = rtsp_sim

    class Server:
        url = rtsp

    worker = make_worker(settings, Server, CAMS, model=str(tmp_path / "capture-only.pt"),
                         source="{url}/{cid}/sub")
    worker.capture_cfg = dataclasses.replace(worker.capture_cfg, watchdog_s=5.0)

    def turn_until(cond, timeout: float) -> float:
        return turn_worker_until(worker, store, cond, timeout)

    try:
        turn_until(lambda c: all(c.get(i) and c[i].status == CameraStatus.OK for i in CAMS), 30)
        fault(base, "cam-s", "hang")
        offline_s = turn_until(lambda c: c["cam-s"].status == CameraStatus.NO_SIGNAL, 14)
        assert offline_s <= 11, f"offline only after {offline_s:.1f} s"
        assert store.read_live().cameras["cam-r"].status == CameraStatus.OK
        fault(base, "cam-s", "none")
        turn_until(lambda c: c["cam-s"].status == CameraStatus.OK, 30)
    finally:
        fault(base, "cam-s", "none")
        for cid in list(worker.held):
            worker._drop(cid)


def _exchange(port: int, data: bytes, timeout: float = 3.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
                if b"\r\n\r\n" in out:
                    break
        except TimeoutError:
            pass
        return out


@needs_ffmpeg
def test_relay_answers_bad_requests_and_keeps_serving(rtsp_sim) -> None:
    base, rtsp = rtsp_sim
    port = int(rtsp.split(":")[2].split("/")[0])
    url = f"rtsp://127.0.0.1:{port}/cam"
    # not RTSP at all, and a header that never ends: the connection is closed
    assert _exchange(port, b"HELLO\r\n\r\n") == b""
    assert _exchange(port, b"A" * 70_000) == b""
    # an unknown camera, UDP transport, PLAY without SETUP
    assert b" 404 " in _exchange(port, f"DESCRIBE {url}/nope RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
    udp = _exchange(port, f"SETUP {url}/cam-r/streamid=0 RTSP/1.0\r\nCSeq: 2\r\n"
                          "Transport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n".encode())
    assert b" 461 " in udp
    assert b" 454 " in _exchange(port, f"PLAY {url}/cam-r RTSP/1.0\r\nCSeq: 3\r\n\r\n".encode())
    assert b" 405 " in _exchange(port, f"BREW {url}/cam-r RTSP/1.0\r\nCSeq: 4\r\n\r\n".encode())
    # a real DESCRIBE still gets the H.264 SDP
    ok = _exchange(port, f"DESCRIBE {url}/cam-r RTSP/1.0\r\nCSeq: 5\r\n\r\n".encode())
    assert b"RTSP/1.0 200 OK" in ok and b"CSeq: 5" in ok
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(f"DESCRIBE {url}/cam-r RTSP/1.0\r\nCSeq: 6\r\n\r\n".encode())
        time.sleep(0.5)
        assert b"H264" in sock.recv(65536)


def test_sample_registry_has_rtsp_cameras() -> None:
    from ambon_sim.cameras import load_registry_cameras

    cams = load_registry_cameras()
    assert len(cams) == 37
    assert [c.id for c in cams if c.rtsp] == ["cam-lalin-01", "cam-lalin-02", "cam-lalin-03"]


def test_simulator_refuses_bad_rtsp_options_in_one_sentence() -> None:
    import subprocess
    import sys

    from ambon_core.settings import ROOT

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ambon_sim.cameras", "--port", str(free_port()),
                               "--cameras", "cam-r:traffic", "--log-level", "WARNING", *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)

    unknown = run("--rtsp-cameras", "cam-r,cam-nope")
    assert unknown.returncode != 0 and "no such camera cam-nope" in unknown.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = run("--rtsp-cameras", "all", "--rtsp-port", str(taken.getsockname()[1]))
    assert busy.returncode != 0 and "set SIM_RTSP_PORT" in busy.stderr
    assert "Traceback" not in unknown.stderr + busy.stderr


def test_without_ffmpeg_the_rtsp_cameras_have_no_signal_and_the_log_says_why(tmp_path) -> None:
    import subprocess
    import sys

    from ambon_core.settings import ROOT

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ambon_sim.cameras", "--port", str(port),
                             "--cameras", "cam-r:traffic", "--rtsp-cameras", "all",
                             "--rtsp-port", str(free_port())], cwd=ROOT, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "AMBON_FFMPEG": str(tmp_path / "ffmpeg")})
    try:
        def health() -> dict | None:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
            except httpx.HTTPError:
                return None

        wait_for(lambda: health() is not None, 60, 0.2)
        assert health()["rtsp"] == {"cam-r": False}  # served, honestly unpublished
        assert httpx.get(f"http://127.0.0.1:{port}/cam/cam-r/snapshot.jpg").status_code == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "ffmpeg is not installed, so the RTSP cameras cam-r have no stream" in err


def _reassemble(packets: list[bytes], codec: str) -> bytes:
    """The NAL a receiver rebuilds from FU fragments (RFC 6184 §5.8, RFC 7798 §4.4.3)."""
    if len(packets) == 1:
        return packets[0]
    if codec == "hevc":
        first = packets[0]
        head = bytes([(first[0] & 0x81) | ((first[2] & 0x3F) << 1), first[1]])
        return head + b"".join(p[3:] for p in packets)
    head = bytes([(packets[0][0] & 0xE0) | (packets[0][1] & 0x1F)])
    return head + b"".join(p[2:] for p in packets)


@pytest.mark.parametrize("codec,nal", [("h264", bytes([0x65]) + bytes(range(256)) * 20),
                                       ("hevc", bytes([0x26, 0x01]) + bytes(range(256)) * 20)])
def test_rtp_fragments_reassemble_to_the_nal(codec: str, nal: bytes) -> None:
    from ambon_sim.rtp import MTU_PAYLOAD, is_key, payloads, split_nals

    parts = payloads(nal, codec)
    assert len(parts) > 1 and all(len(p) <= MTU_PAYLOAD for p in parts)
    assert _reassemble(parts, codec) == nal and is_key(nal, codec)
    stream = b"\x00\x00\x00\x01" + nal + b"\x00\x00\x01" + nal[:10]
    assert split_nals(stream) == [nal, nal[:10]]


def test_looped_clip_truth_counts_only_grow() -> None:
    from ambon_sim.clips import Clip, ClipSpec, looped_truth

    frames = [{"counts": {"garis": {"in": {"car": n}}}, "step": n} for n in (0, 1, 3)]
    clip = Clip(ClipSpec("cam-x", "traffic", 7, "2026-01-01T08:00:00+09:00", 60.0), [], [], frames, {})
    clip.main = clip.sub = [None] * 3  # type: ignore[list-item]
    counts = [looped_truth(clip, i)["counts"]["garis"]["in"]["car"] for i in range(9)]
    assert counts == [0, 1, 3, 3, 4, 6, 6, 7, 9]
    assert ClipSpec("cam-x", "tps", 7, "x", 60.0).variant("hevc").codec == "hevc"
    assert ClipSpec("cam-x", "tps", 7, "x", 60.0).variant("resize").sub_size == (1280, 720)
