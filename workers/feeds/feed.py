"""What every feed format shares: its common options and the three things it does.

A format is one pydantic model (its options, with ``format: Literal[...]``) that
subclasses :class:`FeedBase` and implements

- ``parse(body, ctx) -> ParseResult`` — pure, no I/O;
- ``store(result, ctx)`` — write the good records of one document;
- ``refresh(ctx)`` — called on every poll *whatever the fetch returned* (a new body,
  ``304 Not Modified``, an error): expiry and age are evaluated here from stored state.

``workers/feeds/formats.py`` lists the formats; ``FeedConfig`` is their discriminated
union on ``format``. See docs/feeds.md ("Adding a feed format").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ambon_core.alerts import sync_alerts
from ambon_core.domain import Alert, AlertKind
from ambon_core.registry import Registry
from ambon_core.spool import Recorder
from ambon_core.store import Store
from workers.feeds.common import ParseResult

log = logging.getLogger("workers.feeds")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@dataclass
class FeedContext:
    """Where a feed writes and what it knows: handed to parse/store/refresh."""

    store: Store
    session: Recorder
    registry: Registry
    now: datetime
    tz: ZoneInfo
    logged: set[str] = field(default_factory=set)  # keys already logged once (drops)

    def log_once(self, key: str, message: str, *args: object) -> None:
        """Log a drop (stale quake, expired warning) the first time only, with why."""
        if key not in self.logged:
            self.logged.add(key)
            log.info(message, *args)


class FeedBase(BaseModel):
    """Options every feed has; a format adds its own fields and ``format`` literal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Feed name (FeedStatus key)")
    url: str = Field(pattern=r"^(https?|file)://", description="http(s):// or file:// source")
    interval_s: float = Field(60.0, ge=1, description="Seconds between polls when healthy")
    timeout_s: float = Field(10.0, gt=0, description="Connect/read timeout of one request")
    retries: int = Field(3, ge=1, le=10, description="Attempts per poll (exponential backoff)")
    max_bytes: int = Field(DEFAULT_MAX_BYTES, gt=0,
                           description="Largest body (or growth of an append-only file) read "
                                       "in one poll; a bigger one is refused, nothing stored")
    enabled: bool = True
    read: Literal["document", "append"] = Field(
        "document", description="document: every poll reads the whole document; append: a "
                                "file:// log that only grows, read from where the last poll "
                                "stopped (whole lines only)")

    @model_validator(mode="after")
    def _append_needs_a_file(self) -> FeedBase:
        if self.read == "append" and not self.url.startswith("file://"):
            raise ValueError("read: append reads a growing file; the url must be file://")
        return self

    def parse(self, body: bytes, ctx: FeedContext) -> ParseResult:
        raise NotImplementedError

    def store(self, result: ParseResult, ctx: FeedContext) -> None:
        raise NotImplementedError

    def refresh(self, ctx: FeedContext) -> None:
        """Re-evaluate stored state against the clock (default: nothing ages)."""


def owned_alerts(ctx: FeedContext, kind: AlertKind, feed: str) -> list[Alert]:
    """The active alerts of ``kind`` this feed raised (older ones without an owner count)."""
    return [a for a in ctx.store.read_live().alerts.values()
            if a.kind == kind and a.params.get("feed") in (feed, None)]


def sync_owned(ctx: FeedContext, kind: AlertKind, feed: str, wanted: Iterable[Alert]) -> None:
    """Make this feed's alerts of ``kind`` equal ``wanted``; other feeds' alerts stay."""
    mine = [a.model_copy(update={"params": {**a.params, "feed": feed}}) for a in wanted]
    ids = {a.alert_id for a in mine}
    others = [a for a in ctx.store.read_live().alerts.values()
              if a.kind == kind and a.params.get("feed") not in (feed, None) and a.alert_id not in ids]
    sync_alerts(ctx.store, ctx.session, [kind], [*others, *mine])
