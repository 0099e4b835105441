"""Each simulated RTSP camera's clip, rendered once with its ground truth and cached.

A real IP camera's encoder runs in the camera; the server only receives and decodes. So
that a bench measures our decoding and not the simulator's encoder, each camera's scene
is rendered once (``seconds`` visual seconds at ``fps``), encoded by Debian's ``ffmpeg``
into two Annex B streams like a camera's two profiles -- the main stream (1920x1080,
~3 Mb/s) and the sub-stream (640x360, ~0.5 Mb/s), no B-frames, a key frame every
``gop`` frames -- and kept under ``data/runtime/sim_clips/<camera>-<hash>/`` with the
truth of every frame (``truth.json``). The RTSP player (``ambon_sim.rtsp``) then loops
it with stream copy: at run time the packets are only cut and stamped.

The scenes step at 10 Hz (``scenes.STEP_VIS``): at 20 fps each step is shown for two frames.
Variants for the fault modes: ``resize`` (sub-stream at 1280x720) and ``hevc`` (both
streams H.265), rendered on first use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ambon_sim.rtp import AccessUnit, access_units
from ambon_sim.scenes import make_scene

LOG = logging.getLogger("sim.clips")
CLIP_VERSION = 1  # bump when the rendering changes: old caches are then ignored
STATIC_TRUTH = ("zones", "lines", "base_size", "event_log")  # same every frame: kept once
WARMUP_SIM_S = 1800.0
WARMUP_VIS_S = 60.0


def clip_root() -> Path:
    """Where clips are cached (``SIM_CLIP_DIR`` overrides ``data/runtime/sim_clips``)."""
    from ambon_core.settings import DATA_DIR

    return Path(os.environ.get("SIM_CLIP_DIR") or DATA_DIR / "runtime" / "sim_clips")


@dataclass(frozen=True)
class ClipSpec:
    """Everything a clip depends on; its hash names the cache folder."""

    camera_id: str
    kind: str
    seed: int
    start: str  # ISO sim start
    speed: float
    seconds: float = 10.0
    fps: int = 20
    gop: int = 30  # 1.5 s at 20 fps
    main_size: tuple[int, int] = (1920, 1080)
    sub_size: tuple[int, int] = (640, 360)
    codec: str = "h264"  # h264 | hevc
    main_kbps: int = 3000
    sub_kbps: int = 512
    schedule: str = ""  # repr of the scene schedule (puskesmas hours, dumping hours)

    def variant(self, mode: str) -> ClipSpec:
        """The clip a fault mode plays: ``resize`` 1280x720 sub-stream, ``hevc`` H.265."""
        if mode == "resize":
            return replace(self, sub_size=(1280, 720))
        if mode == "hevc":
            return replace(self, codec="hevc")
        return self

    @property
    def folder(self) -> Path:
        key = json.dumps({**asdict(self), "v": CLIP_VERSION}, sort_keys=True)
        return clip_root() / f"{self.camera_id}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"


@dataclass
class Clip:
    """A rendered clip: pictures of both streams and the truth of each frame."""

    spec: ClipSpec
    main: list[AccessUnit]
    sub: list[AccessUnit]
    truth: list[dict[str, Any]]
    static_truth: dict[str, Any]

    @property
    def frames(self) -> int:
        return min(len(self.main), len(self.sub), len(self.truth))

    @property
    def duration_s(self) -> float:
        return self.frames / self.spec.fps


def _encoder_args(spec: ClipSpec, kbps: int) -> list[str]:
    # what city cameras send: Main-profile-like CABAC streams without B-frames, fixed GOP
    common = ["-b:v", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{2 * kbps}k",
              "-g", str(spec.gop), "-keyint_min", str(spec.gop), "-bf", "0", "-pix_fmt", "yuv420p",
              "-threads", "1"]
    if spec.codec == "hevc":
        return ["-c:v", "libx265", "-preset", "superfast",
                "-x265-params", f"log-level=error:repeat-headers=1:keyint={spec.gop}:min-keyint={spec.gop}:"
                                "scenecut=0:bframes=0:frame-threads=1:pools=none", *common, "-f", "hevc"]
    return ["-c:v", "libx264", "-preset", "superfast", "-x264-params",
            f"repeat-headers=1:scenecut=0:keyint={spec.gop}:min-keyint={spec.gop}:sliced-threads=0",
            *common, "-f", "h264"]


def render(spec: ClipSpec, schedule: Any = None, ffmpeg: str = "ffmpeg") -> Path:
    """Render ``spec`` into its cache folder (atomically: a half-written clip is never read)."""
    final = spec.folder
    tmp = final.with_name(final.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    ext = "h265" if spec.codec == "hevc" else "h264"
    start = datetime.fromisoformat(spec.start)
    warm = timedelta(seconds=min(WARMUP_SIM_S, WARMUP_VIS_S * spec.speed))
    scene = make_scene(spec.kind, spec.camera_id, spec.seed, schedule=schedule, start=start - warm,
                       speed=spec.speed)
    scene.advance(start)
    (mw, mh), (sw, sh) = spec.main_size, spec.sub_size
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "rawvideo",
           "-pix_fmt", "bgr24", "-video_size", "640x360", "-framerate", str(spec.fps), "-i", "pipe:0",
           "-filter_complex", f"[0:v]split=2[a][b];[a]scale={mw}:{mh}[m];[b]scale={sw}:{sh}[s]",
           "-map", "[m]", *_encoder_args(spec, spec.main_kbps), str(tmp / f"main.{ext}"),
           "-map", "[s]", *_encoder_args(spec, spec.sub_kbps), str(tmp / f"sub.{ext}")]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    truth = []
    n = int(round(spec.seconds * spec.fps))
    for i in range(n):
        scene.advance(start + timedelta(seconds=i * spec.speed / spec.fps))
        truth.append(scene.truth())
        proc.stdin.write(scene.render((640, 360)).tobytes())
    _, err = proc.communicate()
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"ffmpeg could not encode the clip of {spec.camera_id}: "
                           f"{err.decode(errors='replace').strip()[-300:]}")
    static = {k: truth[0].get(k) for k in STATIC_TRUTH}
    frames = [{k: v for k, v in t.items() if k not in STATIC_TRUTH} for t in truth]
    (tmp / "truth.json").write_text(json.dumps({"spec": asdict(spec), "static": static, "frames": frames}))
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final


def load(spec: ClipSpec, schedule: Any = None, ffmpeg: str = "ffmpeg") -> Clip:
    """The clip of ``spec``, rendered first if it is not cached yet."""
    folder = spec.folder
    if not (folder / "truth.json").is_file():
        LOG.info("rendering the %.0f s clip of %s (%s, once; cached in %s)", spec.seconds,
                 spec.camera_id, spec.codec, folder)
        render(spec, schedule, ffmpeg)
    ext = "h265" if spec.codec == "hevc" else "h264"
    data = json.loads((folder / "truth.json").read_text())
    return Clip(spec, access_units((folder / f"main.{ext}").read_bytes(), spec.codec),
                access_units((folder / f"sub.{ext}").read_bytes(), spec.codec),
                data["frames"], data["static"])


def looped_truth(clip: Clip, index: int) -> dict[str, Any]:
    """Truth of absolute frame ``index`` of the endless loop: the clip's frame, with the
    cumulative line counts carried over the loops so they only ever grow."""
    loops, i = divmod(index, clip.frames)
    t = {**clip.static_truth, **clip.truth[i], "clip_frame": i, "clip_loops": loops}
    first, last = clip.truth[0].get("counts") or {}, clip.truth[-1].get("counts") or {}
    if loops and t.get("counts"):
        t["counts"] = _add_counts(t["counts"], _scaled_diff(last, first, loops))
    return t


def _scaled_diff(a: Any, b: Any, k: int) -> Any:
    """``(a - b) * k`` over nested count dicts (a key missing on one side counts 0)."""
    if isinstance(a, dict) or isinstance(b, dict):
        a, b = a if isinstance(a, dict) else {}, b if isinstance(b, dict) else {}
        return {key: _scaled_diff(a.get(key, 0), b.get(key, 0), k) for key in a.keys() | b.keys()}
    return ((a or 0) - (b or 0)) * k


def _add_counts(a: Any, d: Any) -> Any:
    """``a + d`` over nested count dicts, keys of both kept."""
    if isinstance(a, dict) or isinstance(d, dict):
        a, d = a if isinstance(a, dict) else {}, d if isinstance(d, dict) else {}
        return {key: _add_counts(a.get(key, 0), d.get(key, 0)) for key in sorted(a.keys() | d.keys())}
    return (a or 0) + (d or 0)
