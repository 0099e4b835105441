"""Capture a camera's reference image: ``data/camera_refs/<id>.<name>.jpg``.

    python -m workers.camera.refs CAMERA_ID [--name empty|door_closed] [--url URL] [--dir DIR]

Take ``empty`` when the site has no garbage and nobody is in view (right after the
collection truck, early morning), ``door_closed`` when the door is shut and nobody stands
in it. Without ``--url`` the frame comes from the camera's registry ``source`` (RTSP,
MJPEG, snapshot URL, file), grabbed by the worker's own capture code. For a simulated
camera (a source containing ``/cam/<id>/``) the reference is the simulator's
``/cam/<id>/<name>.jpg`` (the same view with no people, vehicles or garbage; and the door
shut); under the simulated city the simulator writes them at its start
(``ambon_sim.installer``). The worker reads the references when it takes the camera and
when they change on disk (``CAMERA_REF_DIR``).

A reference is a frame kept on disk, so it is checked first: four frames 0.5 s apart
must show no motion and the detector (``MODEL_PATH``) no person, else nothing is written
and the command says why; the camera's privacy masks are pixelated in the file.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from pathlib import Path

import cv2
import httpx
import numpy as np

from ambon_core.settings import camera_settings
from workers.camera.capture import Grabber, mask_url
from workers.camera.detector import CITY_CLASSES, Detector, MotionGate
from workers.camera.privacy import BlurConfig, PrivacyBlur
from workers.tool_main import tool_main

log = logging.getLogger(__name__)
SIM_CAM = re.compile(r"^(https?://.+?/cam/[^/]+/)")
# the simulator serves on this machine only: http(s) .../cam/<id>/... or rtsp .../cam/<id>
SIM_SOURCE = re.compile(r"^(https?://(127\.0\.0\.1|localhost)(:\d+)?/cam/[^/]+/"
                        r"|rtsp://(127\.0\.0\.1|localhost)(:\d+)?/cam/[^/]+$)")


def is_simulator_source(source: str) -> bool:
    """True when ``source`` is a camera of the simulated city (loopback ``/cam/<id>``)."""
    return SIM_SOURCE.match(source) is not None


def sim_ref_url(source: str, name: str = "empty") -> str | None:
    """``.../cam/<id>/<name>.jpg`` (``empty`` or ``door_closed``) for a simulator camera
    source, else None."""
    m = SIM_CAM.match(source)
    return m.group(1) + f"{name}.jpg" if m else None


def grab(source: str, timeout_s: float = 15.0) -> np.ndarray:
    """One decoded frame from ``source`` (a JPEG URL is fetched directly)."""
    return grab_frames(source, 1, 0.0, timeout_s)[0]


def grab_frames(source: str, count: int = 4, spacing_s: float = 0.5,
                timeout_s: float = 15.0) -> list[np.ndarray]:
    """Up to ``count`` frames ``spacing_s`` apart (a still source gives what it has, >= 1)."""
    if source.startswith("http") and source.split("?")[0].endswith((".jpg", ".jpeg")):
        out = []
        for i in range(count):
            if i:
                time.sleep(spacing_s)
            r = httpx.get(source, timeout=timeout_s)
            r.raise_for_status()
            img = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
            if img is None:
                raise RuntimeError(f"{mask_url(source)} did not return a JPEG image")
            out.append(img)
        return out
    g = Grabber("ref", source)
    g.start()
    frames: list[np.ndarray] = []
    try:
        end, seq, due = time.monotonic() + timeout_s, 0, 0.0
        while time.monotonic() < end and len(frames) < count:
            f = g.latest()
            if f is not None and f.seq != seq and time.monotonic() >= due:
                frames.append(f.image)
                seq, due = f.seq, time.monotonic() + spacing_s
            time.sleep(0.05)
    finally:
        g.stop()
    if not frames:
        raise RuntimeError(f"no frame from {mask_url(source)} in {timeout_s:.0f} s")
    return frames


class RefusedReference(RuntimeError):
    """The view is not fit for a reference photo (somebody or something in it); one sentence."""


def check_reference(frames: list[np.ndarray], detector: Detector | None = None) -> None:
    """Refuse a reference in which anything moves between the frames or a person is
    detected: it would keep a recognisable person on disk and spoil fill and door checks."""
    gate = MotionGate()
    gate.changed(frames[0], 0.0)
    if any(gate.changed(f, float(i)) for i, f in enumerate(frames[1:], start=1)):
        raise RefusedReference("something moves in view; take the reference when nobody "
                               "and nothing moves.")
    if detector is not None:
        people = [d for d in detector([frames[-1]])[0].cls if CITY_CLASSES[int(d)] == "person"]
        if people:
            raise RefusedReference(f"{len(people)} person(s) detected in view; take the "
                                   "reference when nobody is there.")


def _default_detector() -> Detector:
    """The worker's model (MODEL_PATH): the reference check needs to see people."""
    from ambon_core.settings import get_settings

    s = get_settings()
    return Detector(s.model_path, s.model_format, s.inference_imgsz)


