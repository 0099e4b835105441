"""Open data for Ambon Satu Data from the command line (figures: ``ambon_core.open_data``).

    python -m workers.feeds.export --day 2026-11-24 --format csv|json [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from ambon_core.open_data import export_day, render


def main(argv: list[str] | None = None) -> int:
    import getpass

    from ambon_core.db import engine_for, session_factory
    from ambon_core.history import audit
    from ambon_core.settings import get_settings

    p = argparse.ArgumentParser(prog="python -m workers.feeds.export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--day", required=True, type=date.fromisoformat, help="YYYY-MM-DD (WIT)")
    p.add_argument("--format", choices=("csv", "json"), default="json")
    p.add_argument("--out", help="file to write (default: stdout)")
    args = p.parse_args(argv)
    settings = get_settings()
    with session_factory(engine_for(settings.database_url))() as session:
        entities = export_day(session, args.day, settings.tz)
        # every export is on record, with who ran it (the shell user) and what went out
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


if __name__ == "__main__":
    sys.exit(main())
