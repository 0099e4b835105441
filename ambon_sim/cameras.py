"""One HTTP process serving every simulated CCTV camera (MJPEG, snapshots, ground truth).

Run::

    python -m ambon_sim.cameras --host 127.0.0.1 --port 8600 --speed 60 --seed 7 \
        [--start 06:30] [--cameras cam-a:traffic,cam-b:puskesmas:08:00 ...] [--registry PATH] \
        [--rtsp-port 8554] [--rtsp-cameras cam-a,cam-b | all]

Without ``--cameras`` the camera list comes from the site registry
(``ambon_core.registry.load_registry``): every camera whose ``source`` is an http URL
containing ``/cam/<id>/`` or an ``rtsp://`` URL ending in ``/cam/<id>``; the latter are
published over RTSP on ``--rtsp-port`` like an IP camera: a 1920x1080 main stream and a
640x360 sub-stream (``/sub``), looped from a clip rendered once (``ambon_sim.clips``).

Endpoints (``<id>`` is a camera id):

- ``GET /cam/<id>/mjpeg[?fps=5]``: ``multipart/x-mixed-replace; boundary=frame`` stream.
- ``GET /cam/<id>/snapshot.jpg``: one JPEG.
- ``GET /cam/<id>/empty.jpg``, ``/cam/<id>/door_closed.jpg``: reference photos (nobody in
  view, no garbage; and the door shut) as an operator takes them at a real site.
- ``GET /truth/<id>``, ``GET /truth``: ground truth JSON (one camera / all, keyed by id).
- ``GET /healthz``: ``{"ok": true, "sim_time": ..., "speed": ..., "cameras": [...]}``.
- ``rtsp://<host>:<rtsp-port>/cam/<id>[/sub]``: H.264 (RTP over TCP) for the RTSP cameras.
- ``POST /fault/<id>?mode=stop|hang|corrupt|resize|hevc|nokey|none`` (``GET /fault`` lists modes):
  stop = 404 for new requests and open streams are closed; hang = connections stay
  open but nothing is sent; corrupt = JPEG parts whose header is garbage (undecodable);
  resize = 1280x720 frames (truth stays in 640x360 base pixels); hevc = RTSP streams in
  H.265; nokey = RTSP streams without key frames; none = healthy.

Sim time is ``start + (real elapsed) * speed`` in WIT (Asia/Jayapura). The scenes are
advanced by one background thread (cheap); frames are rendered only when asked for.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import cv2
import numpy as np

from ambon_sim.clips import Clip, ClipSpec, load
from ambon_sim.rtsp import ClipPlayer, RtspRelay, ffmpeg_binary
from ambon_sim.scenes import KINDS, WIT, DoorSchedule, PileSchedule, Scene, hhmm, make_scene

LOG = logging.getLogger("sim.cameras")
FAULT_MODES = ("none", "stop", "hang", "corrupt", "resize", "hevc", "nokey")
BIG = (1280, 720)
REFERENCES = ("empty.jpg", "door_closed.jpg")
BOUNDARY = "frame"
WARMUP_SIM_S = 1800.0
WARMUP_VIS_S = 60.0


@dataclass(frozen=True)
class SimCamera:
    """A camera to simulate: id, kind and (puskesmas) hours or (tps) dumping hours."""

    id: str
    kind: str
    opening_time: str | None = None
    closing_time: str | None = None
    days_of_week: tuple[str, ...] | None = None
    dump_hours: tuple[str, str] | None = None
    rtsp: bool = False  # also published over RTSP (H.264)

    def schedule(self) -> DoorSchedule | PileSchedule | None:
        """The scene schedule derived from this camera's hours."""
        if self.kind == "puskesmas":
            kw: dict[str, Any] = {}
            if self.opening_time:
                kw["opening_time"] = self.opening_time
            if self.closing_time:
                kw["closing_time"] = self.closing_time
            if self.days_of_week:
                kw["days_of_week"] = self.days_of_week
            return DoorSchedule(**kw)
        if self.kind in ("tps", "market") and self.dump_hours:
            return PileSchedule(*self.dump_hours)
        return None


def parse_cameras(spec: str) -> list[SimCamera]:
    """Parse ``id:kind[:HH:MM]`` items separated by commas or spaces."""
    out = []
    for item in spec.replace(",", " ").split():
        parts = item.split(":")
        if len(parts) < 2 or parts[1] not in KINDS:
            raise ValueError(f"bad camera spec {item!r}: want id:kind[:HH:MM], kind in {KINDS}")
        opening = ":".join(parts[2:4]) if len(parts) >= 4 else None
        if opening:
            hhmm(opening)
        out.append(SimCamera(parts[0], parts[1], opening_time=opening))
    return out


