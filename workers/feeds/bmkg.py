"""BMKG earthquake feeds -> an EARTHQUAKE alert for each quake felt in or near Ambon, once.

Documents (each as JSON and XML, https://data.bmkg.go.id/gempabumi): ``autogempa`` (the
latest quake), ``gempaterkini`` (the 15 latest M 5.0+), ``gempadirasakan`` (the 15
latest felt). One parser reads all of them: ``Infogempa.gempa`` is one record or a list
(a bare list of records is accepted too).

Fields read: DateTime (ISO, the time used; older documents have only Tanggal + Jam
"13:31:23 WIB", then those are used), Coordinates (JSON: "lat,lon") or
``<point><coordinates>`` (XML: "lon,lat", KML order), checked against Lintang/Bujur
("3.52 LS", "128.33 BT"; see :func:`_coordinates`), Magnitude ("5.0", "5,1", "5.0 SR"),
Kedalaman ("10 km", "10,5 Km"), Wilayah (older XML: Wilayah1), Potensi, Dirasakan (MMI
list of places), Shakemap (image name). Decimal commas are read as decimal points.

*Felt in Ambon*: Dirasakan names Ambon, or the epicentre is within 150 km of the city
centre with magnitude >= 5.0. Other quakes parse fine and are simply not relevant. The
alert id is the quake's time, so the same quake in autogempa and gempadirasakan is one
alert; it stays ``QUAKE_ALERT_HOURS`` after the quake, checked on every poll.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import Field

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
from workers.feeds.feed import FeedBase, FeedContext, owned_alerts, sync_owned

AMBON = (-3.695, 128.18)
FELT_RADIUS_KM = 150.0
FELT_MIN_MAGNITUDE = 5.0
QUAKE_ALERT_HOURS = 6  # a felt quake stays on the dashboard this long (aftershock watch)
SHAKEMAP_BASE = "https://data.bmkg.go.id/DataMKG/TEWS/"
COORD_TOLERANCE = 0.02  # degrees; both are printed with two decimals


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine) between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _hemisphere(value: Any, field_name: str, negative: str) -> float:
    """'3.52 LS' / '3,52 LS' / '128.33 BT' -> signed degrees (LS and BB are negative)."""
    match = re.match(r"^\s*([\d.,]+)\s*([A-Za-z]+)\s*$", str(value or ""))
    if not match or match.group(2).upper() not in (("LU", "LS") if field_name == "Lintang"
                                                    else ("BT", "BB")):
        raise RecordError(field_name, f"expected e.g. '3.52 LS' or '128.33 BT', got {value!r}"[:200])
    number = to_float(match.group(1), field_name)
    return -number if match.group(2).upper() == negative else number


def _pair(text: str, field_name: str) -> tuple[float, float]:
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) == 4:  # "-3,52,128,33": decimal commas inside a comma-separated pair
        parts = [f"{parts[0]}.{parts[1]}", f"{parts[2]}.{parts[3]}"]
    if len(parts) != 2:
        raise RecordError(field_name, f"expected two numbers, got {text!r}"[:200])
    return to_float(parts[0], field_name), to_float(parts[1], field_name)


def _close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) <= COORD_TOLERANCE and abs(a[1] - b[1]) <= COORD_TOLERANCE


def _coordinates(quake: dict[str, Any]) -> tuple[float, float]:
    """(lat, lon) of a quake. JSON ``Coordinates`` is lat,lon; XML ``point/coordinates``
    is lon,lat (KML). ``Lintang``/``Bujur`` are the check on whichever is read: the pair
    is taken in the order that agrees with them, and rejected only when neither does."""
    checked = None
    if quake.get("Lintang") and quake.get("Bujur"):
        checked = (_hemisphere(quake["Lintang"], "Lintang", "LS"),
                   _hemisphere(quake["Bujur"], "Bujur", "BB"))
    field_name = "point.coordinates" if quake.get("_point") else "Coordinates"
    if not quake.get("Coordinates"):
        if checked is None:
            raise RecordError("Coordinates", "missing, and no Lintang/Bujur either")
        return check_in_indonesia(*checked)
    first, second = _pair(quake["Coordinates"], field_name)
    stated = (second, first) if quake.get("_point") else (first, second)
    if checked is None:
        return check_in_indonesia(*stated)
    for candidate in (stated, stated[::-1]):
        if _close(candidate, checked):
            return check_in_indonesia(*candidate)
    raise RecordError(field_name, f"{quake['Coordinates']!r} disagrees with Lintang/Bujur "
                                  f"{quake['Lintang']!r} {quake['Bujur']!r}"[:200])


def _unit(value: Any, units: tuple[str, ...]) -> str:
    """'10 Km' -> '10', '5.0 SR' -> '5.0', '10,5 km' -> '10,5' (to_float reads the comma)."""
    text = str(value if value is not None else "").strip()
    for unit in units:
        if text.lower().endswith(unit):
            return text[: -len(unit)].strip()
    return text


def felt_in_ambon(magnitude: float, distance: float, dirasakan: str) -> bool:
    """The rule of the module docstring."""
    return "ambon" in dirasakan.lower() or (distance <= FELT_RADIUS_KM and magnitude >= FELT_MIN_MAGNITUDE)


def severity(magnitude: float, distance: float) -> int:
    """3 for a strong or near quake, 2 otherwise (felt quakes are never 'low')."""
    return 3 if magnitude >= 6.0 or (magnitude >= 5.0 and distance <= 50) else 2


_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "mei", "jun", "jul", "agu", "sep", "okt", "nov", "des"), 1)}
_MONTHS.update({"may": 5, "aug": 8, "oct": 10, "dec": 12, "agt": 8})
_ZONES = {"WIB": 7, "WITA": 8, "WIT": 9}


def _quake_time(quake: dict[str, Any], notes: list[str]) -> datetime:
    """DateTime, else Tanggal ('05 Okt 2021', '27-Aug-19') + Jam ('13:31:23 WIB')."""
    if quake.get("DateTime"):
        return parse_time(quake["DateTime"], "DateTime", notes)
    match = re.match(r"^\s*(\d{1,2})[\s-]+([A-Za-z]{3})[A-Za-z]*[\s-]+(\d{2,4})\s*$",
                     str(quake.get("Tanggal") or ""))
    clock = re.match(r"^\s*(\d{1,2}):(\d{2}):(\d{2})\s*(WIB|WITA|WIT)\s*$", str(quake.get("Jam") or ""))
    month = _MONTHS.get(match.group(2).lower()) if match else None
    if not (match and clock and month):
        raise RecordError("DateTime", "missing, and Tanggal/Jam are not like '05 Okt 2021' "
                                      "'13:31:23 WIB'")
    year = int(match.group(3)) + (2000 if len(match.group(3)) == 2 else 0)
    zone = timezone(timedelta(hours=_ZONES[clock.group(4)]))
    try:
        local_time = datetime(year, month, int(match.group(1)), *map(int, clock.groups()[:3]),
                              tzinfo=zone)
    except ValueError as exc:
        raise RecordError("Tanggal", str(exc)) from None
    return local_time.astimezone(UTC)


def to_alert(quake: dict[str, Any], notes: list[str]) -> tuple[Alert, bool]:
    """One quake record -> (alert, felt in Ambon)."""
    at = _quake_time(quake, notes)
    lat, lon = _coordinates(quake)
    magnitude = to_float(_unit(quake.get("Magnitude"), ("sr", "m")), "Magnitude")
    if not 0 < magnitude < 10:
        raise RecordError("Magnitude", f"{magnitude} is not a magnitude")
    depth = _unit(quake.get("Kedalaman"), ("km",))
    depth_km = to_float(depth, "Kedalaman") if depth else None
    dirasakan = plain_text(quake.get("Dirasakan"), "Dirasakan", 500)
    dist = distance_km(AMBON, (lat, lon))
    shakemap = plain_text(quake.get("Shakemap"), "Shakemap", 200)
    alert = Alert(
        alert_id=f"bmkg-gempa-{at:%Y%m%dT%H%M%S}", kind=AlertKind.EARTHQUAKE,
        entity_id=f"gempa-{at:%Y%m%dT%H%M%S}", severity=severity(magnitude, dist), opd="bpbd",
        raised_at=at, lat=lat, lon=lon,
        params={"magnitude": magnitude, "depth_km": depth_km, "distance_km": round(dist, 1),
                "wilayah": plain_text(quake.get("Wilayah") or quake.get("Wilayah1"), "Wilayah", 300),
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
                quake["_point"] = True  # KML order: longitude,latitude
            out.append(quake)
        if not out:
            raise DocumentError("no <gempa> element in the document")
        return out
    data = load_json(body)
    if isinstance(data, list):
        return data
    gempa = data.get("Infogempa", {}).get("gempa") if isinstance(data, dict) else None
    if gempa is None:
        raise DocumentError("expected {'Infogempa': {'gempa': ...}}")
    return gempa if isinstance(gempa, list) else [gempa]


def parse(body: bytes, fmt: str = "json") -> ParseResult:
    """Alerts for the quakes felt in Ambon; ``extra['not_felt']`` counts the others."""
    result = ParseResult(extra={"not_felt": 0})
    for quake in records(body, fmt):
        rid = (str(quake.get("DateTime") or f"{quake.get('Tanggal')} {quake.get('Jam')}")
               if isinstance(quake, dict) else "?")
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


class BmkgFeed(FeedBase):
    """autogempa, gempaterkini or gempadirasakan, JSON or XML."""

    format: Literal["bmkg-json", "bmkg-xml"]
    alert_hours: float = Field(QUAKE_ALERT_HOURS, gt=0, le=72,
                               description="A felt quake stays on the dashboard this long")

    def parse(self, body: bytes, ctx: FeedContext) -> ParseResult:
        return parse(body, self.format.split("-")[1])

    def _recent(self, alerts: list[Alert], ctx: FeedContext) -> dict[str, Alert]:
        keep = ctx.now - timedelta(hours=self.alert_hours)
        for alert in alerts:
            if alert.raised_at < keep:
                ctx.log_once(f"{self.name}:{alert.alert_id}", "feed %s: quake %s dropped: %s is "
                             "more than %.0f h ago", self.name, alert.alert_id,
                             alert.raised_at.isoformat(), self.alert_hours)
        return {a.alert_id: a for a in alerts if a.raised_at >= keep}

    def store(self, result: ParseResult, ctx: FeedContext) -> None:
        """The felt quakes of this document join those this feed raised before (a list feed
        forgets a quake after 15 newer ones; the alert stays its full window)."""
        wanted = self._recent(owned_alerts(ctx, AlertKind.EARTHQUAKE, self.name), ctx)
        wanted.update(self._recent(result.records, ctx))
        sync_owned(ctx, AlertKind.EARTHQUAKE, self.name, wanted.values())

    def refresh(self, ctx: FeedContext) -> None:
        """A quake leaves after its window even when the document never changes (304)."""
        mine = owned_alerts(ctx, AlertKind.EARTHQUAKE, self.name)
        recent = self._recent(mine, ctx)
        if len(recent) != len(mine):
            sync_owned(ctx, AlertKind.EARTHQUAKE, self.name, recent.values())
