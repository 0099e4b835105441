"""The replay command on simulator clips: the worker's whole path over a recorded file,
published (blurred) JPEGs and one JSON line per analysed frame; bad input in one sentence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from ambon_core.settings import ROOT
from ambon_sim.cameras import SimCamera, SimCity
from ambon_sim.scenes import WIT, ZONES
from workers.camera.privacy import pixelate_where

FPS = 4


def sim_clip(path: Path, kind: str, seconds: float, start: str = "09:00") -> list[tuple[np.ndarray, list]]:
    """Write a clip of a simulated camera (speed 60, as the sim city runs in the benches);
    per frame: the raw image and the head boxes of the people in it (the sim's truth)."""
    hh, mm = map(int, start.split(":"))
    t0 = datetime(2026, 3, 3, hh, mm, tzinfo=WIT)  # a Tuesday: the puskesmas is open
    city = SimCity([SimCamera("cam-clip", kind, opening_time="08:00")], seed=7, speed=60, start=t0)
    scene, out = city.scenes["cam-clip"], []
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (640, 360))
    for i in range(int(seconds * FPS)):
        scene.advance(t0 + timedelta(seconds=i * 60 / FPS))
        image = scene.render()
        heads = []
        for a in scene.agents.values():
            if a.cls == "person":
                s, h = a.scale, 40 * a.scale  # the head as ambon_sim/draw.py draws it
                heads.append((a.x - 4.2 * s, a.y - 0.92 * h - 4.2 * s,
                              a.x + 4.2 * s, a.y - 0.87 * h + 3.6 * s))
        writer.write(image)
        out.append((image, heads))
    writer.release()
    return out


def registry_file(tmp_path: Path, kind: str = "puskesmas") -> Path:
    cam = {"id": "cam-clip", "name": "Klip", "kind": kind, "kecamatan": "Sirimau", "lat": -3.69,
           "lon": 128.18, "source": "rtsp://10.20.0.7/stream1",
           "zones": [{"name": n, "kind": k, "polygon": p} for n, (k, p) in ZONES[kind].items()]}
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump({"puskesmas": [], "cameras": [cam], "tps": [], "opds": []}))
    return path


def run_replay(*args: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT), "CAMERA_REF_DIR": "/nonexistent-refs", **env}
    return subprocess.run([sys.executable, "-m", "workers.camera.replay", *args], cwd=ROOT,
                          env=full, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> tuple[Path, list]:
    folder = tmp_path_factory.mktemp("clip")
    frames = sim_clip(folder / "puskesmas.mp4", "puskesmas", seconds=8)
    return folder / "puskesmas.mp4", frames


def test_replay_writes_blurred_frames_and_values(clip, tmp_path) -> None:
    path, frames = clip
    out = tmp_path / "out"
    res = run_replay(str(path), "--camera", "cam-clip", "--registry", str(registry_file(tmp_path)),
                     "--out", str(out), ALLOW_DEMO_MODEL_ON_REAL_CAMERAS="true")
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [json.loads(x) for x in (out / "values.jsonl").read_text().splitlines()]
    every = round(FPS * 0.5)  # the worker's cadence: one analysed frame per 0.5 s of clip
    assert [x["frame"] for x in lines] == list(range(0, len(frames), every))
    assert sorted(p.name for p in out.glob("*.jpg")) == [f"frame_{x['frame']:06d}.jpg" for x in lines]
    assert all({"people", "queue", "counts", "alerts"} <= set(x) for x in lines)
    waiting = max(len(h) for _, h in frames)
    assert waiting >= 3 and max(x["queue"] for x in lines) >= 1 and max(x["people"] for x in lines) >= 3
    # every head in every published frame is pixelated: there the published frame is the
    # pixelated clip frame (up to JPEG noise), not the sharp one
    checked = 0
    for x in lines[1:]:
        raw, heads = frames[x["frame"]]
        pub = cv2.imread(str(out / f"frame_{x['frame']:06d}.jpg")).astype(int)
        pix = pixelate_where(raw, np.full(raw.shape[:2], 255, np.uint8)).astype(int)
        for x1, y1, x2, y2 in heads:
            box = (slice(max(0, int(y1)), int(y2) + 1), slice(max(0, int(x1)), int(x2) + 1))
            sharp = np.abs(raw[box].astype(int) - pix[box]).mean()
            if pub[box].size and sharp > 8:
                assert np.abs(pub[box] - pix[box]).mean() < 0.5 * sharp, x
                checked += 1
    assert checked >= 20


def test_replay_withholds_demo_model_values_on_real_footage(clip, tmp_path) -> None:
    path, _ = clip
    out = tmp_path / "out"
    res = run_replay(str(path), "--camera", "cam-clip", "--registry", str(registry_file(tmp_path)),
                     "--out", str(out), "--every", "8")
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [json.loads(x) for x in (out / "values.jsonl").read_text().splitlines()]
    assert [x["frame"] for x in lines] == [0, 8, 16, 24]
    assert all(x["values_withheld"] == "demo_model" and "people" not in x for x in lines)
    assert len(list(out.glob("frame_*.jpg"))) == 4  # the blur still runs


def test_replay_bad_input_is_one_sentence(tmp_path) -> None:
    reg = registry_file(tmp_path)
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n")
    cases = [((str(text), "--camera", "cam-clip"), f"{text} is not a video OpenCV can read"),
             ((str(tmp_path / "nope.mp4"), "--camera", "cam-clip"), "nope.mp4: no such file"),
             ((str(text), "--camera", "cam-lain"), f"camera cam-lain is not in {reg} (it has cam-clip)")]
    for args, words in cases:
        res = run_replay(*args, "--registry", str(reg), "--out", str(tmp_path / "o"))
        assert res.returncode == 2, res.stderr
        assert res.stderr.count("\n") == 1 and words in res.stderr, res.stderr
    assert not (tmp_path / "o").exists()  # nothing written
