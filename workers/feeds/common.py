"""What every feed parser shares: the result type, timestamps, coordinates, privacy, XML.

A parser is a pure function ``parse(body: bytes, ...) -> ParseResult``. A document that
cannot be read at all raises :class:`DocumentError` (nothing of it is stored); a record
that cannot be used becomes a :class:`Reject` (field and reason), the others go on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ambon_core.settings import get_settings

# Indonesia's extent with a margin (Sabang ~95 E, Merauke ~141 E, Rote ~11 S, Miangas ~5.6 N)
INDONESIA_LAT = (-11.5, 6.5)
INDONESIA_LON = (94.0, 141.5)
# Keys that would identify a caller or a civil servant: never copied, never logged.
PII_KEYS = frozenset({
    "first_name", "last_name", "name", "nama", "phone", "telepon", "no_hp", "hp", "email",
    "account_id", "device_id", "nik", "nip", "caller", "pelapor", "reporter", "alamat_pelapor",
})
_PHONE = re.compile(r"(?:\+62|\b62|\b0)8[\d\s\-]{7,13}\d")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# "5,1" or "-3,52": an Indonesian decimal comma (one comma, digits on both sides)
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")


def city_tz() -> ZoneInfo:
    """The city's time zone (the ``TIMEZONE`` setting, WIT by default)."""
    return get_settings().tz


class DocumentError(ValueError):
    """The whole document is unreadable (truncated, not JSON/XML, HTML error page, entities)."""


class RecordError(ValueError):
    """One record is unusable; ``field`` names what is wrong."""

    def __init__(self, field_name: str, reason: str):
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class Reject:
    record_id: str
    record_text: str
    field: str
    reason: str


@dataclass
class ParseResult:
    """Good records (domain objects) and rejects of one document, plus notes for the log."""

    records: list[Any] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def reject(self, record: Any, record_id: str, exc: RecordError) -> None:
        self.rejects.append(Reject(record_id, record_text(record), exc.field, exc.reason))


# ---- privacy ---------------------------------------------------------------------
def scrub(text: str) -> str:
    """Phone numbers out of free text (a caller's number typed into a description)."""
    return _PHONE.sub("[nomor disembunyikan]", text)


def redact(record: Any) -> Any:
    """A copy of a record without PII keys and with phone numbers scrubbed (for dead letters)."""
    if isinstance(record, dict):
        return {k: redact(v) for k, v in record.items() if str(k).lower() not in PII_KEYS}
    if isinstance(record, list):
        return [redact(v) for v in record]
    if isinstance(record, str):
        return scrub(record)
    return record


def record_text(record: Any) -> str:
    """A record as dead-letter text: redacted, JSON where possible, at most 4 kB."""
    if isinstance(record, Element):
        record = {child.tag.split("}")[-1]: (child.text or "") for child in record}
    try:
        text = json.dumps(redact(record), ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = scrub(str(record))
    return text[:4096]


def plain_text(value: Any, field_name: str, max_len: int = 2000, required: bool = False) -> str:
    """Free text kept as *plain text*: markup is not interpreted or stripped (the UI escapes
    it), control characters go, phone numbers are scrubbed, length is capped."""
    if value is None or value == "":
        if required:
            raise RecordError(field_name, "missing")
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise RecordError(field_name, f"expected text, got {type(value).__name__}")
    return scrub(_CONTROL.sub("", str(value)).strip())[:max_len]


# ---- time ------------------------------------------------------------------------
def parse_time(value: Any, field_name: str, notes: list[str] | None = None,
               tz: ZoneInfo | None = None) -> datetime:
    """ISO 8601 with Z / +09:00 (WIT) / +08:00 (WITA) / +07:00 (WIB) or any offset -> aware UTC.

    A time without zone is read in the city's zone (``TIMEZONE``, or ``tz``) and a note
    is added (the caller logs it).
    """
    if not isinstance(value, str) or not value.strip():
        raise RecordError(field_name, f"expected an ISO 8601 time, got {value!r}"[:200])
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise RecordError(field_name, f"not an ISO 8601 time: {value!r}"[:200]) from None
    if parsed.tzinfo is None:
        zone = tz or city_tz()
        parsed = parsed.replace(tzinfo=zone)
        if notes is not None:
            notes.append(f"{field_name}={value!r} has no zone, read as {parsed.tzname()} "
                         f"({zone.key})")
    return parsed.astimezone(UTC)


# ---- place -----------------------------------------------------------------------
def to_float(value: Any, field_name: str) -> float:
    """A number; Indonesian sources write the decimal comma ("5,1") as often as the point."""
    if isinstance(value, bool):
        raise RecordError(field_name, "expected a number, got a boolean")
    if isinstance(value, str) and _DECIMAL_COMMA.match(value):
        value = value.replace(",", ".")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RecordError(field_name, f"expected a number, got {value!r}"[:200]) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise RecordError(field_name, "not a finite number")
    return number


def check_in_indonesia(lat: float, lon: float) -> tuple[float, float]:
    """Reject coordinates outside Indonesia (a swapped lat/lon or a 0,0 default)."""
    if not INDONESIA_LAT[0] <= lat <= INDONESIA_LAT[1]:
        raise RecordError("lat", f"latitude {lat} is outside Indonesia")
    if not INDONESIA_LON[0] <= lon <= INDONESIA_LON[1]:
        raise RecordError("long", f"longitude {lon} is outside Indonesia")
    return lat, lon


# ---- documents ---------------------------------------------------------------------
def _looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def load_json(body: bytes) -> Any:
    """Parse a JSON document or raise DocumentError (truncated, HTML error page, ...)."""
    if _looks_like_html(body):
        raise DocumentError("got an HTML page instead of JSON")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DocumentError(f"not valid JSON ({exc})"[:300]) from None


def load_xml(body: bytes) -> Element:
    """Parse XML with defusedxml: DTD entities and external references are refused."""
    if _looks_like_html(body):
        raise DocumentError("got an HTML page instead of XML")
    try:
        return SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise DocumentError(f"XML refused for safety ({type(exc).__name__})") from None
    except SafeET.ParseError as exc:
        raise DocumentError(f"not valid XML ({exc})"[:300]) from None


def local(tag: str) -> str:
    """Tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def xml_fields(element: Element) -> dict[str, str]:
    """Direct children of an element as {tag: text} (namespace dropped)."""
    return {local(child.tag): (child.text or "").strip() for child in element}
