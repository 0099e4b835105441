"""FHIR R4 Bundles of ``Location`` and ``HealthcareService`` (SATUSEHAT style) for puskesmas.

**Identity** (``fhir_sites.py``): Location by ``satusehat_id``, by ``identifier`` (system +
value) or by id; HealthcareService through its ``location`` reference resolved to that
Location. Nothing matching is a reject naming ``satusehat_id``.

**Opening hours — the rule.** When the Location feed gives ``hoursOfOperation`` for a
site, those hours are the schedule the status worker judges against (``hours_source``
``fhir``); the registry's ``hours`` are the fallback for sites no Location document has
given hours for (``registry``). The Puskesmas page shows which source gave the hours.

**Closures.** ``Location.status`` suspended/inactive, or ``operationalStatus`` code ``C``
(closed, HL7 v2 table 0116), closes the site with the reason from ``description`` (else
the status) — "Renovasi gedung" reaches the page as "Tutup — renovasi gedung" — and the
closure *holds* until a later document says active. ``HealthcareService.notAvailable``
periods (``description``: "Libur Nasional", "Cuti bersama") become closure days in
``P:holiday`` (``YYYY-MM-DD:<puskesmas id>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from ambon_core.domain import SiteSchedule
from workers.feeds.common import (
    DocumentError,
    ParseResult,
    RecordError,
    city_tz,
    load_json,
    parse_time,
    plain_text,
)
from workers.feeds.feed import FeedBase, FeedContext, log
from workers.feeds.fhir_sites import SiteIndex, as_index

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_CLOSURE_DAYS = 62  # a longer "notAvailable" is a data error, not a holiday
CLOSED_OPERATIONAL = {"C"}  # HL7 v2-0116 bed status "Closed"


@dataclass(frozen=True)
class SiteHours:
    """What one Location says of its puskesmas (``closed_reason`` None = open for business)."""

    puskesmas_id: str
    status: str
    hours: list[dict[str, Any]] = field(default_factory=list)  # days_of_week, opening/closing_time
    location_id: str | None = None
    closed_reason: str | None = None


@dataclass(frozen=True)
class Closure:
    puskesmas_id: str
    day: date
    reason: str

    @property
    def key(self) -> str:
        return f"{self.day.isoformat()}:{self.puskesmas_id}"


def _resources(body: bytes) -> list[Any]:
    """The resources of a Bundle (a search result), or the one resource a read returns."""
    bundle = load_json(body)
    if isinstance(bundle, dict) and bundle.get("resourceType") in ("Location", "HealthcareService"):
        return [bundle]
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise DocumentError("expected a FHIR Bundle (or one Location/HealthcareService)")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise DocumentError("Bundle.entry is not a list")
    return [e.get("resource") if isinstance(e, dict) else e for e in entries]


def _of_kind(resources: list[Any], kind: str) -> list[Any]:
    return [r for r in resources if not isinstance(r, dict) or r.get("resourceType") in (kind, None)]


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
            out.append({"days_of_week": days, "opening_time": "00:00", "closing_time": "00:00"})
            continue
        out.append({"days_of_week": days,
                    "opening_time": _hhmm(item.get("openingTime") or item.get("availableStartTime"),
                                          f"{key}.openingTime"),
                    "closing_time": _hhmm(item.get("closingTime") or item.get("availableEndTime"),
                                          f"{key}.closingTime")})
    return out


def _closed_reason(res: dict[str, Any], status: str) -> str | None:
    """Why a Location is closed on purpose, or None while it is open for business."""
    op = res.get("operationalStatus")
    op_closed = isinstance(op, dict) and op.get("code") in CLOSED_OPERATIONAL
    if status == "active" and not op_closed:
        return None
    reason = plain_text(res.get("description"), "description", 200)
    if not reason and op_closed:
        reason = plain_text(op.get("display"), "operationalStatus.display", 120)
    return reason or f"Location {status if status != 'active' else 'closed'}"


def location_hours(res: Any, sites: SiteIndex) -> SiteHours:
    """One Location resource -> what it says of its puskesmas (RecordError if unusable)."""
    if not isinstance(res, dict):
        raise RecordError("resource", "expected an object")
    site = sites.location_site(res)
    status = res.get("status", "active")
    if status not in ("active", "suspended", "inactive"):
        raise RecordError("status", f"unknown Location.status {status!r}"[:200])
    return SiteHours(site, status, _hours(res, "hoursOfOperation"),
                     res.get("id") if isinstance(res.get("id"), str) else None,
                     _closed_reason(res, status))


def parse_locations(body: bytes, sites: SiteIndex | set[str] | None = None,
                    today: date | None = None) -> ParseResult:
    """Location Bundle -> SiteHours records (``today`` is kept for callers; closures hold
    until lifted, they are not closure *days*)."""
    result, index = ParseResult(), as_index(sites)
    for res in _of_kind(_resources(body), "Location"):
        rid = str(res.get("id", "?")) if isinstance(res, dict) else "?"
        try:
            result.records.append(location_hours(res, index))
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
        return parse_time(value, name, notes).astimezone(city_tz()).date()

    start = day_of(during["start"], "notAvailable.during.start")
    end = day_of(during.get("end") or during["start"], "notAvailable.during.end")
    if end < start or (end - start).days > MAX_CLOSURE_DAYS:
        raise RecordError("notAvailable.during", f"implausible period {start}..{end}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _service_closures(res: Any, index: SiteIndex, notes: list[str]) -> list[Closure]:
    if not isinstance(res, dict):
        raise RecordError("resource", "expected an object")
    location = res.get("location") or []
    location = [location] if isinstance(location, dict) else location  # DSTU2 had one reference
    refs = [r.get("reference", "") for r in location if isinstance(r, dict)]
    sites = sorted({s for r in refs if (s := index.reference_site(str(r)))})
    if not sites:
        raise RecordError("location", f"no reference resolves to a registry puskesmas Location "
                                      f"(satusehat_id): {refs!r}"[:300])
    _hours(res, "availableTime")
    closures = []
    for item in res.get("notAvailable") or []:
        if not isinstance(item, dict):
            raise RecordError("notAvailable", "expected an object")
        reason = plain_text(item.get("description"), "notAvailable.description", 200)
        closures += [Closure(s, d, reason or "tutup") for d in _closure_days(item, notes) for s in sites]
    return closures


def parse_services(body: bytes, sites: SiteIndex | set[str] | None = None) -> ParseResult:
    """HealthcareService Bundle -> Closure records (one per site and day); Locations in
    the same Bundle (``_include``) resolve the references."""
    result, index = ParseResult(), as_index(sites)
    resources = _resources(body)
    for loc in (r for r in resources if isinstance(r, dict) and r.get("resourceType") == "Location"):
        try:
            index.by_location[str(loc.get("id"))] = index.location_site(loc)
        except RecordError:
            pass  # a Location of another facility: its services are rejected below
    seen: set[str] = set()
    for res in _of_kind(resources, "HealthcareService"):
        if isinstance(res, dict) and res.get("resourceType") == "Location":
            continue
        rid = str(res.get("id", "?")) if isinstance(res, dict) else "?"
        notes: list[str] = []
        try:
            closures = _service_closures(res, index, notes)
        except RecordError as exc:
            result.reject(res, rid, exc)
            continue
        result.warnings.extend(f"{rid}: {n}" for n in notes)
        for closure in closures:
            if closure.key not in seen:
                seen.add(closure.key)
                result.records.append(closure)
    return result


def _seen_locations(ctx: FeedContext) -> dict[str, str]:
    return {s.location_id: s.puskesmas_id for s in ctx.store.site_schedules().values()
            if s.location_id}


class FhirLocationFeed(FeedBase):
    """FHIR R4 Location Bundle: opening hours and closures of each puskesmas."""

    format: Literal["fhir-location"]
    identifier_system: str | None = Field(
        None, description="Only identifiers of this system name a registry puskesmas id "
                          "(SATUSEHAT: http://sys-ids.kemkes.go.id/location/<organization id>)")

    def parse(self, body: bytes, ctx: FeedContext) -> ParseResult:
        index = SiteIndex.of(ctx.registry, self.identifier_system, _seen_locations(ctx))
        return parse_locations(body, index, ctx.now.astimezone(ctx.tz).date())

    def store(self, result: ParseResult, ctx: FeedContext) -> None:
        """Each site named keeps what this document says until another document says
        otherwise; sites the document does not name keep what they had."""
        states = []
        for hours in (r for r in result.records if isinstance(r, SiteHours)):
            before = ctx.store.get(SiteSchedule, hours.puskesmas_id)
            if before and before.closed_reason and not hours.closed_reason:
                log.info("feed %s: %s reopened (%s lifted)", self.name, hours.puskesmas_id,
                         before.closed_reason)
            states.append(SiteSchedule(
                puskesmas_id=hours.puskesmas_id, location_id=hours.location_id, status=hours.status,
                closed_reason=hours.closed_reason, hours=hours.hours or None, feed=self.name,
                updated_at=ctx.now))
        if states:
            ctx.store.put(*states)


class FhirServiceFeed(FeedBase):
    """FHIR R4 HealthcareService Bundle: the days each puskesmas is closed on purpose."""

    format: Literal["fhir-service"]
    identifier_system: str | None = Field(None, description="As for fhir-location")

    def parse(self, body: bytes, ctx: FeedContext) -> ParseResult:
        index = SiteIndex.of(ctx.registry, self.identifier_system, _seen_locations(ctx))
        return parse_services(body, index)

    def store(self, result: ParseResult, ctx: FeedContext) -> None:
        closures = {c.key: c.reason for c in result.records if isinstance(c, Closure)}
        ctx.store.put_holidays(closures, keep_after=ctx.now.astimezone(ctx.tz).date() - timedelta(days=7))
