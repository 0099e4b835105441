"""The admin page's tables: accounts (no hashes) and the audit log."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from ambon_core import auth as core
from ambon_core.models import AuditLog
from components.fmt import wit_time
from components.session import db
from components.tables import MISSING

USER_COLUMNS = ["username", "display_name", "role", "opd", "active", "last_login"]


def users_table() -> pd.DataFrame:
    """Every account, for the admin page (no hashes)."""
    with db() as s:
        return pd.DataFrame([{
            "username": u.username, "display_name": u.display_name, "role": u.role, "opd": u.opd,
            "active": u.active, "last_login": u.last_login_at} for u in core.list_users(s)],
            columns=USER_COLUMNS)


def audit_table(actor: str = "", action: str = "", limit: int = 500) -> pd.DataFrame:
    """The newest audit entries, optionally of one actor / actions starting with ``action``."""
    stmt = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    if actor.strip():
        stmt = stmt.where(AuditLog.actor == actor.strip().lower())
    if action.strip():
        stmt = stmt.where(AuditLog.action.startswith(action.strip()))
    with db() as s:
        return pd.DataFrame([{"at": r.at, "actor": r.actor, "action": r.action, "target": r.target,
                              "detail": ", ".join(f"{k}={v}" for k, v in (r.detail or {}).items())}
                             for r in s.scalars(stmt)],
                            columns=["at", "actor", "action", "target", "detail"])


def readable(df: pd.DataFrame) -> pd.DataFrame:
    """For people: times in the city's clock, '–' for what is not set (no 'None')."""
    out = df.copy()
    for column in ("last_login", "at"):
        if column in out:
            out[column] = out[column].map(lambda m: wit_time(m, True) if m is not None
                                          and not pd.isna(m) else MISSING)
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(lambda v: MISSING if v is None else v)
    return out
