"""Local accounts: argon2 password hashes, lockout, login sessions, the production secret check.

No ``streamlit`` here: the dashboard (``components/login.py``, ``session.py``) and the admin
command (``python -m workers admin``) both use these functions. Every login, failed login,
lockout, logout and account change goes to the audit log; passwords never do.

Sessions are random tokens held by the browser; SQL stores only
``HMAC-SHA256(SESSION_SECRET, token)``, so a copy of the database opens no session and
changing the secret ends every session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ambon_core.access import LOGIN_ROLES
from ambon_core.domain import utcnow
from ambon_core.history import audit
from ambon_core.models import AuthSession, LoginThrottle, User
from ambon_core.settings import Settings

LOCK_AFTER = 5  # failures in a row of one client on one name before the first lockout
CLIENT_LOCK_AFTER = 20  # failures of one client over all names (guessing many accounts)
FORGET_S = 3600  # failures older than this (and no lock running) are forgotten
LOCK_BASE_S = 30  # first lockout; doubles with each further failure
LOCK_MAX_S = 3600
MIN_PASSWORD = 10
TOUCH_EVERY_S = 30  # last_seen_at is written at most this often per session
DEV_SECRET = "dev-only-insecure-session-secret"  # refused in production
PLACEHOLDER_SECRETS = {"", DEV_SECRET, "change-me", "changeme", "secret"}
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-for-equal-timing")


class AuthError(ValueError):
    """An account operation cannot be done; the message says why, for people."""


class InsecureSecret(RuntimeError):
    """Production mode with a default, empty or short secret: refuse to start."""


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    user: User | None = None
    reason: str | None = None  # bad_credentials | disabled | locked
    retry_after_s: int = 0


def check_production_secrets(settings: Settings) -> None:
    """Raise InsecureSecret in production when SESSION_SECRET is default, empty or short."""
    if not settings.production:
        return
    secret = settings.session_secret.strip()
    if secret.lower() in PLACEHOLDER_SECRETS or secret.startswith("CHANGE") or len(secret) < 32:
        raise InsecureSecret(
            "PRODUCTION=true but SESSION_SECRET is empty, a placeholder or shorter than 32 "
            "characters; set it in the environment or .streamlit/secrets.toml, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`")


def session_secret(settings: Settings) -> str:
    """The key for session digests: the configured one, or a fixed one outside production."""
    check_production_secrets(settings)
    return settings.session_secret or DEV_SECRET


def hash_password(password: str) -> str:
    """Argon2id hash of a password that meets the policy (AuthError when it does not)."""
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"kata sandi minimal {MIN_PASSWORD} karakter")
    if password.strip() != password or "\n" in password:
        raise AuthError("kata sandi tidak boleh diawali/diakhiri spasi atau berisi baris baru")
    return _hasher.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def lockout_s(failures: int, after: int = LOCK_AFTER) -> int:
    """Seconds locked after ``failures`` failures in a row: 0, then 30, 60, 120… (capped)."""
    if failures < after:
        return 0
    return min(LOCK_MAX_S, LOCK_BASE_S * 2 ** (failures - after))


def normalise_username(username: str) -> str:
    return username.strip().lower()


def find_user(db: Session, username: str) -> User | None:
    return db.scalars(select(User).where(User.username == normalise_username(username))).first()


def _keys(client: str, name: str) -> dict[str, int]:
    """Throttle keys of one attempt and the failures after which each one locks."""
    client = (client or "?")[:100]
    return {f"pair:{client}|{name}": LOCK_AFTER, f"client:{client}": CLIENT_LOCK_AFTER}


def _rows(db: Session, keys: dict[str, int], now: datetime) -> dict[str, LoginThrottle]:
    rows = {r.key: r for r in db.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))}
    for row in rows.values():  # an hour without failures forgets them
        if now - row.last_failure_at > timedelta(seconds=FORGET_S) and (
                row.locked_until is None or row.locked_until <= now):
            row.failures, row.locked_until = 0, None
    return rows


def _wait_s(rows: dict[str, LoginThrottle], now: datetime) -> int:
    waits = [int((r.locked_until - now).total_seconds()) + 1 for r in rows.values()
             if r.locked_until is not None and r.locked_until > now]
    return max(waits, default=0)


def authenticate(db: Session, username: str, password: str, *, source: str = "ui",
                 client: str = "local", now: datetime | None = None) -> LoginResult:
    """Check a login; throttle per (client, name) and per client, whether the name exists
    or not (OWASP ASVS anti-automation); audits every outcome.

    Known and unknown names behave the same to the caller (same answers, same lockout,
    an argon2 check either way), and a lock binds only the client that earned it, so a
    stranger cannot lock the mayor out of her own tablet.
    """
    now = now or utcnow()
    name = normalise_username(username)[:80] or "(kosong)"
    keys = _keys(client, name)
    rows = _rows(db, keys, now)
    wait = _wait_s(rows, now)
    if wait:
        audit(db, name, "login.locked", f"user:{name}", source=source, client=client,
              retry_after_s=wait)
        db.commit()
        return LoginResult(False, reason="locked", retry_after_s=wait)
    user = find_user(db, name)
    if not _verify(user.password_hash if user else None, password):
        return _failed(db, keys, rows, user, name, source, client, now)
    if not user.active:  # type: ignore[union-attr]
        audit(db, name, "login.failed", f"user:{name}", reason="disabled", source=source,
              client=client)
        db.commit()
        return LoginResult(False, reason="disabled")
    pair = next(iter(keys))
    if pair in rows:
        db.delete(rows[pair])  # this device knows the password: its count starts again
    user.last_login_at = now  # type: ignore[union-attr]
    if _hasher.check_needs_rehash(user.password_hash):  # type: ignore[union-attr, arg-type]
        user.password_hash = _hasher.hash(password)  # type: ignore[union-attr]
    audit(db, name, "login", f"user:{name}", source=source, client=client)
    db.commit()
    return LoginResult(True, user=user)


def _failed(db: Session, keys: dict[str, int], rows: dict[str, LoginThrottle], user: User | None,
            name: str, source: str, client: str, now: datetime) -> LoginResult:
    reason = "unknown_user" if user is None else "bad_password"
    audit(db, name, "login.failed", f"user:{name}", reason=reason, source=source, client=client)
    wait = 0
    for key, after in keys.items():
        row = rows.get(key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, last_failure_at=now)
            db.add(row)
        row.failures, row.last_failure_at = row.failures + 1, now
        if seconds := lockout_s(row.failures, after):
            row.locked_until = now + timedelta(seconds=seconds)
            audit(db, name, "lockout", key, failures=row.failures, seconds=seconds)
            wait = max(wait, seconds)
    db.commit()
    return LoginResult(False, reason="locked" if wait else "bad_credentials", retry_after_s=wait)


def digest(token: str, secret: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def start_session(db: Session, user: User, secret: str, now: datetime | None = None) -> str:
    """A new session for a user who just logged in; returns the token for the browser."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    db.add(AuthSession(token_digest=digest(token, secret), user_id=user.id, started_at=now,
                       last_seen_at=now))
    db.commit()
    return token


