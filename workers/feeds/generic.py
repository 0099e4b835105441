"""Generic JSON/CSV incident adapter: any OPD export, mapped by config to Open311 fields.

``mapping`` (in ``data/feeds.yaml``) names, for each Open311 field, the source key or a
dotted path (``lokasi.lat``); ``records_path`` is the dotted path of the record list in
a JSON document (empty = the document is the list). The mapped record then goes through
the Open311 validation, so the same rules (time zones, coordinates, privacy) apply::

    format: generic-json
    records_path: data.laporan
    mapping: {service_request_id: id, service_code: jenis, requested_datetime: waktu,
              lat: lokasi.lat, long: lokasi.lon, description: uraian, status: status}
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from workers.feeds import open311
from workers.feeds.common import DocumentError, ParseResult, load_json
from workers.feeds.feed import FeedBase, FeedContext


def pick(record: Any, path: str) -> Any:
    """Value at a dotted path of nested dicts, or None."""
    value = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def records(body: bytes, fmt: str, records_path: str = "") -> list[Any]:
    if fmt == "csv":
        try:
            return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
        except UnicodeDecodeError:
            raise DocumentError("CSV is not UTF-8") from None
    data = load_json(body)
    rows = pick(data, records_path) if records_path else data
    if not isinstance(rows, list):
        raise DocumentError(f"no record list at {records_path or '(top level)'}")
    return rows


def remap(record: Any, mapping: dict[str, str], defaults: dict[str, Any]) -> Any:
    """A source record as an Open311 record (non-dicts pass through to be rejected)."""
    if not isinstance(record, dict):
        return record
    out = dict(defaults)
    out.update({target: pick(record, source) for target, source in mapping.items()})
    return out


def parse(body: bytes, fmt: str, mapping: dict[str, str], records_path: str = "",
          source: str = "generic", defaults: dict[str, Any] | None = None,
          vocabulary: open311.Mapping | None = None) -> ParseResult:
    """Map every record, then parse it as an Open311 request (ids prefixed by ``source``)."""
    mapped = [remap(r, mapping, defaults or {"status": "open"})
              for r in records(body, fmt, records_path)]
    return open311.parse(json.dumps(mapped, default=str).encode(), "json", source=source,
                         mapping=vocabulary)


class GenericFeed(FeedBase):
    """Any OPD export (JSON or CSV) mapped field by field to Open311."""

    format: Literal["generic-json", "generic-csv"]
    mapping: dict[str, str] = Field(description="Open311 field -> source key or dotted path")
    records_path: str = Field("", description="generic-json: dotted path of the record list")
    source: str | None = Field(None, description="Incident id prefix (default: the feed name)")
    categories: dict[str, str] = Field(default_factory=dict,
                                       description="source code or name -> incident category")
    agencies: dict[str, str] = Field(default_factory=dict,
                                     description="agency name -> registry OPD code")

    _categories = field_validator("categories")(lambda value: open311.known_categories(value))

    @model_validator(mode="after")
    def _needs_id(self) -> GenericFeed:
        if "service_request_id" not in self.mapping:
            raise ValueError("a generic feed needs mapping.service_request_id (and the other fields)")
        return self

    def parse(self, body: bytes, ctx: FeedContext) -> ParseResult:
        return parse(body, self.format.split("-")[1], self.mapping, self.records_path,
                     source=self.source or self.name,
                     vocabulary=open311.Mapping(self.categories, self.agencies))

    def store(self, result: ParseResult, ctx: FeedContext) -> None:
        open311.store_incidents(self.name, result, ctx)
