"""The production files in deploy/: systemd units verified by systemd itself, and the
supervisor's sd_notify over a real unix datagram socket as systemd's NOTIFY_SOCKET."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ambon_core.settings import ROOT, Settings
from ambon_core.store import Store

UNITS = ROOT / "deploy" / "systemd"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze missing: `make systemd-tools` installs Debian's systemd")


def _verify(folder: Path) -> subprocess.CompletedProcess[str]:
    units = sorted(str(p) for p in folder.iterdir() if p.suffix in (".service", ".timer"))
    return subprocess.run([ANALYZE, "verify", "--man=no", *units], capture_output=True,
                          text=True, timeout=120, cwd=folder)


def _units_at(tmp_path: Path, install_dir: Path) -> Path:
    """The units as installed, with /opt/ambon replaced by a folder that exists here
    (verify checks that every ExecStart= program is executable)."""
    for unit in UNITS.iterdir():
        (tmp_path / unit.name).write_text(unit.read_text().replace("/opt/ambon", str(install_dir)))
    return tmp_path


@needs_analyze
def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    result = _verify(_units_at(tmp_path, ROOT))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # warnings too (unknown keys, bad values)


@needs_analyze
def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: a misplaced key and a program that is not there."""
    folder = _units_at(tmp_path, tmp_path / "nowhere")
    unit = folder / "ambon-workers.service"
    unit.write_text(unit.read_text().replace("[Service]", "[Service]\nWatchdogSecs=30", 1))
    result = _verify(folder)
    assert "WatchdogSecs" in result.stderr and "is not executable" in result.stderr


def test_units_name_what_the_issue_asks() -> None:
    workers = (UNITS / "ambon-workers.service").read_text()
    for line in ("Type=notify", "WatchdogSec=30", "Restart=always", "User=ambon",
                 "EnvironmentFile=/etc/ambon/ambon.env", "MemoryMax=", "CPUQuota="):
        assert line in workers
    assert "ExecStart=/opt/ambon/.venv/bin/python -m streamlit" in (
        UNITS / "ambon-dashboard.service").read_text()


def _datagrams(sock: socket.socket, until: str, timeout_s: float = 90) -> list[str]:
    """Every message received until one contains ``until`` (polls the real socket)."""
    got: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            continue
        if until in got[-1]:
            return got
    raise AssertionError(f"no {until!r} within {timeout_s} s; got {got}")


@pytest.mark.parametrize("abstract", [False, True], ids=["path", "abstract"])
def test_supervisor_tells_systemd_ready_watchdog_stopping(
        settings: Settings, store: Store, tmp_path: Path, abstract: bool) -> None:
    """`python -m workers run` as systemd starts it: READY=1 once its children run, then
    WATCHDOG=1 with its heartbeats (the supervisor's beat is in Redis), STOPPING=1 on SIGTERM."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"@ambon-notify-test-{os.getpid()}" if abstract else str(tmp_path / "notify.sock")
    sock.bind("\0" + name[1:] if abstract else name)
    sock.settimeout(1.0)
    proc = subprocess.Popen([sys.executable, "-m", "workers", "run", "--only", "status"],
                            cwd=ROOT, env={**os.environ, "NOTIFY_SOCKET": name},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = _datagrams(sock, "READY=1")
        assert "STATUS=supervising 1 children" in ready[-1]
        _datagrams(sock, "WATCHDOG=1")
        _datagrams(sock, "WATCHDOG=1")  # fed again with the next turn, not once
        assert store.read_live().heartbeats.get("supervisor") is not None
        proc.send_signal(signal.SIGTERM)
        _datagrams(sock, "STOPPING=1")
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()


def test_no_notify_socket_means_no_notification(monkeypatch: pytest.MonkeyPatch) -> None:
    from workers.supervisor import sd_notify

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sd_notify("READY=1") is False
