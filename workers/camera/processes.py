"""One camera analysis process per CPU core, sharing the cameras through the Redis leases.

One Python process analyses on one core at a time (the GIL): 37 cameras' detection,
tracking and analytics need more than one core can give on the city's 2-core server. So
the supervisor starts ``CAMERA_STREAM_PROCESSES`` camera workers (0: one per core), each
with its own heartbeat name (``cameras-1``, ``cameras-2``, ...) and at most its share of
the cameras (``CAMERA_WORKER_MAX``; 10 cameras or fewer: one process); the leases
(``docs/cameras.md``, "Several worker machines") make sure no camera is analysed twice.
A process that dies leaves its cameras to the supervisor's restart (seconds), or to
another host's spare capacity.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

from ambon_core.settings import get_camera_streams

if TYPE_CHECKING:
    from workers.catalog import ChildSpec


CAMERAS_PER_PROCESS = 10  # fewer cameras fit one core: a second process would only cost memory


def analysis_processes(cameras: int, cores: int | None = None) -> int:
    """How many camera processes to run for ``cameras`` cameras on this host:
    ``CAMERA_STREAM_PROCESSES``, or one per core once there are cameras for more than one."""
    if configured := get_camera_streams().processes:
        return max(1, min(configured, cameras))
    return max(1, min(cores or os.cpu_count() or 1, math.ceil(cameras / CAMERAS_PER_PROCESS)))


def camera_specs(argv: list[str], cameras: int) -> list[ChildSpec]:
    """The supervisor's children for the camera worker: one, or one per core."""
    from workers.catalog import ChildSpec

    n = analysis_processes(cameras)
    if n == 1:
        return [ChildSpec("cameras", argv)]
    share = str(math.ceil(cameras / n))
    return [ChildSpec(f"cameras-{i}", argv, env={"CAMERA_WORKER_NAME": f"cameras-{i}",
                                                  "CAMERA_WORKER_MAX": share})
            for i in range(1, n + 1)]
