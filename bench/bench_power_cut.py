"""Power cuts: SIGKILL the whole stack's process group at random moments, 20 times.

    .venv/bin/python bench/bench_power_cut.py [--rounds 20] [--seed 19]

The stack, in one process group: Debian's redis-server with AOF (as deploy/redis/ambon.conf),
the real supervisor with the status worker (``python -m workers run --only status``, which
rebuilds the live state from SQL when Redis comes back empty), and a writer that does what
the users and the workers do, through the same functions: 112 incidents through the feed
worker's ``upsert_incidents``, instructions through ``actions.instruct`` (the UI's path,
with its audit row), audit rows through ``history.audit``, camera minutes through the
camera worker's ``HistoryWriter.write("camera_minutes")``. Each write that returned (was
acknowledged) is appended to an ack log. Every 5th round Redis also loses its files, as a
server whose disk was replaced would. After each restart the live state is checked, and at
the end: SQLite ``PRAGMA integrity_check``, every acknowledged write present, nothing twice.

SIGKILL loses what a process had not handed to the kernel; a real power cut also loses the
kernel's page cache, which is what ``synchronous=FULL`` (ambon_core/db.py) is for: SQLite
syncs the WAL at every commit, so an acknowledged write is on the disk.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KINDS = ("incident", "instruction", "audit", "camera_minute")


def load(round_no: int, ack_path: Path) -> None:
    """The writer of one round: writes until killed, logging each acknowledged write."""
    from ambon_core import actions
    from ambon_core.db import engine_for, session_factory
    from ambon_core.domain import Incident
    from ambon_core.history import audit
    from ambon_core.redis_server import connect
    from ambon_core.settings import get_settings
    from ambon_core.spool import HistoryWriter
    from ambon_core.store import Store
    from workers.camera import worker as _camera_ops  # noqa: F401 (registers camera_minutes)
    from workers.feeds.lifecycle import upsert_incidents

    settings = get_settings()
    store = Store(connect(settings), settings.key_prefix, settings.stream_maxlen)
    sessions = session_factory(engine_for(settings.database_url))
    writer = HistoryWriter(sessions, settings.spool_dir / "bench")
    ack = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    base = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=round_no)
    for i in range(1_000_000):
        key = f"pc-{round_no}-{i}"
        upsert_incidents(writer, store, [Incident(incident_id=key, category="banjir",
                                                  title="Genangan", agencies=["bpbd"])])
        os.write(ack, f"incident {key}\n".encode())
        with sessions() as session:
            actions.instruct(session, None, "dinkes", key, "walikota", {"dinkes"})
        os.write(ack, f"instruction {key}\n".encode())
        with sessions() as session:
            audit(session, "walikota", "bench.power_cut", key)
            session.commit()
        os.write(ack, f"audit {key}\n".encode())
        minute = base + timedelta(minutes=i)
        if writer.write("camera_minutes", {"rows": [{
                "camera_id": "cam-pc", "minute": minute.isoformat(), "kind": "traffic",
                "crossings": {"a": {"in:car": i}}, "objects_mean": {}, "congestion": None,
                "queue_max": None, "fill": None, "frames": 120}]}).written:
            os.write(ack, f"camera_minute {minute.isoformat()}\n".encode())


class Stack:
    """redis-server + supervisor + writer in one process group."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.sock = tmp / "redis.sock"
        self.env = {**os.environ, "REDIS_URL": f"unix://{self.sock}",
                    "DATABASE_URL": f"sqlite:///{tmp / 'ambon.db'}", "SIM_ENABLED": "false",
                    "METRICS_PORT": "0", "SPOOL_DIR": str(tmp / "spool"), "LOG_LEVEL": "WARNING",
                    "YOLO_OFFLINE": "1", "STATUS_INTERVAL_S": "1"}
        self.pgid: int | None = None

    def start(self, round_no: int, ack_path: Path) -> None:
        (self.tmp / "redis").mkdir(exist_ok=True)
        log = (self.tmp / "stack.log").open("a")
        redis = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", str(self.sock), "--dir",
             str(self.tmp / "redis"), "--appendonly", "yes", "--appendfsync", "everysec",
             "--save", ""], stdout=log, stderr=log, process_group=0)
        self.pgid = redis.pid
        _until(lambda: self.sock.exists(), 30, "redis socket")
        group = {"process_group": self.pgid, "env": self.env, "cwd": ROOT, "stdout": log, "stderr": log}
        subprocess.Popen([sys.executable, "-m", "workers", "run", "--only", "status"], **group)
        subprocess.Popen([sys.executable, __file__, "--load", str(round_no), str(ack_path)], **group)

    def kill(self) -> None:
        os.killpg(self.pgid, signal.SIGKILL)
        _until(lambda: not _group_alive(self.pgid), 30, "the group to die")
        self.sock.unlink(missing_ok=True)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # zombies of our own children still count as members: reap them
    try:
        while os.waitpid(-pgid, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def _until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)  # poll interval