def ref_path(camera_id: str, name: str, ref_dir: Path | None = None) -> Path:
    base = ref_dir or camera_settings().ref_dir
    return base / f"{camera_id}.{name}.jpg"


def capture(camera_id: str, name: str = "empty", url: str | None = None, ref_dir: Path | None = None,
            source: str | None = None, timeout_s: float = 15.0, detector: Detector | None = None,
            masks: list | None = None) -> Path:
    """Write ``<dir>/<camera_id>.<name>.jpg`` from ``url`` or the camera's source, after
    :func:`check_reference` (RefusedReference: nothing is written); the camera's privacy
    masks are pixelated in the file as in every published frame."""
    cam = None
    if url is None or masks is None:
        from ambon_core.registry import load_registry

        cam = next((c for c in load_registry().cameras if c.id == camera_id), None)
    if url is None:
        if source is None:
            if cam is None:
                raise SystemExit(f"camera {camera_id} is not in the registry; pass --url")
            source = cam.source
        url = sim_ref_url(source, name) or source
    frames = grab_frames(url, 4, 0.5, timeout_s)
    check_reference(frames, detector or _default_detector())
    polygons = masks if masks is not None else [m.polygon for m in cam.privacy_masks] if cam else []
    size = cam.frame_size if cam else (640, 360)
    img = PrivacyBlur(polygons, size, BlurConfig(motion=False)).publishable(frames[-1], [], 0.0,
                                                                           width=frames[-1].shape[1])
    out = ref_path(camera_id, name, ref_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return out


# which reference each kind of camera uses (pipeline: fill needs ``empty``, the door
# watch uses ``door_closed``)
REFS_BY_KIND = {"tps": ("empty",), "market": ("empty",), "puskesmas": ("door_closed",)}


def missing_sim_refs(camera_id: str, kind: str, source: str, ref_dir: Path | None = None) -> list[str]:
    """The references a simulated camera of this kind uses and does not have yet."""
    if sim_ref_url(source) is None:
        return []
    return [n for n in REFS_BY_KIND.get(kind, ()) if not ref_path(camera_id, n, ref_dir).exists()]


def ensure_sim_refs(camera_id: str, kind: str, source: str, ref_dir: Path | None = None) -> list[str]:
    """Under the simulated city, take the references a simulated camera lacks from the
    simulator, as an operator does at a real site on installation; names written. A real
    camera's source is left alone: its references are a person's job (see ``main``)."""
    written = []
    for name in missing_sim_refs(camera_id, kind, source, ref_dir):
        try:
            capture(camera_id, name, source=source, ref_dir=ref_dir, timeout_s=3.0)
            written.append(name)
        except (httpx.HTTPError, RuntimeError, OSError) as exc:
            log.warning("camera %s: no %s reference from the simulator (%s)", camera_id, name, exc)
    return written


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The command's arguments (``python -m workers refs`` and this module's own main)."""
    ap.add_argument("camera_id")
    ap.add_argument("--name", default="empty", choices=("empty", "door_closed"))
    ap.add_argument("--url", help="frame source (default: the registry source; sim: its empty.jpg)")
    ap.add_argument("--dir", type=Path, default=None, help="default CAMERA_REF_DIR or data/camera_refs")


def run(args: argparse.Namespace) -> int:
    """Take one reference photo; a refusal is one sentence on stderr and exit code 2."""
    try:
        out = capture(args.camera_id, args.name, args.url, args.dir)
    except RefusedReference as exc:
        sys.stderr.write(f"refs: {args.camera_id}: not taken: {exc}\n")
        return 2
    sys.stdout.write(f"wrote {out}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    return tool_main("workers.camera.refs", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
