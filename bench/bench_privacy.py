"""Privacy bench: share of heads and plates inside blurred pixels, and the cost of the blur.

    YOLO_OFFLINE=1 YOLO_CONFIG_DIR=data/runtime/ultralytics \\
        nice .venv/bin/python bench/bench_privacy.py [--frames 600] [--speed 1]

The simulated scenes (``ambon_sim.scenes``, in process, the simulator's own ground truth)
are rendered at the worker's cadence (one analysed frame per 0.5 s) and go through the
worker's path: motion gate, detector, tracker (``CameraPipeline``), then the blur of a
published snapshot (``PrivacyBlur.mask`` at 640x360). Rows:

- ``demo + motion``: the demo detector with the background model (the worker today);
- ``null + motion``: a detector that finds nothing, background model only;
- ``null + motion, no ref``: the same without the empty reference photo as first background;
- ``demo, motion off``: detections only, with the regions the worker used before issue 12
  (head = top 30 % of a person box, plate = bottom centre): the old behaviour.

A head is the drawn head of a person (hair, face) or the helmet of a motorcycle rider; a
plate is the low 30 % of each end of a car, bus, truck or motorcycle as drawn from the side
(the sim draws no plate, so both ends count). One is *covered* when >= 95 % of its pixels
are blurred. Then: how long a person standing still stays covered by the background model
alone (null detector), and the blur's cost per published frame at 640x360 and 1920x1080
next to the old blur (median of repeated runs, CPU time of this process).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("YOLO_CONFIG_DIR", str(ROOT / "data" / "runtime" / "ultralytics"))
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from ambon_core.registry import Camera  # noqa: E402
from ambon_sim import draw  # noqa: E402
from ambon_sim.cameras import SimCamera, SimCity  # noqa: E402
from ambon_sim.scenes import LINES, WIT, ZONES  # noqa: E402
from workers.camera.detector import Detections, Detector, MotionGate  # noqa: E402
from workers.camera.geometry import Track  # noqa: E402
from workers.camera.pipeline import CameraPipeline  # noqa: E402
from workers.camera.privacy import BlurConfig, PrivacyBlur, encode_jpeg  # noqa: E402

PERIOD_S = 0.5
SCENES = [("cam-bp-traffic", "traffic", None), ("cam-bp-pkm", "puskesmas", "08:00"),
          ("cam-bp-tps", "tps", None), ("cam-bp-market", "market", None)]
COVERED = 0.95


def sim_camera(cid: str, kind: str) -> Camera:
    """The registry entry of a sim camera (its zones and lines, as the sample registry has)."""
    return Camera(id=cid, name=cid, kind=kind, kecamatan="Sirimau", lat=-3.69, lon=128.18,
                  source=f"http://127.0.0.1:8600/cam/{cid}/mjpeg",
                  zones=[{"name": n, "kind": k, "polygon": p} for n, (k, p) in ZONES[kind].items()],
                  lines=[{"name": n, "points": p} for n, p in LINES.get(kind, {}).items()])


def targets(scene) -> list[tuple[str, tuple[float, float, float, float]]]:
    """("head"|"plate", box) of everything identifying in the scene now (base pixels)."""
    out = []
    for a in scene.agents.values():
        s = a.scale
        if a.cls == "person":
            h = 40 * s
            what = "head, standing in the queue" if a.state == "wait" else "head"
            out.append((what, (a.x - 4.2 * s, a.y - 0.92 * h - 4.2 * s,
                               a.x + 4.2 * s, a.y - 0.87 * h + 3.6 * s)))
        elif a.cls == "motorcycle":
            cx, cy, r = a.x - a.direction * 5 * s, a.y - 15.6 * s - 18 * s, 4.5 * s
            out.append(("head", (cx - r, cy - r, cx + r, cy + r)))
        if a.cls in ("car", "bus", "truck", "motorcycle"):
            x1, y1, x2, y2 = a.extent()
            w, h = x2 - x1, y2 - y1
            for ex in (x1, x2 - 0.15 * w):
                out.append(("plate", (ex, y2 - 0.4 * h, ex + 0.15 * w, y2 - 0.1 * h)))
    return out


def covered(mask: np.ndarray, box: tuple[float, float, float, float]) -> bool | None:
    """Whether >= 95 % of the box's visible pixels are blurred (None: not in view)."""
    h, w = mask.shape
    x1, y1 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    x2, y2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    if (x2 - x1) * (y2 - y1) < 4:
        return None
    return float(np.count_nonzero(mask[y1:y2, x1:x2])) / ((x2 - x1) * (y2 - y1)) >= COVERED


def today_mask(size: tuple[int, int], tracks: list[Track]) -> np.ndarray:
    """The pixels the worker blurred before issue 12 (head top 30 %, plate bottom centre)."""
    mask = np.zeros((size[1], size[0]), np.uint8)
    for tr in tracks:
        x1, y1, x2, y2 = tr.box
        w, h = x2 - x1, y2 - y1
        if tr.cls == "person":
            region = (x1, y1 - 0.05 * h, x2, y1 + 0.3 * h)
        elif tr.cls in ("car", "bus", "truck", "motorcycle"):
            region = (x1 + 0.15 * w, y2 - 0.4 * h, x2 - 0.15 * w, y2)
        else:
            continue
        cv2.rectangle(mask, (max(0, int(region[0])), max(0, int(region[1]))),
                      (int(np.ceil(region[2])), int(np.ceil(region[3]))), 255, -1)
    return mask


