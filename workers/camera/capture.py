"""Camera capture: one thread per camera keeping only the newest frame (drop, never queue).

Only the frames the analysis will use are converted: ``analyse_fps`` (the camera kind's
cadence) decides which decoded pictures become BGR arrays; the others only pass through
the decoder, which must see every one (``workers.camera.decode``). ``keyframes_only``
skips decoding everything but key frames.

Sources: ``rtsp://`` (PyAV/FFmpeg over TCP with open/read timeouts), ``http(s)://``
MJPEG (multipart) or JPEG snapshot URLs (polled, with httpx), video files (played at
their own frame rate, looping) and ``device:N``. Lost streams reconnect with capped
backoff inside a restart budget; credentials in URLs never reach the logs.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import cv2
import httpx
import numpy as np

from workers.camera.decode import NoKeyFrame, read_stream

# TCP for RTSP: UDP loses packets on city links and gives smeared frames.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")
log = logging.getLogger(__name__)
_CRED = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def mask_url(url: str) -> str:
    """The URL with any ``user:pass@`` replaced by ``***@`` (safe to log)."""
    return _CRED.sub(r"\g<scheme>***@", url)


class NotACamera(RuntimeError):
    """The source answered, but not with video or a JPEG."""


@dataclass(frozen=True)
class Frame:
    """A decoded frame, stamped when it arrived (monotonic and wall clock)."""

    image: np.ndarray
    seq: int
    mono: float
    wall: float

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]


@dataclass(frozen=True)
class CaptureConfig:
    open_timeout_s: float = 5.0
    read_timeout_s: float = 5.0
    watchdog_s: float = 10.0  # no frame this long: reconnect
    backoff_max_s: float = 15.0
    restarts_per_minute: int = 5  # over budget: wait out the minute
    snapshot_fps: float = 2.0
    decoder_threads: int = 1
    hwaccel: str = "none"
    keyframe_timeout_s: float = 10.0


class Grabber(threading.Thread):
    """Reads one camera forever; ``latest()`` is the newest frame, older ones are dropped."""

    def __init__(self, camera_id: str, source: str, config: CaptureConfig = CaptureConfig(),
                 analyse_fps: float | None = None, keyframes_only: bool = False):
        super().__init__(name=f"grab-{camera_id}", daemon=True)
        self.camera_id, self.source, self.cfg = camera_id, source, config
        self.analyse_fps, self.keyframes_only = analyse_fps, keyframes_only
        self._credit, self._credit_at = 1.0, None  # due(): frames owed to the analysis
        self.decoded = 0  # pictures out of the decoder (converted or not)
        self.cpu_s = 0.0  # CPU time of this thread: receiving, decoding, converting
        self.codec: str | None = None
        self.stream_size: tuple[int, int] | None = None
        self.stream_changes = 0  # codec or resolution changed under us
        self.cause: str | None = None  # short code of the last failure (no_keyframe, ...)
        self._keys: deque[float] = deque(maxlen=20)
        self._published: deque[float] = deque(maxlen=300)
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._seq = 0
        self.frames = 0
        self.corrupt = 0
        self.reconnects = 0
        self.last_error: str | None = None
        self._arrivals: deque[float] = deque(maxlen=300)
        self._restarts: deque[float] = deque()
        self._handle: object | None = None  # what kick() closes to unblock a read

    # ---- consumer side ------------------------------------------------------------------
    def latest(self) -> Frame | None:
        with self._lock:
            return self._frame

    def fps(self, window_s: float = 10.0) -> float:
        """Pictures decoded per second (the stream's rate, or its key frames' when skipping)."""
        return _rate(self._arrivals, window_s)

    def delivered_fps(self, window_s: float = 10.0) -> float:
        """Frames handed to the analysis per second (over ``window_s``, counting the window)."""
        now = time.monotonic()
        return sum(1 for t in list(self._published) if now - t <= window_s) / window_s

    def keyframe_fps(self, window_s: float = 20.0) -> float:
        return _rate(self._keys, window_s)

    def set_cadence(self, analyse_fps: float | None) -> None:
        """Change how many frames per second are converted for analysis (load shedding)."""
        self.analyse_fps = analyse_fps

    def stop(self) -> None:
        self.stop_event.set()
        self.kick()

    def kick(self) -> None:
        """Close the open connection so a blocked read returns (the watchdog's lever)."""
        handle = self._handle
        try:
            if isinstance(handle, httpx.Response):
                handle.close()
        except Exception:
            pass

    # ---- producer side ------------------------------------------------------------------
    def due(self, now: float) -> bool:
        """True when the analysis wants the picture decoded now (cadence ``analyse_fps``).

        A token bucket: each second earns ``analyse_fps`` frames, a picture is taken when one
        is owed. On a key-frame-only stream (a picture every 1.5 s, 0.5 fps wanted) it takes
        3 key frames of 4 -- exactly 0.5 fps -- where a fixed schedule skipped any key frame
        a few ms early and fell to ~0.33. At most half a frame is saved up: never a burst to
        catch up after a gap."""
        if not self.analyse_fps:
            return True
        if self._credit_at is not None:
            self._credit = min(1.5, self._credit + (now - self._credit_at) * self.analyse_fps)
        self._credit_at = now
        if self._credit < 0.95:  # a picture a few ms early is still on time (jitter)
            return False
        self._credit -= 1.0
        return True

    def note_stream(self, codec: str, size: tuple[int, int]) -> None:
        """The stream just opened: a codec or size other than last time's is a change."""
        if self.codec is not None and (codec, size) != (self.codec, self.stream_size) and all(size):
            self.stream_changes += 1
            log.warning("camera %s: the stream changed from %s %s to %s %s", self.camera_id,
                        self.codec, self.stream_size, codec, size)
        self.codec, self.stream_size = codec, size if all(size) else self.stream_size

    def note_keyframe(self, now: float) -> None:
        self._keys.append(now)

    def note_decoded(self, now: float, size: tuple[int, int], codec: str | None = None) -> None:
        """One picture left the decoder (a resolution change mid-stream is noted here)."""
        if self.stream_size is not None and size != self.stream_size:
            self.note_stream(codec or self.codec or "?", size)
        self.stream_size = size
        self.decoded += 1
        self._arrivals.append(now)
        self.cpu_s = time.thread_time()

    def publish(self, image: bytes | np.ndarray) -> None:
        """Make ``image`` the newest frame."""
        self._publish(image)
        self.cpu_s = time.thread_time()

    def _publish(self, jpeg_or_image: bytes | np.ndarray) -> None:
        image = (cv2.imdecode(np.frombuffer(jpeg_or_image, np.uint8), cv2.IMREAD_COLOR)
                 if isinstance(jpeg_or_image, bytes | bytearray) else jpeg_or_image)
        if image is None or image.ndim != 3 or image.size == 0:
            self.corrupt += 1
            return
        now = time.monotonic()
        with self._lock:
            self._seq += 1
            self._frame = Frame(image, self._seq, now, time.time())
        self.frames += 1
        self._published.append(now)
        self.cause = None

    def run(self) -> None:
        backoff = 0.5
        while not self.stop_event.is_set():
            got = self.frames
            try:
                self._read_source()
            except NotACamera as exc:
                self.last_error, self.cause = str(exc), "not_a_camera"
            except NoKeyFrame as exc:
                self.last_error, self.cause = str(exc), "no_keyframe"
                with self._lock:
                    self._frame = None  # pictures without their key frame are never shown
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {mask_url(str(exc))[:200]}"
                self.cause = None
            if self.stop_event.is_set():
                break
            backoff = 0.5 if self.frames > got else min(self.cfg.backoff_max_s, backoff * 2)
            self.reconnects += 1
            log.info("camera %s: reconnecting to %s in %.1f s (%s)", self.camera_id,
                     mask_url(self.source), backoff, self.last_error)
            self.stop_event.wait(backoff + self._budget_wait())

    def _budget_wait(self) -> float:
        now = time.monotonic()
        self._restarts.append(now)
        while self._restarts and now - self._restarts[0] > 60:
            self._restarts.popleft()
        if len(self._restarts) > self.cfg.restarts_per_minute:
            return max(0.0, 60 - (now - self._restarts[0]))
        return 0.0

    def _read_source(self) -> None:
        src = self.source
        if src.startswith(("http://", "https://")):
            self._read_http(src)
        elif src.startswith("device:"):
            self._read_cv(int(src.split(":", 1)[1]), live=True)
        elif src.startswith(("rtsp://", "rtsps://", "rtmp://")):
            read_stream(self, src)
        else:
            if not Path(src).exists():
                raise FileNotFoundError(f"video file {src} does not exist")
            self._read_cv(src, live=False)

    def _open_cv(self, src: str | int) -> cv2.VideoCapture:
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.cfg.open_timeout_s * 1000),
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.cfg.read_timeout_s * 1000),
                  cv2.CAP_PROP_N_THREADS, self.cfg.decoder_threads]
        if self.cfg.hwaccel != "none":
            params += [cv2.CAP_PROP_HW_ACCELERATION, cv2.VIDEO_ACCELERATION_ANY]
        return cv2.VideoCapture(src, cv2.CAP_ANY if isinstance(src, int) else cv2.CAP_FFMPEG, params)

    def _read_cv(self, src: str | int, live: bool) -> None:
        """``grab()`` every picture (the decoder stays in step), ``retrieve()`` (the BGR
        conversion) only those the analysis will use."""
        cap = self._open_cv(src)
        try:
            if not cap.isOpened():
                raise ConnectionError(f"cannot open {mask_url(str(src))}")
            period = 0.0 if live else 1.0 / (cap.get(cv2.CAP_PROP_FPS) or 25.0)
            nxt = time.monotonic()
            while not self.stop_event.is_set():
                began = time.monotonic()
                ok = cap.grab()
                if live and time.monotonic() - began >= 0.9 * self.cfg.read_timeout_s:
                    # FFmpeg's read timeout fired: what read() returns now is the decoder's
                    # last buffered picture, not a new frame. Counting it would keep a hung
                    # camera "alive" with a frame every read timeout.
                    raise ConnectionError(f"no frame for {self.cfg.read_timeout_s:.0f} s")
                if not ok:
                    if live:
                        raise ConnectionError("stream ended")
                    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)  # a file loops like a live camera
                    if not cap.grab():
                        raise ConnectionError("video file has no readable frame")
                now = time.monotonic()
                size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
                self.note_decoded(now, size)
                if self.due(now):
                    ok, image = cap.retrieve()
                    if ok:
                        self.publish(image)
                if period:
                    nxt += period
                    self.stop_event.wait(max(0.0, nxt - time.monotonic()))
        finally:
            cap.release()

    def _read_http(self, url: str) -> None:
        timeout = httpx.Timeout(self.cfg.read_timeout_s, connect=self.cfg.open_timeout_s)
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            with client.stream("GET", url) as resp:
                self._handle = resp
                resp.raise_for_status()
                ctype = resp.headers.get("content-type", "").lower()
                if ctype.startswith("multipart/"):
                    self._read_mjpeg(resp, ctype)
                    raise ConnectionError("MJPEG stream ended")
                if not ctype.startswith("image/"):
                    raise NotACamera(f"{mask_url(url)} is not a camera: it answered {ctype or 'no type'}")
                self._jpeg(resp.read())
            self._poll_snapshots(client, url)

    def _poll_snapshots(self, client: httpx.Client, url: str) -> None:
        period = 1.0 / self.cfg.snapshot_fps
        while not self.stop_event.wait(period):
            resp = client.get(url)
            resp.raise_for_status()
            self._jpeg(resp.content)

    def _read_mjpeg(self, resp: httpx.Response, ctype: str) -> None:
        match = re.search(r'boundary="?([^";]+)"?', ctype)
        boundary = b"--" + (match.group(1).encode() if match else b"")
        if boundary.startswith(b"----"):
            boundary = boundary[2:]  # some cameras put the dashes in the header already
        buf = bytearray()
        for chunk in resp.iter_bytes():
            if self.stop_event.is_set():
                return
            buf += chunk
            while True:
                part = _next_part(buf, boundary)
                if part is None:
                    break
                self._jpeg(part)
            if len(buf) > 8_000_000:
                raise ConnectionError("MJPEG part larger than 8 MB")


    def _jpeg(self, data: bytes) -> None:
        """A JPEG arrived: counted as decoded, turned into pixels only when due."""
        now = time.monotonic()
        self.decoded += 1
        self._arrivals.append(now)
        if self.due(now):
            self.publish(data)


def _rate(stamps: deque[float], window_s: float) -> float:
    now = time.monotonic()
    recent = [t for t in list(stamps) if now - t <= window_s]
    if len(recent) < 2:
        return 0.0
    return (len(recent) - 1) / max(1e-6, recent[-1] - recent[0])


def _next_part(buf: bytearray, boundary: bytes) -> bytes | None:
    """Cut the first complete multipart body out of ``buf`` (Content-Length or next boundary)."""
    start = buf.find(boundary)
    if start < 0:
        return None
    head_end = buf.find(b"\r\n\r\n", start)
    if head_end < 0:
        return None
    headers = bytes(buf[start:head_end]).lower()
    body_at = head_end + 4
    m = re.search(rb"content-length:\s*(\d+)", headers)
    if m:
        end = body_at + int(m.group(1))
        if len(buf) < end:
            return None
        body = bytes(buf[body_at:end])
        del buf[:end]
        return body
    nxt = buf.find(boundary, body_at)
    if nxt < 0:
        return None
    body = bytes(buf[body_at:nxt]).rstrip(b"\r\n")
    del buf[:nxt]
    return body
