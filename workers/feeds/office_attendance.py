"""ASN attendance app export (kehadiran) -> ``OfficeAttendance`` for every office today.

JSON: ``{"tanggal": "YYYY-MM-DD", "kehadiran": [{"nip", "lokasi", "jam_masuk"}]}`` (a bare
list is accepted); CSV: header ``nip,lokasi,jam_masuk``. ``lokasi`` is the office id where
the employee checked in (the app's geofence), ``nip`` is looked up in the ASN roster
(``ambon_core.asn_attendance``) to find the employee's own office. A record of an unknown
employee or office is refused with its line (CSV) or index (JSON) and field; the NIP never
appears in a message. Check-ins of another day (city time) are ignored.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import date, datetime, tzinfo
from typing import Any, Literal

from ambon_core.asn_attendance import CheckIn, Roster, load_roster, tally
from ambon_core.registry import Registry
from ambon_core.service_offices import service_offices
from ambon_core.settings import get_settings
from workers.feeds.common import (
    DocumentError,
    ParseResult,
    RecordError,
    load_json,
    parse_time,
)
from workers.feeds.feed import FeedBase, FeedContext

log = logging.getLogger(__name__)
COLUMNS = ("nip", "lokasi", "jam_masuk")


def _rows(body: bytes, fmt: str) -> list[tuple[str, Any]]:
    """(record id, row): 'line N' for CSV, '#i' for JSON."""
    if fmt == "csv":
        try:
            reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
        except UnicodeDecodeError:
            raise DocumentError("CSV is not UTF-8") from None
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DocumentError(f"CSV header lacks {', '.join(missing)}")
        return [(f"line {reader.line_num}", row) for row in reader]
    data = load_json(body)
    rows = data.get("kehadiran") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise DocumentError("expected {'kehadiran': [...]} or a list of check-ins")
    return [(f"#{i}", row) for i, row in enumerate(rows)]


def _check_in(row: Any, roster: Roster, offices: set[str], notes: list[str]) -> CheckIn:
    if not isinstance(row, dict):
        raise RecordError("(record)", "expected an object")
    nip = str(row.get("nip") or "").strip()
    if nip not in roster.office_of:
        raise RecordError("nip", "employee not on the ASN roster (value withheld)")
    where = row.get("lokasi")
    if not isinstance(where, str) or where not in offices:
        raise RecordError("lokasi", f"not a registry office: {where!r}"[:200])
    return CheckIn(nip, where, parse_time(row.get("jam_masuk"), "jam_masuk", notes))


def parse(body: bytes, fmt: str, roster: Roster, offices: list[str], today: date,
          now: datetime, tz: tzinfo) -> ParseResult:
    """Check-ins -> one OfficeAttendance per office (zero counts where nobody came)."""
    result = ParseResult(extra={"other_day": 0})
    checkins: list[CheckIn] = []
    for record_id, row in _rows(body, fmt):
        notes: list[str] = []
        try:
            check_in = _check_in(row, roster, set(offices), notes)
        except RecordError as exc:
            result.reject(row, record_id, exc)
            continue
        result.warnings.extend(f"{record_id}: {n}" for n in notes)
        if check_in.at.astimezone(tz).date() != today:
            result.extra["other_day"] += 1
            continue
        checkins.append(check_in)
    # an office with nobody on the roster is not covered by this export: no evidence
    # (a puskesmas has its own export), never "nobody came"
    covered = [o for o in offices if roster.staff_of(o) > 0]
    result.records = tally(roster, checkins, covered, now)
    return result


_ROSTER: dict[tuple[str, float], Roster] = {}


def roster_for(registry: Registry) -> Roster:
    """The roster named by the settings, re-read when the file changes; its refused rows
    are logged once per version of the file (file, line, field; never a NIP)."""
    settings = get_settings()
    path = settings.asn_roster_path
    try:
        key = (str(path), path.stat().st_mtime)
    except OSError:
        key = (str(path), -1.0)
    if key not in _ROSTER:
        _ROSTER.clear()
        _ROSTER[key] = load_roster(path, {o.id for o in service_offices(registry)})
        for error in _ROSTER[key].errors:
            log.warning("ASN roster: %s", error)
    return _ROSTER[key]


def parse_feed(body: bytes, fmt: str, registry: Registry, today: date,
               now: datetime) -> ParseResult:
    """``parse`` with the registry's offices and the roster from the settings."""
    offices = [o.id for o in service_offices(registry)]
    return parse(body, fmt, roster_for(registry), offices, today, now, get_settings().tz)


class KehadiranFeed(FeedBase):
    """The ASN app's check-ins of every office's staff (``kehadiran``), mapped to offices
    through the roster."""

    format: Literal["kehadiran-json", "kehadiran-csv"]

    def parse(self, body: bytes, ctx: FeedContext) -> ParseResult:
        return parse_feed(body, self.format.split("-")[1], ctx.registry,
                          ctx.now.astimezone(ctx.tz).date(), ctx.now)

    def store(self, result: ParseResult, ctx: FeedContext) -> None:
        """One ``OfficeAttendance`` per office (the export covers every office)."""
        ctx.store.put(*result.records)
