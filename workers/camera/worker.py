"""CameraWorker: leases cameras through Redis, captures, detects in batches, publishes.

Several processes (on several hosts) share the registry's cameras: each holds at most
CAMERA_WORKER_MAX leases (TTL ``LEASE_TTL_S``, renewed every turn); a dead host's
leases expire and other workers take its cameras over within the TTL plus one turn.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from ambon_core.alert_kinds import kinds_raised_by
from ambon_core.alerts import sync_alerts
from ambon_core.db import upsert
from ambon_core.domain import (
    LIVE_CAMERA_STATUSES,
    Alert,
    AlertKind,
    CameraKind,
    CameraState,
    CameraStatus,
)
from ambon_core.models import CameraMinute
from ambon_core.registry import Camera
from ambon_core.settings import camera_settings, get_camera_streams
from ambon_core.spool import history_op
from workers.base import LoopWorker
from workers.camera import load_watch
from workers.camera.capture import Grabber, mask_url
from workers.camera.detector import Detector, ModelError, MotionGate
from workers.camera.overload import LoadMonitor, thread_cpu
from workers.camera.pipeline import CameraPipeline, Rules, load_refs, minute_row
from workers.camera.privacy import BlurConfig, PrivacyBlur, encode_jpeg
from workers.camera.refs import is_simulator_source, ref_path
from workers.camera.sharp import SharpFetcher, serve_requests
from workers.camera.streams import MainProbe, camera_health, capture_config, make_grabber

log = logging.getLogger(__name__)
NO_SIGNAL_S = 10.0
REFS_CHECK_S = 30.0  # reference photos taken while the camera runs are picked up this often
SNAPSHOT_S = 2.0
DEMO_MODEL = "demo_model"  # CameraState.analysis_withheld: the demo model on a real camera
ALERT_KINDS = kinds_raised_by("cameras")  # from the specs: every kind this worker raises


@dataclass
class Held:
    """A camera this process holds: its capture thread, analysis and health counters."""

    camera: Camera
    grabber: Grabber
    pipeline: CameraPipeline
    gate: MotionGate = field(default_factory=MotionGate)
    last_seq: int = 0
    analysed: list[float] = field(default_factory=list)
    infer_ms: float = 0.0
    gated: int = 0
    last_snapshot: float = 0.0
    last_history: float = 0.0
    blur: PrivacyBlur | None = None
    analysed_image: object = None  # the frame the blur last saw: the only one published
    refs_seen: tuple[float, ...] = ()  # mtimes of its reference photos when loaded
    withheld: str | None = None  # why values are not published (DEMO_MODEL)
    taken_at: float = field(default_factory=time.monotonic)
    pending_wall: float | None = None  # wall stamp of an analysed frame not yet in Redis
    overload: str | None = None  # below its configured cadence, and why (shown)
    behind: str | None = None  # below its shed cadence, and why (steers the shed level)


class CameraWorker(LoopWorker):
    name = "cameras"
    interval_s = 0.5  # ~2 analysed frames per second per camera

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tunables = camera_settings()
        self.name = self.tunables.worker_name
        self.owner = f"{self.name}@{socket.gethostname()}:{os.getpid()}"
        self.max_cameras = self.tunables.worker_max
        self.streams = get_camera_streams()
        fastest = max(self.streams.target_fps(k.value) for k in CameraKind)
        # the turn runs at the fastest kind's cadence unless CAMERA_ANALYSE_PERIOD_S says otherwise
        self.period_s = (self.tunables.analyse_period_s
                         if "analyse_period_s" in self.tunables.model_fields_set
                         else round(1 / fastest, 3))
        self.lease_ttl_s = self.tunables.lease_ttl_s
        self.blur_cfg = BlurConfig.from_settings(self.tunables)
        self.held: dict[str, Held] = {}
        self.rules = Rules.from_settings(self.tunables)
        self._refs_checked = 0.0
        self.capture_cfg = capture_config(self.streams)
        self.load = LoadMonitor(window_s=self.streams.overload_window_s)
        self.probe = MainProbe(lambda: [h.camera for h in list(self.held.values())],
                               self.streams.main_probe_s, self.capture_cfg)
        self.sharp = SharpFetcher(self.capture_cfg)  # started by the first request
        self.cpu_analysis_s = 0.0
        self.analysed_frames = 0
        self.latencies: deque[float] = deque(maxlen=2000)
        self.detector: Detector | None = None
        self.model_error: str | None = None
        self._last_alerts = 0.0
        self._tps = {t.id: t for t in self.registry.tps}
        self._load_model()

    def _load_model(self) -> None:
        s = self.settings
        try:
            self.detector = Detector(s.model_path, s.model_format, s.inference_imgsz)
        except ModelError as exc:
            self.model_error = str(exc)
            self.detail["error"] = self.model_error
            log.error("cameras: %s Capture and health keep running without analysis.", exc)

    # ---- leases -------------------------------------------------------------------------
    def _order(self) -> list[Camera]:
        """Registry cameras, rotated by our owner id so hosts start claiming at different places."""
        cams = list(self.registry.cameras)
        k = zlib.crc32(self.owner.encode()) % max(1, len(cams))
        return cams[k:] + cams[:k]

    def manage_leases(self) -> None:
        for cid in list(self.held):
            if not self.store.claim(cid, self.owner, self.lease_ttl_s):
                log.warning("cameras: lost the lease of %s", cid)
                self._drop(cid)
        for cam in self._order():
            if len(self.held) >= self.max_cameras:
                break
            if cam.id not in self.held and self.store.claim(cam.id, self.owner, self.lease_ttl_s):
                self._take(cam)

    def _take(self, cam: Camera) -> None:
        grabber = make_grabber(cam, self.capture_cfg, self.streams)
        grabber.start()
        if cam.detect_source and not self.probe.is_alive():
            self.probe.start()
        held = Held(cam, grabber, self._pipeline(cam), withheld=self._withheld(cam))
        self._load_refs(held)
        self.held[cam.id] = held
        log.info("cameras: took %s (%s)", cam.id, mask_url(cam.source))
        if held.withheld:
            log.warning("cameras: %s is not a simulated camera and MODEL_PATH is the demo model "
                        "(trained on the simulator only): its values are not published; set "
                        "MODEL_PATH to yolo11n.pt or the city's model", cam.id)

    def _withheld(self, cam: Camera) -> str | None:
        """DEMO_MODEL when the demo model would analyse a real camera (not allowed unless
        ALLOW_DEMO_MODEL_ON_REAL_CAMERAS): it miscounts real scenes badly."""
        demo = self.detector is not None and self.detector.is_demo
        allowed = self.tunables.allow_demo_model_on_real_cameras
        if demo and not allowed and not is_simulator_source(cam.source):
            return DEMO_MODEL
        return None

    def _pipeline(self, cam: Camera, refs: dict | None = None) -> CameraPipeline:
        has_garbage = self.detector.has_garbage if self.detector else False
        # a queued person missed for one frame still stands there: one period of its cadence
        rules = dataclasses.replace(self.rules, queue_hold_s=max(
            self.rules.queue_hold_s, 1.0 / self.streams.target_fps(cam.kind.value)))
        return CameraPipeline(cam, self._tps.get(cam.site or ""), refs or {}, rules, has_garbage)

    def _ref_stamps(self, cam: Camera) -> tuple[float, ...]:
        paths = (ref_path(cam.id, n, self.tunables.ref_dir) for n in ("empty", "door_closed"))
        return tuple(p.stat().st_mtime if p.exists() else 0.0 for p in paths)

    def _load_refs(self, h: Held) -> None:
        """(Re)start a camera's analysis and blur with its reference photos from disk: the
        empty site (fill, and the background the blur starts from) and the shut door."""
        cam = h.camera
        refs = load_refs(cam.id, self.tunables.ref_dir)
        h.refs_seen = self._ref_stamps(cam)
        h.pipeline = self._pipeline(cam, refs)
        h.blur = PrivacyBlur([m.polygon for m in cam.privacy_masks], cam.frame_size, self.blur_cfg,
                             seed=refs.get("empty", refs.get("door_closed")))

    def refresh_refs(self, now: float) -> None:
        """Every REFS_CHECK_S: a camera whose reference photos changed on disk (an installer
        took them, or the simulator wrote them at its start) restarts with them. Only file
        stamps are read here: no camera or simulator is asked for anything in a turn."""
        if now - self._refs_checked < REFS_CHECK_S:
            return
        self._refs_checked = now
        for h in self.held.values():
            if self._ref_stamps(h.camera) != h.refs_seen:
                log.info("cameras: %s has new reference photos", h.camera.id)
                self._load_refs(h)

    def _drop(self, cid: str) -> None:
        held = self.held.pop(cid, None)
        if held:
            held.grabber.stop()

    # ---- one turn -----------------------------------------------------------------------
    def turn(self) -> None:
        started = time.monotonic()
        self.manage_leases()
        now = time.monotonic()
        self.refresh_refs(now)
        local_now = datetime.now(self.settings.tz)
        todo: list[Held] = []
        for h in self.held.values():
            frame = h.grabber.latest()
            if frame is None or frame.seq == h.last_seq or now - frame.mono >= NO_SIGNAL_S:
                if frame is not None and now - frame.mono >= self.capture_cfg.watchdog_s:
                    h.grabber.kick()  # watchdog: a stream silent this long is reconnected
                continue
            h.last_seq = frame.seq
            todo.append(h)
        cpu0 = thread_cpu()
        self.analyse(todo, now, local_now)
        self.cpu_analysis_s += thread_cpu() - cpu0
        self.watch_load(now, time.monotonic() - started)
        self.publish(now)
        serve_requests(self, now)
        self.detail.update(cameras=len(self.held), owner=self.owner,
                           infer_fps=round(sum(self.analysed_fps(h, now) for h in self.held.values()), 2),
                           **self.load_detail())
        # keep a steady analysis period: the base loop waits interval_s after each turn
        self.interval_s = max(0.02, self.period_s - (time.monotonic() - started))

    def analyse(self, todo: list[Held], now: float, local_now: datetime) -> None:
        """Motion gate, one batched predict over the changed frames, then per-camera analytics."""
        frames = {h.camera.id: h.grabber.latest() for h in todo}
        changed = [h for h in todo if h.gate.changed(frames[h.camera.id].image, now)]
        dets = []
        if self.detector is not None and changed:
            t0 = time.perf_counter()
            dets = self.detector([frames[h.camera.id].image for h in changed],
                                 [self.detector.imgsz_for(h.camera.kind.value) for h in changed])
            ms = (time.perf_counter() - t0) * 1000 / len(changed)
            for h in changed:
                h.infer_ms = ms if not h.infer_ms else 0.8 * h.infer_ms + 0.2 * ms
        by_id = {h.camera.id: d for h, d in zip(changed, dets, strict=False)}
        for h in todo:
            image = frames[h.camera.id].image
            if h.blur is not None:  # the blur learns every frame, with or without a model
                h.blur.observe(image, now)
                h.analysed_image = image
            if self.detector is None:
                continue
            d = by_id.get(h.camera.id)
            if d is None:
                h.gated += 1
            h.pipeline.analyse(frames[h.camera.id].mono, frames[h.camera.id].image, d, local_now)
            keep = self.rate_window(h)
            h.analysed = [t for t in h.analysed if now - t <= keep] + [now]
            h.pending_wall = frames[h.camera.id].wall
            self.analysed_frames += 1

    # ---- overload and shedding (workers/camera/load_watch.py) ----------------------------
    def target_fps(self, h: Held, shed: bool = True) -> float:
        return load_watch.target_fps(self, h, shed)

    def rate_window(self, h: Held) -> float:
        """Seconds over which a camera's analysed rate is measured: 10 s, or three of its
        periods when it is slower (a shed TPS at 0.125 fps would read 0 fps in 10 s)."""
        return max(10.0, 3.0 / max(self.target_fps(h), 0.01))

    def analysed_fps(self, h: Held, now: float) -> float:
        return _rate(h.analysed, now, self.rate_window(h))

    def watch_load(self, now: float, busy_s: float) -> None:
        load_watch.watch_load(self, now, busy_s)

    def load_detail(self) -> dict[str, float | int]:
        return load_watch.load_detail(self)

    def state_of(self, h: Held, now: float) -> CameraState:
        frame = h.grabber.latest()
        fresh = frame is not None and now - frame.mono < NO_SIGNAL_S
        started = not (frame is None and h.grabber.reconnects == 0)
        health = camera_health(fresh, started, h.overload, h.grabber.cause,
                               self.probe.up.get(h.camera.id) if h.camera.detect_source else None)
        status = health.status
        values = dict(h.pipeline.values)  # CameraState fields only (scene_analytics)
        if not fresh or self.detector is None or h.withheld:
            values = {}
        last = datetime.fromtimestamp(frame.wall, UTC) if frame else None
        return CameraState(camera_id=h.camera.id, kind=h.camera.kind, status=status, worker=self.owner,
                           capture_fps=round(h.grabber.fps(), 2),
                           infer_fps=round(self.analysed_fps(h, now), 2),
                           infer_ms=round(h.infer_ms, 1), skipped_frames=h.gated + h.grabber.corrupt,
                           reconnects=h.grabber.reconnects, last_frame_at=last,
                           analysis_withheld=h.withheld,
                           health_cause=health.cause, target_fps=round(self.target_fps(h), 2),
                           stream=_stream_text(h.grabber), stream_changes=h.grabber.stream_changes,
                           **values)

    def publish(self, now: float) -> None:
        states = {cid: self.state_of(h, now) for cid, h in self.held.items()}
        if not states:
            return
        history = [s for cid, s in states.items() if now - self.held[cid].last_history >= 10]
        self.store.put(*[s for s in states.values() if s not in history])
        if history:
            self.store.put(*history, history=True)
            for s in history:
                self.held[s.camera_id].last_history = now
        wall = time.time()
        for h in self.held.values():
            if h.pending_wall is not None:
                self.latencies.append(wall - h.pending_wall)
                h.pending_wall = None
        for cid, h in self.held.items():
            if states[cid].status not in LIVE_CAMERA_STATUSES:
                self.store.r.delete(self.store.key_snapshot(cid))  # never the last frame as live
            elif now - h.last_snapshot >= SNAPSHOT_S:
                self.publish_snapshot(h, now)
        if now - self._last_alerts >= 5.0:
            self._last_alerts = now
            self.write_history(states)

    def publish_snapshot(self, h: Held, now: float) -> None:
        """The last analysed frame, blurred (never a newer frame the blur has not seen).
        Without motion blur the detections are the only cover: no model, no snapshot."""
        if h.blur is None or h.analysed_image is None or (h.blur.motion is None and self.detector is None):
            return
        tracks = h.pipeline.tracks if self.detector is not None else []
        image = h.blur.publishable(h.analysed_image, tracks, now)  # type: ignore[arg-type]
        self.store.put_snapshot(h.camera.id, encode_jpeg(image))
        h.last_snapshot = now

    def write_history(self, states: dict[str, CameraState]) -> None:
        """Alerts of our cameras and finished minutes to SQL (other hosts' alerts untouched)."""
        wanted: list[Alert] = []
        for cid, h in self.held.items():
            live = states[cid].status in LIVE_CAMERA_STATUSES
            wanted += h.pipeline.alerts() if live and not h.withheld else []
            if states[cid].status == CameraStatus.NO_SIGNAL:
                wanted.append(Alert(alert_id=f"camera_offline:{cid}", kind=AlertKind.CAMERA_OFFLINE,
                                    entity_id=cid, severity=1, lat=h.camera.lat, lon=h.camera.lon,
                                    params={"camera": h.camera.name, "error": h.grabber.last_error}))
        others = [a for a in self.store.read_live().alerts.values()
                  if a.kind in ALERT_KINDS and a.entity_id not in self.held]
        sync_alerts(self.store, self.history, ALERT_KINDS, wanted + others)
        rows = [minute_row(h.camera, agg) for h in self.held.values()
                if (agg := h.pipeline.take_finished_minute()) is not None and not h.withheld]
        if rows:
            self.history.write("camera_minutes", {"rows": rows})

    def run(self) -> None:
        try:
            super().run()
        finally:
            self.probe.stop()
            self.sharp.stop()
            grabbers = [h.grabber for h in self.held.values()]
            for cid in list(self.held):
                self.store.release(cid, self.owner)
                self._drop(cid)
            # Let capture threads leave OpenCV before the interpreter exits: a thread still
            # inside cv2's read() at exit aborts the process ("exception not rethrown").
            # A blocked read returns within the read timeout.
            deadline = time.monotonic() + self.capture_cfg.read_timeout_s + 1.0
            for grabber in grabbers:
                grabber.join(max(0.0, deadline - time.monotonic()))


def _stream_text(g: Grabber) -> str | None:
    return f"{g.codec} {g.stream_size[0]}x{g.stream_size[1]}" if g.codec and g.stream_size else None


def _rate(stamps: list[float], now: float, window: float = 10.0) -> float:
    recent = [t for t in stamps if now - t <= window]
    return 0.0 if len(recent) < 2 else (len(recent) - 1) / max(1e-6, recent[-1] - recent[0])


@history_op("camera_minutes")
def _camera_minutes(session: Session, payload: dict) -> None:
    """Upsert finished minutes by (camera, minute): a replay rewrites the same values."""
    rows = [{**row, "minute": _as_datetime(row["minute"])} for row in payload["rows"]]
    upsert(session, CameraMinute, rows, keys=("camera_id", "minute"))


def _as_datetime(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