def cameras_from_registry(registry: Any) -> list[SimCamera]:
    """Sim cameras of a registry object (``.cameras``, ``.puskesmas``, ``.tps``)."""
    hours = {p.id: list(p.hours) for p in getattr(registry, "puskesmas", [])}
    dumps = {t.id: tuple(t.dumping_hours) for t in getattr(registry, "tps", [])}
    out = []
    for cam in registry.cameras:
        source = str(getattr(cam, "source", ""))
        rtsp = source.startswith("rtsp://") and source.rstrip("/").endswith(f"/cam/{cam.id}")
        sim_url = rtsp or (source.startswith("http") and f"/cam/{cam.id}/" in source)
        if cam.kind not in KINDS or not sim_url:
            continue
        site = getattr(cam, "site", None)
        h = hours.get(site or "", [])
        days = tuple(dict.fromkeys(d for x in h for d in x.days_of_week)) or None
        out.append(SimCamera(
            cam.id, cam.kind,
            opening_time=h[0].opening_time if h else None,
            closing_time=h[0].closing_time if h else None,
            days_of_week=days,
            dump_hours=dumps.get(site or ""),  # type: ignore[arg-type]
            rtsp=rtsp))
    return out


def load_registry_cameras(path: str | None = None) -> list[SimCamera]:
    """Sim cameras from the project registry (import guarded: the sim runs without it)."""
    from pathlib import Path

    from ambon_core.registry import load_registry

    return cameras_from_registry(load_registry(Path(path) if path else None))


def parse_start(value: str) -> datetime:
    """``now``, ``HH:MM`` (today, WIT) or an ISO datetime (naive = WIT)."""
    if value == "now":
        return datetime.now(WIT)
    if len(value) <= 5 and ":" in value:
        return datetime.combine(datetime.now(WIT).date(), hhmm(value), WIT)
    dt = datetime.fromisoformat(value)
    return dt if dt.tzinfo else dt.replace(tzinfo=WIT)


@dataclass(frozen=True)
class Frame:
    """One encoded frame and the sim step/time it shows (match with truth ``step``)."""

    data: bytes
    step: int
    sim_time: str

    def headers(self) -> dict[str, str]:
        """HTTP headers identifying the frame."""
        return {"X-Sim-Step": str(self.step), "X-Sim-Time": self.sim_time}


