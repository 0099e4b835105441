"""The supervisor and the CLI as real processes on a real Redis and database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ambon_core.registry import load_registry
from ambon_core.settings import DATA_DIR, ROOT, Settings
from ambon_core.store import Store


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {**os.environ, "REDIS_URL": settings.redis_url or "", "DATABASE_URL":
           settings.database_url, "SIM_ENABLED": "false", "STATUS_INTERVAL_S": "1",
           "HEARTBEAT_TTL_S": "5", "LOG_LEVEL": "WARNING"}
    env.update(extra)
    return env


def _cli(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workers", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _wait(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("condition not met in time")


def _puskesmas_in_registry(settings: Settings) -> int:
    """How many puskesmas the registry in use lists (operators replace the sample one)."""
    return len(load_registry(settings.registry_path).puskesmas)


def test_supervisor_runs_restarts_and_stops(settings: Settings, store: Store) -> None:
    env = _env(settings)
    expected = _puskesmas_in_registry(settings)
    sup = subprocess.Popen([sys.executable, "-m", "workers", "run", "--only", "status"],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def status() -> dict | None:
            out = _cli("status", "--json", env=env)
            report = json.loads(out.stdout)
            hb = report["workers"].get("status")
            return report if hb and hb["alive"] and len(report["puskesmas"]) == expected else None

        report = _wait(status)
        assert report["workers"]["supervisor"]["alive"]
        assert all("age_s" in p for p in report["puskesmas"].values())
        first_pid = report["workers"]["status"]["pid"]
        os.kill(first_pid, signal.SIGKILL)
        restarted = _wait(lambda: (s := status()) and s["workers"]["status"]["pid"] != first_pid
                          and s)
        assert restarted["workers"]["status"]["alive"]
    finally:
        sup.send_signal(signal.SIGTERM)
        sup.wait(15)
    assert sup.returncode == 0


def test_run_once_and_status_text(settings: Settings, store: Store) -> None:
    env = _env(settings)
    assert _cli("run", "--only", "status", "--once", env=env).returncode == 0
    out = _cli("status", env=env)
    assert out.returncode == 0
    assert f"puskesmas: {_puskesmas_in_registry(settings)}" in out.stdout


def test_unreachable_redis_is_one_sentence(settings: Settings) -> None:
    out = _cli("status", env=_env(settings, REDIS_URL="redis://127.0.0.1:1/0"))
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "REDIS_URL" in out.stderr
    assert "Traceback" not in out.stderr


def test_wrong_database_password_is_one_sentence(settings: Settings) -> None:
    bad = "postgresql+psycopg://postgres:wrong@127.0.0.1:1/test"
    out = _cli("migrate", env=_env(settings, DATABASE_URL=bad))
    assert out.returncode == 2
    assert "DATABASE_URL" in out.stderr and "wrong" not in out.stderr  # password hidden
    assert "Traceback" not in out.stderr


def test_broken_registry_stops_with_file_and_line(settings: Settings, tmp_path: Path,
                                                  store: Store) -> None:
    broken = tmp_path / "registry.yaml"
    broken.write_text((DATA_DIR / "registry.yaml").read_text().replace(
        "kind: traffic", "kind: trafik", 1))
    before = store.r.dbsize()
    out = _cli("run", env=_env(settings, REGISTRY_PATH=str(broken)))
    assert out.returncode == 2
    assert f"{broken}:" in out.stderr and "cameras[0].kind" in out.stderr
    assert store.r.dbsize() == before  # nothing stored was touched


@pytest.mark.parametrize("args", [["worker", "nosuch"], ["bogus"]])
def test_bad_arguments_are_refused(settings: Settings, args: list[str]) -> None:
    out = _cli(*args, env=_env(settings))
    assert out.returncode == 2 and "invalid choice" in out.stderr


def test_one_command_line_mounts_every_tool(settings: Settings, session, tmp_path: Path) -> None:
    """admin, contacts, export, refs and replay are subcommands of `python -m workers`;
    the camera tools keep their own arguments and their one-sentence refusals."""
    env = _env(settings)
    listed = _cli("--help", env=env).stdout
    for name in ("run", "status", "migrate", "admin", "contacts", "export", "refs", "replay",
                 "backup", "retention"):
        assert f"    {name} " in listed or f"    {name}\n" in listed, name
    out = _cli("replay", str(tmp_path / "nothing.mp4"), "--camera", "no-such-camera",
               "--out", str(tmp_path / "out"), env=env)
    assert out.returncode == 2 and "no-such-camera" in out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    exported = _cli("export", "--day", "2026-11-23", "--format", "csv", env=env)
    assert exported.returncode == 0, exported.stderr
