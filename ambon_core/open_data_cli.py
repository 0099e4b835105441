"""Open data for Ambon Satu Data from the command line (figures: ``ambon_core.open_data``).

    python -m workers export --day 2026-11-24 --format csv|json [--out FILE]

Open data is not a feed's business: this lives beside ``ambon_core.open_data`` and the
one command line (``workers/__main__.py``) mounts it as its ``export`` subcommand. Every
export is in the audit log, with the shell user who ran it and how many rows went out.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import date

from ambon_core.db import engine_for, session_factory
from ambon_core.history import audit
from ambon_core.open_data import export_day, render
from ambon_core.settings import get_settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``export`` subcommand's arguments."""
    p.add_argument("--day", required=True, type=date.fromisoformat, help="YYYY-MM-DD (WIT)")
    p.add_argument("--format", choices=("csv", "json"), default="json")
    p.add_argument("--out", help="file to write (default: stdout)")


def run(args: argparse.Namespace) -> int:
    """Export one day; the audit row is written before the data leaves."""
    settings = get_settings()
    with session_factory(engine_for(settings.database_url))() as session:
        entities = export_day(session, args.day, settings.tz)
        audit(session, f"cli:{getpass.getuser()}", "export", f"export:satudata:{args.day}",
              format=args.format, rows=len(entities))
        session.commit()
    text = render(entities, args.format)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))
    return 0