class SimCity:
    """All scenes, one clock, fault modes and a small JPEG cache."""

    def __init__(self, cameras: list[SimCamera], seed: int, speed: float,
                 start: datetime) -> None:
        self.speed = speed
        self.start = start
        warm = timedelta(seconds=min(WARMUP_SIM_S, WARMUP_VIS_S * speed))
        self.scenes: dict[str, Scene] = {
            c.id: make_scene(c.kind, c.id, seed, schedule=c.schedule(), start=start - warm,
                             speed=speed)
            for c in cameras}
        for scene in self.scenes.values():  # so the road and the queue are not empty at start
            scene.advance(start)
        self.t0 = time.monotonic()
        self.locks = {cid: threading.Lock() for cid in self.scenes}
        self.faults: dict[str, str] = dict.fromkeys(self.scenes, "none")
        self._cache: dict[str, tuple[tuple[int, tuple[int, int]], bytes]] = {}
        self._stop = threading.Event()
        self.clip_truth: dict[str, Any] = {}  # RTSP cameras: truth of the clip frame being sent

    def sim_now(self) -> datetime:
        """Current sim time."""
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * self.speed)

    def tick(self) -> None:
        """Advance every scene to the current sim time."""
        now = self.sim_now()
        for cid, scene in self.scenes.items():
            with self.locks[cid]:
                scene.advance(now)

    def run_clock(self, period: float = 0.1) -> None:
        """Background loop calling :meth:`tick` until :meth:`stop`."""
        while not self._stop.wait(period):
            try:
                self.tick()
            except Exception:  # keep the clock alive; a broken scene is logged
                LOG.exception("scene step failed")

    def stop(self) -> None:
        """Stop the clock thread."""
        self._stop.set()

    def jpeg(self, cid: str) -> Frame:
        """Current frame of ``cid`` as JPEG bytes, honouring resize/corrupt faults."""
        size = BIG if self.faults[cid] == "resize" else (640, 360)
        scene = self.scenes[cid]
        with self.locks[cid]:
            key = (scene.steps, size)
            step, sim_time = scene.steps, scene.now.isoformat()
            cached = self._cache.get(cid)
            if cached is not None and cached[0] == key:
                data = cached[1]
            else:
                img = scene.render(size)
                ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
                data = buf.tobytes()
                self._cache[cid] = (key, data)
        if self.faults[cid] == "corrupt":
            data = corrupt(data, step)
        return Frame(data, step, sim_time)

    def image(self, cid: str) -> np.ndarray:
        """Current frame of ``cid`` as a BGR image (the HTTP endpoints encode these)."""
        size = BIG if self.faults[cid] == "resize" else (640, 360)
        with self.locks[cid]:
            return self.scenes[cid].render(size)

    def reference_jpeg(self, cid: str, name: str = "empty") -> bytes:
        """The reference photo an operator would take of this site now, as JPEG: ``empty``
        (nobody in view, no vehicles, no garbage) or ``door_closed`` (also the door shut)."""
        scene = self.scenes[cid]
        with self.locks[cid]:
            saved = {k: getattr(scene, k) for k in ("agents", "blobs", "strays", "door")
                     if hasattr(scene, k)}
            try:
                for k in ("agents", "blobs", "strays"):
                    if k in saved:
                        setattr(scene, k, type(saved[k])())
                if name == "door_closed" and "door" in saved:
                    scene.door = 0.0
                img = scene.render(BIG if self.faults[cid] == "resize" else (640, 360))
            finally:
                for k, v in saved.items():
                    setattr(scene, k, v)
        return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()

    def truth(self, cid: str) -> dict[str, Any]:
        """Ground truth of ``cid`` plus the served frame size and fault mode."""
        scene = self.scenes[cid]
        clip_truth = self.clip_truth.get(cid)
        t = clip_truth() if clip_truth else None
        if t is None:
            with self.locks[cid]:
                t = scene.truth()
        mode = self.faults[cid]
        t["frame_size"] = list(BIG) if mode == "resize" else [640, 360]
        t["fault"] = mode
        return t


def corrupt(data: bytes, salt: int) -> bytes:
    """Garble a JPEG so no decoder recognises it (header bytes replaced by noise)."""
    rng = np.random.default_rng(salt)
    noise = rng.integers(0, 256, 600, dtype=np.uint8).tobytes()
    noise = b"\x00" + noise[1:]
    return noise + data[600:]


