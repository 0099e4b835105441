"""From a fetched body to stored state: the feed's format parses, rejects are dead-lettered,
the format stores the good records.

A document that cannot be read raises :class:`DocumentError` before anything is written;
rejected records are dead-lettered (redacted) and logged with feed, record id and field;
the good records of the same document are written. Which parser and which store is the
feed's own (``workers/feeds/formats.py``): nothing here knows a format.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from ambon_core.registry import Registry
from ambon_core.settings import get_settings
from ambon_core.spool import Recorder
from ambon_core.store import Store
from workers.feeds.common import ParseResult
from workers.feeds.feed import FeedBase, FeedContext

log = logging.getLogger(__name__)
# ParseResult.extra entries counting records that were fine but not for us
SKIP_COUNTS = ("not_felt", "not_covering", "expired", "other_day")


@dataclass(frozen=True)
class Outcome:
    records: int
    rejects: int
    unmapped: dict[str, int] = field(default_factory=dict)
    first_reject: str | None = None
    skipped: int = 0  # records read fine but not relevant (not felt, another region, ...)


def report_rejects(feed: str, result: ParseResult, store: Store) -> None:
    """Dead-letter and log every reject; log zone-less timestamps once per document."""
    for rej in result.rejects:
        store.dead_letter(feed, rej.record_text, f"{rej.field}: {rej.reason}")
        log.warning("feed %s: record %s rejected, field %s: %s", feed, rej.record_id[:80], rej.field,
                    rej.reason)
    if result.warnings:
        log.warning("feed %s: %d note(s), e.g. %s", feed, len(result.warnings), result.warnings[0])


def context(store: Store, session: Recorder, registry: Registry, now: datetime,
            logged: set[str] | None = None, tz: ZoneInfo | None = None) -> FeedContext:
    """A FeedContext in the city's time zone (``tz``, else the ``TIMEZONE`` setting)."""
    return FeedContext(store, session, registry, now, tz or get_settings().tz,
                       logged if logged is not None else set())


def ingest_in(feed: FeedBase, body: bytes, ctx: FeedContext) -> Outcome:
    """Parse, report rejects, store; raises DocumentError for an unreadable document."""
    result = feed.parse(body, ctx)
    report_rejects(feed.name, result, ctx.store)
    feed.store(result, ctx)
    first = (f"{result.rejects[0].field}: {result.rejects[0].reason}" if result.rejects else None)
    skipped = sum(v if isinstance(v, int) else len(v) for k, v in result.extra.items()
                  if k in SKIP_COUNTS)
    return Outcome(len(result.records), len(result.rejects), dict(result.extra.get("unmapped") or {}),
                   first, skipped)


def ingest(feed: FeedBase, body: bytes, *, store: Store, session: Recorder, registry: Registry,
           now: datetime) -> Outcome:
    """:func:`ingest_in` with a fresh context (tests and one-off tools)."""
    return ingest_in(feed, body, context(store, session, registry, now))
