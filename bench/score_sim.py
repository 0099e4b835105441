"""Score a detector against the camera simulator's ground truth.

Usage::

    YOLO_OFFLINE=1 YOLO_CONFIG_DIR=data/runtime/ultralytics \
        .venv/bin/python bench/score_sim.py --base http://127.0.0.1:8600 --frames 20

Fetches snapshots (header ``X-Sim-Step``) and ``/truth/<id>`` of the same step, runs the
model, and prints per-class precision/recall at IoU 0.5 plus inference time, as JSON.
``--local`` renders the scenes in-process instead (no server needed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ambon_sim.agents import CLASSES  # noqa: E402
from ambon_sim.scenes import WIT, make_scene  # noqa: E402

MIN_VISIBLE = 0.35


def iou(a: list[float], b: list[float]) -> float:
    """Intersection over union of two x1y1x2y2 boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match(preds: list[tuple[str, list[float]]], truth: list[dict[str, Any]],
          stats: dict[str, dict[str, int]]) -> None:
    """Greedy per-class matching at IoU >= 0.5; updates tp/fp/fn in ``stats``."""
    gts = [o for o in truth if o["visible"] >= MIN_VISIBLE]
    used: set[int] = set()
    for cls, box in preds:
        best, best_i = 0.5, -1
        for i, o in enumerate(gts):
            if i not in used and o["class"] == cls and iou(box, o["bbox"]) >= best:
                best, best_i = iou(box, o["bbox"]), i
        if best_i >= 0:
            used.add(best_i)
            stats[cls]["tp"] += 1
        else:
            stats[cls]["fp"] += 1
    for i, o in enumerate(gts):
        if i not in used:
            stats[o["class"]]["fn"] += 1


def remote_frames(base: str, cams: list[str], n: int):  # type: ignore[no-untyped-def]
    """Yield (image, truth objects) pairs of the same sim step from the server."""
    import httpx

    for _ in range(n):
        for cam in cams:
            for _try in range(10):
                r = httpx.get(f"{base}/cam/{cam}/snapshot.jpg", timeout=5)
                t = httpx.get(f"{base}/truth/{cam}", timeout=5).json()
                if r.status_code == 200 and int(r.headers["x-sim-step"]) == t["step"]:
                    img = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
                    sx = img.shape[1] / t["base_size"][0]
                    objs = [o | {"bbox": [v * sx for v in o["bbox"]]} for o in t["objects"]]
                    yield img, objs
                    break
        time.sleep(1.0)


def local_frames(n: int, seed: int):  # type: ignore[no-untyped-def]
    """Yield (image, truth objects) from in-process scenes (fresh seeds, daytime)."""
    start = datetime(2026, 3, 4, 7, 0, tzinfo=WIT)
    for kind in ("traffic", "puskesmas", "tps", "market"):
        scene = make_scene(kind, f"score-{kind}", seed, start=start, speed=60)
        t = start + timedelta(minutes=30)
        for _ in range(n):
            t += timedelta(minutes=3)
            scene.advance(t)
            yield scene.render(), scene.truth()["objects"]


def main() -> None:
    """Run the scoring and print JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="http://127.0.0.1:8600")
    p.add_argument("--cameras", nargs="*", default=None)
    p.add_argument("--frames", type=int, default=10)
    p.add_argument("--model", default=str(ROOT / "data" / "models" / "ambon-sim-yolo11n.pt"))
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--conf", type=float, default=0.25)
    p.add_argument("--local", action="store_true")
    p.add_argument("--seed", type=int, default=99)
    args = p.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(ROOT / "data" / "runtime" / "ultralytics"))
    from ultralytics import YOLO

    model = YOLO(args.model)
    if args.local:
        frames = local_frames(args.frames, args.seed)
    else:
        import httpx

        cams = args.cameras or httpx.get(f"{args.base}/healthz", timeout=5).json()["cameras"]
        frames = remote_frames(args.base, cams, args.frames)
    stats = {c: {"tp": 0, "fp": 0, "fn": 0} for c in CLASSES}
    ms: list[float] = []
    for img, objs in frames:
        t0 = time.perf_counter()
        res = model.predict(img, imgsz=args.imgsz, conf=args.conf, verbose=False, device="cpu")[0]
        ms.append((time.perf_counter() - t0) * 1000)
        names = res.names
        preds = [(names[int(c)], b.tolist()) for c, b in zip(res.boxes.cls, res.boxes.xyxy,
                                                              strict=True)]
        match(preds, objs, stats)
    report: dict[str, Any] = {"frames": len(ms), "ms_per_frame": round(float(np.mean(ms)), 1)}
    for c, s in stats.items():
        prec = s["tp"] / max(1, s["tp"] + s["fp"])
        rec = s["tp"] / max(1, s["tp"] + s["fn"])
        report[c] = s | {"precision": round(prec, 3), "recall": round(rec, 3)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
