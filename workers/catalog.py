"""Which workers exist, how each is started, and which ones a configuration runs."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass, field

from ambon_core.registry import Registry
from ambon_core.settings import ROOT, Settings, camera_settings
from workers.base import LoopWorker

# Loop workers, by name: "module:Class". Groups name several for --only.
LOOP_WORKERS: dict[str, str] = {
    "status": "workers.site_status:SiteStatusWorker",
    "feeds": "workers.feeds.worker:FeedWorker",
    "calls": "workers.feeds.calls_worker:CallsWorker",
    "cameras": "workers.camera.worker:CameraWorker",
    "notifier": "workers.notifier:NotifierWorker",
}


@dataclass(frozen=True)
class ChildSpec:
    """A child process the supervisor keeps alive."""

    name: str
    argv: list[str]
    beats_itself: bool = True  # loop workers beat; the supervisor beats for the others
    env: dict[str, str] = field(default_factory=dict)


def available(name: str) -> bool:
    """True when the worker's module is part of this installation."""
    module = LOOP_WORKERS[name].split(":")[0]
    return importlib.util.find_spec(module) is not None


def load_worker(name: str) -> type[LoopWorker]:
    module, cls = LOOP_WORKERS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def _uses_simulator(registry: Registry, *ports: int) -> bool:
    return any(f"127.0.0.1:{port}/" in cam.source for cam in registry.cameras for port in ports)


def child_specs(settings: Settings, registry: Registry, *, only: set[str] | None = None,
                ui: bool = False) -> list[ChildSpec]:
    """The children of one supervisor run, in start order (simulators before readers)."""
    py = sys.executable
    specs: list[ChildSpec] = []
    sim_cams = importlib.util.find_spec("ambon_sim.cameras") is not None
    if settings.sim_enabled and sim_cams and _uses_simulator(
            registry, settings.sim_camera_port, settings.sim_rtsp_port):
        specs.append(ChildSpec("sim-cameras", [
            py, "-m", "ambon_sim.cameras", "--host", "127.0.0.1",
            "--port", str(settings.sim_camera_port), "--rtsp-port", str(settings.sim_rtsp_port),
            "--speed", str(settings.sim_speed), "--refs-dir", str(camera_settings().ref_dir),
            "--seed", str(settings.sim_seed)], beats_itself=False))
    if settings.sim_enabled and importlib.util.find_spec("ambon_sim.feeds") is not None:
        specs.append(ChildSpec("sim-feeds", [
            py, "-m", "ambon_sim.feeds", "--host", "127.0.0.1",
            "--port", str(settings.sim_feed_port), "--speed", str(settings.sim_speed),
            "--seed", str(settings.sim_seed)], beats_itself=False))
    for name in LOOP_WORKERS:
        if available(name) and name == "cameras":
            from workers.camera.processes import camera_specs  # one process per core

            specs += camera_specs([py, "-m", "workers", "worker", name], len(registry.cameras))
        elif available(name):
            specs.append(ChildSpec(name, [py, "-m", "workers", "worker", name]))
    if only:
        specs = [s for s in specs if s.name in only or s.name.split("-")[0] in only]
    if ui:
        specs.append(ChildSpec("ui", [
            py, "-m", "streamlit", "run", str(ROOT / "server.py"),
            "--server.port", str(settings.streamlit_port), "--server.headless", "true"],
            beats_itself=False))
    return specs
