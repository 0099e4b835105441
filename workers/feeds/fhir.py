"""FHIR R4 Bundles of ``Location`` and ``HealthcareService`` (SATUSEHAT style) for puskesmas.

Location: ``id`` or an ``identifier.value`` equal to the registry puskesmas id, ``status``
(active | suspended | inactive), ``hoursOfOperation`` (daysOfWeek, allDay, openingTime,
closingTime). HealthcareService: ``location[].reference`` ("Location/<id>"),
``availableTime`` and ``notAvailable[]`` (description, during.start/end): the closure
days the status worker must know (holidays, cuti bersama, renovation).

Result records: :class:`SiteHours` and :class:`Closure`. Closure days go to Redis as
``P:holiday`` entries keyed ``YYYY-MM-DD:<puskesmas id>``; a suspended/inactive
Location becomes a closure of today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from workers.feeds.common import (
    WIT,
    DocumentError,
    ParseResult,
    RecordError,
    load_json,
    parse_time,
    plain_text,
)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_CLOSURE_DAYS = 62  # a longer "notAvailable" is a data error, not a holiday


@dataclass(frozen=True)
class SiteHours:
    puskesmas_id: str
    status: str
    hours: list[dict[str, Any]] = field(default_factory=list)  # days_of_week, opening_time, closing_time


@dataclass(frozen=True)
class Closure:
    puskesmas_id: str
    day: date
    reason: str

    @property
    def key(self) -> str:
        return f"{self.day.isoformat()}:{self.puskesmas_id}"


def _resources(body: bytes, kind: str) -> list[Any]:
    bundle = load_json(body)
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise DocumentError("expected a FHIR Bundle")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise DocumentError("Bundle.entry is not a list")
    return [e.get("resource") if isinstance(e, dict) else e for e in entries
            if not isinstance(e, dict) or (e.get("resource") or {}).get("resourceType") in (kind, None)]


def _site_id(resource: dict[str, Any], known: set[str] | None) -> str:
    candidates = [resource.get("id")] + [i.get("value") for i in resource.get("identifier") or []
                                         if isinstance(i, dict)]
    for cand in candidates:
        if isinstance(cand, str) and (known is None or cand in known):
            return cand
    raise RecordError("id", "no id or identifier names a registry puskesmas")


def _hhmm(value: Any, field_name: str) -> str:
    text = str(value or "")
    try:
        return datetime.strptime(text[:5], "%H:%M").strftime("%H:%M")
    except ValueError:
        raise RecordError(field_name, f"expected hh:mm:ss, got {value!r}"[:200]) from None


def _hours(resource: dict[str, Any], key: str) -> list[dict[str, Any]]:
    out = []
    for item in resource.get(key) or []:
        days = item.get("daysOfWeek") if isinstance(item, dict) else None
        if not isinstance(days, list) or not days or any(d not in DAYS for d in days):
            raise RecordError(f"{key}.daysOfWeek", f"expected FHIR day codes, got {days!r}"[:200])
        if item.get("allDay"):
            out.append({"days_of_week": days, "opening_time": "00:00", "closing_time": "23:59"})
            continue
        out.append({"days_of_week": days,
                    "opening_time": _hhmm(item.get("openingTime") or item.get("availableStartTime"),
                                          f"{key}.openingTime"),
                    "closing_time": _hhmm(item.get("closingTime") or item.get("availableEndTime"),
                                          f"{key}.closingTime")})
    return out


def parse_locations(body: bytes, known: set[str] | None = None,
                    today: date | None = None) -> ParseResult:
    """Location Bundle -> SiteHours records (+ a Closure of today for suspended sites)."""
    result = ParseResult()
    today = today or datetime.now(WIT).date()
    for res in _resources(body, "Location"):
        rid = str(res.get("id", "?")) if isinstance(res, dict) else "?"
        try:
            if not isinstance(res, dict):
                raise RecordError("resource", "expected an object")
            site = _site_id(res, known)
            status = res.get("status", "active")
            if status not in ("active", "suspended", "inactive"):
                raise RecordError("status", f"unknown Location.status {status!r}"[:200])
            result.records.append(SiteHours(site, status, _hours(res, "hoursOfOperation")))
            if status != "active":
                result.records.append(Closure(site, today, f"Location {status}"))
        except RecordError as exc:
            result.reject(res, rid, exc)
    return result


def _closure_days(item: dict[str, Any], notes: list[str]) -> list[date]:
    during = item.get("during") or {}
    if not isinstance(during, dict) or not during.get("start"):
        raise RecordError("notAvailable.during", "missing start")

    def day_of(value: str, name: str) -> date:
        if len(value) == 10:  # a FHIR date
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise RecordError(name, f"not a date: {value!r}") from None
        return parse_time(value, name, notes).astimezone(WIT).date()

    start = day_of(during["start"], "notAvailable.during.start")
    end = day_of(during.get("end") or during["start"], "notAvailable.during.end")
    if end < start or (end - start).days > MAX_CLOSURE_DAYS:
        raise RecordError("notAvailable.during", f"implausible period {start}..{end}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def parse_services(body: bytes, known: set[str] | None = None) -> ParseResult:
    """HealthcareService Bundle -> Closure records (one per site and day)."""
    result = ParseResult()
    seen: set[str] = set()
    for res in _resources(body, "HealthcareService"):
        rid = str(res.get("id", "?")) if isinstance(res, dict) else "?"
        notes: list[str] = []
        try:
            if not isinstance(res, dict):
                raise RecordError("resource", "expected an object")
            refs = [r.get("reference", "") for r in res.get("location") or [] if isinstance(r, dict)]
            sites = [r.split("/", 1)[1] for r in refs if r.startswith("Location/")]
            sites = [s for s in sites if known is None or s in known]
            if not sites:
                raise RecordError("location", "no reference to a registry puskesmas Location")
            _hours(res, "availableTime")
            closures = []
            for item in res.get("notAvailable") or []:
                reason = plain_text(item.get("description"), "notAvailable.description", 200)
                closures += [Closure(s, d, reason or "tutup") for d in _closure_days(item, notes)
                             for s in sites]
        except (RecordError, AttributeError) as exc:
            err = exc if isinstance(exc, RecordError) else RecordError("notAvailable", "malformed")
            result.reject(res, rid, err)
            continue
        result.warnings.extend(f"{rid}: {n}" for n in notes)
        for closure in closures:
            if closure.key not in seen:
                seen.add(closure.key)
                result.records.append(closure)
    return result
