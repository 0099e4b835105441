"""Notification targets, from the server's shell (``python -m workers contacts ...``).

    python -m workers contacts add --label "Kepala Puskesmas Waihaong" --opd dinkes \\
        --site pkm-waihaong --url-stdin          # the URL on the first line of stdin
    python -m workers contacts add --label "Kadis Kesehatan" --opd dinkes --url-stdin
    python -m workers contacts add --label "Sekda Kota Ambon" --url-stdin   # city level
    python -m workers contacts list [--json]     # targets masked, as on the Admin page
    python -m workers contacts remove --id 3

A target is an Apprise URL (mailto://, json:// or jsons:// webhook, ntfy://, tgram://)
and may hold a password or a token: it is read from standard input, never from the
command line (shell history, process list), and listed masked. Every change is in the
audit log as ``cli:<system user>``. Contacts in ``data/registry.yaml`` are listed too
(source ``registry``); they are changed in that file.
"""

from __future__ import annotations

import argparse
import json
import sys

from ambon_core.accounts_cli import _actor
from ambon_core.contacts import ContactError, add_contact, all_contacts, level_of, masked, remove_contact
from ambon_core.db import DatabaseUnavailable, check, engine_for, migrate, session_factory
from ambon_core.registry import RegistryError, load_registry
from ambon_core.settings import get_settings


def _apply(args: argparse.Namespace) -> int:
    settings = get_settings()
    registry = load_registry(settings.registry_path)
    engine = engine_for(settings.database_url)
    check(engine)
    migrate(engine)
    with session_factory(engine)() as db:
        if args.contacts_cmd == "add":
            url = sys.stdin.readline().strip()
            new_id = add_contact(db, registry, label=args.label, url=url, opd=args.opd,
                                 site=args.site, actor=_actor())
            sys.stdout.write(f"ok: kontak {new_id} ({level_of(args.opd, args.site)})\n")
        elif args.contacts_cmd == "remove":
            remove_contact(db, args.id, actor=_actor())
            sys.stdout.write(f"ok: kontak {args.id} dihapus\n")
        else:
            _print(all_contacts(db, registry), as_json=args.json)
    return 0


def _print(contacts, *, as_json: bool) -> None:
    rows = [{"id": c.ref, "source": "registry" if c.ref.startswith("reg:") else "admin",
             "level": level_of(c.opd, c.site), "opd": c.opd, "site": c.site, "label": c.label,
             "channel": c.channel, "target": masked(c.url)} for c in contacts]
    if as_json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    for r in rows:
        sys.stdout.write(f"{r['id']:8} {r['level']:5} {r['opd'] or '-':9} {r['site'] or '-':24} "
                         f"{r['channel']:9} {r['label']}  {r['target']}\n")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``contacts`` subcommand's own subcommands."""
    sub = p.add_subparsers(dest="contacts_cmd", required=True)
    add = sub.add_parser("add", help="add a target (URL from the first line of stdin)")
    add.add_argument("--label", required=True)
    add.add_argument("--opd", help="department code; none: the city level (Sekda, mayor)")
    add.add_argument("--site", help="puskesmas or TPS id (with --opd)")
    add.add_argument("--url-stdin", action="store_true", required=True,
                     help="read the Apprise URL from standard input (required)")
    sub.add_parser("remove").add_argument("--id", type=int, required=True)
    sub.add_parser("list").add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    """Carry out one contacts command; a refusal is one line on stderr and exit code 2."""
    try:
        return _apply(args)
    except (ContactError, RegistryError, DatabaseUnavailable) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
