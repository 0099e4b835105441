"""All 37 cameras at real resolution, decoding included: our design next to the naive one.

    YOLO_OFFLINE=1 YOLO_CONFIG_DIR=data/runtime/ultralytics \\
        .venv/bin/python bench/bench_real_cameras.py [--seconds 60] [--naive-cameras 8] [--hog-s 20]

The camera simulator serves every registry camera over RTSP the way an IP camera does:
a 1920x1080 main stream (~3 Mb/s) and a 640x360 sub-stream (~0.5 Mb/s), H.264, 20 fps, a
key frame every 1.5 s, looped from a clip rendered once (``ambon_sim.clips``; no
encoding at run time). Then, one after the other in the same run:

* **ours**: the camera workers as the supervisor runs them (one process per core sharing
  the leases; each camera analysed from its ``detect_source`` sub-stream at the default
  settings: traffic fully decoded, 2 fps converted and analysed; puskesmas, TPS and market
  decoded from key frames only, 0.5 fps).
  Measured over ``--seconds`` after a warm-up: CPU seconds of the worker processes (from
  the kernel) split into decode (capture threads), analysis (the analysis loop) and the
  rest, as each worker counts them in its heartbeat; analysed fps per camera kind;
  frame-to-Redis latency p50/p95 (decoded frame -> its state written); memory (RSS, PSS).
  Then ``--hog-s`` with CPU hogs (one busy process per core and one more): how long until
  a camera reports ``overloaded``, with which cause, and the shed level reached.
* **naive**: ``--naive-cameras`` main streams decoded with ``cv2.VideoCapture.read()``
  (every picture converted to BGR), one ``model.track(frame, persist=True)`` per camera
  per turn at 2 fps in one process: as far as it runs.

CPU time, not wall time: the machine is shared. Figures are printed with this command.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", str(ROOT / "data" / "runtime" / "ultralytics"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
import redis  # noqa: E402
import yaml  # noqa: E402

from ambon_core.db import make_engine, migrate  # noqa: E402
from ambon_core.redis_server import EmbeddedRedis  # noqa: E402
from ambon_core.settings import DATA_DIR, CameraStreams  # noqa: E402
from ambon_core.store import Store  # noqa: E402

KINDS = ("traffic", "puskesmas", "tps", "market")
TARGET_FPS = {kind: CameraStreams().target_fps(kind) for kind in KINDS}  # the defaults


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rtsp_registry(rtsp_port: int, out: Path) -> Path:
    """The sample registry with every camera on the simulator's RTSP: main + sub-stream."""
    reg = yaml.safe_load((DATA_DIR / "registry.yaml").read_text())
    for cam in reg["cameras"]:
        cam["source"] = f"rtsp://127.0.0.1:{rtsp_port}/cam/{cam['id']}"
        cam["detect_source"] = f"{cam['source']}/sub"
    out.write_text(yaml.safe_dump(reg, sort_keys=False))
    return out


