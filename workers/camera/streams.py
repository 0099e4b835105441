"""Stream roles and camera health: which stream is analysed, how often, and what the
camera's health says when one of its streams or the analysis fails.

A camera with a ``detect_source`` (its sub-stream) is analysed from it; its ``source``
(the main stream) is only checked every ``main_probe_s`` by :class:`MainProbe` -- one key
frame decoded, then the connection closed -- and gives the sharp pictures asked for
on the Kamera page (``workers/camera/sharp.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ambon_core.domain import CameraStatus
from ambon_core.registry import Camera
from ambon_core.settings import CameraStreams
from workers.camera.capture import CaptureConfig, Grabber
from workers.camera.sharp import first_keyframe

log = logging.getLogger(__name__)


def make_grabber(cam: Camera, cfg: CaptureConfig, streams: CameraStreams) -> Grabber:
    """The capture thread of ``cam``: its analysis stream, at its kind's cadence."""
    kind = cam.kind.value
    return Grabber(cam.id, cam.analysis_source, cfg, analyse_fps=streams.target_fps(kind),
                   keyframes_only=kind in streams.keyframes_only)


def capture_config(streams: CameraStreams, base: CaptureConfig | None = None) -> CaptureConfig:
    """The capture settings with the decoder settings of ``streams``."""
    from dataclasses import replace

    return replace(base or CaptureConfig(), decoder_threads=streams.decoder_threads,
                   hwaccel=streams.hwaccel, keyframe_timeout_s=streams.keyframe_timeout_s)


@dataclass(frozen=True)
class Health:
    """A camera's status and, when it is not simply ok, why (a short code, translated)."""

    status: CameraStatus
    cause: str | None = None


def camera_health(fresh: bool, started: bool, overload: str | None, grabber_cause: str | None,
                  main_up: bool | None) -> Health:
    """What a camera's health says. ``fresh``: its analysis stream delivered a frame within
    the no-signal limit; ``main_up``: the main stream's last check (None: no second stream)."""
    if not fresh:
        if not started:
            return Health(CameraStatus.STARTING)
        if grabber_cause == "no_keyframe":
            return Health(CameraStatus.NO_SIGNAL, "no_keyframe")
        if main_up:
            return Health(CameraStatus.NO_SIGNAL, "detect_down")  # the sub-stream only
        return Health(CameraStatus.NO_SIGNAL, grabber_cause)
    if overload:
        return Health(CameraStatus.OVERLOADED, overload)
    return Health(CameraStatus.OK, "main_down" if main_up is False else None)


class MainProbe(threading.Thread):
    """Checks the main stream of each camera that has a ``detect_source``, one at a time:
    open, decode one key frame, close. ``up[camera_id]`` is the last answer."""

    def __init__(self, cameras: Callable[[], list[Camera]], period_s: float,
                 cfg: CaptureConfig):
        super().__init__(name="main-probe", daemon=True)
        self.cameras, self.period_s, self.cfg = cameras, period_s, cfg
        self.up: dict[str, bool] = {}
        self.errors: dict[str, str] = {}
        self.cpu_s = 0.0
        self.stop_event = threading.Event()

    def check(self, cam: Camera) -> bool:
        """True when ``cam.source`` gives a decodable key frame now."""
        try:
            first_keyframe(cam.source, self.cfg)
        except ConnectionError as exc:
            self.errors[cam.id] = str(exc)
            return False
        self.errors.pop(cam.id, None)
        return True

    def run(self) -> None:
        due: dict[str, float] = {}  # a camera just taken is checked at once
        while not self.stop_event.wait(1.0):
            for cam in [c for c in self.cameras() if c.detect_source]:
                if self.stop_event.is_set():
                    return
                if time.monotonic() < due.get(cam.id, 0.0):
                    continue
                up = self.check(cam)
                due[cam.id] = time.monotonic() + self.period_s
                if self.up.get(cam.id) is not None and up != self.up[cam.id]:
                    log.info("camera %s: main stream %s", cam.id, "back" if up else "down")
                self.up[cam.id] = up
                self.cpu_s = time.thread_time()

    def stop(self) -> None:
        self.stop_event.set()