def _acked(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    return [tuple(line.split(" ", 1)) for line in path.read_text().splitlines() if " " in line]


def live_rebuilt(stack: Stack) -> bool:
    """Open incidents on record == incidents in Redis, once the supervisor is up."""
    import redis as redis_lib

    client = redis_lib.Redis(unix_socket_path=str(stack.sock))
    with sqlite3.connect(stack.tmp / "ambon.db") as db:
        on_record = {r[0] for r in db.execute(
            "SELECT incident_id FROM incident WHERE status NOT IN ('resolved', 'closed')")}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            live = {k.decode() for k in client.hkeys("ambon:state:incident")}
            if client.exists("ambon:meta:rebuilt_at") and on_record <= live:
                return True
        except redis_lib.RedisError:
            pass
        time.sleep(0.1)  # poll interval while the supervisor starts and rebuilds
    return False


def _utc_iso(value: str) -> str:
    """One spelling of a stored minute (SQLite keeps '2026-01-01 00:00:00.000000')."""
    moment = datetime.fromisoformat(str(value))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def check(db_path: Path, acked: list[tuple[str, str]]) -> dict[str, object]:
    queries = {"incident": "SELECT incident_id, COUNT(*) FROM incident GROUP BY incident_id",
               "instruction": "SELECT text, COUNT(*) FROM instruction GROUP BY text",
               "audit": "SELECT target, COUNT(*) FROM audit_log WHERE action='bench.power_cut' "
                        "GROUP BY target",
               "camera_minute": "SELECT minute, COUNT(*) FROM camera_minute GROUP BY minute"}
    with sqlite3.connect(db_path) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        found = {k: dict(db.execute(q).fetchall()) for k, q in queries.items()}
    found["camera_minute"] = {_utc_iso(m): n for m, n in found["camera_minute"].items()}
    lost = sum((_utc_iso(key) if kind == "camera_minute" else key) not in found[kind]
               for kind, key in acked)
    duplicated = sum(n - 1 for rows in found.values() for n in rows.values() if n > 1)
    return {"integrity": integrity, "lost": lost, "duplicated": duplicated,
            "on_record": {k: len(v) for k, v in found.items()}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--load", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.load:
        load(int(args.load[0]), Path(args.load[1]))
        return
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="ambon-power-cut-"))
    stack, ack = Stack(tmp), tmp / "acked.log"
    subprocess.run([sys.executable, "-m", "workers", "migrate"], cwd=ROOT, env=stack.env, check=True,
                   capture_output=True)
    rebuilt_ok, kills_at = 0, []
    try:
        for round_no in range(args.rounds):
            if round_no % 5 == 4:
                shutil.rmtree(tmp / "redis", ignore_errors=True)  # Redis lost its disk too
            before = len(_acked(ack))
            stack.start(round_no, ack)
            rebuilt_ok += live_rebuilt(stack)
            _until(lambda b=before: len(_acked(ack)) > b + 8, 300, "the first acknowledged writes")
            delay = rng.uniform(0.2, 3.0)  # the power cut's random moment, not a synchronisation
            time.sleep(delay)
            stack.kill()
            kills_at.append(round(delay, 2))
        acked = _acked(ack)
        stack.start(args.rounds, tmp / "after.log")  # the restart after the last cut
        rebuilt_ok += live_rebuilt(stack)
    finally:
        if stack.pgid is not None and _group_alive(stack.pgid):
            stack.kill()  # never leave a stack running, whatever happened
    result = check(tmp / "ambon.db", acked)
    per_kind = {k: sum(1 for kind, _ in acked if kind == k) for k in KINDS}
    print(f"power cuts: {args.rounds} rounds (SIGKILL of the process group {kills_at} s "
          "after the first writes)")
    print(f"acknowledged writes checked: {len(acked)} {per_kind}")
    print(f"lost {result['lost']}, duplicated {result['duplicated']}, SQLite integrity "
          f"{result['integrity']}, live state rebuilt {rebuilt_ok}/{args.rounds + 1} restarts")
    print("SQLite: journal_mode=WAL, synchronous=FULL; Redis: appendonly yes, appendfsync everysec")
    print(f"command: .venv/bin/python bench/bench_power_cut.py --rounds {args.rounds} --seed {args.seed}")
    ok = result["lost"] == 0 and result["duplicated"] == 0 and result["integrity"] == "ok"
    shutil.rmtree(tmp, ignore_errors=True) if ok else print(f"kept for a look: {tmp}")
    sys.exit(0 if ok and rebuilt_ok == args.rounds + 1 else 1)


if __name__ == "__main__":
    main()
