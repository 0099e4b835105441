"""Render a labelled dataset from the sim scenes and train the demo detector (CPU).

Usage (from the repo root, offline)::

    YOLO_OFFLINE=1 YOLO_CONFIG_DIR=data/runtime/ultralytics \
        nice -n 10 .venv/bin/python -m ambon_sim.train_detector --epochs 30

Writes ``data/sim_dataset/`` (gitignored), ``data/models/ambon-sim-yolo11n.pt`` and
``data/models/MODEL_CARD.md``. Trains ``yolo11n.yaml`` from scratch: no pretrained
weights are downloaded or used. The model is for the simulation only.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ambon_sim.agents import CLASSES
from ambon_sim.scenes import WIT, make_scene

LOG = logging.getLogger("train_detector")
ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT / "data" / "sim_dataset"
MODELS = ROOT / "data" / "models"
WEIGHTS = MODELS / "ambon-sim-yolo11n.pt"
KIND_WEIGHTS = (("traffic", 0.5), ("puskesmas", 0.2), ("tps", 0.15), ("market", 0.15))
MIN_VISIBLE = 0.35


def yolo_lines(truth: dict[str, Any]) -> list[str]:
    """YOLO txt label lines (class cx cy w h, normalised) of the visible objects."""
    w, h = truth["base_size"]
    lines = []
    for o in truth["objects"]:
        x1, y1, x2, y2 = o["bbox"]
        if o["visible"] < MIN_VISIBLE or x2 - x1 < 4 or y2 - y1 < 4:
            continue
        cls = CLASSES.index(o["class"])
        lines.append(f"{cls} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} "
                     f"{(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}")
    return lines


def _pick_kind(rng: np.random.Generator) -> str:
    """Random camera kind, traffic-heavy like the city's cameras."""
    r, acc = rng.random(), 0.0
    for kind, p in KIND_WEIGHTS:
        acc += p
        if r < acc:
            return kind
    return "traffic"


def _scene_start(rng: np.random.Generator, kind: str) -> tuple[datetime, float]:
    """Random start time (mostly daytime, some night) and speed for a dataset scene."""
    day = datetime(2026, 3, 2, tzinfo=WIT) + timedelta(days=int(rng.integers(0, 6)))
    if kind == "puskesmas":
        hour = float(rng.uniform(6.5, 12.0))
    elif rng.random() < 0.2:
        hour = float(rng.choice([float(rng.uniform(19, 23.5)), float(rng.uniform(4, 6))]))
    else:
        hour = float(rng.uniform(6, 19))
    speed = float(rng.choice([30.0, 60.0, 120.0, 600.0] if kind in ("tps", "market")
                             else [30.0, 60.0, 120.0]))
    return day + timedelta(hours=hour), speed


