"""Camera pipeline memory: does per-camera state grow with time? (no HTTP, no Redis)

    YOLO_OFFLINE=1 YOLO_CONFIG_DIR=data/runtime/ultralytics \
        nice .venv/bin/python bench/mem_cameras.py [--minutes 30] [--per-kind 2] [--detector onnx|oracle]

Runs the worker's own ``CameraPipeline`` (tracker, analytics, minute aggregates), motion
gate, batched ``Detector`` and blurred snapshot in-process, on frames rendered live by
``ambon_sim.scenes`` (``--per-kind`` cameras of each kind, 2 analysed frames per second,
sim speed 60 like the soak). ``--detector oracle`` feeds the sim's truth boxes instead
of the model (same tracker churn, ~10x faster: long runs).

Every simulated minute (120 analysed frames per camera) it samples RSS (psutil, after
``gc.collect``), the sizes of the per-camera structures (tracker pools, TrackBook,
LineCounter memory, dumping events) and a ``tracemalloc`` snapshot. It prints RSS and
traced-heap growth per 10 simulated minutes after ``--warmup`` minutes, and the allocation
sites that grew most between the end of warm-up and the end. Not a CI test.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("YOLO_CONFIG_DIR", str(ROOT / "data" / "runtime" / "ultralytics"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psutil  # noqa: E402
from bench_cameras import bench_camera, oracle  # noqa: E402

from ambon_sim.scenes import KINDS, WIT, make_scene  # noqa: E402
from workers.camera.detector import Detector, MotionGate  # noqa: E402
from workers.camera.pipeline import CameraPipeline, minute_row  # noqa: E402
from workers.camera.privacy import snapshot_jpeg  # noqa: E402

FPS = 2.0
SPEED = 60.0


def sizes(pipes: dict[str, CameraPipeline]) -> dict[str, int]:
    """Total entries of the per-camera structures that could grow with time."""
    out = {"tracked": 0, "lost": 0, "removed": 0, "book": 0, "line_last": 0, "line_counted": 0,
           "dump_events": 0, "dump_pending": 0}
    for p in pipes.values():
        tr = p.tracker.tracker
        out["tracked"] += len(tr.tracked_stracks)
        out["lost"] += len(tr.lost_stracks)
        out["removed"] += len(tr.removed_stracks)
        out["book"] += len(p.book.lives)
        if p.counter:
            out["line_last"] += len(p.counter.last)
            out["line_counted"] += sum(len(q) for q in p.counter.counted.values())
        out["dump_events"] += len(p.dump_events)
        out["dump_pending"] += len(p.dumping.pending) if p.dumping else 0
    return out


def _short(frame: tracemalloc.Frame) -> str:
    name = frame.filename.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
    return f"{name}:{frame.lineno}"


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 2**20


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=int, default=30, help="simulated minutes (120 frames per camera each)")
    ap.add_argument("--warmup", type=int, default=3, help="minutes before the baseline")
    ap.add_argument("--per-kind", type=int, default=2, help="cameras of each of the 4 kinds")
    ap.add_argument("--detector", default="onnx", choices=("onnx", "pytorch", "oracle"))
    ap.add_argument("--model", default=str(ROOT / "data" / "models" / "ambon-sim-yolo11n.pt"))
    ap.add_argument("--top", type=int, default=12, help="allocation sites to print")
    ap.add_argument("--no-tracemalloc", action="store_true", help="RSS only (tracemalloc slows ~2x)")
    args = ap.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]), flush=True)

    kinds = [k for k in KINDS for _ in range(args.per_kind)]
    cams = [bench_camera(f"cam-mem-{i}", k) for i, k in enumerate(kinds)]
    start = datetime(2026, 3, 3, 7, 30, tzinfo=WIT)
    scenes = {c.id: make_scene(c.kind.value, c.id, 7 + i, start=start, speed=SPEED)
              for i, c in enumerate(cams)}
    refs = {}
    for i, c in enumerate(cams):
        if c.kind.value in ("tps", "market"):
            empty = make_scene(c.kind.value, c.id, 7 + i, start=start, speed=SPEED)
            empty.blobs, empty.strays, empty.agents = [], [], {}
            empty.advance(start + timedelta(seconds=1))
            refs[c.id] = {"empty": empty.render()}
    detector = None
    if args.detector != "oracle":
        detector = Detector(args.model, args.detector, imgsz=320)
    has_garbage = detector.has_garbage if detector else True
    pipes = {c.id: CameraPipeline(c, refs=refs.get(c.id), has_garbage=has_garbage) for c in cams}
    gates = {c.id: MotionGate() for c in cams}
    print(f"{len(cams)} cameras ({', '.join(kinds)}), detector {args.detector}, {FPS:.0f} fps,"
          f" sim speed {SPEED:.0f}, {args.minutes} simulated minutes, warm-up {args.warmup}", flush=True)

    if not args.no_tracemalloc:
        tracemalloc.start(8)
    per_min = int(60 * FPS)
    samples: list[tuple[int, float, float]] = []  # minute, rss MB, traced MB
    base_snap = None
    rows = 0
    wall0 = time.perf_counter()
    print(f"{'min':>4} {'rss MB':>8} {'traced MB':>9} {'wall s':>6}  structure sizes (all cameras)",
          flush=True)
    for minute in range(1, args.minutes + 1):
        for j in range(per_min):
            i = (minute - 1) * per_min + j
            t = i / FPS
            local = start + timedelta(seconds=t)
            frames, truths = {}, {}
            for c in cams:
                sc = scenes[c.id]
                sc.advance(start + timedelta(seconds=(i + 1) / FPS * SPEED))
                frames[c.id] = sc.render()
                if detector is None:
                    truths[c.id] = sc.truth()
            todo = [c for c in cams if gates[c.id].changed(frames[c.id], t)]
            if detector is None:
                dets = {c.id: oracle(truths[c.id]) for c in todo}
            else:
                dets = dict(zip([c.id for c in todo], detector(
                    [frames[c.id] for c in todo], [detector.imgsz_for(c.kind.value) for c in todo])
                    if todo else [], strict=True))
            for c in cams:
                p = pipes[c.id]
                p.analyse(t, frames[c.id], dets.get(c.id), local)
                p.alerts()
                if i % 4 == 0:
                    snapshot_jpeg(frames[c.id], p.tracks)
                agg = p.take_finished_minute()
                if agg is not None:
                    minute_row(c, agg)
                    rows += 1
        traced = tracemalloc.get_traced_memory()[0] / 2**20 if tracemalloc.is_tracing() else float("nan")
        rss = rss_mb()
        samples.append((minute, rss, traced))
        sz = " ".join(f"{k}={v}" for k, v in sizes(pipes).items())
        print(f"{minute:4d} {rss:8.1f} {traced:9.1f} {time.perf_counter() - wall0:6.0f}  {sz}", flush=True)
        if minute == args.warmup and tracemalloc.is_tracing():
            base_snap = tracemalloc.take_snapshot()

    after = [s for s in samples if s[0] >= args.warmup]
    if len(after) >= 2:
        (m0, r0, t0), (m1, r1, t1) = after[0], after[-1]
        span = m1 - m0
        print(f"\nafter warm-up (minute {m0} -> {m1}, {span} simulated min, {len(cams)} cameras,"
              f" {rows} minute rows):")
        print(f"  RSS     {r0:.1f} -> {r1:.1f} MB: {r1 - r0:+.1f} MB,"
              f" {(r1 - r0) / span * 10:+.2f} MB per 10 min"
              f" ({(r1 - r0) / span * 10 / len(cams):+.3f} MB per camera per 10 min)")
        if tracemalloc.is_tracing():
            print(f"  traced  {t0:.1f} -> {t1:.1f} MB: {t1 - t0:+.2f} MB,"
                  f" {(t1 - t0) / span * 10:+.3f} MB per 10 min")
        half = [s for s in after if s[0] >= (m0 + m1) / 2]
        if len(half) >= 2:
            print(f"  second half only: RSS {half[-1][1] - half[0][1]:+.1f} MB"
                  f" over {half[-1][0] - half[0][0]} min")
    if base_snap is not None:
        end = tracemalloc.take_snapshot()
        filt = [tracemalloc.Filter(False, tracemalloc.__file__)]
        stats = end.filter_traces(filt).compare_to(base_snap.filter_traces(filt), "traceback")
        print(f"\ntop {args.top} growing allocation sites (traced, minute {args.warmup} -> end):")
        for st in stats[:args.top]:
            tb = list(st.traceback)  # oldest frame first
            site = tb[-1]
            ours = [f for f in tb if "/workers/camera/" in f.filename or "/ambon_sim/" in f.filename]
            via = f"  <- {_short(ours[-1])}" if ours and ours[-1] is not site else ""
            print(f"  {st.size_diff / 1024:+9.1f} KiB {st.count_diff:+7d} blocks  {_short(site)}{via}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