class Handler(BaseHTTPRequestHandler):
    """HTTP handler; ``server.city`` is the :class:`SimCity`."""

    protocol_version = "HTTP/1.1"
    server: SimServer

    def log_message(self, fmt: str, *args: Any) -> None:
        """Route access logs to logging at debug level."""
        LOG.debug("%s " + fmt, self.address_string(), *args)

    # ---- helpers -----------------------------------------------------------------
    def _send(self, code: int, body: bytes, ctype: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        """Send a complete response (a client that has gone away is ignored)."""
        try:
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def _json(self, code: int, obj: Any) -> None:
        """Send a JSON response."""
        self._send(code, json.dumps(obj).encode())

    def _hang(self, cid: str) -> bool:
        """Block while ``cid`` is in hang mode; return True if the mode became stop."""
        city = self.server.city
        while city.faults.get(cid) == "hang" and not self.server.stopping:
            time.sleep(0.1)
        return city.faults.get(cid) == "stop" or self.server.stopping

    # ---- routes ------------------------------------------------------------------
    def do_GET(self) -> None:
        """Route GET requests."""
        url = urlparse(self.path)
        parts = [p for p in url.path.split("/") if p]
        city = self.server.city
        if parts == ["healthz"]:
            relay = self.server.relay
            rtsp = {cid: relay.published(f"/cam/{cid}") for cid in self.server.rtsp_ids} if relay else {}
            self._json(200, {"ok": True, "sim_time": city.sim_now().isoformat(),
                             "speed": city.speed, "cameras": sorted(city.scenes), "rtsp": rtsp})
        elif parts == ["truth"]:
            self._json(200, {cid: city.truth(cid) for cid in sorted(city.scenes)})
        elif parts == ["fault"]:
            self._json(200, city.faults)
        elif len(parts) == 2 and parts[0] == "truth" and parts[1] in city.scenes:
            self._json(200, city.truth(parts[1]))
        elif len(parts) == 3 and parts[0] == "cam" and parts[1] in city.scenes:
            self._camera(parts[1], parts[2], parse_qs(url.query))
        else:
            self._json(404, {"error": "not found", "path": url.path})

    def do_POST(self) -> None:
        """``POST /fault/<id>?mode=...``."""
        url = urlparse(self.path)
        parts = [p for p in url.path.split("/") if p]
        city = self.server.city
        mode = parse_qs(url.query).get("mode", ["none"])[0]
        if len(parts) != 2 or parts[0] != "fault" or parts[1] not in city.scenes:
            self._json(404, {"error": "not found", "path": url.path})
        elif mode not in FAULT_MODES:
            self._json(400, {"error": f"mode must be one of {FAULT_MODES}"})
        else:
            city.faults[parts[1]] = mode
            LOG.info("fault %s -> %s", parts[1], mode)
            if mode == "stop" and self.server.relay is not None:
                self.server.relay.cut(f"/cam/{parts[1]}")
            self._json(200, {"camera": parts[1], "mode": mode})

    def _camera(self, cid: str, what: str, query: dict[str, list[str]]) -> None:
        """Snapshot or MJPEG of one camera."""
        city = self.server.city
        if city.faults[cid] == "hang" and self._hang(cid):
            self._json(404, {"error": "camera stopped"})
            return
        if city.faults[cid] == "stop":
            self._json(404, {"error": "camera stopped"})
        elif what in ("snapshot.jpg", "snapshot"):
            frame = city.jpeg(cid)
            self._send(200, frame.data, "image/jpeg", frame.headers())
        elif what in REFERENCES:  # reference photos (workers.camera.refs)
            self._send(200, city.reference_jpeg(cid, what.removesuffix(".jpg")), "image/jpeg")
        elif what in ("mjpeg", "stream.mjpg", "video.mjpg"):
            fps = float(query.get("fps", ["5"])[0])
            self._mjpeg(cid, max(0.2, min(30.0, fps)))
        else:
            self._json(404, {"error": "not found"})

    def _mjpeg(self, cid: str, fps: float) -> None:
        """Stream multipart JPEG parts until the client leaves or the camera stops."""
        city = self.server.city
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        period = 1.0 / fps
        nxt = time.monotonic()
        try:
            while not self.server.stopping:
                mode = city.faults[cid]
                if mode == "stop" or (mode == "hang" and self._hang(cid)):
                    return
                frame = city.jpeg(cid)
                head = (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                        f"Content-Length: {len(frame.data)}\r\nX-Sim-Step: {frame.step}\r\n"
                        f"X-Sim-Time: {frame.sim_time}\r\n\r\n").encode()
                self.wfile.write(head + frame.data + b"\r\n")
                self.wfile.flush()
                nxt += period
                time.sleep(max(0.0, nxt - time.monotonic()))
                nxt = max(nxt, time.monotonic() - period)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return


class SimServer(ThreadingHTTPServer):
    """Threading HTTP server holding the :class:`SimCity`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], city: SimCity) -> None:
        super().__init__(addr, Handler)
        self.city = city
        self.stopping = False
        self.relay: RtspRelay | None = None
        self.rtsp_ids: list[str] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log handler errors through logging instead of printing to stderr."""
        LOG.warning("error serving %s", client_address, exc_info=True)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(description="Ambon simulated CCTV camera server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8600)
    p.add_argument("--speed", type=float, default=60.0, help="sim seconds per real second")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--start", default="now", help="now | HH:MM (today WIT) | ISO datetime")
    p.add_argument("--cameras", nargs="*", default=None,
                   help="id:kind[:HH:MM] items (default: the registry's sim cameras)")
    p.add_argument("--registry", default=None, help="registry file (default: settings)")
    p.add_argument("--rtsp-port", type=int, default=8554, help="RTSP port (0: any free port)")
    p.add_argument("--rtsp-cameras", default="",
                   help="ids to publish over RTSP too, comma-separated, or 'all' (the registry's "
                        "rtsp:// cameras are always published)")
    p.add_argument("--rtsp-fps", type=int, default=20, help="frame rate of the RTSP clips")
    p.add_argument("--clip-seconds", type=float, default=10.0,
                   help="length of each RTSP camera's looped clip (visual seconds)")
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--refs-dir", default=None,
                   help="write missing reference photos here at start (ambon_sim.installer)")
    return p


def main(argv: list[str] | None = None) -> None:
    """Start the clock thread and serve until interrupted."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(message)s")
    if args.cameras:
        cameras = parse_cameras(" ".join(args.cameras))
    else:
        cameras = load_registry_cameras(args.registry)
    if not cameras:
        raise SystemExit("no sim cameras: pass --cameras or add http sim sources to the registry")
    city = SimCity(cameras, args.seed, args.speed, parse_start(args.start))
    if args.refs_dir:
        from ambon_sim.installer import install_references

        install_references(city, Path(args.refs_dir))
    clock = threading.Thread(target=city.run_clock, name="sim-clock", daemon=True)
    clock.start()
    server = SimServer((args.host, args.port), city)
    LOG.info("serving %d sim cameras on http://%s:%d (speed %.0fx, start %s)", len(cameras),
             args.host, server.server_address[1], args.speed, city.start.isoformat())
    chosen = {c.strip() for c in args.rtsp_cameras.split(",") if c.strip()}
    unknown = chosen - {"all"} - {c.id for c in cameras}
    if unknown:
        raise SystemExit(f"--rtsp-cameras: no such camera {', '.join(sorted(unknown))}")
    rtsp_ids = [c.id for c in cameras if c.rtsp or "all" in chosen or c.id in chosen]
    feeders = start_rtsp(server, rtsp_ids, args.host, args.rtsp_port, args.rtsp_fps,
                                                  args.clip_seconds, args.seed, cameras) if rtsp_ids else []
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping = True
        for feeder in feeders:
            feeder.stop()
        if server.relay is not None:
            server.relay.shutdown()
            server.relay.server_close()
        city.stop()
        server.server_close()


def start_rtsp(server: SimServer, ids: list[str], host: str, port: int, fps: int,
               seconds: float, seed: int, cameras: list[SimCamera]) -> list[ClipPlayer]:
    """Start the RTSP relay and one clip player per camera in ``ids``; the players started."""
    city = server.city
    try:
        relay = RtspRelay((host, port), fault_of=lambda path: city.faults.get(_camera_of(path), "none"))
    except OSError as exc:
        raise SystemExit(f"the camera simulator cannot listen for RTSP on {host}:{port} ({exc.strerror}); "
                         "set SIM_RTSP_PORT to a free port") from exc
    server.relay, server.rtsp_ids = relay, ids
    threading.Thread(target=relay.serve_forever, name="rtsp-relay", daemon=True).start()
    ffmpeg = ffmpeg_binary()
    if ffmpeg is None:
        LOG.error("ffmpeg is not installed, so the RTSP cameras %s have no stream "
                  "(install Debian's ffmpeg: `make setup` does)", ", ".join(ids))
        return []
    by_id = {c.id: c for c in cameras}
    # the clip shows the hour the city starts in, so one render serves every run of that hour
    start = city.start.replace(minute=0, second=0, microsecond=0).isoformat()
    players = []
    for cid in ids:
        cam = by_id[cid]
        spec = ClipSpec(cid, cam.kind, seed, start, city.speed, seconds=seconds, fps=fps,
                        gop=max(1, round(fps * 1.5)), schedule=repr(cam.schedule()))
        player = ClipPlayer(cid, relay, _clip_source(spec, cam, ffmpeg),
                            fault_of=lambda cid=cid: city.faults[cid])
        city.clip_truth[cid] = player.truth
        players.append(player)
    for player in players:
        player.start()
    LOG.info("RTSP: %d cameras on rtsp://%s:%d/cam/<id> (main) and /cam/<id>/sub", len(ids), host, relay.port)
    return players


_RENDERING = threading.Semaphore(int(os.environ.get("SIM_CLIP_RENDERS", "2")))  # the machine stays usable


def _clip_source(spec: ClipSpec, cam: SimCamera, ffmpeg: str):  # type: ignore[no-untyped-def]
    """``mode -> Clip`` for one camera: its clip, or the variant of a fault mode, loaded once."""
    loaded: dict[ClipSpec, Clip] = {}

    def clip_for(mode: str) -> Clip:
        want = spec.variant(mode)
        if want not in loaded:
            with _RENDERING:
                loaded[want] = load(want, cam.schedule(), ffmpeg)
        return loaded[want]

    return clip_for


def _camera_of(path: str) -> str:
    """``/cam/<id>`` or ``/cam/<id>/sub`` -> ``<id>``."""
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) >= 2 and parts[0] == "cam" else ""


if __name__ == "__main__":
    main()
