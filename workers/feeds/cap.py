"""OASIS CAP 1.2 weather warnings -> WEATHER alerts whose area covers Ambon.

The document is one ``<alert>`` or any wrapper (Atom/RSS feed, list) holding several.
Read: identifier, sent, status (only ``Actual``), msgType (``Cancel`` drops the alert it
references), and per ``<info>``: event, severity, urgency, certainty, effective/onset,
expires, headline, description, senderName and ``<area>`` (areaDesc, polygon, circle).

An ``<area>`` covers Ambon when its polygon or circle contains the city centre, or,
with neither given, when its areaDesc names Ambon. Areas elsewhere in the world are
valid warnings that simply do not concern us (counted as ``not_covering``).
``msgType`` Update and Cancel drop the alerts they reference.

The polygon is kept for the map in ``Alert.params['polygon']`` in CAP's own notation
("lat,lon lat,lon ..." first point = last point); ``params['area']`` is areaDesc.
Each CAP feed owns the warnings it raised (``params['feed']``): a second CAP feed for
another region never clears Ambon's. ``expires`` is checked on every poll, also when
the source answers 304 Not Modified.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from xml.etree.ElementTree import Element

from ambon_core.domain import Alert, AlertKind
from workers.feeds.bmkg import AMBON, distance_km
from workers.feeds.common import (
    DocumentError,
    ParseResult,
    RecordError,
    load_xml,
    local,
    parse_time,
    plain_text,
    to_float,
    xml_fields,
)
from workers.feeds.feed import FeedBase, FeedContext, owned_alerts, sync_owned

SEVERITY = {"extreme": 3, "severe": 3, "moderate": 2, "minor": 1, "unknown": 2}


def parse_polygon(text: str) -> list[tuple[float, float]]:
    """CAP polygon text -> [(lat, lon), ...]; at least 4 points, closed, WGS 84 ranges."""
    try:
        points = [(float(p.split(",")[0]), float(p.split(",")[1])) for p in text.split()]
    except (ValueError, IndexError):
        raise RecordError("polygon", f"not 'lat,lon lat,lon ...': {text[:80]!r}") from None
    if len(points) < 4 or points[0] != points[-1]:
        raise RecordError("polygon", "a CAP polygon needs 4+ points, first equal to last")
    for lat, lon in points:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise RecordError("polygon", f"point {lat},{lon} is not latitude,longitude")
    return points


def covers(polygon: list[tuple[float, float]], point: tuple[float, float]) -> bool:
    """Point in polygon (ray casting on lat/lon, fine at city scale)."""
    y, x = point
    inside = False
    for (y1, x1), (y2, x2) in zip(polygon, polygon[1:], strict=False):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _circle_covers(text: str, point: tuple[float, float]) -> bool:
    centre, _, radius = text.strip().partition(" ")
    lat, lon = (to_float(v, "circle") for v in centre.split(",")[:2])
    return distance_km((lat, lon), point) <= to_float(radius, "circle")


def _area(info: Element) -> tuple[bool, str, str | None]:
    """(covers Ambon, areaDesc, polygon text of the covering area)."""
    descs = []
    for area in (a for a in info if local(a.tag) == "area"):
        fields = xml_fields(area)
        descs.append(fields.get("areaDesc", ""))
        shapes = [c for c in area if local(c.tag) in ("polygon", "circle") and (c.text or "").strip()]
        for child in shapes:
            if local(child.tag) == "polygon" and covers(parse_polygon(child.text or ""), AMBON):
                return True, fields.get("areaDesc", ""), " ".join((child.text or "").split())
            if local(child.tag) == "circle" and _circle_covers(child.text or "", AMBON):
                return True, fields.get("areaDesc", ""), None
        if not shapes and re.search(r"\bambon\b", fields.get("areaDesc", ""), re.IGNORECASE):
            return True, fields.get("areaDesc", ""), None
    return False, "; ".join(d for d in descs if d), None


def to_alert(alert: Element, notes: list[str], now: datetime) -> Alert | None:
    """One CAP alert -> a WEATHER alert if an ``info`` covers Ambon and has not expired
    (an expired one is named in ``notes``)."""
    head = xml_fields(alert)
    ident = plain_text(head.get("identifier"), "identifier", 120, required=True)
    sent = parse_time(head.get("sent"), "sent", notes)
    for info in (i for i in alert if local(i.tag) == "info"):
        fields = xml_fields(info)
        hit, area_desc, polygon = _area(info)
        if not hit:
            continue
        expires = parse_time(fields["expires"], "expires", notes) if fields.get("expires") else None
        if expires is not None and expires <= now:  # a warning for Ambon that is over
            notes.append(f"expired at {expires.isoformat()}")
            continue
        start = fields.get("onset") or fields.get("effective")
        return Alert(
            alert_id=f"cap-{ident}", kind=AlertKind.WEATHER, entity_id=ident,
            severity=SEVERITY.get(fields.get("severity", "unknown").lower(), 2), opd="bpbd",
            raised_at=parse_time(start, "effective", notes) if start else sent,
            lat=AMBON[0], lon=AMBON[1],
            params={"event": plain_text(fields.get("event"), "event", 120),
                    "headline": plain_text(fields.get("headline"), "headline", 300),
                    "description": plain_text(fields.get("description"), "description", 1000),
                    "urgency": fields.get("urgency"), "certainty": fields.get("certainty"),
                    "sender": plain_text(fields.get("senderName"), "senderName", 120),
                    "expires": expires.isoformat() if expires else None,
                    "area": plain_text(area_desc, "areaDesc", 300), "polygon": polygon})
    return None


def parse(body: bytes, now: datetime) -> ParseResult:
    """Covering, unexpired, actual warnings; ``extra['cancelled']`` lists referenced ids."""
    root = load_xml(body)
    alerts = [e for e in root.iter() if local(e.tag) == "alert"]
    if not alerts:
        raise DocumentError("no CAP <alert> element in the document")
    result = ParseResult(extra={"cancelled": [], "not_covering": 0, "expired": []})
    for element in alerts:
        head = xml_fields(element)
        rid = head.get("identifier", "?")
        notes: list[str] = []
        try:
            if head.get("status", "Actual") != "Actual":
                continue  # Exercise, System, Test, Draft: never shown as real warnings
            refs = head.get("references", "").split()
            if head.get("msgType") in ("Cancel", "Update"):  # both replace what they reference
                result.extra["cancelled"] += [f"cap-{r.split(',')[1]}" for r in refs if r.count(",") >= 1]
            if head.get("msgType") == "Cancel":
                continue
            alert = to_alert(element, notes, now)
        except RecordError as exc:
            result.reject(element, rid, exc)
            continue
        result.warnings.extend(f"{rid}: {n}" for n in notes if not n.startswith("expired"))
        if alert is None and any(n.startswith("expired") for n in notes):
            result.extra["expired"].append(f"{rid} ({next(n for n in notes if n.startswith('expired'))})")
        elif alert is None:
            result.extra["not_covering"] += 1
        else:
            result.records.append(alert)
    return result


def polygon_points(alert: Any) -> list[tuple[float, float]]:
    """The polygon kept in a WEATHER alert's params, as (lat, lon) points (empty if none)."""
    text = (alert.params or {}).get("polygon") if hasattr(alert, "params") else None
    return parse_polygon(text) if text else []


