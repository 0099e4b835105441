"""ASN attendance mapped to offices: the roster (employee NIP -> office) and today's tally.

The city's ASN attendance app (presence counts for TPP) exports check-ins with the
employee's NIP and the office where the check-in was made. The roster says where each
employee works, so an office can be shown as "staff in", "staff checked in elsewhere"
or "nobody checked in". NIPs stay in memory: they are never stored in Redis or SQL,
never logged, and never part of an error message (which names file, line and field).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ambon_core.domain import OfficeAttendance

ROSTER_COLUMNS = ("nip", "kantor_id")


@dataclass(frozen=True)
class Roster:
    """Employee -> office; ``errors`` are the rows refused on load (the rest is used)."""

    office_of: dict[str, str]
    errors: list[str] = field(default_factory=list)

    def staff_of(self, office_id: str) -> int:
        return sum(1 for o in self.office_of.values() if o == office_id)


@dataclass(frozen=True)
class CheckIn:
    nip: str
    office_id: str  # where the check-in was made
    at: datetime


def parse_roster(text: str, offices: set[str], source: str = "asn_roster.csv") -> Roster:
    """Read ``nip,kantor_id`` rows; a bad row is refused with file:line: field: reason."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ROSTER_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return Roster({}, [f"{source}:1: header: missing column(s) {', '.join(missing)}"])
    office_of: dict[str, str] = {}
    errors: list[str] = []
    for row in reader:
        line = reader.line_num
        nip, office = (row.get("nip") or "").strip(), (row.get("kantor_id") or "").strip()
        if not (nip.isdigit() and len(nip) == 18):
            errors.append(f"{source}:{line}: nip: not an 18-digit NIP (value withheld)")
        elif office not in offices:
            errors.append(f"{source}:{line}: kantor_id: {office[:60]!r} is not a registry office")
        elif nip in office_of:
            errors.append(f"{source}:{line}: nip: listed twice (value withheld)")
        else:
            office_of[nip] = office
    return Roster(office_of, errors)


def load_roster(path: Path, offices: set[str]) -> Roster:
    """The roster file, or an empty roster with the reason (attendance then counts nobody)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        return Roster({}, [f"{path}: cannot read the ASN roster ({exc.strerror})"])
    return parse_roster(text, offices, source=str(path))


def tally(roster: Roster, checkins: Iterable[CheckIn], offices: Iterable[str],
          now: datetime) -> list[OfficeAttendance]:
    """Every office on the roster: own staff in, own staff elsewhere, visitors, first in.

    A check-in must be by a rostered employee at a known office (the parser refuses the
    others); an employee counts once, at their first check-in of the day.
    """
    first: dict[str, CheckIn] = {}
    for c in sorted(checkins, key=lambda c: c.at):
        first.setdefault(c.nip, c)
    out = []
    for office in offices:
        own = [c for c in first.values() if roster.office_of.get(c.nip) == office]
        here = [c for c in own if c.office_id == office]
        visitors = [c for c in first.values() if c.office_id == office and c not in own]
        out.append(OfficeAttendance(
            office_id=office, staff_expected=roster.staff_of(office), staff_in=len(here),
            staff_elsewhere=len(own) - len(here), visitors=len(visitors),
            first_check_in_at=min((c.at for c in here), default=None), updated_at=now))
    return out
