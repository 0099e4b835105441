"""Accounts of the dashboard, from the server's shell (``python -m workers admin ...``).

    python -m workers admin create --username admin --role admin
    python -m workers admin create --username kadis.dinkes --role opd --opd dinkes
    python -m workers admin reset-password --username kadis.dinkes
    python -m workers admin disable|enable --username kadis.dinkes
    python -m workers admin set-role --username kadis.dinkes --role opd --opd dishub
    python -m workers admin list [--json]

Accounts are not a worker's business: this lives beside ``ambon_core.auth``, and the one
command line (``workers/__main__.py``) mounts it as its ``admin`` subcommand.

Passwords are asked twice at a prompt, or read from the first line of standard input
with ``--password-stdin`` (scripts); never from the command line, where they would sit
in the shell history and the process list. Every change is in the audit log as
``cli:<system user>``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from ambon_core.access import LOGIN_ROLES
from ambon_core.auth import AuthError, create_user, list_users, reset_password, set_active, set_role
from ambon_core.db import DatabaseUnavailable, check, engine_for, migrate, session_factory
from ambon_core.registry import RegistryError, load_registry
from ambon_core.settings import get_settings


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Kata sandi baru: ")
    if getpass.getpass("Ulangi kata sandi: ") != first:
        raise AuthError("kedua kata sandi tidak sama")
    return first


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _apply(args: argparse.Namespace) -> int:
    settings = get_settings()
    known = {o.code for o in load_registry(settings.registry_path).opds if not o.partner}
    engine = engine_for(settings.database_url)
    check(engine)
    migrate(engine)  # the first admin is usually created on a fresh database
    with session_factory(engine)() as db:
        if args.account_cmd == "create":
            create_user(db, args.username, _password(args), args.role, args.opd, actor=_actor(),
                        known_opds=known, display_name=args.display_name)
        elif args.account_cmd == "reset-password":
            reset_password(db, args.username, _password(args), actor=_actor())
        elif args.account_cmd in ("disable", "enable"):
            set_active(db, args.username, args.account_cmd == "enable", actor=_actor())
        elif args.account_cmd == "set-role":
            set_role(db, args.username, args.role, args.opd, actor=_actor(), known_opds=known)
        else:
            _print_users(db, as_json=args.json)
            return 0
    sys.stdout.write(f"ok: {args.account_cmd} {args.username}\n")
    return 0


def _print_users(db, *, as_json: bool) -> None:
    rows = [{"username": u.username, "role": u.role, "opd": u.opd, "active": u.active,
             "failed_logins": u.failed_logins,
             "locked_until": u.locked_until.isoformat() if u.locked_until else None,
             "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None}
            for u in list_users(db)]
    if as_json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    for r in rows:
        state = "aktif" if r["active"] else "NONAKTIF"
        sys.stdout.write(f"{r['username']:24} {r['role']:9} {r['opd'] or '-':9} {state:9} "
                         f"login terakhir {r['last_login_at'] or '-'}\n")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``admin`` subcommand's own subcommands."""
    sub = p.add_subparsers(dest="account_cmd", required=True)
    for name in ("create", "reset-password", "disable", "enable", "set-role"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--username", required=True)
        if name in ("create", "set-role"):
            cmd.add_argument("--role", required=True, choices=LOGIN_ROLES)
            cmd.add_argument("--opd", help="department code (registry opds), for --role opd")
        if name in ("create", "reset-password"):
            cmd.add_argument("--password-stdin", action="store_true",
                             help="read the password from the first line of standard input")
        if name == "create":
            cmd.add_argument("--display-name")
    sub.add_parser("list").add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    """Carry out one account command; a refusal is one line on stderr and exit code 2."""
    try:
        return _apply(args)
    except (AuthError, RegistryError, DatabaseUnavailable) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("dibatalkan\n")
        return 1
