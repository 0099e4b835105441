"""Open311 GeoReport v2 service requests (``requests.json`` / ``requests.xml``) -> Incident.

Fields read: service_request_id, status, service_code, service_name, description,
agency_responsible, requested_datetime, updated_datetime, lat, long, address, media_url
(only kept as a flag), plus an optional ``extended_attributes`` object (JSON) /
element (XML) carrying the 112 lifecycle: ``status`` and ``<step>_datetime`` for
``verified, dispatched, on_scene, resolved, closed``. Caller fields (first_name,
last_name, phone, email, ...) are never copied.

Status mapping (documented for the OPDs):

=====================================  ======================
Open311 status / extended status       IncidentStatus
=====================================  ======================
open (no extended status)              new
closed (no extended status)            closed (resolved_at = updated_datetime if missing)
extended new / verified / dispatched   the same
extended on_scene (or "on-scene")      on_scene
extended resolved / closed             the same
anything else                          record rejected (field ``status``)
=====================================  ======================
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Literal
from xml.etree.ElementTree import Element

from pydantic import Field, field_validator

from ambon_core.districts import district_of
from ambon_core.domain import Incident, IncidentStatus
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
from workers.feeds.feed import FeedBase, FeedContext
from workers.feeds.lifecycle import upsert_incidents
from workers.feeds.vocabulary import (  # noqa: F401  (re-exported: the format's vocabulary)
    AGENCY_CODES,
    CATEGORY_BY_CODE,
    SEVERITY_BY_CATEGORY,
    Mapping,
    agencies_of,
    known_categories,
)

log = logging.getLogger(__name__)
STEP_FIELDS = {s: f"{s.value}_datetime" for s in IncidentStatus if s is not IncidentStatus.NEW}
_STATUS_ALIASES = {"on-scene": "on_scene", "onscene": "on_scene", "baru": "new",
                   "terverifikasi": "verified", "dikirim": "dispatched", "di_lokasi": "on_scene",
                   "selesai": "resolved", "ditutup": "closed"}


def lifecycle_status(record: dict[str, Any], extended: dict[str, Any]) -> IncidentStatus:
    """The IncidentStatus of a request (see the table in the module docstring)."""
    std = record.get("status")
    if not isinstance(std, str) or std.strip().lower() not in ("open", "closed"):
        raise RecordError("status", f"expected open or closed, got {std!r}"[:200])
    ext = extended.get("status")
    if ext not in (None, ""):
        key = str(ext).strip().lower()
        key = _STATUS_ALIASES.get(key, key)
        try:
            return IncidentStatus(key)
        except ValueError:
            raise RecordError("status", f"unknown extended status {ext!r}"[:200]) from None
    return IncidentStatus.NEW if std.strip().lower() == "open" else IncidentStatus.CLOSED


def _position(record: dict[str, Any], notes: list[str]) -> tuple[float | None, float | None]:
    """lat/long, or none: a position outside Indonesia (another city's system, a 0,0
    default) is dropped with a note; the report itself is still a report."""
    if record.get("lat") in (None, "") and record.get("long") in (None, ""):
        return None, None
    lat, lon = to_float(record.get("lat"), "lat"), to_float(record.get("long"), "long")
    try:
        return check_in_indonesia(lat, lon)
    except RecordError as exc:
        notes.append(f"position dropped: {exc.reason}")
        return None, None


def to_incident(record: dict[str, Any], notes: list[str], source: str = "open311",
                mapping: Mapping | None = None) -> tuple[Incident, dict[IncidentStatus, datetime]]:
    """One request (already a flat dict) -> Incident and the times of its lifecycle steps.

    Unusable (rejected): no ``service_request_id``, a status outside the table above, an
    unreadable ``requested_datetime``. Everything else is kept: an unknown code becomes
    ``lainnya`` (counted as unmapped), a position outside Indonesia is dropped."""
    mapping = mapping or Mapping()
    rid = record.get("service_request_id")
    if rid in (None, "") or not isinstance(rid, str | int) or isinstance(rid, bool):
        raise RecordError("service_request_id", "missing or not text"
                          + (" (only a token: the request has no id yet)" if record.get("token") else ""))
    extended = record.get("extended_attributes") or {}
    if not isinstance(extended, dict):
        raise RecordError("extended_attributes", "expected an object")
    status = lifecycle_status(record, extended)
    code = plain_text(record.get("service_code"), "service_code", 60)
    service_name = plain_text(record.get("service_name"), "service_name", 120)
    category = mapping.category(code, service_name)
    reported = parse_time(record.get("requested_datetime"), "requested_datetime", notes)
    updated = (parse_time(record["updated_datetime"], "updated_datetime", notes)
               if record.get("updated_datetime") else reported)
    lat, lon = _position(record, notes)
    times = {s: parse_time(extended[f], f, notes) for s, f in STEP_FIELDS.items() if extended.get(f)}
    if status is not IncidentStatus.NEW:
        times.setdefault(status, updated)  # the step was reached by the last update at the latest
    if status is IncidentStatus.CLOSED:
        times.setdefault(IncidentStatus.RESOLVED, times[IncidentStatus.CLOSED])
    description = plain_text(record.get("description"), "description")
    address = plain_text(record.get("address"), "address", 300) or None
    district = district_of(
        str(extended.get("kecamatan") or extended.get("district") or record.get("kecamatan") or ""),
        address, str(extended.get("desa") or extended.get("village") or ""))
    incident = Incident(
        incident_id=f"{source}-{rid}", source=source, category=category,
        title=(service_name or code.replace("_", " ").title() or "Laporan")[:300],
        description=description, status=status, severity=SEVERITY_BY_CATEGORY.get(category, 2),
        agencies=agencies_of(record.get("agency_responsible"), mapping), lat=lat, lon=lon,
        kecamatan=district, address=address, reported_at=reported, updated_at=updated)
    return incident, times


def _xml_request(element: Element) -> dict[str, Any]:
    record: dict[str, Any] = xml_fields(element)
    ext = next((c for c in element if local(c.tag) == "extended_attributes"), None)
    if ext is not None:
        record["extended_attributes"] = xml_fields(ext)
    return record


def documents(body: bytes, fmt: str) -> list[Any]:
    """The request records of a JSON array / XML <service_requests> document."""
    if fmt == "xml":
        root = load_xml(body)
        if local(root.tag) != "service_requests":
            raise DocumentError(f"expected <service_requests>, got <{local(root.tag)}>")
        return [_xml_request(e) for e in root if local(e.tag) == "request"]
    data = load_json(body)
    if isinstance(data, dict) and isinstance(data.get("service_requests"), list):
        data = data["service_requests"]
    if isinstance(data, dict) and "service_request_id" in data:
        data = [data]  # GET requests/<id>.json: some cities answer with the bare object
    if not isinstance(data, list):
        raise DocumentError("expected a JSON array of service requests")
    return data


def parse(body: bytes, fmt: str = "json", source: str = "open311",
          mapping: Mapping | None = None) -> ParseResult:
    """Parse a GeoReport v2 requests document; ``extra['times']`` maps incident id to the
    times of its lifecycle steps, ``extra['unmapped']`` counts codes and agencies no
    mapping knows. A request id seen twice keeps its newest version."""
    mapping = mapping or Mapping()
    result = ParseResult()
    times: dict[str, dict[IncidentStatus, datetime]] = {}
    by_id: dict[str, Incident] = {}
    for i, record in enumerate(documents(body, fmt)):
        rid = str(record.get("service_request_id", f"#{i}")) if isinstance(record, dict) else f"#{i}"
        notes: list[str] = []
        try:
            if not isinstance(record, dict):
                raise RecordError("(record)", f"expected an object, got {type(record).__name__}")
            incident, steps = to_incident(record, notes, source, mapping)
        except RecordError as exc:
            result.reject(record, rid, exc)
            continue
        result.warnings.extend(f"{rid}: {n}" for n in notes)
        old = by_id.get(incident.incident_id)
        if old is None or incident.updated_at >= old.updated_at:
            by_id[incident.incident_id] = incident
        times.setdefault(incident.incident_id, {}).update(
            {s: t for s, t in steps.items() if s not in times.get(incident.incident_id, {})})
    result.records = list(by_id.values())
    result.extra["times"] = times
    result.extra["unmapped"] = dict(mapping.unmapped)
    return result


def store_incidents(feed: str, result: ParseResult, ctx: FeedContext) -> None:
    """Upsert a document's incidents (SQL first, then the live view)."""
    report = upsert_incidents(ctx.session, ctx.store, result.records, result.extra.get("times"))
    if report.ignored_backwards:
        log.info("feed %s: %d out-of-order status update(s) ignored", feed,
                 len(report.ignored_backwards))


class Open311Feed(FeedBase):
    """Open311 GeoReport v2 ``requests.json`` / ``requests.xml``."""

    format: Literal["open311-json", "open311-xml"]
    source: str | None = Field(None, description="Incident id prefix (default: open311)")
    categories: dict[str, str] = Field(
        default_factory=dict, description="service_code or service_name -> incident category "
                                          "(e.g. TREE: pohon_tumbang, 'Pohon tumbang': pohon_tumbang)")
    agencies: dict[str, str] = Field(
        default_factory=dict, description="agency_responsible name -> registry OPD code "
                                          "(e.g. 'Damkar Kota Ambon': damkar)")

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: dict[str, str]) -> dict[str, str]:
        return known_categories(value)

    def parse(self, body: bytes, ctx: FeedContext) -> ParseResult:
        return parse(body, self.format.split("-")[1], source=self.source or "open311",
                     mapping=Mapping(self.categories, self.agencies))

    def store(self, result: ParseResult, ctx: FeedContext) -> None:
        store_incidents(self.name, result, ctx)