def render_split(split: str, n: int, seed: int, per_scene: int = 5) -> int:
    """Render ``n`` images and labels of ``split`` into :data:`DATASET`; return #boxes."""
    img_dir, lbl_dir = DATASET / "images" / split, DATASET / "labels" / split
    for d in (img_dir, lbl_dir):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    count = boxes = 0
    while count < n:
        kind = _pick_kind(rng)
        start, speed = _scene_start(rng, kind)
        scene = make_scene(kind, f"ds-{split}-{count}", int(rng.integers(1 << 30)), start=start,
                           speed=speed)
        t = start + timedelta(seconds=float(rng.uniform(20, 90)) * speed)
        for _ in range(per_scene):
            if count >= n:
                break
            scene.advance(t)
            lines = yolo_lines(scene.truth())
            name = f"{split}_{count:04d}"
            cv2.imwrite(str(img_dir / f"{name}.jpg"), scene.render(),
                        [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 95))])
            (lbl_dir / f"{name}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
            boxes += len(lines)
            count += 1
            t += timedelta(seconds=float(rng.uniform(2, 6)) * speed)
    return boxes


def write_data_yaml() -> Path:
    """Write the ultralytics dataset description."""
    path = DATASET / "data.yaml"
    names = "\n".join(f"  {i}: {c}" for i, c in enumerate(CLASSES))
    path.write_text(f"path: {DATASET}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    return path


def train(data: Path, epochs: int, imgsz: int, batch: int) -> Path:
    """Train yolo11n from scratch; return the best weights path."""
    from ultralytics import YOLO

    model = YOLO("yolo11n.yaml")
    model.train(data=str(data), epochs=epochs, imgsz=imgsz, batch=batch, device="cpu",
                pretrained=False, amp=False, plots=False, workers=0, cache=True,
                project=str(ROOT / "runs" / "sim_detector"), name="train", exist_ok=True,
                seed=0, deterministic=True, close_mosaic=5, patience=100, verbose=False)
    return Path(model.trainer.best)


def evaluate(weights: Path, data: Path, imgsz: int) -> dict[str, Any]:
    """Evaluate on the held-out split; per-class and overall mAP50 / mAP50-95."""
    from ultralytics import YOLO

    model = YOLO(str(weights))
    m = model.val(data=str(data), split="val", imgsz=imgsz, device="cpu", plots=False,
                  workers=0, verbose=False, project=str(ROOT / "runs" / "sim_detector"),
                  name="val", exist_ok=True)
    per_class = {}
    for i, c in enumerate(m.box.ap_class_index):
        per_class[CLASSES[int(c)]] = {"mAP50": round(float(m.box.ap50[i]), 3),
                                      "mAP50-95": round(float(m.box.ap[i]), 3)}
    return {"mAP50": round(float(m.box.map50), 3), "mAP50-95": round(float(m.box.map), 3),
            "per_class": per_class}


def model_card(args: argparse.Namespace, stats: dict[str, Any], minutes: float) -> str:
    """The markdown model card."""
    rows = "\n".join(f"| {c} | {v['mAP50']:.3f} | {v['mAP50-95']:.3f} | {stats['instances'][c]} |"
                     for c, v in stats["metrics"]["per_class"].items())
    return f"""# ambon-sim-yolo11n — demo detector for the simulated city

**For the simulation only.** It has only ever seen OpenCV-drawn frames from
`ambon_sim/scenes.py`; on real CCTV it is useless. Production uses `yolo11n.pt`
(COCO) or a model fine-tuned on Ambon footage (set `MODEL_PATH`).

- Architecture: YOLO11n (`yolo11n.yaml`), trained **from scratch** (`pretrained=False`),
  no downloaded weights; ultralytics {stats['ultralytics']}, torch {stats['torch']}, CPU.
- Classes (index order): {', '.join(CLASSES)} (COCO-like names; `bus` = angkot minibus,
  `garbage` = a pile or a dumped bag).
- Data: {args.train} train + {args.val} held-out val frames, 640x360, rendered by
  `ambon_sim/train_detector.py` (seeds {args.seed} / {args.seed + 1}; kinds traffic 50%,
  puskesmas 20%, tps 15%, market 15%; day and night). Val scenes are separate scenes
  (different seeds), not frames of the training scenes.
- Training: {args.epochs} epochs, imgsz {args.imgsz}, batch {args.batch}, amp=False,
  plots=False, workers=0, default augmentation; {minutes:.1f} min wall on a 2-core CPU.
- Command:

```
YOLO_OFFLINE=1 YOLO_CONFIG_DIR=data/runtime/ultralytics nice -n 10 \\
  .venv/bin/python -m ambon_sim.train_detector --train {args.train} --val {args.val} \\
  --epochs {args.epochs} --imgsz {args.imgsz} --batch {args.batch} --seed {args.seed}
```

## Held-out results (val split, imgsz {args.imgsz})

Overall mAP50 **{stats['metrics']['mAP50']:.3f}**, mAP50-95 **{stats['metrics']['mAP50-95']:.3f}**.

| class | mAP50 | mAP50-95 | val instances |
|---|---|---|---|
{rows}

## Caveats

- The held-out set is small (60 frames); truck (8) and garbage (10) have few instances,
  so their numbers are noisy. Persons in crowds are the hardest class at imgsz 320.
- Scores on rendered frames say nothing about real footage.
"""


def main(argv: list[str] | None = None) -> None:
    """Render, train, evaluate and write the weights and the card."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", type=int, default=300)
    p.add_argument("--val", type=int, default=60)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--render-only", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(ROOT / "data" / "runtime" / "ultralytics"))
    LOG.info("train boxes: %d", render_split("train", args.train, args.seed))
    LOG.info("val boxes: %d", render_split("val", args.val, args.seed + 1))
    data = write_data_yaml()
    if args.render_only:
        return
    t0 = time.time()
    best = train(data, args.epochs, args.imgsz, args.batch)
    minutes = (time.time() - t0) / 60
    metrics = evaluate(best, data, args.imgsz)
    import torch
    import ultralytics

    instances = {c: 0 for c in CLASSES}
    for f in (DATASET / "labels" / "val").glob("*.txt"):
        for line in f.read_text().splitlines():
            instances[CLASSES[int(line.split()[0])]] += 1
    stats = {"metrics": metrics, "instances": instances, "ultralytics": ultralytics.__version__,
             "torch": torch.__version__}
    MODELS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(best, WEIGHTS)
    (MODELS / "MODEL_CARD.md").write_text(model_card(args, stats, minutes))
    (MODELS / "metrics.json").write_text(json.dumps(stats | {"minutes": minutes}, indent=2))
    LOG.info("wrote %s (%.1f MB): %s", WEIGHTS, WEIGHTS.stat().st_size / 1e6, metrics)


if __name__ == "__main__":
    main()
