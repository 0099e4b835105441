"""Replay a recorded clip through one camera's whole path, as the worker would run it.

    python -m workers.camera.replay CLIP --camera ID [--registry FILE] --out DIR [--every N]

For installers: before a camera goes live, check its zones and its blur on the site's own
footage. Each analysed frame (every ``CAMERA_ANALYSE_PERIOD_S`` of clip time, or every
``N``th frame with ``--every``) goes through the motion gate, the detector, the tracker,
the camera's analytics and the privacy blur; the published (blurred) JPEG is written as
``DIR/frame_000123.jpg`` (the clip's frame index) and one JSON line of the values
(people, queue, counts, alerts) is appended to ``DIR/values.jsonl``. Nothing else is
written: no unblurred frame reaches the disk. With the demo model on footage that is not
the simulator's, the values are withheld as on the worker (``values_withheld``) unless
``ALLOW_DEMO_MODEL_ON_REAL_CAMERAS=true``; the blur runs either way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

# FFmpeg's own log lines ("moov atom not found") would come before our one sentence
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
import cv2
import numpy as np

from ambon_core.registry import Camera, Registry, RegistryError, Tps, load_registry
from ambon_core.settings import CameraSettings, camera_settings, get_settings
from workers.camera.detector import Detector, ModelError, MotionGate
from workers.camera.pipeline import CameraPipeline, Rules, load_refs
from workers.camera.privacy import BlurConfig, PrivacyBlur, encode_jpeg
from workers.tool_main import tool_main


class ReplayError(ValueError):
    """Bad input for a replay; the message is one sentence."""


def open_clip(path: Path) -> tuple[cv2.VideoCapture, float]:
    """The opened clip and its frame rate; ReplayError when it is not a readable video."""
    if not path.is_file():
        raise ReplayError(f"{path}: no such file.")
    cap = cv2.VideoCapture(str(path))
    ok, _ = cap.read() if cap.isOpened() else (False, None)
    if not ok:
        cap.release()
        raise ReplayError(f"{path} is not a video OpenCV can read (no frame could be decoded).")
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    fps = cap.get(cv2.CAP_PROP_FPS)
    return cap, fps if 0 < fps <= 240 else 25.0


def find_camera(registry: Registry, camera_id: str, source: str) -> Camera:
    cams = {c.id: c for c in registry.cameras}
    if camera_id not in cams:
        raise ReplayError(f"camera {camera_id} is not in {source} "
                          f"(it has {', '.join(sorted(cams)) or 'no cameras'}).")
    return cams[camera_id]


def frames(cap: cv2.VideoCapture, every: int) -> Iterator[tuple[int, np.ndarray]]:
    """(index, image) of every ``every``th frame of the clip."""
    index = 0
    while True:
        ok, image = cap.read()
        if not ok:
            return
        if index % every == 0:
            yield index, image
        index += 1


class CameraPath:
    """One camera's gate, detector, tracker, analytics and blur (the worker's parts)."""

    def __init__(self, camera: Camera, detector: Detector, tunables: CameraSettings,
                 withheld: str | None, tps: Tps | None = None):
        refs = load_refs(camera.id, tunables.ref_dir)
        self.camera, self.detector, self.withheld = camera, detector, withheld
        self.gate = MotionGate()
        self.pipeline = CameraPipeline(camera, tps, refs, Rules.from_settings(tunables),
                                       detector.has_garbage)
        self.blur = PrivacyBlur([m.polygon for m in camera.privacy_masks], camera.frame_size,
                                BlurConfig.from_settings(tunables),
                                seed=refs.get("empty", refs.get("door_closed")))

    def step(self, t: float, image: np.ndarray, local_now: datetime) -> tuple[bytes, dict]:
        """The published JPEG and the values of one analysed frame at clip time ``t``."""
        dets = None
        if self.gate.changed(image, t):
            dets = self.detector([image], [self.detector.imgsz_for(self.camera.kind.value)])[0]
        self.pipeline.analyse(t, image, dets, local_now)
        self.blur.observe(image, t)
        jpeg = encode_jpeg(self.blur.publishable(image, self.pipeline.tracks, t))
        return jpeg, self.values()

    def values(self) -> dict:
        if self.withheld:
            return {"values_withheld": self.withheld}
        v = dict(self.pipeline.values)
        return {"people": v.get("objects", {}).get("person", 0), "queue": v.get("queue_len"),
                "counts": v.get("line_counts", {}), "objects": v.get("objects", {}),
                "congestion": v.get("congestion"), "occupancy": v.get("occupancy"),
                "door_open": v.get("door_open"), "fill": v.get("fill"),
                "alerts": sorted(a.kind.value for a in self.pipeline.alerts())}


def replay(clip: Path, camera_id: str, out: Path, registry_path: Path | None = None,
           every: int | None = None) -> int:
    """Run the replay; the number of analysed frames written."""
    settings, tunables = get_settings(), camera_settings()
    source = str(registry_path or settings.registry_path)
    registry = load_registry(registry_path)
    camera = find_camera(registry, camera_id, source)
    tps = next((t for t in registry.tps if t.id == camera.site), None)
    cap, fps = open_clip(clip)
    detector = Detector(settings.model_path, settings.model_format, settings.inference_imgsz)
    demo_on_real = detector.is_demo and not tunables.allow_demo_model_on_real_cameras
    path = CameraPath(camera, detector, tunables, "demo_model" if demo_on_real else None, tps)
    step = every or max(1, round(fps * tunables.analyse_period_s))
    out.mkdir(parents=True, exist_ok=True)
    start, written = datetime.now(settings.tz), 0
    with (out / "values.jsonl").open("w", encoding="utf-8") as lines:
        for index, image in frames(cap, step):
            t = index / fps
            jpeg, values = path.step(t, image, start + timedelta(seconds=t))
            (out / f"frame_{index:06d}.jpg").write_bytes(jpeg)
            lines.write(json.dumps({"frame": index, "t_s": round(t, 3), **values}) + "\n")
            written += 1
    cap.release()
    return written


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The command's arguments (``python -m workers replay`` and this module's own main)."""
    ap.add_argument("clip", type=Path, help="a recorded video file (mp4, avi, mkv, ...)")
    ap.add_argument("--camera", required=True, help="the camera's id in the registry")
    ap.add_argument("--registry", type=Path, default=None, help="default REGISTRY_PATH")
    ap.add_argument("--out", type=Path, required=True, help="folder for frame_*.jpg and values.jsonl")
    ap.add_argument("--every", type=int, default=None,
                    help="analyse every Nth frame (default: the worker's cadence)")


def run(args: argparse.Namespace) -> int:
    """Replay one clip; a refusal is one sentence on stderr and exit code 2."""
    if args.every is not None and args.every < 1:
        sys.stderr.write("replay: --every must be 1 or more\n")
        return 2
    try:
        n = replay(args.clip, args.camera, args.out, args.registry, args.every)
    except (ReplayError, RegistryError, ModelError, ValueError) as exc:
        sys.stderr.write(f"replay: {exc}\n")
        return 2
    sys.stdout.write(f"replay: {n} analysed frames written to {args.out}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    return tool_main("workers.camera.replay", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
