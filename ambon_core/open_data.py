"""Open data for Ambon Satu Data: one day's aggregated, privacy-safe figures in FIWARE terms.

- ``TrafficFlowObserved`` per traffic camera: intensity (vehicles crossing), congested
  (share of minutes ``macet`` >= 0.25), occupancy (share of minutes padat or macet).
- ``WasteContainer`` per TPS: fillingLevel (mean, 0-1), maximum, emptyings and tonnage.
- ``Alert`` per (category, subCategory, severity): count only; no text, no places, no people.
Figures come from SQL only; incidents are counted per category, never listed. Used by
the command line (``python -m workers export``) and the dashboard's download button.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ambon_core.alert_kinds import ALERT_SPECS
from ambon_core.models import AlertRecord, CameraMinute, IncidentRecord, TpsFill, WasteTrip

INCIDENT_CATEGORY = {  # 112 incident category -> FIWARE Alert (category, subCategory)
    "banjir": ("naturalDisaster", "flood"), "tanah_longsor": ("naturalDisaster", "landslide"),
    "pohon_tumbang": ("weather", "fallenTree"), "kebakaran": ("security", "fire"),
    "kecelakaan": ("traffic", "carAccident"), "medis": ("health", "medicalEmergency"),
    "keamanan": ("security", "crime"), "konflik_sosial": ("security", "civilDisturbance"),
    "listrik": ("environment", "powerOutage"),
}
# alert kind (from its spec) or incident category -> FIWARE Alert (category, subCategory)
ALERT_CATEGORY = {**{k.value: s.fiware for k, s in ALERT_SPECS.items() if s.fiware},
                  **INCIDENT_CATEGORY}
SEVERITY = {1: "low", 2: "medium", 3: "high"}
CITY = "Kota Ambon"


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tz)
    return start, start + timedelta(days=1)


def traffic(session: Session, start: datetime, end: datetime, day: date) -> list[dict[str, Any]]:
    rows = session.scalars(select(CameraMinute).where(
        CameraMinute.kind == "traffic", CameraMinute.minute >= start, CameraMinute.minute < end))
    per: dict[str, dict[str, float]] = {}
    for r in rows:
        agg = per.setdefault(r.camera_id, {"vehicles": 0, "minutes": 0, "macet": 0, "busy": 0})
        agg["vehicles"] += sum(int(v) for v in (r.crossings or {}).values() if isinstance(v, int | float))
        agg["minutes"] += 1
        agg["macet"] += r.congestion == "macet"
        agg["busy"] += r.congestion in ("padat", "macet")
    return [{"id": f"urn:ngsi-ld:TrafficFlowObserved:{cam}:{day}", "type": "TrafficFlowObserved",
             "refDevice": cam, "dateObservedFrom": start.isoformat(), "dateObservedTo": end.isoformat(),
             "intensity": int(a["vehicles"]), "occupancy": round(a["busy"] / a["minutes"], 3),
             "congested": a["macet"] / a["minutes"] >= 0.25, "address": CITY}
            for cam, a in sorted(per.items())]


def waste(session: Session, start: datetime, end: datetime, day: date) -> list[dict[str, Any]]:
    fills: dict[str, list[float]] = {}
    for r in session.scalars(select(TpsFill).where(TpsFill.at >= start, TpsFill.at < end)):
        fills.setdefault(r.tps_id, []).append(r.fill)
    trips: dict[str, list[WasteTrip]] = {}
    query = select(WasteTrip).where(WasteTrip.emptied_at >= start, WasteTrip.emptied_at < end)
    for t in session.scalars(query):
        trips.setdefault(t.tps_id, []).append(t)
    out = []
    for tps in sorted(set(fills) | set(trips)):
        levels, done = fills.get(tps, []), trips.get(tps, [])
        out.append({"id": f"urn:ngsi-ld:WasteContainer:{tps}:{day}", "type": "WasteContainer",
                    "refWasteContainerIsle": tps, "dateObserved": day.isoformat(),
                    "fillingLevel": round(sum(levels) / len(levels), 3) if levels else None,
                    "fillingLevelMax": round(max(levels), 3) if levels else None,
                    "emptyings": len(done),
                    "dateLastEmptying": max(t.emptied_at for t in done).isoformat() if done else None,
                    "wasteCollectedKg": round(sum(t.tonnage_kg or 0 for t in done), 1), "address": CITY})
    return out


def alerts(session: Session, start: datetime, end: datetime, day: date) -> list[dict[str, Any]]:
    counts: Counter[tuple[str, int, str]] = Counter()
    for a in session.scalars(select(AlertRecord).where(AlertRecord.raised_at >= start,
                                                       AlertRecord.raised_at < end)):
        counts[(a.kind, a.severity, "alert")] += 1
    for i in session.scalars(select(IncidentRecord).where(IncidentRecord.reported_at >= start,
                                                          IncidentRecord.reported_at < end)):
        counts[(i.category, i.severity, "incident")] += 1
    out = []
    for (kind, sev, origin), n in sorted(counts.items()):
        category, sub = ALERT_CATEGORY.get(kind, ("other", kind))
        out.append({"id": f"urn:ngsi-ld:Alert:{origin}:{kind}:{sev}:{day}", "type": "Alert",
                    "category": category, "subCategory": sub, "severity": SEVERITY.get(sev, "medium"),
                    "dateIssued": day.isoformat(), "count": n, "source": origin, "address": CITY})
    return out


def to_csv(entities: list[dict[str, Any]]) -> str:
    """One row per entity; the union of fields as columns (empty where not applicable)."""
    columns = list(dict.fromkeys(k for e in entities for k in e)) or ["id", "type"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(entities)
    return buf.getvalue()


Builder = Callable[[Session, datetime, datetime, date], list[dict[str, Any]]]
DOMAINS: dict[str, Builder] = {"traffic": traffic, "waste": waste, "alerts": alerts}


def export_day(session: Session, day: date, tz: ZoneInfo) -> list[dict[str, Any]]:
    """All entities of one local day."""
    return export_domains(session, day, tz)


def export_domains(session: Session, day: date, tz: ZoneInfo,
                   domains: tuple[str, ...] = tuple(DOMAINS)) -> list[dict[str, Any]]:
    """The entities of ``domains`` (keys of ``DOMAINS``) for one local day."""
    start, end = day_bounds(day, tz)
    return [e for name in domains for e in DOMAINS[name](session, start, end, day)]


def render(entities: list[dict[str, Any]], fmt: str) -> str:
    """``csv`` or ``json`` text of the entities."""
    if fmt == "csv":
        return to_csv(entities)
    return json.dumps(entities, ensure_ascii=False, indent=1)