@dataclass
class Mode:
    """One way of blurring, with its own per-camera state and tallies."""

    name: str
    detector: bool
    motion: bool
    seed: bool = True
    pipes: dict = field(default_factory=dict)
    blurs: dict = field(default_factory=dict)
    tally: dict = field(default_factory=dict)

    def add(self, kind: str, what: str, ok: bool) -> None:
        t = self.tally.setdefault(kind, {}).setdefault(what, [0, 0])
        t[0] += ok
        t[1] += 1


def run_scenes(frames: int, speed: float, detector: Detector, cfg: BlurConfig) -> list[Mode]:
    start = datetime.now(WIT).replace(hour=8, minute=30, second=0, microsecond=0)
    cams = [SimCamera(cid, kind, opening_time=open_) for cid, kind, open_ in SCENES]
    city = SimCity(cams, seed=7, speed=speed, start=start)
    modes = [Mode("demo + motion", True, True), Mode("null + motion", False, True),
             Mode("null + motion, no ref", False, True, seed=False),
             Mode("demo, motion off (before)", True, False)]
    gates = {cid: MotionGate() for cid, _, _ in SCENES}
    refs = {cid: cv2.imdecode(np.frombuffer(city.reference_jpeg(cid), np.uint8), cv2.IMREAD_COLOR)
            for cid, _, _ in SCENES}
    for m in modes:
        for cid, kind, _ in SCENES:
            m.pipes[cid] = CameraPipeline(sim_camera(cid, kind), has_garbage=detector.has_garbage)
            m.blurs[cid] = PrivacyBlur(cfg=BlurConfig(**{**cfg.__dict__, "motion": m.motion}),
                                       seed=refs[cid] if m.seed else None)
    for i in range(frames):
        t = i * PERIOD_S
        now = start + timedelta(seconds=t * speed)
        images = {}
        for cid, _, _ in SCENES:
            scene = city.scenes[cid]
            scene.advance(now)
            images[cid] = scene.render()
        changed = [cid for cid, _, _ in SCENES if gates[cid].changed(images[cid], t)]
        sizes = [detector.imgsz_for(k) for cid, k, _ in SCENES if cid in changed]
        found = dict(zip(changed, detector([images[c] for c in changed], sizes), strict=True))
        for cid, kind, _ in SCENES:
            truth = targets(city.scenes[cid])
            for m in modes:
                dets = (found.get(cid) if m.detector else (Detections.empty() if cid in changed else None))
                m.pipes[cid].analyse(t, images[cid], dets, now)
                blur = m.blurs[cid]
                blur.observe(images[cid], t)
                tracks = m.pipes[cid].tracks
                mask = (blur.mask((640, 360), 640, tracks, t) if m.motion
                        else today_mask((640, 360), tracks))
                for what, box in truth:
                    ok = covered(mask, box)
                    if ok is not None:
                        m.add(kind, what, ok)
    return modes


def still_person_cover_s(cfg: BlurConfig, limit_s: float = 3600.0) -> float:
    """Seconds a person who walks in and then stands still stays covered by the motion mask
    alone (null detector), on the puskesmas background with the sim's sensor noise."""
    start = datetime.now(WIT).replace(hour=9, minute=0, second=0, microsecond=0)
    city = SimCity([SimCamera("cam-still", "puskesmas", opening_time="23:00")], seed=3, speed=1.0,
                   start=start)
    scene = city.scenes["cam-still"]
    scene.agents.clear()
    blur = PrivacyBlur(cfg=cfg, seed=scene.render())
    x, y, s = 420.0, 300.0, 1.1
    head = (x - 4.2 * s, y - 0.92 * 40 * s - 4.2 * s, x + 4.2 * s, y - 0.87 * 40 * s + 3.6 * s)
    t, still_since = 0.0, None
    while t < limit_s:
        img = scene.render()
        px = x - max(0.0, 60 - t * 20)  # walks in for 3 s, then stands still
        draw.draw_person(img, px, y, s, (40, 40, 200), (140, 170, 205), 0.0)
        blur.observe(img, t)
        if px == x and still_since is None:
            still_since = t
        if still_since is not None and not covered(blur.mask((640, 360), 640, [], t), head):
            return t - still_since
        scene.steps += int(PERIOD_S / 0.1)  # noise and flicker move on; the person does not
        t += PERIOD_S
    return limit_s


