"""The one command line of the system.

    python -m workers run [--only NAME ...] [--once] [--ui]   start (or run once) the workers
    python -m workers worker NAME [--once]                   one loop worker in the foreground
    python -m workers status [--json]                        what the workers last published
    python -m workers migrate                                bring the SQL schema up to date
    python -m workers admin create|reset-password|...        dashboard accounts
    python -m workers backup create | list | restore FILE    back up / restore the record
    python -m workers retention                              delete what retention no longer keeps
    python -m workers contacts add|remove|list               notification targets
    python -m workers export --day YYYY-MM-DD [--format csv]  open data for Ambon Satu Data
    python -m workers refs ID [--name empty|door_closed]     take a camera's reference photo
    python -m workers replay CLIP --camera ID --out DIR       one camera's path over a clip
    python -m workers quantize FRAMES... [--model X.onnx]     INT8 detector from the city's pictures

Each subcommand's own module defines its arguments (``add_arguments``) and does the work
(``run``); this file only mounts them. The camera tools load OpenCV and the detector, so
they are imported only when asked for (their arguments are parsed by their own module).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from pathlib import Path

from ambon_core import accounts_cli, contacts_cli, logs, maintenance, open_data_cli
from ambon_core.auth import InsecureSecret, check_production_secrets
from ambon_core.db import DatabaseUnavailable, check, engine_for, migrate, session_factory
from ambon_core.history import rebuild_live_state
from ambon_core.redis_server import EmbeddedRedis, RedisUnavailable, connect, ensure_embedded
from ambon_core.registry import RegistryError, load_registry
from ambon_core.settings import Settings, SettingsError, get_settings
from ambon_core.store import Store
from workers import metrics
from workers.catalog import LOOP_WORKERS, available, child_specs, load_worker
from workers.status_report import status_report
from workers.supervisor import Supervisor

log = logging.getLogger("workers")
# Subcommands that live in their own module (``add_arguments`` + ``run``), by name.
MOUNTED = {"admin": (accounts_cli, "dashboard accounts (create, reset-password, disable, enable, "
                                   "set-role, list)"),
           "contacts": (contacts_cli, "notification targets per site, OPD head and city "
                                      "(add, remove, list)"),
           "export": (open_data_cli, "one day of open data for Ambon Satu Data (audited)")}
# Heavy tools (OpenCV, the detector): imported only when called.
MOUNTED_LAZY = {"refs": ("workers.camera.refs", "take a camera's reference photo (refused when "
                                                 "something moves or a person is seen)"),
                "replay": ("workers.camera.replay", "one camera's whole path over a recorded "
                                                     "clip: blurred frames and values"),
                "quantize": ("workers.camera.quantize", "an INT8 detector calibrated on the "
                                                         "city's own pictures (~1.8x less CPU)")}


def _prepare(settings: Settings, *, embedded: bool) -> tuple[Store, EmbeddedRedis | None]:
    """Registry, Redis and DB checks in the order a new user would fix them; rebuild
    live state from SQL when Redis is empty (new server, or restarted without data)."""
    load_registry(settings.registry_path)
    server = ensure_embedded(settings) if embedded else None
    if server is not None:
        get_settings.cache_clear()  # REDIS_URL now names the embedded socket
        settings = get_settings()
    store = Store(connect(settings), settings.key_prefix, settings.stream_maxlen)
    engine = engine_for(settings.database_url)
    check(engine)
    migrate(engine)
    if store.is_empty():
        with session_factory(engine)() as session:
            rebuild_live_state(session, store)
    return store, server


def cmd_run(args: argparse.Namespace) -> int:
    only = set(args.only or []) or None
    if args.once:
        _prepare(get_settings(), embedded=False)
        for name in [n for n in LOOP_WORKERS if available(n) and (only is None or n in only)]:
            load_worker(name)().run_once()
            log.info("ran %s once", name)
        return 0
    store, server = _prepare(get_settings(), embedded=True)
    try:
        settings = get_settings()
        metrics.serve(store, settings)  # Prometheus on loopback (METRICS_PORT; 0 = off)
        specs = child_specs(settings, load_registry(settings.registry_path), only=only, ui=args.ui)
        return Supervisor(specs, store, settings).run()
    finally:
        if server is not None:
            server.stop()


def cmd_worker(args: argparse.Namespace) -> int:
    worker = load_worker(args.name)()
    if args.once:
        worker.run_once()
    else:
        worker.run()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = get_settings()
    store = Store(connect(settings), settings.key_prefix, settings.stream_maxlen)
    report = status_report(store.read_live(), settings)
    if args.json:
        json.dump(report, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        for name, hb in report["workers"].items():
            print(f"{name:16} {'hidup' if hb['alive'] else 'MATI':6} umur {hb['age_s']} s")  # noqa: T201
        for section in ("cameras", "puskesmas", "tps", "incidents", "alerts", "feeds"):
            print(f"{section}: {len(report[section])}")  # noqa: T201
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    engine = engine_for(get_settings().database_url)
    check(engine)
    migrate(engine)
    log.info("database schema is up to date")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.action == "list":
        for path in maintenance.backups(settings.backup_dir):
            print(f"{path}  {path.stat().st_size} bytes")  # noqa: T201
        return 0
    if args.action == "create":
        print(maintenance.create_backup(settings))  # noqa: T201
        return 0
    store = Store(connect(settings), settings.key_prefix, settings.stream_maxlen)
    if any(hb is not None for hb in store.read_live().heartbeats.values()) and not args.force:
        sys.stderr.write("error: workers are running; stop ambon-workers and ambon-dashboard "
                         "first (or --force)\n")
        return 2
    counts = maintenance.restore_backup(settings, args.file, engine_for(settings.database_url), store)
    log.info("restored %s; live state rebuilt %s", args.file, counts)
    return 0


def cmd_retention(_: argparse.Namespace) -> int:
    settings = get_settings()
    print(json.dumps(maintenance.apply_retention(settings, engine_for(settings.database_url))))  # noqa: T201
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logs.install()  # no credentials in any log line (ambon_core.logs)
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="start the workers under the supervisor")
    run.add_argument("--only", action="append", help="run only this worker (repeatable)")
    run.add_argument("--once", action="store_true", help="one turn of each loop worker, then exit")
    run.add_argument("--ui", action="store_true", help="also run the Streamlit dashboard")
    one = sub.add_parser("worker", help="run one loop worker in the foreground")
    one.add_argument("name", choices=sorted(LOOP_WORKERS))
    one.add_argument("--once", action="store_true")
    status = sub.add_parser("status", help="what the workers last published")
    status.add_argument("--json", action="store_true")
    sub.add_parser("migrate", help="bring the SQL schema up to date")
    backup = sub.add_parser("backup", help="back up or restore the record (rotation: BACKUP_KEEP)")
    backup.add_argument("action", choices=["create", "list", "restore"])
    backup.add_argument("file", nargs="?", type=Path, help="the backup to restore")
    backup.add_argument("--force", action="store_true", help="restore while workers beat")
    sub.add_parser("retention", help="apply the RETENTION_*_DAYS settings once")
    for name, (module, text) in MOUNTED.items():
        module.add_arguments(sub.add_parser(name, help=text, description=module.__doc__,
                                            formatter_class=argparse.RawDescriptionHelpFormatter))
    for name, (_, text) in MOUNTED_LAZY.items():
        lazy = sub.add_parser(name, help=text, add_help=False)
        lazy.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.cmd in MOUNTED_LAZY:
        return importlib.import_module(MOUNTED_LAZY[args.cmd][0]).main(args.rest)
    if args.cmd == "backup" and args.action == "restore" and args.file is None:
        parser.error("backup restore needs the FILE to restore (see `backup list`)")
    handlers = {"run": cmd_run, "worker": cmd_worker, "status": cmd_status, "migrate": cmd_migrate,
                "backup": cmd_backup, "retention": cmd_retention,
                **{name: module.run for name, (module, _) in MOUNTED.items()}}
    try:
        check_production_secrets(get_settings())  # PRODUCTION=true refuses default secrets
        return handlers[args.cmd](args)
    except (RegistryError, SettingsError, RedisUnavailable, DatabaseUnavailable, InsecureSecret,
            maintenance.BackupError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
