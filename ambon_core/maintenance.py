"""Keeping the record for years: backups with rotation, restore, and retention.

Backups: PostgreSQL through ``pg_dump --format=custom`` (the password travels in the
environment, never on the command line), SQLite through its online backup API (a
consistent copy while the workers write), checked with ``PRAGMA integrity_check`` and
gzipped. The newest ``BACKUP_KEEP`` files stay. A restore replaces the record and
rebuilds the live state in Redis from it. Retention deletes, per table, what is older
than its ``RETENTION_*_DAYS`` setting, but never the rows the live state is rebuilt from.
"""

from __future__ import annotations

import gzip
import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.engine import make_url

from ambon_core.history import rebuild_live_state
from ambon_core.models import (
    AlertRecord,
    AuditLog,
    AuthSession,
    CameraMinute,
    IncidentRecord,
    PuskesmasStatusChange,
    TpsFill,
)
from ambon_core.settings import Settings
from ambon_core.store import Store

log = logging.getLogger(__name__)
SUFFIXES = {"sqlite": ".sqlite3.gz", "postgresql": ".pgdump"}


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says what to fix."""


def _kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in SUFFIXES:
        raise BackupError(f"DATABASE_URL uses {backend}; backups know sqlite and postgresql")
    return backend


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment that carries it."""
    parsed = make_url(url)
    env = {**os.environ, "PGPASSWORD": parsed.password or ""}
    bare = parsed.set(drivername="postgresql", password=None)
    return bare.render_as_string(hide_password=False), env


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def _integrity(path: Path) -> str:
    """"ok", or what SQLite says is wrong with the file."""
    try:
        with closing(sqlite3.connect(path)) as conn:
            return conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return str(exc)


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup API, page by page (consistent while others write)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _backup_sqlite(source: Path, target: Path) -> None:
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        copy = Path(tmp) / "copy.sqlite3"
        _copy_sqlite(source, copy)
        if (result := _integrity(copy)) != "ok":
            raise BackupError(f"the copy of {source} fails PRAGMA integrity_check: {result}")
        with copy.open("rb") as raw, gzip.open(target, "wb", compresslevel=6) as packed:
            shutil.copyfileobj(raw, packed)


def _run(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{argv[0]} failed ({reason})")


def create_backup(settings: Settings, now: datetime | None = None) -> Path:
    """Back the record up into ``BACKUP_DIR``; returns the new file (rotation done)."""
    kind = _kind(settings.database_url)
    folder = settings.backup_dir
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"ambon-{stamp}{SUFFIXES[kind]}"
    partial = target.with_name(target.name + ".partial")  # never a half file under the name
    if kind == "sqlite":
        _backup_sqlite(_sqlite_path(settings.database_url), partial)
    else:
        url, env = _libpq(settings.database_url)
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}", url], env)
    partial.replace(target)
    rotate(folder, settings.backup_keep)
    log.info("backup written: %s (%d bytes)", target, target.stat().st_size)
    return target


def backups(folder: Path) -> list[Path]:
    """The backups in ``folder``, oldest first (names sort by their UTC time stamp)."""
    return sorted(p for p in folder.glob("ambon-*") if p.name.endswith(tuple(SUFFIXES.values())))


def rotate(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; returns the deleted files."""
    old = backups(folder)[:-keep]
    for path in old:
        path.unlink()
    return old


def restore_backup(settings: Settings, backup: Path, engine: Engine, store: Store) -> dict[str, int]:
    """Replace the record with ``backup`` and rebuild the live state from it.

    The workers and the dashboard must be stopped first (systemctl stop ambon-workers
    ambon-dashboard): a writer during the restore would mix old and new records."""
    kind = _kind(settings.database_url)
    if not backup.is_file() or not backup.name.endswith(SUFFIXES[kind]):
        raise BackupError(f"{backup} is not a {kind} backup ({SUFFIXES[kind]} from `backup create`)")
    engine.dispose()  # no pooled connection may keep the old pages
    if kind == "sqlite":
        _restore_sqlite(backup, _sqlite_path(settings.database_url))
    else:
        url, env = _libpq(settings.database_url)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={url}", str(backup)], env)
    from ambon_core.db import session_factory

    store.clear_live()
    with session_factory(engine)() as session:
        return rebuild_live_state(session, store)


def _restore_sqlite(backup: Path, target: Path) -> None:
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        copy = Path(tmp) / "restore.sqlite3"
        try:
            with gzip.open(backup, "rb") as packed, copy.open("wb") as raw:
                shutil.copyfileobj(packed, raw)
        except (OSError, EOFError) as exc:
            raise BackupError(f"{backup} cannot be unpacked ({exc}); try an older one") from None
        if (result := _integrity(copy)) != "ok":
            raise BackupError(f"{backup} fails PRAGMA integrity_check ({result}); try an older one")
        _copy_sqlite(copy, target)  # into the live file, WAL and all


@dataclass(frozen=True)
class Rule:
    """What one retention setting deletes."""

    table: type
    setting: str
    time_column: str
    keep_newest_per: str | None = None  # the live state is rebuilt from the newest row
    only_when: str | None = None  # a column that must be set (cleared, closed, ended)


RULES = [
    Rule(CameraMinute, "retention_camera_minute_days", "minute"),
    Rule(TpsFill, "retention_tps_fill_days", "at", keep_newest_per="tps_id"),
    Rule(PuskesmasStatusChange, "retention_puskesmas_status_days", "at",
         keep_newest_per="puskesmas_id"),
    Rule(AlertRecord, "retention_alert_days", "raised_at", only_when="cleared_at"),
    Rule(IncidentRecord, "retention_incident_days", "updated_at", only_when="closed_at"),
    Rule(AuditLog, "retention_audit_log_days", "at"),
    Rule(AuthSession, "retention_auth_session_days", "started_at", only_when="ended_at"),
]


def _delete_statement(rule: Rule, cutoff: datetime):
    table = rule.table
    stmt = delete(table).where(getattr(table, rule.time_column) < cutoff)
    if rule.only_when:
        stmt = stmt.where(getattr(table, rule.only_when).is_not(None))
    if rule.keep_newest_per:
        group = getattr(table, rule.keep_newest_per)
        newest = select(func.max(table.id)).group_by(group).scalar_subquery()
        stmt = stmt.where(table.id.not_in(newest))
    return stmt


def apply_retention(settings: Settings, engine: Engine, now: datetime | None = None,
                    ) -> dict[str, int]:
    """Delete what each table's retention setting no longer keeps; rows deleted per table."""
    now = now or datetime.now(UTC)
    deleted: dict[str, int] = {}
    with engine.begin() as conn:
        for rule in RULES:
            days = getattr(settings, rule.setting)
            if days == 0:
                continue  # kept forever
            result = conn.execute(_delete_statement(rule, now - timedelta(days=days)))
            deleted[rule.table.__tablename__] = result.rowcount
    log.info("retention applied: %s", deleted)
    return deleted