def blur_cost(size: tuple[int, int], reps: int = 60) -> dict[str, float]:
    """Median ms per published frame: the new blur (downscale, mask, pixelate, JPEG) and the
    old one (per-detection blur at full size, downscale, JPEG), with 12 people and 6 vehicles."""
    rng = np.random.default_rng(1)
    img = cv2.resize(SimCity([SimCamera("c", "traffic")], 7, 1.0, datetime.now(WIT)).image("c"), size)
    sx = size[0] / 640
    tracks = [Track(i, "person", tuple(v * sx for v in (x, 200, x + 14, 240)))
              for i, x in enumerate(range(20, 600, 50))]
    tracks += [Track(100 + i, "car", tuple(v * sx for v in (x, 150, x + 80, 190)))
               for i, x in enumerate(range(0, 540, 90))]
    blur = PrivacyBlur(cfg=BlurConfig())
    for t in range(20):
        blur.observe(cv2.add(img, rng.integers(0, 3, img.shape, np.uint8)), t * PERIOD_S)

    def old() -> bytes:
        out = img.copy()
        for tr in tracks:
            x1, y1, x2, y2 = tr.box
            h = y2 - y1
            if tr.cls == "person":
                _old_pixelate(out, (x1, y1 - 0.05 * h, x2, y1 + 0.3 * h))
            else:
                w = x2 - x1
                _old_gaussian(out, (x1 + 0.15 * w, y2 - 0.4 * h, x2 - 0.15 * w, y2))
        if out.shape[1] > 640:
            out = cv2.resize(out, (640, round(out.shape[0] * 640 / out.shape[1])),
                             interpolation=cv2.INTER_AREA)
        return encode_jpeg(out)

    def new() -> bytes:
        return encode_jpeg(blur.publishable(img, tracks, 10.0))

    def observe() -> None:
        blur.observe(img, 10.0)

    out = {}
    for name, fn in (("before", old), ("now", new), ("background model update", observe)):
        times = []
        for _ in range(reps):
            t0 = time.process_time()
            fn()
            times.append((time.process_time() - t0) * 1000)
        out[name] = round(float(np.median(times)), 2)
    return out


def _old_pixelate(img: np.ndarray, region) -> None:  # the blur before issue 12
    x1, y1, x2, y2 = (max(0, int(region[0])), max(0, int(region[1])),
                      min(img.shape[1], int(np.ceil(region[2]))), min(img.shape[0], int(np.ceil(region[3]))))
    if x2 - x1 < 2 or y2 - y1 < 2:
        return
    small = cv2.resize(img[y1:y2, x1:x2], (4, max(1, 4 * (y2 - y1) // max(1, x2 - x1))),
                       interpolation=cv2.INTER_AREA)
    img[y1:y2, x1:x2] = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)


def _old_gaussian(img: np.ndarray, region) -> None:  # the blur before issue 12
    x1, y1, x2, y2 = (max(0, int(region[0])), max(0, int(region[1])),
                      min(img.shape[1], int(np.ceil(region[2]))), min(img.shape[0], int(np.ceil(region[3]))))
    if x2 - x1 < 2 or y2 - y1 < 2:
        return
    k = max(3, ((min(x2 - x1, y2 - y1) // 2) | 1))
    img[y1:y2, x1:x2] = cv2.GaussianBlur(img[y1:y2, x1:x2], (k, k), 0)


def share(t: list[int]) -> str:
    return f"{100 * t[0] / max(1, t[1]):6.2f} % of {t[1]}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=600, help="analysed frames per scene")
    ap.add_argument("--speed", type=float, default=60.0, help="sim seconds per real second")
    ap.add_argument("--model", default=str(ROOT / "data" / "models" / "ambon-sim-yolo11n.onnx"))
    ap.add_argument("--format", default="onnx")
    args = ap.parse_args()
    from ambon_core.settings import camera_settings

    cfg = BlurConfig.from_settings(camera_settings())
    detector = Detector(args.model, args.format, 320)
    modes = run_scenes(args.frames, args.speed, detector, cfg)
    report: dict = {"command": " ".join(sys.argv), "frames_per_scene": args.frames,
                    "speed": args.speed, "blur": cfg.__dict__, "modes": {}}
    for m in modes:
        heads = [sum(v[i] for k in m.tally for w, v in m.tally[k].items() if w.startswith("head"))
                 for i in (0, 1)]
        plates = [sum(m.tally[k].get("plate", [0, 0])[i] for k in m.tally) for i in (0, 1)]
        sys.stdout.write(f"{m.name:28s} heads {share(heads)}   plates {share(plates)}\n")
        for kind, t in sorted(m.tally.items()):
            sys.stdout.write(f"    {kind:10s} " + "  ".join(f"{w} {share(v)}" for w, v in t.items()) + "\n")
        report["modes"][m.name] = {"heads": heads, "plates": plates, "by_kind": m.tally}
    still = still_person_cover_s(cfg)
    sys.stdout.write(f"a person standing still stays covered (no detector) for {still:.0f} s\n")
    report["still_person_covered_s"] = still
    for size in ((640, 360), (1920, 1080)):
        cost = blur_cost(size)
        sys.stdout.write(f"blur per published frame at {size[0]}x{size[1]} (ms CPU, median): {cost}\n")
        report[f"cost_ms_{size[0]}x{size[1]}"] = cost
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
