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
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ambon_core.domain import TpsState
from ambon_core.models import WasteTrip as WasteTripRow
from ambon_core.spool import history_op, record
from workers.feeds.common import DocumentError, ParseResult, RecordError, parse_time, plain_text, to_float
from workers.feeds.feed import FeedBase, FeedContext

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


class DlhTripsFeed(FeedBase):
    """DLH waste truck trips CSV."""

    format: Literal["dlh-trips"]

    def parse(self, body: bytes, ctx: FeedContext) -> ParseResult:
        return parse(body, {t.id for t in ctx.registry.tps})

    def store(self, result: ParseResult, ctx: FeedContext) -> None:
        """Trips to SQL (or its spool); ``TpsState.last_emptied_at`` only moves forward."""
        trips: list[WasteTrip] = result.records
        record(ctx.session, "waste_trips", {"trips": [t.__dict__ for t in trips]})
        latest: dict[str, datetime] = {}
        for trip in trips:
            latest[trip.tps_id] = max(latest.get(trip.tps_id, trip.emptied_at), trip.emptied_at)
        states = []
        for tps_id, emptied in latest.items():
            state = ctx.store.get(TpsState, tps_id) or TpsState(tps_id=tps_id, source="dlh")
            if state.last_emptied_at is None or emptied > state.last_emptied_at:
                state.last_emptied_at, state.updated_at = emptied, ctx.now
                states.append(state)
        if states:
            ctx.store.put(*states)


@history_op("waste_trips")
def _waste_trips(session: Session, payload: dict) -> None:
    """Insert new trips, complete known ones (tonnage, TPA arrival): idempotent by trip_id."""
    trips = [WasteTrip(**{k: _when(v) if k.endswith("_at") else v for k, v in t.items()})
             for t in payload["trips"]]
    rows = {r.trip_id: r for r in session.scalars(
        select(WasteTripRow).where(WasteTripRow.trip_id.in_([t.trip_id for t in trips])))}
    for trip in trips:
        row = rows.get(trip.trip_id)
        if row is None:
            rows[trip.trip_id] = WasteTripRow(**trip.__dict__)
            session.add(rows[trip.trip_id])
            continue
        row.tonnage_kg = trip.tonnage_kg if trip.tonnage_kg is not None else row.tonnage_kg
        row.tpa_arrived_at = trip.tpa_arrived_at or row.tpa_arrived_at


def _when(value: datetime | str | None) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