def resolve_session(db: Session, token: str, secret: str, idle: timedelta,
                    now: datetime | None = None) -> User | None:
    """The active user of a live session, or None (unknown, ended, idle, user disabled).

    Ends an idle session or one whose user was disabled, with an audit entry.
    """
    now = now or utcnow()
    row = db.scalars(select(AuthSession).where(
        AuthSession.token_digest == digest(token, secret))).first()
    if row is None or row.ended_at is not None:
        return None
    user = db.get(User, row.user_id)
    reason = ("disabled" if user is None or not user.active
              else "idle" if now - row.last_seen_at > idle else None)
    if reason is not None:
        row.ended_at, row.end_reason = now, reason
        audit(db, user.username if user else "?", f"logout.{reason}",
              f"user:{user.username if user else row.user_id}")
        db.commit()
        return None
    return user


def touch_session(db: Session, token: str, secret: str, now: datetime | None = None) -> None:
    """Mark use of a session (at most every TOUCH_EVERY_S, one UPDATE)."""
    now = now or utcnow()
    db.execute(update(AuthSession).where(
        AuthSession.token_digest == digest(token, secret), AuthSession.ended_at.is_(None),
        AuthSession.last_seen_at < now - timedelta(seconds=TOUCH_EVERY_S)).values(last_seen_at=now))
    db.commit()