def cpu_s(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def memory_mb(procs: list[psutil.Process]) -> dict[str, float]:
    rss = pss = 0
    for p in procs:
        try:
            full = p.memory_full_info()
            rss, pss = rss + full.rss, pss + getattr(full, "pss", full.rss)
        except psutil.Error:
            pass
    return {"rss_mb": round(rss / 2**20, 1), "pss_mb": round(pss / 2**20, 1)}


def heartbeats(store: Store) -> dict[str, dict]:
    return {k: hb.detail for k, hb in store.read_live().heartbeats.items()
            if k.startswith("cameras") and hb is not None}


def wait_for(cond, timeout: float, what: str, step: float = 0.5) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except (httpx.HTTPError, redis.RedisError):
            pass
        time.sleep(step)
    raise SystemExit(f"{what} not within {timeout:.0f} s")


def start_sim(registry: Path, port: int, rtsp_port: int, clip_s: float) -> subprocess.Popen:
    sim = subprocess.Popen([sys.executable, "-m", "ambon_sim.cameras", "--registry", str(registry),
                            "--port", str(port), "--rtsp-port", str(rtsp_port), "--speed", "60",
                            "--start", "08:00", "--rtsp-cameras", "all", "--clip-seconds", str(clip_s),
                            "--log-level", "WARNING"], cwd=ROOT)
    wait_for(lambda: all(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json()["rtsp"].values()),
             1800, "the simulator's 37 RTSP cameras (first run renders their clips)", 2.0)
    return sim


def settled(store: Store, since: float, most_s: float) -> float:
    """Seconds until every camera process is back at shed level 0 (opening 37 streams at
    once sheds load for a while), at least 15 s (trackers, motion gates, the 10 s rate
    windows), at most ``most_s``; the measurement starts then."""
    time.sleep(15)
    deadline = since + most_s
    while time.monotonic() < deadline:
        levels = [hb.get("shed_level", 0) for hb in heartbeats(store).values()]
        if levels and not any(levels):
            break
        time.sleep(1.0)
    return time.monotonic() - since


def run_ours(env: dict, store: Store, cameras: int, seconds: float, hog_s: float,
             warmup_s: float = 180.0) -> dict:
    """The workers as the supervisor starts them; CPU, rates, latency, memory, overload."""
    from workers.camera.processes import camera_specs

    specs = camera_specs([sys.executable, "-m", "workers", "worker", "cameras"], cameras)
    procs = [subprocess.Popen(s.argv, cwd=ROOT, env={**env, **s.env}) for s in specs]
    ps = [psutil.Process(p.pid) for p in procs]
    try:
        wait_for(lambda: len(store.read_live().cameras) >= cameras and all(
            c.status.value in ("ok", "overloaded") for c in store.read_live().cameras.values()),
            180, f"all {cameras} cameras live")
        warmed_s = settled(store, time.monotonic(), warmup_s)
        hb0, cpu0, t0 = heartbeats(store), cpu_s(ps), time.monotonic()
        rates: dict[str, list[float]] = {k: [] for k in KINDS}
        statuses: dict[str, int] = {}
        while time.monotonic() - t0 < seconds:
            time.sleep(5)
            for c in store.read_live().cameras.values():
                rates[c.kind.value].append(c.infer_fps)
                statuses[c.status.value] = statuses.get(c.status.value, 0) + 1
        hb1, cpu1, wall = heartbeats(store), cpu_s(ps), time.monotonic() - t0
        split = {k: sum(hb1[n][k] - hb0[n][k] for n in hb1 if n in hb0) for k in
                 ("cpu_process_s", "cpu_decode_s", "cpu_analysis_s", "analysed_frames")}
        per_frame = split["cpu_analysis_s"] / max(1, split["analysed_frames"])
        want_fps = sum(TARGET_FPS[c.kind.value] for c in store.read_live().cameras.values())
        out = {"processes": len(procs), "warmup_s": round(warmed_s, 1),
               "shed_levels_at_start": [hb.get("shed_level", 0) for hb in hb0.values()],
               "wall_s": round(wall, 1), "cpu_s": round(cpu1 - cpu0, 1),
               "cores": round((cpu1 - cpu0) / wall, 3),
               "decode_s": round(split["cpu_decode_s"], 1), "analysis_s": round(split["cpu_analysis_s"], 1),
               "rest_s": round(split["cpu_process_s"] - split["cpu_decode_s"] - split["cpu_analysis_s"], 1),
               "fps_by_kind": {k: round(statistics.median(v), 2) for k, v in rates.items() if v},
               "fps_min_by_kind": {k: round(min(v), 2) for k, v in rates.items() if v},
               "statuses_sampled": statuses, "analysed_frames": split["analysed_frames"],
               "analysis_ms_per_frame": round(1000 * per_frame, 2),
               "cores_at_target": round((split["cpu_decode_s"] + split["cpu_process_s"]
                                         - split["cpu_decode_s"] - split["cpu_analysis_s"]) / wall
                                        + per_frame * want_fps, 3),
               "latency_p50_ms": max(d["latency_p50_ms"] for d in hb1.values()),
               "latency_p95_ms": max(d["latency_p95_ms"] for d in hb1.values()),
               **memory_mb(ps)}
        print(json.dumps({"ours": out}), flush=True)  # kept should a later phase fail
        out["overload"] = hog_phase(store, hog_s) if hog_s > 0 else None
        return out
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


def hog_phase(store: Store, seconds: float) -> dict:
    """Starve the machine with busy processes; time until a camera says ``overloaded``."""
    n = (os.cpu_count() or 2) + 1
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    t0, first, causes, level = time.monotonic(), None, {}, 0
    before = {c.camera_id for c in store.read_live().cameras.values() if c.status.value == "ok"}
    try:
        while time.monotonic() - t0 < seconds:
            live = store.read_live()
            over = [c for c in live.cameras.values() if c.status.value == "overloaded"]
            for c in over:
                causes[c.health_cause] = causes.get(c.health_cause, 0) + 1
            if first is None and any(c.camera_id in before for c in over):
                first = time.monotonic() - t0  # a camera that was ok when the hog began
            level = max([level] + [int(hb.detail.get("shed_level", 0)) for k, hb in live.heartbeats.items()
                                   if k.startswith("cameras") and hb is not None])
            time.sleep(0.25)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    return {"hogs": len(hogs), "ok_at_start": len(before),
            "first_overloaded_after_s": None if first is None else round(first, 1),
            "causes_sampled": causes, "max_shed_level": level}


def run_hog_small(env: dict, url: str, registry: Path, seconds: float) -> dict:
    """The overload signal from a healthy start: 6 cameras (3 traffic, puskesmas, tps,
    market) in one worker, all ``ok``, then the CPU hog."""
    reg = yaml.safe_load(registry.read_text())
    by_kind = {k: [c for c in reg["cameras"] if c["kind"] == k] for k in KINDS}
    reg["cameras"] = by_kind["traffic"][:3] + [by_kind[k][0] for k in KINDS[1:]]
    small = registry.with_name("registry-6.yaml")
    small.write_text(yaml.safe_dump(reg, sort_keys=False))
    store = Store(redis.Redis.from_url(url), "hog")
    proc = subprocess.Popen([sys.executable, "-m", "workers", "worker", "cameras"], cwd=ROOT,
                            env={**env, "REGISTRY_PATH": str(small), "KEY_PREFIX": "hog"})
    try:
        wait_for(lambda: len(store.read_live().cameras) == 6 and all(
            c.status.value == "ok" for c in store.read_live().cameras.values()), 240, "6 cameras ok")
        return hog_phase(store, seconds)
    finally:
        proc.terminate()
        proc.wait(30)


def run_naive(n: int, rtsp_port: int, registry: Path, seconds: float, model: str) -> dict:
    """In a child process: ``n`` main streams read() fully, model.track per camera."""
    out = subprocess.run([sys.executable, __file__, "--naive-child", str(n), "--rtsp-port", str(rtsp_port),
                          "--registry", str(registry), "--seconds", str(seconds), "--model", model],
                         cwd=ROOT, capture_output=True, text=True, timeout=seconds + 300)
    if out.returncode != 0:
        return {"error": out.stderr[-500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def naive_child(n: int, rtsp_port: int, registry: Path, seconds: float, model: str) -> None:
    import cv2
    from ultralytics import YOLO

    cams = [c for c in yaml.safe_load(registry.read_text())["cameras"] if c["kind"] == "traffic"][:n]
    latest: dict[str, object] = {}
    stop = threading.Event()

    def reader(cid: str) -> None:
        cap = cv2.VideoCapture(f"rtsp://127.0.0.1:{rtsp_port}/cam/{cid}", cv2.CAP_FFMPEG)
        while not stop.is_set():
            ok, frame = cap.read()  # every picture decoded and converted to BGR
            if ok:
                latest[cid] = frame
        cap.release()

    threads = [threading.Thread(target=reader, args=(c["id"],), daemon=True) for c in cams]
    for t in threads:
        t.start()
    models = {c["id"]: YOLO(model, task="detect") for c in cams}  # one tracker per camera
    me = psutil.Process()
    deadline = time.monotonic() + 60
    while len(latest) < len(cams) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(5)
    cpu0, t0, analysed = cpu_s([me]), time.monotonic(), 0
    while time.monotonic() - t0 < seconds:
        turn = time.monotonic()
        for cid, m in models.items():
            if (frame := latest.get(cid)) is not None:
                m.track(frame, persist=True, verbose=False)
                analysed += 1
        time.sleep(max(0.0, 0.5 - (time.monotonic() - turn)))
    wall, cpu = time.monotonic() - t0, cpu_s([me]) - cpu0
    stop.set()
    print(json.dumps({"cameras": len(cams), "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                      "cores": round(cpu / wall, 3), "per_camera": round(cpu / wall / len(cams), 3),
                      "fps_per_camera": round(analysed / wall / len(cams), 2), **memory_mb([me])}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--hog-s", type=float, default=20)
    ap.add_argument("--naive-cameras", type=int, default=8)
    ap.add_argument("--naive-seconds", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=180,
                    help="at most this long for the shed level to return to 0 before measuring")
    ap.add_argument("--clip-seconds", type=float, default=6)
    ap.add_argument("--phases", default="ours,naive,hog6", help="ours, naive, hog6 (comma-separated)")
    ap.add_argument("--model", default=str(DATA_DIR / "models" / "ambon-sim-yolo11n.pt"))
    ap.add_argument("--naive-child", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--rtsp-port", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--registry", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.naive_child:
        naive_child(args.naive_child, args.rtsp_port, args.registry, args.seconds, args.model)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="bench_real_"))
    port, rtsp_port = free_port(), free_port()
    registry = rtsp_registry(rtsp_port, tmp / "registry.yaml")
    cameras = len(yaml.safe_load(registry.read_text())["cameras"])
    server = EmbeddedRedis(tmp / "redis")
    url = server.start()
    migrate(make_engine(f"sqlite:///{tmp / 'bench.db'}"))
    env = {**os.environ, "REDIS_URL": url, "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
           "REGISTRY_PATH": str(registry), "SIM_ENABLED": "false", "SPOOL_DIR": str(tmp / "spool"),
           "LOG_LEVEL": "WARNING"}
    sim = start_sim(registry, port, rtsp_port, args.clip_seconds)
    sim_ps = psutil.Process(sim.pid)
    try:
        store = Store(redis.Redis.from_url(url), "ambon")
        sim0, t0 = cpu_s([sim_ps]), time.monotonic()
        phases = set(args.phases.split(","))
        ours = (run_ours(env, store, cameras, args.seconds, args.hog_s, args.warmup)
                if "ours" in phases else {})
        naive = (run_naive(args.naive_cameras, rtsp_port, registry, args.naive_seconds, args.model)
                 if "naive" in phases else {})
        if "hog6" in phases:
            ours["overload_from_healthy_6"] = run_hog_small(env, url, registry, args.hog_s)
        sim_cores = round((cpu_s([sim_ps]) - sim0) / (time.monotonic() - t0), 3)
    finally:
        sim.terminate()
        sim.wait(20)
        server.stop()
    report = {"cameras": cameras, "ours": ours, "naive": naive, "simulator_cores": sim_cores}
    print(json.dumps(report, indent=1))
    print_table(report)
    return 0


def print_table(r: dict) -> None:
    o, n = r["ours"], r["naive"]
    if h := o.get("overload_from_healthy_6"):
        print(f"CPU hog on 6 healthy cameras ({h['hogs']} busy processes): first overloaded after "
              f"{h['first_overloaded_after_s']} s, causes {h['causes_sampled']}, "
              f"shed level {h['max_shed_level']}")
    if "cores" not in o:
        return
    lines = ["| design | streams | worker cores (decode / analysis / rest, CPU-s) | per camera | "
             "analysed fps / camera |", "|---|---|---|---|---|",
             f"| ours ({o['processes']} processes) | {r['cameras']} x (1080p main + 360p sub; "
             "sub analysed) | "
             f"**{o['cores']}** ({o['decode_s']} / {o['analysis_s']} / {o['rest_s']} of {o['cpu_s']} in "
             f"{o['wall_s']} s) | {round(o['cores'] / r['cameras'], 3)} | "
             + ", ".join(f"{k} {v}" for k, v in o["fps_by_kind"].items()) + " |"]
    if "cores" in n:
        lines.append(f"| naive (read() + model.track) | {n['cameras']} x 1080p main | {n['cores']} | "
                     f"{n['per_camera']} | {n['fps_per_camera']} |")
    print("\n".join(lines))
    print(f"frame-to-Redis p50 {o['latency_p50_ms']} ms / p95 {o['latency_p95_ms']} ms; memory ours "
          f"RSS {o['rss_mb']} MB / PSS {o['pss_mb']} MB"
          + (f", naive RSS {n['rss_mb']} MB" if "rss_mb" in n else ""))
    rates = ", ".join(f"{k} {v:g}" for k, v in TARGET_FPS.items())
    print(f"analysis {o['analysis_ms_per_frame']} CPU-ms per analysed frame; at the target rates "
          f"({rates} fps) decode + rest + analysis = "
          f"{o['cores_at_target']} cores")
    if o.get("overload"):
        ov = o["overload"]
        print(f"CPU hog ({ov['hogs']} busy processes; {ov['ok_at_start']} cameras ok when it began): "
              "first of them overloaded after "
              f"{ov['first_overloaded_after_s']} s, causes {ov['causes_sampled']}, "
              f"shed level {ov['max_shed_level']}")
    print("command: YOLO_OFFLINE=1 YOLO_CONFIG_DIR=data/runtime/ultralytics .venv/bin/python "
          "bench/bench_real_cameras.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
