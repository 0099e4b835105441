"""The simulated city's installer: the reference photos an operator takes on day one.

A real site's references are a person's job (``python -m workers.camera.refs``). For the
simulated city the simulator itself writes them, at start, for every camera that lacks
them (``python -m ambon_sim.cameras --refs-dir DIR``): ``empty`` for every camera (the
background the privacy blur starts from, and the empty pile of tps/market cameras) and
``door_closed`` for puskesmas cameras. The camera worker reads them from disk and picks
up references that appear later; it never asks the simulator for them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ambon_sim.cameras import SimCity

log = logging.getLogger(__name__)


def references_for(kind: str) -> tuple[str, ...]:
    """The reference photos a simulated camera of ``kind`` gets."""
    return ("empty", "door_closed") if kind == "puskesmas" else ("empty",)


def install_references(city: SimCity, ref_dir: Path) -> list[Path]:
    """Write ``<dir>/<id>.<name>.jpg`` for every camera of ``city`` that lacks it; the
    files written (existing ones, maybe taken by a person, are kept)."""
    ref_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for cid, scene in city.scenes.items():
        for name in references_for(scene.kind):
            path = ref_dir / f"{cid}.{name}.jpg"
            if path.exists():
                continue
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(city.reference_jpeg(cid, name))
            tmp.replace(path)  # a reader never sees half a file
            written.append(path)
    if written:
        log.info("sim installer: wrote %d reference photos to %s", len(written), ref_dir)
    return written
