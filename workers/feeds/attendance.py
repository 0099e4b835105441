"""ASN attendance export (JSON or CSV staff check-ins) -> ``Attendance`` per puskesmas for today.

JSON: ``{"tanggal": "YYYY-MM-DD", "checkins": [{"puskesmas_id", "nip", "nama", "check_in"}]}``
(a bare list of check-ins is accepted). CSV: header ``puskesmas_id,nip,nama,check_in``
(``nip``/``nama`` optional). ``nip`` is used only to count distinct staff in memory;
names and NIPs are never stored or logged. Check-ins of another WIT day are ignored.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any, Literal

from ambon_core.domain import Attendance, utcnow
from workers.feeds.common import (
    DocumentError,
    ParseResult,
    RecordError,
    city_tz,
    load_json,
    parse_time,
)
from workers.feeds.feed import FeedBase, FeedContext


def _rows(body: bytes, fmt: str) -> list[Any]:
    if fmt == "csv":
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DocumentError("CSV is not UTF-8") from None
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "puskesmas_id" not in reader.fieldnames:
            raise DocumentError("CSV header lacks puskesmas_id")
        return list(reader)
    data = load_json(body)
    rows = data.get("checkins") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise DocumentError("expected {'checkins': [...]} or a list of check-ins")
    return rows


def parse(body: bytes, fmt: str = "json", known: set[str] | None = None,
          today: date | None = None, now: datetime | None = None) -> ParseResult:
    """Check-ins -> one Attendance per puskesmas with check-ins today (WIT)."""
    result = ParseResult(extra={"other_day": 0})
    today = today or datetime.now(city_tz()).date()
    staff: dict[str, set[str]] = {}
    first: dict[str, datetime] = {}
    for i, row in enumerate(_rows(body, fmt)):
        notes: list[str] = []
        try:
            if not isinstance(row, dict):
                raise RecordError("(record)", "expected an object")
            site = row.get("puskesmas_id")
            if not isinstance(site, str) or not site or (known is not None and site not in known):
                raise RecordError("puskesmas_id", f"not a registry puskesmas: {site!r}"[:200])
            at = parse_time(row.get("check_in"), "check_in", notes)
        except RecordError as exc:
            result.reject(row, f"#{i}", exc)
            continue
        result.warnings.extend(f"#{i}: {n}" for n in notes)
        if at.astimezone(city_tz()).date() != today:
            result.extra["other_day"] += 1
            continue
        staff.setdefault(site, set()).add(str(row.get("nip") or f"row-{i}"))
        first[site] = min(first.get(site, at), at)
    stamp = now or utcnow()
    result.records = [Attendance(puskesmas_id=s, staff_checked_in=len(ids), first_check_in_at=first[s],
                                 updated_at=stamp) for s, ids in sorted(staff.items())]
    return result


class AttendanceFeed(FeedBase):
    """ASN attendance export (JSON or CSV)."""

    format: Literal["attendance-json", "attendance-csv"]

    def parse(self, body: bytes, ctx: FeedContext) -> ParseResult:
        return parse(body, self.format.split("-")[1], {p.id for p in ctx.registry.puskesmas},
                     ctx.now.astimezone(ctx.tz).date(), ctx.now)

    def store(self, result: ParseResult, ctx: FeedContext) -> None:
        """The export covers every puskesmas: a site without check-ins today has 0 staff in."""
        seen = {a.puskesmas_id: a for a in result.records}
        ctx.store.put(*[seen.get(p.id) or Attendance(puskesmas_id=p.id, staff_checked_in=0,
                                                     updated_at=ctx.now)
                        for p in ctx.registry.puskesmas])
