"""The feed formats: one model per format, and ``FeedConfig``, their union on ``format``.

Adding a format = one new module with a :class:`~workers.feeds.feed.FeedBase` subclass
(its options, ``parse``, ``store``, maybe ``refresh``), its line in ``FORMATS`` and its
feeds in ``data/feeds.yaml``. Nothing else dispatches on the format.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from workers.feeds.attendance import AttendanceFeed
from workers.feeds.bmkg import BmkgFeed
from workers.feeds.calls_format import AsteriskCdrFeed, AsteriskQueueLogFeed, CallsCsvFeed
from workers.feeds.cap import CapFeed
from workers.feeds.dlh import DlhTripsFeed
from workers.feeds.fhir import FhirLocationFeed, FhirServiceFeed
from workers.feeds.generic import GenericFeed
from workers.feeds.office_attendance import KehadiranFeed
from workers.feeds.open311 import Open311Feed

FORMATS = (Open311Feed, GenericFeed, BmkgFeed, CapFeed, FhirLocationFeed, FhirServiceFeed,
           AttendanceFeed, DlhTripsFeed, KehadiranFeed, AsteriskQueueLogFeed, AsteriskCdrFeed,
           CallsCsvFeed)
FeedConfig = Annotated[
    Open311Feed | GenericFeed | BmkgFeed | CapFeed | FhirLocationFeed | FhirServiceFeed
    | AttendanceFeed | DlhTripsFeed | KehadiranFeed | AsteriskQueueLogFeed | AsteriskCdrFeed
    | CallsCsvFeed,
    Field(discriminator="format")]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(FeedConfig)


def format_names() -> list[str]:
    """Every ``format`` value a feed may have."""
    return [v for model in FORMATS for v in model.model_fields["format"].annotation.__args__]


def make_feed(**fields: Any) -> Any:
    """One feed from its fields, validated like a feeds.yaml entry (tests, tools)."""
    return _ADAPTER.validate_python(fields)