def _expired(alert: Alert, now: datetime) -> bool:
    expires = alert.params.get("expires")
    return bool(expires) and datetime.fromisoformat(str(expires)) <= now


class CapFeed(FeedBase):
    """OASIS CAP 1.2 warnings (one alert, or any wrapper holding several)."""

    format: Literal["cap"]

    def parse(self, body: bytes, ctx: FeedContext) -> ParseResult:
        return parse(body, ctx.now)

    def store(self, result: ParseResult, ctx: FeedContext) -> None:
        for why in result.extra["expired"]:
            ctx.log_once(f"{self.name}:{why}", "feed %s: warning %s dropped: expired", self.name, why)
        cancelled = set(result.extra["cancelled"])
        sync_owned(ctx, AlertKind.WEATHER, self.name,
                   [a for a in result.records if a.alert_id not in cancelled])

    def refresh(self, ctx: FeedContext) -> None:
        """An expired warning leaves every screen on time, whatever the source answers."""
        mine = owned_alerts(ctx, AlertKind.WEATHER, self.name)
        gone = [a for a in mine if _expired(a, ctx.now)]
        for alert in gone:
            ctx.log_once(f"{self.name}:{alert.alert_id}:expired", "feed %s: warning %s dropped: "
                         "expired at %s", self.name, alert.alert_id, alert.params.get("expires"))
        if gone:
            sync_owned(ctx, AlertKind.WEATHER, self.name, [a for a in mine if a not in gone])
