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
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ambon_sim.clips import Clip, looped_truth
from ambon_sim.rtp import CLOCK_HZ, AccessUnit, au_payloads, rtp_packet, sdp

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

    def send_frame(self, packets: list[bytes]) -> bool:
        """A picture's RTP packets in one write, back to back as a camera's network stack
        sends an encoder's burst."""
        ch = bytes([0x24, self.rtp_channel])
        data = b"".join(ch + len(p).to_bytes(2, "big") + p for p in packets)
        try:
            with self.lock:
                self.sock.sendall(data)
            return True
        except OSError:
            return False

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
    gop_source: Callable[[], list[bytes]] | None = None  # a clip player's current GOP


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
        return p is not None and (p.publisher is not None or p.gop_source is not None) and bool(p.sdp)

    def has_readers(self, name: str) -> bool:
        p = self.paths.get(name)
        return p is not None and bool(p.readers)

    def attach(self, name: str, sdp: bytes, gop_source: Callable[[], list[bytes]]) -> None:
        """Publish ``name`` from an in-process player (no publisher connection); a new stream
        description drops the readers, who DESCRIBE again, as with a camera whose profile changed."""
        p = self.path(name)
        with self.lock:
            dropped = list(p.readers) if p.sdp and p.sdp != sdp else []
            p.sdp, p.gop_source, p.gop, p.gop_bytes = sdp, gop_source, [], 0
        if dropped:
            self.drop_readers(name, dropped)

    def forward_frame(self, name: str, packets: list[bytes]) -> None:
        """Send one picture's RTP packets (a player's) to every reader of ``name``."""
        p = self.path(name)
        mode = self.fault_of(name)
        with self.lock:
            p.packets += len(packets)
            readers = list(p.readers)
        if mode == "hang" or not readers:
            return
        if mode == "corrupt":
            packets = [garble(pk, p.packets + k) for k, pk in enumerate(packets)]
        dead = [r for r in readers if not r.send_frame(packets)]
        if dead:
            self.drop_readers(name, dead)

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
            gop = [] if self.fault_of(name) == "hang" else (
                p.gop_source() if p.gop_source is not None else list(p.gop))
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
            p.gop, p.gop_bytes, p.sdp, p.gop_source = [], 0, b"", None
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


class ClipPlayer(threading.Thread):
    """Loops one camera's clip on the relay, stream copy: main stream ``/cam/<id>``,
    sub-stream ``/cam/<id>/sub``, paced by the clip's frame rate.

    ``clip_for(mode)`` gives the clip a fault mode plays (``resize``, ``hevc``: a variant,
    rendered on first use; otherwise the camera's own). ``nokey`` sends every picture but
    the key frames (a camera whose encoder lost its IDRs). Nothing is built for a stream
    nobody reads; a reader that joins gets the pictures since the last key frame.
    """

    def __init__(self, cid: str, relay: RtspRelay, clip_for: Callable[[str], Clip],
                 fault_of: Callable[[], str]):
        super().__init__(name=f"rtsp-{cid}", daemon=True)
        self.cid, self.relay, self.clip_for, self.fault_of = cid, relay, clip_for, fault_of
        self.paths = (f"/cam/{cid}", f"/cam/{cid}/sub")
        self.stopping = threading.Event()
        self.clip: Clip | None = None
        self.index = 0  # absolute frame number of the endless loop
        self.error: str | None = None
        self._lock = threading.Lock()
        self._seq = dict.fromkeys(self.paths, 0)
        self._sent: dict[str, list[tuple[int, int]]] = {p: [] for p in self.paths}  # since key

    def stop(self) -> None:
        self.stopping.set()

    def _units(self, path: str) -> list[AccessUnit]:
        assert self.clip is not None
        return self.clip.main if path == self.paths[0] else self.clip.sub

    def _packets(self, path: str, index: int, seq0: int) -> list[bytes]:
        assert self.clip is not None
        au = self._units(path)[index % self.clip.frames]
        chunks = au_payloads(au, self.clip.spec.codec)
        ts = int(index * CLOCK_HZ / self.clip.spec.fps)
        ssrc = zlib.crc32(path.encode())
        return [rtp_packet(c, seq0 + k, ts, k == len(chunks) - 1, ssrc) for k, c in enumerate(chunks)]

    def _gop(self, path: str) -> list[bytes]:
        with self._lock:
            sent = list(self._sent[path])
        return [pk for index, seq0 in sent for pk in self._packets(path, index, seq0)]

    def _publish(self, clip: Clip) -> None:
        self.clip = clip
        codec = clip.spec.codec
        for path, units in zip(self.paths, (clip.main, clip.sub), strict=True):
            with self._lock:
                self._sent[path] = []
            self.relay.attach(path, sdp(units, codec), lambda path=path: self._gop(path))

    def _send(self, path: str, index: int, mode: str) -> None:
        assert self.clip is not None
        au = self._units(path)[index % self.clip.frames]
        if mode == "nokey" and au.key:
            return
        if not self.relay.has_readers(path):
            with self._lock:
                self._sent[path] = []  # a newcomer waits for the next key frame
            return
        with self._lock:
            seq0 = self._seq[path]
        packets = self._packets(path, index, seq0)
        self.relay.forward_frame(path, packets)
        with self._lock:
            self._seq[path] = (seq0 + len(packets)) & 0xFFFF
            self._sent[path] = ([] if au.key else self._sent[path]) + [(index, seq0)]

    def truth(self) -> dict | None:
        """Ground truth of the picture being sent now (None before the clip is ready)."""
        clip = self.clip
        return None if clip is None else looped_truth(clip, max(0, self.index - 1))

    def run(self) -> None:
        t0 = time.monotonic()
        while not self.stopping.is_set():
            mode = self.fault_of()
            if mode == "stop":
                for path in self.paths:
                    self.relay.cut(path)
                self.clip = None
                self.stopping.wait(0.2)
                continue
            try:
                clip = self.clip_for(mode)
            except Exception as exc:  # no ffmpeg, or it failed: the camera has no stream
                self.error = str(exc)
                LOG.error("camera %s: %s", self.cid, exc)
                self.stopping.wait(10.0)
                continue
            if clip is not self.clip:
                self._publish(clip)
            due = t0 + self.index / clip.spec.fps
            if self.stopping.wait(max(0.0, due - time.monotonic())):
                break
            for path in self.paths:
                self._send(path, self.index, mode)
            self.index += 1
            late = time.monotonic() - t0 - self.index / clip.spec.fps
            if late > 1.0:  # the process was starved: skip ahead as a live camera does
                self.index = int((time.monotonic() - t0) * clip.spec.fps)
