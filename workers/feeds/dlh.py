"""DLH waste truck trips (CSV) -> :class:`WasteTrip` records.

Header: ``trip_id,truck_id,tps_id,emptied_at,tonnage_kg,tpa_arrived_at``; one row per
TPS emptied by a truck; ``tonnage_kg`` (weighbridge at the TPA) and ``tpa_arrived_at``
may be empty while the truck is still on its way. The worker writes trips to SQL
(``waste_trip``) and moves ``TpsState.last_emptied_at`` forward.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from workers.feeds.common import DocumentError, ParseResult, RecordError, parse_time, plain_text, to_float

COLUMNS = ("trip_id", "truck_id", "tps_id", "emptied_at", "tonnage_kg", "tpa_arrived_at")
MAX_TONNAGE_KG = 20_000.0  # a compactor truck carries well under 20 t


@dataclass(frozen=True)
class WasteTrip:
    trip_id: str
    truck_id: str
    tps_id: str
    emptied_at: datetime
    tonnage_kg: float | None
    tpa_arrived_at: datetime | None


def to_trip(row: dict[str, str | None], known: set[str] | None, notes: list[str]) -> WasteTrip:
    trip_id = plain_text(row.get("trip_id"), "trip_id", 80, required=True)
    tps_id = plain_text(row.get("tps_id"), "tps_id", 80, required=True)
    if known is not None and tps_id not in known:
        raise RecordError("tps_id", f"not a registry TPS: {tps_id!r}")
    tonnage = None
    if row.get("tonnage_kg"):
        tonnage = to_float(row["tonnage_kg"], "tonnage_kg")
        if not 0 <= tonnage <= MAX_TONNAGE_KG:
            raise RecordError("tonnage_kg", f"{tonnage} kg is not a truck load")
    emptied = parse_time(row.get("emptied_at"), "emptied_at", notes)
    arrived = (parse_time(row["tpa_arrived_at"], "tpa_arrived_at", notes)
               if row.get("tpa_arrived_at") else None)
    if arrived is not None and arrived < emptied:
        raise RecordError("tpa_arrived_at", "before the TPS was emptied")
    return WasteTrip(trip_id, plain_text(row.get("truck_id"), "truck_id", 40) or "?", tps_id, emptied,
                     tonnage, arrived)


def parse(body: bytes, known: set[str] | None = None) -> ParseResult:
    """Parse the trips CSV; a repeated trip_id keeps its last row."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError("CSV is not UTF-8") from None
    if text.lstrip().lower().startswith(("<!doctype html", "<html")):
        raise DocumentError("got an HTML page instead of CSV")
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("trip_id", "tps_id", "emptied_at") if c not in (reader.fieldnames or [])]
    if missing:
        raise DocumentError(f"CSV header lacks {', '.join(missing)}")
    result = ParseResult()
    trips: dict[str, WasteTrip] = {}
    for i, row in enumerate(reader):
        notes: list[str] = []
        try:
            if None in row:
                raise RecordError("(row)", "more cells than header columns")
            trip = to_trip(row, known, notes)
        except RecordError as exc:
            result.reject(row, str(row.get("trip_id") or f"line {i + 2}"), exc)
            continue
        result.warnings.extend(f"{trip.trip_id}: {n}" for n in notes)
        trips[trip.trip_id] = trip
    result.records = list(trips.values())
    return result
