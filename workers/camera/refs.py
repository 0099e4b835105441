"""Capture a camera's reference image: ``data/camera_refs/<id>.<name>.jpg``.

    python -m workers.camera.refs CAMERA_ID [--name empty|door_closed] [--url URL] [--dir DIR]

Take ``empty`` when the site has no garbage and nobody is in view (right after the
collection truck, early morning), ``door_closed`` when the door is shut and nobody stands
in it. Without ``--url`` the frame comes from the camera's registry ``source`` (RTSP,
MJPEG, snapshot URL, file), grabbed by the worker's own capture code. For a simulated
camera (a source containing ``/cam/<id>/``) the reference is the simulator's
``/cam/<id>/<name>.jpg`` (the same view with no people, vehicles or garbage; and the door
shut), and with ``SIM_ENABLED`` the camera worker takes them itself when they are missing.
The worker reads the references when it takes the camera (``CAMERA_REF_DIR``).
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
    if source.startswith("http") and source.split("?")[0].endswith((".jpg", ".jpeg")):
        r = httpx.get(source, timeout=timeout_s)
        r.raise_for_status()
        img = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise RuntimeError(f"{mask_url(source)} did not return a JPEG image")
        return img
    g = Grabber("ref", source)
    g.start()
    try:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            f = g.latest()
            if f is not None:
                return f.image
            time.sleep(0.1)
    finally:
        g.stop()
    raise RuntimeError(f"no frame from {mask_url(source)} in {timeout_s:.0f} s")


def ref_path(camera_id: str, name: str, ref_dir: Path | None = None) -> Path:
    base = ref_dir or camera_settings().ref_dir
    return base / f"{camera_id}.{name}.jpg"


def capture(camera_id: str, name: str = "empty", url: str | None = None, ref_dir: Path | None = None,
            source: str | None = None, timeout_s: float = 15.0) -> Path:
    """Write ``<dir>/<camera_id>.<name>.jpg`` from ``url`` or the camera's source."""
    if url is None:
        if source is None:
            from ambon_core.registry import load_registry

            cams = {c.id: c for c in load_registry().cameras}
            if camera_id not in cams:
                raise SystemExit(f"camera {camera_id} is not in the registry; pass --url")
            source = cams[camera_id].source
        url = sim_ref_url(source, name) or source
    img = grab(url, timeout_s)
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("camera_id")
    ap.add_argument("--name", default="empty", choices=("empty", "door_closed"))
    ap.add_argument("--url", help="frame source (default: the registry source; sim: its empty.jpg)")
    ap.add_argument("--dir", type=Path, default=None, help="default CAMERA_REF_DIR or data/camera_refs")
    args = ap.parse_args(argv)
    out = capture(args.camera_id, args.name, args.url, args.dir)
    sys.stdout.write(f"wrote {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
