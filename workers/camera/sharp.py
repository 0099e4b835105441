"""Sharp pictures on demand: one key frame of a camera's main stream, blurred like every
published frame, for a viewer on the Kamera page who needs more than the sub-stream.

The analysis never sees the main stream (it runs on ``detect_source``); so the blur of a
sharp picture is the camera's own blur, computed on the analysed sub-stream frame and
scaled up: static masks, everything that moved in the last ``CAMERA_BLUR_HOLD_S`` and
the detection boxes. The sub-stream and the main stream show the same field of view
(one sensor, two encodings), which is what lets the mask be scaled. The mask is taken
from the analysed frame of the turn that *receives* the key frame, i.e. after it was
decoded, and widened by ``MARGIN`` of the width: a person who walked into a spot that
had not moved for two minutes in the ~0.5 s between the two frames is still covered.
The picture is published at ``SHARP_WIDTH`` (≈ 2× the ordinary snapshot) with the
pixelation cells scaled with it, so a face is no more recognisable than at 640 px.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ambon_core.domain import LIVE_CAMERA_STATUSES
from workers.camera.capture import CaptureConfig, mask_url
from workers.camera.decode import open_container
from workers.camera.privacy import PUBLISH_WIDTH, encode_jpeg, pixelate_where

if TYPE_CHECKING:
    from ambon_core.registry import Camera
    from workers.camera.privacy import PrivacyBlur
    from workers.camera.tracking import Track

log = logging.getLogger(__name__)
SHARP_WIDTH = 1280
MARGIN = 0.02  # of the picture's width, around every blurred region
CELL_AT_PUBLISH_WIDTH = 16  # pixelation cell at the ordinary snapshot's width


def first_keyframe(url: str, cfg: CaptureConfig, as_image: bool = False) -> np.ndarray | bool:
    """Open ``url``, decode its first key frame, close. Returns the frame as BGR when
    ``as_image``, else True. Raises ``ConnectionError`` (with a reason, no URL) when the
    stream cannot be opened or sends no key frame within the read timeout."""
    try:
        container = open_container(url, cfg.open_timeout_s, cfg.read_timeout_s)
    except Exception as exc:  # FFmpeg's errors repeat the URL: masked below
        raise ConnectionError(f"{type(exc).__name__}: {mask_url(str(exc))[:200]}") from None
    try:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        stream.codec_context.thread_count = cfg.decoder_threads
        deadline = time.monotonic() + cfg.read_timeout_s + 3.0
        for packet in container.demux(stream):
            for frame in stream.codec_context.decode(packet):
                return frame.to_ndarray(format="bgr24") if as_image else True
            if time.monotonic() > deadline:
                break
        raise ConnectionError("no key frame")
    except ConnectionError:
        raise
    except Exception as exc:  # a broken stream is a reason, not a crash
        raise ConnectionError(f"{type(exc).__name__}: {mask_url(str(exc))[:200]}") from None
    finally:
        container.close()


@dataclass(frozen=True)
class Fetched:
    """One answered request: the main stream's key frame (None when it failed) and when."""

    camera_id: str
    image: np.ndarray | None
    taken_at: datetime
    error: str | None = None


class SharpFetcher(threading.Thread):
    """Fetches requested main-stream key frames one at a time, off the analysis thread
    (opening an RTSP stream takes up to the open timeout)."""

    def __init__(self, cfg: CaptureConfig):
        super().__init__(name="sharp-fetch", daemon=True)
        self.cfg = cfg
        self.asked: queue.Queue[Camera] = queue.Queue()
        self.done: queue.Queue[Fetched] = queue.Queue()
        self.stop_event = threading.Event()

    def ask(self, cam: Camera) -> None:
        if not self.is_alive():
            self.start()
        self.asked.put(cam)

    def answers(self) -> list[Fetched]:
        out: list[Fetched] = []
        while True:
            try:
                out.append(self.done.get_nowait())
            except queue.Empty:
                return out

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                cam = self.asked.get(timeout=1.0)
            except queue.Empty:
                continue
            try:
                image = first_keyframe(cam.source, self.cfg, as_image=True)
                self.done.put(Fetched(cam.id, image, datetime.now(UTC)))  # type: ignore[arg-type]
            except ConnectionError as exc:
                log.warning("camera %s: no sharp picture from the main stream (%s)", cam.id, exc)
                self.done.put(Fetched(cam.id, None, datetime.now(UTC), "main_down"))

    def stop(self) -> None:
        self.stop_event.set()


def sharp_picture(main: np.ndarray, blur: PrivacyBlur, analysed: np.ndarray,
                  tracks: list[Track], t: float, width: int = SHARP_WIDTH) -> np.ndarray:
    """``main`` downscaled to ``width`` and blurred with the camera's blur as it stands
    on the ``analysed`` (sub-stream) frame at monotonic time ``t``, widened by MARGIN."""
    out = main
    if main.shape[1] > width:
        out = cv2.resize(main, (width, round(main.shape[0] * width / main.shape[1])),
                         interpolation=cv2.INTER_AREA)
    h, w = out.shape[:2]
    ah, aw = analysed.shape[:2]
    mask = blur.mask((aw, ah), aw, tracks, t)
    mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
    grow = max(1, round(MARGIN * w))
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * grow + 1, 2 * grow + 1)))
    cell = max(CELL_AT_PUBLISH_WIDTH, round(CELL_AT_PUBLISH_WIDTH * w / PUBLISH_WIDTH))
    return pixelate_where(out, mask, cell)


def sharp_jpeg(main: np.ndarray, blur: PrivacyBlur, analysed: np.ndarray, tracks: list[Track],
               t: float) -> bytes:
    return encode_jpeg(sharp_picture(main, blur, analysed, tracks, t), quality=80)


def serve_requests(worker, now: float) -> None:
    """One turn's share (``CameraWorker``): take the requests for the cameras we hold,
    hand them to the fetcher, publish the answers blurred. A camera without a main
    stream of its own, without signal, or without any cover yet gets its reason."""
    held = worker.held
    for cid in worker.store.take_sharp_requests(list(held)):
        h = held[cid]
        cause = None if h.camera.detect_source else "no_main"
        state = worker.state_of(h, now)
        if cause is None and state.status not in LIVE_CAMERA_STATUSES:
            cause = "no_signal"
        if cause:
            worker.store.put_sharp(cid, None, datetime.now(UTC), cause)
        else:
            worker.sharp.ask(h.camera)
    for answer in worker.sharp.answers():
        h = held.get(answer.camera_id)
        if h is None:
            continue  # the lease moved on meanwhile; the new holder gets the next request
        if answer.image is None:
            worker.store.put_sharp(answer.camera_id, None, answer.taken_at, answer.error)
            continue
        covered = h.blur is not None and h.analysed_image is not None and (
            h.blur.motion is not None or worker.detector is not None)
        if not covered:  # the same rule as the ordinary snapshot: nothing unblurred leaves
            worker.store.put_sharp(answer.camera_id, None, answer.taken_at, "no_blur")
            continue
        tracks = h.pipeline.tracks if worker.detector is not None else []
        jpeg = sharp_jpeg(answer.image, h.blur, h.analysed_image, tracks, now)
        worker.store.put_sharp(answer.camera_id, jpeg, answer.taken_at)
        log.info("camera %s: sharp picture published", answer.camera_id)
