"""RTSP for the simulated cameras: H.264 streams the way IP cameras serve them.

Two small parts, both inside the camera simulator's process:

- :class:`RtspRelay`, a minimal RTSP 1.0 server (RFC 2326, RTP interleaved over TCP only).
  A publisher pushes a stream with ANNOUNCE/SETUP/RECORD (what ``ffmpeg -f rtsp`` does);
  readers (OpenCV's FFmpeg backend, VLC, ffprobe) DESCRIBE/SETUP/PLAY the same path and
  get the publisher's RTP packets. The packets since the last H.264 key frame are kept,
  so a new reader decodes its first frame at once instead of waiting for the next IDR.
- :class:`RtspFeeder`, one thread per camera rendering the scene at ``fps`` and piping
  raw frames into Debian's ``ffmpeg`` (libx264, ultrafast, zerolatency), which publishes
  to the relay. A dead encoder is restarted with backoff.

Fault modes (the simulator's ``POST /fault/<id>?mode=``) act here too: ``stop`` ends the
encoder and drops every reader (DESCRIBE answers 404); ``hang`` keeps every connection
open but forwards nothing (the case where ``cv2.VideoCapture.read()`` would block forever
without a read timeout); ``corrupt`` garbles the RTP payloads; ``resize`` restarts the
encoder at 1280x720.

UDP transport is refused (461): city links lose UDP packets, and the workers ask for TCP.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import socketserver
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

LOG = logging.getLogger("sim.rtsp")
GOP_CACHE_BYTES = 4_000_000  # per path; a 640x360 GOP of 2 s is ~100 kB
SEND_TIMEOUT_S = 2.0  # a reader that cannot take a packet this long is dropped


def ffmpeg_binary() -> str | None:
    """Path of the ``ffmpeg`` the feeders run (``AMBON_FFMPEG`` overrides), or None when
    there is none to run."""
    return shutil.which(os.environ.get("AMBON_FFMPEG") or "ffmpeg")


def starts_key_frame(rtp: bytes) -> bool:
    """True if this RTP packet (RFC 6184 payload) starts an H.264 IDR or SPS."""
    if len(rtp) < 14:
        return False
    csrc = rtp[0] & 0x0F
    at = 12 + 4 * csrc
    if len(rtp) <= at + 1:
        return False
    nal = rtp[at] & 0x1F
    if nal in (5, 7):
        return True
    if nal == 24:  # STAP-A: 2-byte sizes, then NALs
        i = at + 1
        while i + 2 < len(rtp):
            size = int.from_bytes(rtp[i:i + 2], "big")
            if size and rtp[i + 2] & 0x1F in (5, 7):
                return True
            i += 2 + size
        return False
    if nal == 28:  # FU-A: start bit and the fragmented NAL's type
        return bool(rtp[at + 1] & 0x80) and rtp[at + 1] & 0x1F == 5
    return False


def garble(rtp: bytes, salt: int) -> bytes:
    """The packet with its RTP header kept and the payload replaced by noise."""
    rng = np.random.default_rng(salt)
    return rtp[:12] + rng.integers(0, 256, max(0, len(rtp) - 12), dtype=np.uint8).tobytes()


@dataclass
class _Reader:
    sock: socket.socket
    rtp_channel: int
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, channel_offset: int, packet: bytes) -> bool:
        head = bytes([0x24, self.rtp_channel + channel_offset]) + len(packet).to_bytes(2, "big")
        try:
            with self.lock:
                self.sock.sendall(head + packet)
            return True
        except OSError:
            return False


@dataclass
class _Path:
    sdp: bytes = b""
    publisher: socket.socket | None = None
    readers: list[_Reader] = field(default_factory=list)
    gop: list[bytes] = field(default_factory=list)
    gop_bytes: int = 0
    packets: int = 0


class RtspRelay(socketserver.ThreadingTCPServer):
    """RTSP server relaying each published path to its readers.

    ``fault_of(path)`` (optional) gives the fault mode of a path (``none``, ``stop``,
    ``hang``, ``corrupt``, ``resize``) so the simulator's faults apply to RTSP readers.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int],
                 fault_of: Callable[[str], str] | None = None) -> None:
        super().__init__(addr, _Session)
        self.fault_of = fault_of or (lambda _path: "none")
        self.paths: dict[str, _Path] = {}
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def path(self, name: str) -> _Path:
        with self.lock:
            return self.paths.setdefault(name, _Path())

    def published(self, name: str) -> bool:
        p = self.paths.get(name)
        return p is not None and p.publisher is not None and bool(p.sdp)

    def forward(self, name: str, channel: int, packet: bytes) -> None:
        """Send a publisher's packet (channel 0 RTP, 1 RTCP) to every reader of ``name``."""
        p = self.path(name)
        mode = self.fault_of(name)
        with self.lock:  # the key-frame cache and the reader list change together
            if channel == 0:
                p.packets += 1
                if starts_key_frame(packet):
                    p.gop, p.gop_bytes = [], 0
                if p.gop_bytes < GOP_CACHE_BYTES:
                    p.gop.append(packet)
                    p.gop_bytes += len(packet)
            readers = list(p.readers)
        if mode == "hang":
            return
        if mode == "corrupt" and channel == 0:
            packet = garble(packet, p.packets)
        dead = [r for r in readers if not r.send(channel, packet)]
        if dead:
            self.drop_readers(name, dead)

    def add_reader(self, name: str, reader: _Reader) -> None:
        """Start sending ``name`` to ``reader``, beginning with the cached key frame so the
        first frame decodes now, not at the next key frame (none while hung)."""
        p = self.path(name)
        with self.lock:
            gop = [] if self.fault_of(name) == "hang" else list(p.gop)
            p.readers.append(reader)
            reader.lock.acquire()  # live packets wait until the cached ones are out
        try:
            for packet in gop:
                head = bytes([0x24, reader.rtp_channel]) + len(packet).to_bytes(2, "big")
                reader.sock.sendall(head + packet)
        except OSError:
            pass
        finally:
            reader.lock.release()

    def drop_readers(self, name: str, readers: list[_Reader]) -> None:
        p = self.path(name)
        with self.lock:
            p.readers = [r for r in p.readers if r not in readers]
        for r in readers:
            _close(r.sock)

    def cut(self, name: str) -> None:
        """Close the publisher and every reader of ``name`` (a camera that stops)."""
        p = self.path(name)
        with self.lock:
            readers, p.readers = p.readers, []
            publisher, p.publisher = p.publisher, None
            p.gop, p.gop_bytes, p.sdp = [], 0, b""
        for r in readers:
            _close(r.sock)
        if publisher is not None:
            _close(publisher)

    def handle_error(self, request: object, client_address: object) -> None:
        LOG.debug("rtsp session %s ended with an error", client_address, exc_info=True)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class _Session(socketserver.BaseRequestHandler):
    """One RTSP connection: a publisher or a reader, told apart by its first verbs."""

    server: RtspRelay

    def setup(self) -> None:
        self.buf = bytearray()
        self.session_id = uuid.uuid4().hex[:16]
        self.path_name = ""
        self.publishing = False
        self.reader: _Reader | None = None
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        sock: socket.socket = self.request
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue  # a reader's socket has a send timeout; a quiet reader is fine
            except OSError:
                break
            if not chunk:
                break
            self.buf += chunk
            if not self._drain():
                break
        self.finish_session()

    def finish_session(self) -> None:
        if self.reader is not None:
            self.server.drop_readers(self.path_name, [self.reader])
        if self.publishing:
            p = self.server.path(self.path_name)
            if p.publisher is self.request:
                self.server.cut(self.path_name)

    # ---- framing -----------------------------------------------------------------------
    def _drain(self) -> bool:
        """Handle every complete message in the buffer; False to close the connection."""
        while self.buf:
            if self.buf[0] == 0x24:  # '$' interleaved binary frame
                if len(self.buf) < 4:
                    return True
                size = int.from_bytes(self.buf[2:4], "big")
                if len(self.buf) < 4 + size:
                    return True
                channel, packet = self.buf[1], bytes(self.buf[4:4 + size])
                del self.buf[:4 + size]
                if self.publishing:
                    self.server.forward(self.path_name, channel % 2, packet)
                continue  # a reader's RTCP receiver reports are read and dropped
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return len(self.buf) < 65536  # no header that long: not RTSP
            head = bytes(self.buf[:end]).decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip() or 0)
            if len(self.buf) < end + 4 + length:
                return True
            body = bytes(self.buf[end + 4:end + 4 + length])
            del self.buf[:end + 4 + length]
            if not self._request(head, body):
                return False
        return True

    def _reply(self, cseq: str, code: int = 200, reason: str = "OK",
               headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        lines = [f"RTSP/1.0 {code} {reason}", f"CSeq: {cseq}", "Server: ambon-sim"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        if self.reader is not None:
            with self.reader.lock:
                self.request.sendall(data)
        else:
            self.request.sendall(data)

    # ---- verbs -------------------------------------------------------------------------
    def _request(self, head: str, body: bytes) -> bool:
        first, *rest = head.split("\r\n")
        try:
            method, url, _version = first.split(" ", 2)
        except ValueError:
            return False
        hdr = {}
        for line in rest:
            k, _, v = line.partition(":")
            hdr[k.strip().lower()] = v.strip()
        cseq = hdr.get("cseq", "0")
        name = _path_of(url)
        sess = {"Session": f"{self.session_id};timeout=60"}
        if method == "OPTIONS":
            self._reply(cseq, headers={"Public": "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, "
                                                 "RECORD, TEARDOWN, GET_PARAMETER"})
        elif method == "ANNOUNCE":
            self.path_name, self.publishing = name, True
            p = self.server.path(name)
            if p.publisher is not None and p.publisher is not self.request:
                _close(p.publisher)  # the newest publisher wins (an encoder restart)
            if p.sdp and body != p.sdp and p.readers:
                # a new stream description (a resolution change): readers must DESCRIBE
                # again, as with a real camera whose profile was changed
                self.server.drop_readers(name, list(p.readers))
            p.sdp, p.publisher, p.gop, p.gop_bytes = body, self.request, [], 0
            self._reply(cseq)
        elif method == "DESCRIBE":
            mode = self.server.fault_of(name)
            if mode == "stop" or not self.server.published(name):
                self._reply(cseq, 404, "Not Found")
                return True
            base = url.split("?")[0].rstrip("/") + "/"
            self._reply(cseq, headers={"Content-Base": base, "Content-Type": "application/sdp"},
                        body=self.server.path(name).sdp)
        elif method == "SETUP":
            transport = hdr.get("transport", "")
            if "TCP" not in transport.upper() or "interleaved=" not in transport:
                self._reply(cseq, 461, "Unsupported Transport")
                return True
            if not self.publishing:
                self.path_name = self.path_name or _stream_path(name)
                channels = transport.split("interleaved=")[1].split(";")[0]
                self.rtp_channel = int(channels.split("-")[0])
            self._reply(cseq, headers={"Transport": transport, **sess})
        elif method == "PLAY":
            if self.publishing or not self.path_name or not self.server.published(self.path_name):
                self._reply(cseq, 454, "Session Not Found")
                return True
            self._reply(cseq, headers={**sess, "Range": "npt=0.000-"})
            self.reader = _Reader(self.request, getattr(self, "rtp_channel", 0))
            self.request.settimeout(SEND_TIMEOUT_S)
            self.server.add_reader(self.path_name, self.reader)
        elif method == "RECORD":
            self._reply(cseq, headers=sess)
        elif method == "TEARDOWN":
            self._reply(cseq, headers=sess)
            return False
        elif method in ("GET_PARAMETER", "SET_PARAMETER"):
            self._reply(cseq, headers=sess)
        else:
            self._reply(cseq, 405, "Method Not Allowed")
        return True


def _path_of(url: str) -> str:
    """``rtsp://host:port/cam/x/streamid=0?a=b`` -> ``/cam/x/streamid=0``."""
    rest = url.split("://", 1)[-1]
    path = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return path.split("?")[0].rstrip("/")


def _stream_path(path: str) -> str:
    """The published path a SETUP's track URL belongs to (drops ``/streamid=N``, ``/trackN``)."""
    last = path.rsplit("/", 1)
    if len(last) == 2 and (last[1].startswith("streamid=") or last[1].startswith("track")):
        return last[0]
    return path


class RtspFeeder(threading.Thread):
    """Renders one camera at ``fps`` and publishes it to the relay through ffmpeg/libx264."""

    def __init__(self, cid: str, url: str, render: Callable[[], np.ndarray],
                 fault_of: Callable[[], str], fps: float = 5.0, ffmpeg: str | None = None):
        super().__init__(name=f"rtsp-{cid}", daemon=True)
        self.cid, self.url, self.render, self.fault_of, self.fps = cid, url, render, fault_of, fps
        self.ffmpeg = ffmpeg or ffmpeg_binary()
        self.stopping = threading.Event()
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def stop(self) -> None:
        self.stopping.set()
        self._end()

    def _start(self, size: tuple[int, int]) -> subprocess.Popen[bytes]:
        assert self.ffmpeg
        cmd = [self.ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
               "-f", "rawvideo", "-pix_fmt", "bgr24", "-video_size", f"{size[0]}x{size[1]}",
               "-framerate", f"{self.fps:g}", "-i", "pipe:0", "-an",
               "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
               "-g", str(max(1, int(self.fps * 2))), "-pix_fmt", "yuv420p", "-threads", "1",
               "-f", "rtsp", "-rtsp_transport", "tcp", self.url]
        return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)

    def _end(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def run(self) -> None:
        period, backoff, size = 1.0 / self.fps, 0.5, None
        nxt = time.monotonic()
        while not self.stopping.is_set():
            if self.fault_of() == "stop":
                self._end()
                size = None
                self.stopping.wait(0.2)
                nxt = time.monotonic()
                continue
            image = self.render()
            shape = (image.shape[1], image.shape[0])
            if self.proc is None or self.proc.poll() is not None or shape != size:
                if self.proc is not None and self.proc.poll() is not None:
                    err = (self.proc.stderr.read() if self.proc.stderr else b"")[-300:]
                    LOG.warning("camera %s: encoder exited (%s); restarting in %.1f s", self.cid,
                                err.decode(errors="replace").strip() or self.proc.returncode,
                                backoff)
                    self.proc = None
                    self.restarts += 1
                    if self.stopping.wait(backoff):
                        break
                    backoff = min(10.0, backoff * 2)
                self._end()
                try:
                    self.proc, size = self._start(shape), shape
                except OSError as exc:  # the binary went away or cannot run
                    LOG.error("camera %s: cannot start %s (%s)", self.cid, self.ffmpeg, exc)
                    self.restarts += 1
                    if self.stopping.wait(backoff):
                        break
                    backoff = min(10.0, backoff * 2)
                    continue
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(np.ascontiguousarray(image).tobytes())
                self.proc.stdin.flush()
                backoff = 0.5
            except (BrokenPipeError, OSError):
                pass  # the next loop sees the exited encoder and restarts it
            nxt += period
            self.stopping.wait(max(0.0, nxt - time.monotonic()))
            nxt = max(nxt, time.monotonic() - period)
        self._end()
