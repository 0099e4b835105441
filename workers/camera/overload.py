"""Overload made visible, and load shed in a stated order instead of starving every camera.

A camera is ``overloaded`` when it was analysed at less than ``overload_share`` (80 %) of
its target rate over the last ``overload_window_s`` (10 s); the cause says what ran out:

- ``cpu``: this process's threads waited for a core more than they ran (another program
  has the machine; from the kernel's per-thread ``schedstat``);
- ``decode``: the camera's decoder did not deliver the frames to analyse in time;
- ``inference``: frames were there, the analysis loop had no time left for them.

When the analysis loop has no time left (busy >= 90 % of its period) or cameras are
overloaded for CPU or inference, the worker sheds load, slow scenes first (the order of
:data:`SHED_ORDER`): sites (puskesmas, TPS, market) at half, then a quarter of their rate,
then traffic at half, then a quarter. With slack again (busy < 50 % for 30 s) it steps back.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field

SITES = ("puskesmas", "tps", "market")
# level -> (factor for sites, factor for traffic): slow scenes first
SHED_ORDER: tuple[tuple[float, float], ...] = ((1.0, 1.0), (0.5, 1.0), (0.25, 1.0), (0.25, 0.5), (0.25, 0.25))


def shed_factor(level: int, kind: str) -> float:
    """The share of its target rate a camera of ``kind`` keeps at shed ``level``."""
    sites, traffic = SHED_ORDER[max(0, min(level, len(SHED_ORDER) - 1))]
    return sites if kind in SITES else traffic


def overload_cause(analysed_fps: float, target_fps: float, delivered_fps: float,
                   cpu_wait_share: float, share: float = 0.8) -> str | None:
    """None when the camera keeps ``share`` of its target; else ``cpu``, ``decode`` or
    ``inference`` (in that order: a starved process also decodes late)."""
    if target_fps <= 0 or analysed_fps >= share * target_fps:
        return None
    if cpu_wait_share >= 0.5:
        return "cpu"
    if delivered_fps < share * target_fps:
        return "decode"
    return "inference"


def cpu_wait_ns() -> tuple[int, int]:
    """(run, wait-for-a-core) nanoseconds summed over this process's threads."""
    run = wait = 0
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return 0, 0
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                r, w, _ = f.read().split()
        except (OSError, ValueError):
            continue  # the thread ended meanwhile
        run, wait = run + int(r), wait + int(w)
    return run, wait


@dataclass
class LoadMonitor:
    """The analysis loop's busy share, the process's CPU-wait share and the shed level."""

    window_s: float = 10.0
    level: int = 0
    turns: deque[tuple[float, float, float]] = field(default_factory=lambda: deque(maxlen=400))
    _sched: deque[tuple[float, int, int]] = field(default_factory=lambda: deque(maxlen=400))
    _changed_at: float = 0.0
    _slack_since: float | None = None

    def record_turn(self, now: float, busy_s: float, period_s: float) -> None:
        self.turns.append((now, busy_s, period_s))
        run, wait = cpu_wait_ns()
        self._sched.append((now, run, wait))

    def busy_share(self, now: float) -> float:
        """Share of the loop's periods its turns used (the last turns when they are slow)."""
        recent = [(b, p) for t, b, p in self.turns if now - t <= self.window_s] or [
            (b, p) for _, b, p in list(self.turns)[-2:]]
        return sum(b for b, _ in recent) / max(1e-6, sum(p for _, p in recent)) if recent else 0.0

    def cpu_wait_share(self, now: float) -> float:
        """Of the time our threads wanted a core, the share they waited for one (over the
        window, or over the last two turns when a starved turn took longer than it)."""
        recent = [s for s in self._sched if now - s[0] <= self.window_s]
        if len(recent) < 2:
            recent = list(self._sched)[-2:]
        if len(recent) < 2:
            return 0.0
        run, wait = recent[-1][1] - recent[0][1], recent[-1][2] - recent[0][2]
        return wait / max(1, run + wait)

    def update_level(self, now: float, starved: bool) -> int:
        """Shed one more step when starved (at most every 5 s), one less after 30 s of slack;
        not during the first window (a starting worker is busy opening its cameras)."""
        if not self.turns or now - self.turns[0][0] < self.window_s:
            return self.level
        busy = self.busy_share(now)
        if (starved or busy >= 0.9) and now - self._changed_at >= 5.0 and self.level < len(SHED_ORDER) - 1:
            self.level, self._changed_at, self._slack_since = self.level + 1, now, None
        elif busy < 0.5 and not starved and self.level > 0:
            self._slack_since = self._slack_since or now
            if now - self._slack_since >= 30.0:
                self.level, self._changed_at, self._slack_since = self.level - 1, now, None
        else:
            self._slack_since = None
        return self.level


def thread_cpu() -> float:
    """CPU seconds of the calling thread."""
    return time.thread_time()
