"""The camera worker's overload watch: per camera ``overloaded`` or not and why, the
shed level of the process, and the CPU split / latency figures of its heartbeat
(kept out of ``worker.py``; the rules themselves are in ``overload.py``)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from workers.camera.overload import overload_cause, shed_factor

if TYPE_CHECKING:
    from workers.camera.worker import CameraWorker, Held

log = logging.getLogger("workers.camera.worker")


def target_fps(worker: CameraWorker, h: Held, shed: bool = True) -> float:
    """The camera's analysed rate wanted: its kind's cadence (after shedding unless
    ``shed`` is False), and no more than its key frames when it decodes only those."""
    kind = h.camera.kind.value
    want = worker.streams.target_fps(kind) * (shed_factor(worker.load.level, kind) if shed else 1.0)
    if h.grabber.keyframes_only and (keys := h.grabber.keyframe_fps()) > 0:
        want = min(want, keys)
    return want


def watch_load(worker: CameraWorker, now: float, busy_s: float) -> None:
    """Per camera: overloaded or not, and why; for the process: the shed level."""
    worker.load.record_turn(now, busy_s, worker.period_s)
    wait = worker.load.cpu_wait_share(now)
    window = worker.streams.overload_window_s
    for h in worker.held.values():
        if worker.detector is None or now - h.taken_at < window + 2 * worker.period_s:
            continue  # nothing analysed (capture only), or not held long enough to judge
        analysed = sum(1 for t in h.analysed if now - t <= window) / window
        delivered, share = h.grabber.delivered_fps(window), worker.streams.overload_share
        # shown against the configured cadence: shedding must not make a slow camera "ok" ...
        h.overload = overload_cause(analysed, target_fps(worker, h, shed=False), delivered, wait, share)
        # ... but shedding is steered by the shed cadence: a camera that keeps up with its
        # shed rate is not a reason to shed more, and lets the level step back (judged
        # against the full rate, a shed worker would count as starved forever: a ratchet)
        h.behind = overload_cause(analysed, target_fps(worker, h), delivered, wait, share)
    starved = any(h.behind in ("cpu", "inference") for h in worker.held.values())
    before = worker.load.level
    if worker.load.update_level(now, starved) != before:
        log.warning("cameras: load shedding level %d -> %d (sites first)", before, worker.load.level)
        for h in worker.held.values():
            kind = h.camera.kind.value
            h.grabber.set_cadence(worker.streams.target_fps(kind) * shed_factor(worker.load.level, kind))


def load_detail(worker: CameraWorker) -> dict[str, float | int]:
    """CPU seconds split decode / analysis / process, frame-to-Redis latency, shed level."""
    lat = sorted(worker.latencies)
    decode = sum(h.grabber.cpu_s for h in worker.held.values()) + worker.probe.cpu_s
    return {"shed_level": worker.load.level, "cpu_process_s": round(time.process_time(), 2),
            "cpu_decode_s": round(decode, 2), "cpu_analysis_s": round(worker.cpu_analysis_s, 2),
            "analysed_frames": worker.analysed_frames,
            "latency_p50_ms": round(1000 * lat[len(lat) // 2], 1) if lat else 0.0,
            "latency_p95_ms": round(1000 * lat[int(len(lat) * 0.95)], 1) if lat else 0.0}
