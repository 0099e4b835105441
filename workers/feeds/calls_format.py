"""The call-centre files as feed formats of the registry (workers/feeds/feed.py, issue 15).

``asterisk-queue-log``, ``asterisk-cdr`` (Master.csv) and ``calls-csv`` (a generic call
list with a ``mapping``) are ``read: append`` feeds: each poll hands ``parse`` the whole
lines added since the last one. ``parse`` is pure (workers/feeds/asterisk.py); ``store``
applies the records to the process's :class:`~ambon_core.calls.CallBook` (one for all call
feeds, so a Master.csv call-back meets the queue_log call it answers) and records the
changed calls through the history recorder (op ``call_records``: upserts keyed by the
Asterisk uniqueid, so a log read again never counts a call twice); ``refresh`` publishes the
figures and alerts against the clock on every poll (a call keeps waiting between lines).

The registry's append cursor (offset, inode) lives in the worker's memory and reads a
rotated file from the top; :mod:`workers.feeds.tail` (offset saved with the records, file
identity by inode + first bytes, a rotated file finished first) is the reader that meets
issue 18 and the ``calls`` worker uses it. Both are safe because the writes are upserts.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from ambon_core.alerts import sync_alerts
from ambon_core.call_figures import call_alerts, call_figures
from ambon_core.calls import CallBook, QueueEvent
from ambon_core.db import engine_for, session_factory
from ambon_core.settings import get_settings
from ambon_core.spool import record
from workers.feeds import asterisk, calls_store
from workers.feeds.calls_ingest import CALL_ALERT_KINDS
from workers.feeds.calls_worker import hash_key, rules_from
from workers.feeds.common import ParseResult
from workers.feeds.feed import FeedBase, FeedContext

_BOOK: dict[str, CallBook] = {}  # one book per process, shared by the call feeds


def _book(ctx: FeedContext) -> CallBook:
    if "calls" not in _BOOK:
        settings = get_settings()
        with session_factory(engine_for(settings.database_url))() as session:
            _BOOK["calls"] = calls_store.load_book(session, CallBook(hash_key(settings)), ctx.now)
    return _BOOK["calls"]


def _lines(body: bytes) -> list[tuple[int, bytes]]:
    return list(enumerate(body.split(b"\n"), start=1))


class CallsFeed(FeedBase):
    """What the three call formats share: append-only files, the PBX's zone, one book."""

    read: Literal["append"] = "append"
    interval_s: float = Field(1.0, ge=1, description="Seconds between polls (a wait is live)")
    pbx_timezone: str = Field("Asia/Jayapura", description="Zone of the PBX's local times "
                              "(Master.csv; UTC with cdr.conf usegmtime=yes)")

    def store(self, result: ParseResult, ctx: FeedContext) -> None:
        book = _book(ctx)
        for item in result.records:
            if isinstance(item, QueueEvent):
                note = book.apply(item)
                if note:
                    ctx.store.dead_letter(self.name, "", note)
            else:
                book.apply_cdr(item)
        record(ctx.session, "call_records", calls_store.call_payload(self.name, book.take_dirty()))
        self.refresh(ctx)

    def refresh(self, ctx: FeedContext) -> None:
        book, rules = _book(ctx), rules_from(get_settings())
        book.prune(ctx.now)
        figures = call_figures(book, ctx.now, rules)
        ctx.store.put_call_figures(figures)
        sync_alerts(ctx.store, ctx.session, CALL_ALERT_KINDS, call_alerts(book, figures, ctx.now,
                                                                          rules))


class AsteriskQueueLogFeed(CallsFeed):
    """Asterisk's queue_log (``time|callid|queue|agent|event|data…``)."""

    format: Literal["asterisk-queue-log"]

    def parse(self, body: bytes, ctx: FeedContext) -> ParseResult:
        return asterisk.parse_queue_log(_lines(body))


class AsteriskCdrFeed(CallsFeed):
    """Asterisk's cdr-csv/Master.csv (no header; cdr_csv.c column order)."""

    format: Literal["asterisk-cdr"]

    def parse(self, body: bytes, ctx: FeedContext) -> ParseResult:
        return asterisk.parse_cdr_csv(_lines(body), ZoneInfo(self.pbx_timezone))


class CallsCsvFeed(CallsFeed):
    """A call list of another system, one row per call, columns named by ``mapping``."""

    format: Literal["calls-csv"]
    mapping: dict[str, str] = Field(description="call_id, entered_at, answered_at, ended_at, "
                                    "caller, queue, agent -> the CSV's column names")
    columns: list[str] = Field(description="The CSV's header, in order (an appended chunk "
                               "has none; a chunk starting with it skips it)")

    def parse(self, body: bytes, ctx: FeedContext) -> ParseResult:
        header_line = ",".join(self.columns).encode()
        if body.startswith(header_line):
            body = body[len(header_line):].lstrip(b"\r\n")
        return asterisk.parse_generic_csv(body, self.mapping, ZoneInfo(self.pbx_timezone),
                                          header=self.columns)
