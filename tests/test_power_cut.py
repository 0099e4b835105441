"""Power cuts: the bench's own short run (2 rounds) and the SQLite settings it relies on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from ambon_core.db import make_engine
from ambon_core.settings import ROOT


def test_sqlite_is_wal_with_a_sync_at_every_commit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    engine.dispose()


def test_two_power_cuts_lose_and_duplicate_nothing() -> None:
    """The whole stack SIGKILLed twice while writing, restarted; every acknowledged write
    is on record once, SQLite is intact, the live state is rebuilt (bench_power_cut.py)."""
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_power_cut.py"),
                             "--rounds", "2", "--seed", "3"], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lost 0, duplicated 0, SQLite integrity ok, live state rebuilt 3/3" in result.stdout
