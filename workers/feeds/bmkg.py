"""BMKG ``autogempa`` (latest earthquake, JSON or XML) -> an EARTHQUAKE alert when felt in Ambon.

Fields read: Tanggal, Jam (display only), DateTime (ISO, the time used), Coordinates
("lat,lon"; XML also ``<point><coordinates>``), Lintang/Bujur ("3.52 LS", "128.33 BT",
used when Coordinates is absent), Magnitude, Kedalaman ("10 km"), Wilayah, Potensi,
Dirasakan (MMI list of places), Shakemap (image name).

*Felt in Ambon*: Dirasakan names Ambon, or the epicentre is within 150 km of the city
centre with magnitude >= 5.0. Other quakes parse fine and are simply not relevant.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ambon_core.domain import Alert, AlertKind
from workers.feeds.common import (
    DocumentError,
    ParseResult,
    RecordError,
    check_in_indonesia,
    load_json,
    load_xml,
    local,
    parse_time,
    plain_text,
    to_float,
    xml_fields,
)

AMBON = (-3.695, 128.18)
FELT_RADIUS_KM = 150.0
FELT_MIN_MAGNITUDE = 5.0
SHAKEMAP_BASE = "https://data.bmkg.go.id/DataMKG/TEWS/"


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine) between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _hemisphere(value: Any, field_name: str, negative: str) -> float:
    match = re.match(r"^\s*([\d.]+)\s*([A-Za-z]+)\s*$", str(value or ""))
    if not match:
        raise RecordError(field_name, f"expected e.g. '3.52 LS', got {value!r}"[:200])
    number = to_float(match.group(1), field_name)
    return -number if match.group(2).upper() == negative else number


def _coordinates(quake: dict[str, Any]) -> tuple[float, float]:
    if quake.get("Coordinates"):
        parts = str(quake["Coordinates"]).split(",")
        if len(parts) != 2:
            raise RecordError("Coordinates", f"expected 'lat,lon', got {quake['Coordinates']!r}"[:200])
        lat, lon = to_float(parts[0], "Coordinates"), to_float(parts[1], "Coordinates")
    else:
        lat = _hemisphere(quake.get("Lintang"), "Lintang", "LS")
        lon = _hemisphere(quake.get("Bujur"), "Bujur", "BB")
    return check_in_indonesia(lat, lon)


def felt_in_ambon(magnitude: float, distance: float, dirasakan: str) -> bool:
    """The rule of the module docstring."""
    return "ambon" in dirasakan.lower() or (distance <= FELT_RADIUS_KM and magnitude >= FELT_MIN_MAGNITUDE)


def severity(magnitude: float, distance: float) -> int:
    """3 for a strong or near quake, 2 otherwise (felt quakes are never 'low')."""
    return 3 if magnitude >= 6.0 or (magnitude >= 5.0 and distance <= 50) else 2


def to_alert(quake: dict[str, Any], notes: list[str]) -> tuple[Alert, bool]:
    """One autogempa record -> (alert, felt in Ambon)."""
    at = parse_time(quake.get("DateTime"), "DateTime", notes)
    lat, lon = _coordinates(quake)
    magnitude = to_float(quake.get("Magnitude"), "Magnitude")
    if not 0 < magnitude < 10:
        raise RecordError("Magnitude", f"{magnitude} is not a magnitude")
    depth = str(quake.get("Kedalaman") or "").lower().replace("km", "").strip()
    depth_km = to_float(depth, "Kedalaman") if depth else None
    dirasakan = plain_text(quake.get("Dirasakan"), "Dirasakan", 500)
    dist = distance_km(AMBON, (lat, lon))
    shakemap = plain_text(quake.get("Shakemap"), "Shakemap", 200)
    alert = Alert(
        alert_id=f"bmkg-gempa-{at:%Y%m%dT%H%M%S}", kind=AlertKind.EARTHQUAKE,
        entity_id=f"gempa-{at:%Y%m%dT%H%M%S}", severity=severity(magnitude, dist), opd="bpbd",
        raised_at=at, lat=lat, lon=lon,
        params={"magnitude": magnitude, "depth_km": depth_km, "distance_km": round(dist, 1),
                "wilayah": plain_text(quake.get("Wilayah"), "Wilayah", 300),
                "potensi": plain_text(quake.get("Potensi"), "Potensi", 300),
                "dirasakan": dirasakan or None,
                "shakemap": f"{SHAKEMAP_BASE}{shakemap}" if shakemap else None})
    return alert, felt_in_ambon(magnitude, dist, dirasakan)


def records(body: bytes, fmt: str) -> list[Any]:
    """The quake records of an autogempa document (one, or a list for gempaterkini)."""
    if fmt == "xml":
        root = load_xml(body)
        out = []
        for element in (e for e in root.iter() if local(e.tag) == "gempa"):
            quake: dict[str, Any] = xml_fields(element)
            point = next((c for c in element if local(c.tag) == "point"), None)
            if point is not None and not quake.get("Coordinates"):
                quake["Coordinates"] = xml_fields(point).get("coordinates", "")
            out.append(quake)
        if not out:
            raise DocumentError("no <gempa> element in the document")
        return out
    data = load_json(body)
    gempa = data.get("Infogempa", {}).get("gempa") if isinstance(data, dict) else None
    if gempa is None:
        raise DocumentError("expected {'Infogempa': {'gempa': ...}}")
    return gempa if isinstance(gempa, list) else [gempa]


def parse(body: bytes, fmt: str = "json") -> ParseResult:
    """Alerts for the quakes felt in Ambon; ``extra['not_felt']`` counts the others."""
    result = ParseResult(extra={"not_felt": 0})
    for quake in records(body, fmt):
        rid = str(quake.get("DateTime", "?")) if isinstance(quake, dict) else "?"
        notes: list[str] = []
        try:
            if not isinstance(quake, dict):
                raise RecordError("gempa", "expected an object")
            alert, felt = to_alert(quake, notes)
        except RecordError as exc:
            result.reject(quake, rid, exc)
            continue
        result.warnings.extend(f"{rid}: {n}" for n in notes)
        if felt:
            result.records.append(alert)
        else:
            result.extra["not_felt"] += 1
    return result