def end_session(db: Session, token: str, secret: str, reason: str = "logout") -> None:
    """Log out: the session cannot be used again, even with a copy of the token."""
    row = db.scalars(select(AuthSession).where(
        AuthSession.token_digest == digest(token, secret))).first()
    if row is None or row.ended_at is not None:
        return
    row.ended_at, row.end_reason = utcnow(), reason
    user = db.get(User, row.user_id)
    audit(db, user.username if user else "?", "logout", f"user:{user.username if user else '?'}")
    db.commit()


def _end_all(db: Session, user: User, reason: str) -> None:
    db.execute(update(AuthSession).where(AuthSession.user_id == user.id,
                                         AuthSession.ended_at.is_(None))
               .values(ended_at=utcnow(), end_reason=reason))


def validate_role(role: str, opd: str | None, known_opds: set[str]) -> None:
    """A role that can log in, with a known department exactly when the role is ``opd``."""
    if role not in LOGIN_ROLES:
        raise AuthError(f"peran '{role}' tidak dikenal (pilih: {', '.join(LOGIN_ROLES)})")
    if role == "opd" and opd not in known_opds:
        raise AuthError(f"peran opd memerlukan kode OPD yang dikenal ({', '.join(sorted(known_opds))})")
    if role != "opd" and opd:
        raise AuthError("kode OPD hanya untuk peran opd")


def create_user(db: Session, username: str, password: str, role: str, opd: str | None, *,
                actor: str, known_opds: set[str], display_name: str | None = None) -> User:
    """A new active account; audited as ``user.create``."""
    name = normalise_username(username)
    if not name or len(name) > 80 or not all(c.isalnum() or c in "._-@" for c in name):
        raise AuthError("nama pengguna: huruf, angka, titik, garis bawah, tanda hubung, @")
    if find_user(db, name) is not None:
        raise AuthError(f"pengguna '{name}' sudah ada")
    validate_role(role, opd, known_opds)
    now = utcnow()
    user = User(username=name, display_name=display_name, password_hash=hash_password(password),
                role=role, opd=opd, active=True, failed_logins=0, created_at=now, updated_at=now)
    db.add(user)
    audit(db, actor, "user.create", f"user:{name}", role=role, opd=opd)
    db.commit()
    return user


def _get(db: Session, username: str) -> User:
    user = find_user(db, username)
    if user is None:
        raise AuthError(f"pengguna '{normalise_username(username)}' tidak ada")
    return user


def reset_password(db: Session, username: str, password: str, *, actor: str) -> None:
    """New password, lockout cleared, every open session of the user ended."""
    user = _get(db, username)
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until, user.updated_at = 0, None, utcnow()
    _end_all(db, user, "password")
    audit(db, actor, "user.reset_password", f"user:{user.username}")
    db.commit()


def set_active(db: Session, username: str, active: bool, *, actor: str) -> None:
    """Disable (ends sessions at once) or enable an account."""
    user = _get(db, username)
    user.active, user.updated_at = active, utcnow()
    if not active:
        _end_all(db, user, "disabled")
    else:
        user.failed_logins, user.locked_until = 0, None
    audit(db, actor, "user.enable" if active else "user.disable", f"user:{user.username}")
    db.commit()


def set_role(db: Session, username: str, role: str, opd: str | None, *, actor: str,
             known_opds: set[str]) -> None:
    """Change role/department; open sessions see it within seconds (re-read every run)."""
    user = _get(db, username)
    validate_role(role, opd, known_opds)
    before = f"{user.role}:{user.opd or ''}"
    user.role, user.opd, user.updated_at = role, opd, utcnow()
    audit(db, actor, "user.set_role", f"user:{user.username}", before=before,
          after=f"{role}:{opd or ''}")
    db.commit()


def list_users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username)))


def role_from_claims(claims: dict[str, object], claim: str,
                     known_opds: set[str]) -> tuple[str, str | None] | None:
    """OIDC: the (role, opd) named by ``claim`` (``walikota``, ``admin``, ``opd:dinkes``;
    a list of values takes the first valid one), or None when nothing valid is there."""
    value = claims.get(claim)
    values = value if isinstance(value, list) else [value]
    for item in values:
        if not isinstance(item, str):
            continue
        role, _, opd = item.strip().lower().partition(":")
        try:
            validate_role(role, opd or None, known_opds)
        except AuthError:
            continue
        return role, opd or None
    return None
