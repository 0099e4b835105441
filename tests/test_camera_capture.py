"""Capture from real sources: a video file, an MJPEG HTTP stream, and broken streams."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from workers.camera.capture import CaptureConfig, Grabber, mask_url

FAST = CaptureConfig(open_timeout_s=2, read_timeout_s=2, watchdog_s=3, backoff_max_s=1)


def jpeg(i: int, size: tuple[int, int] = (640, 360)) -> bytes:
    img = np.full((size[1], size[0], 3), 90, np.uint8)
    cv2.putText(img, str(i), (50, 100), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
    return cv2.imencode(".jpg", img)[1].tobytes()


class MjpegServer:
    """A tiny MJPEG camera: per-path ``mode`` ok | corrupt | hang | stop | html | resize."""

    def __init__(self) -> None:
        self.modes: dict[str, str] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                cid = self.path.strip("/").split("/")[0]
                mode = outer.modes.get(cid, "ok")
                if mode == "stop":
                    self.send_error(404)
                    return
                if mode == "html":
                    body = b"<html>router login</html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if self.path.endswith(".jpg"):
                    body = jpeg(0)
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                i = 0
                try:
                    while not outer.stopping:
                        mode = outer.modes.get(cid, "ok")
                        if mode == "stop":
                            return
                        if mode == "hang":
                            time.sleep(0.1)
                            continue
                        i += 1
                        data = jpeg(i, (1280, 720) if mode == "resize" else (640, 360))
                        if mode == "corrupt" and i % 2:
                            data = b"\x00" * 600 + data[600:]
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                         + str(len(data)).encode() + b"\r\n\r\n" + data + b"\r\n")
                        time.sleep(0.1)
                except (BrokenPipeError, ConnectionResetError):
                    return

        self.stopping = False
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stopping = True
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[MjpegServer]:
    srv = MjpegServer()
    yield srv
    srv.close()


def wait_for(cond, timeout: float = 8.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def grab(cid: str, source: str) -> Grabber:
    g = Grabber(cid, source, FAST)
    g.start()
    return g


def test_mask_url_hides_credentials():
    assert mask_url("rtsp://admin:s3cret@10.0.0.5:554/live") == "rtsp://***@10.0.0.5:554/live"
    assert "s3cret" not in mask_url("http://u:s3cret@h/x.jpg")
    assert mask_url("http://host/cam") == "http://host/cam"


def test_capture_from_video_file(tmp_path: Path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for i in range(10):
        writer.write(np.full((240, 320, 3), i * 20, np.uint8))
    writer.release()
    g = grab("cam-file", str(path))
    try:
        assert wait_for(lambda: g.frames >= 15)  # loops past the 10 frames of the file
        frame = g.latest()
        assert frame is not None and frame.size == (320, 240)
        assert frame.seq == g.frames  # newest only: no queue behind it
    finally:
        g.stop()


def test_capture_from_mjpeg_stream_and_snapshot_url(server: MjpegServer):
    stream, snap = grab("a", f"{server.url}/a/mjpeg"), grab("b", f"{server.url}/b/snapshot.jpg")
    try:
        assert wait_for(lambda: stream.frames >= 5 and snap.frames >= 2)
        assert stream.latest().size == (640, 360)
        assert stream.corrupt == 0 and stream.fps() > 3
    finally:
        stream.stop()
        snap.stop()


def test_corrupt_frames_counted_and_skipped(server: MjpegServer):
    server.modes["c"] = "corrupt"
    g = grab("c", f"{server.url}/c/mjpeg")
    try:
        assert wait_for(lambda: g.corrupt >= 3 and g.frames >= 3)
        assert g.latest().image.shape == (360, 640, 3)
    finally:
        g.stop()


def test_resolution_change_is_delivered(server: MjpegServer):
    g = grab("r", f"{server.url}/r/mjpeg")
    try:
        assert wait_for(lambda: g.frames >= 2)
        server.modes["r"] = "resize"
        assert wait_for(lambda: g.latest().size == (1280, 720))
    finally:
        g.stop()


def test_hung_stream_reconnects_and_does_not_block_others(server: MjpegServer):
    server.modes["h"] = "hang"
    hung, ok = grab("h", f"{server.url}/h/mjpeg"), grab("o", f"{server.url}/o/mjpeg")
    try:
        assert wait_for(lambda: ok.frames >= 10)
        assert hung.frames == 0
        assert wait_for(lambda: hung.reconnects >= 1, timeout=6)  # read timeout -> reconnect
        assert "Timeout" in (hung.last_error or "")
    finally:
        hung.stop()
        ok.stop()


def test_url_that_is_not_a_camera(server: MjpegServer):
    server.modes["x"] = "html"
    g = grab("x", f"{server.url}/x/mjpeg")
    try:
        assert wait_for(lambda: g.last_error is not None)
        assert "is not a camera" in g.last_error and g.frames == 0
    finally:
        g.stop()


def test_missing_file_and_refused_connection_keep_retrying():
    g1 = grab("f", "/nonexistent/clip.mp4")
    g2 = grab("n", "http://user:pw@127.0.0.1:9/cam.mjpeg")
    try:
        assert wait_for(lambda: g1.reconnects >= 1 and g2.reconnects >= 1)
        assert "does not exist" in g1.last_error and "pw" not in g2.last_error
    finally:
        g1.stop()
        g2.stop()
