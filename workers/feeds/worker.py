"""Feed worker: polls every configured feed on its own interval and keeps its FeedStatus.

Each turn fetches the due feeds concurrently (a hung source costs its own timeout, not
the others' freshness), then parses and stores them one by one. After every poll —
new body, 304 Not Modified or error alike — the feed's ``refresh`` re-evaluates what it
stored against the clock (an expired CAP warning, a quake past its window).

FeedStatus is honest: ``last_error`` is cleared by a success; ``records``, ``rejected``
and ``unmapped`` describe the last document read; ``dead_letters`` counts every record
dead-lettered since the worker started. A failing feed is retried with its own
exponential backoff; after 3 failures in a row, or at once when every record of a
document was rejected, the feed is degraded and a FEED_DEGRADED alert is raised
(cleared on recovery).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ambon_core.alerts import sync_alerts
from ambon_core.domain import Alert, AlertKind, FeedStatus, utcnow
from workers.base import LoopWorker
from workers.feeds.common import DocumentError
from workers.feeds.config import FeedConfig, load_feeds
from workers.feeds.ingest import Outcome, context, ingest_in
from workers.feeds.poller import Fetched, Validators, describe, fetch

log = logging.getLogger(__name__)
MAX_FEED_BACKOFF_S = 600.0
REFRESH_EVERY_S = 30.0  # a feed waiting out its backoff still ages its state this often


@dataclass
class _FeedRun:
    validators: Validators
    next_due: float = 0.0  # time.monotonic()
    failures: int = 0
    refreshed: float = float("-inf")  # time.monotonic() of the last refresh


class FeedWorker(LoopWorker):
    name = "feeds"
    interval_s = 1.0

    def __init__(self, *args: Any, feeds_path: Path | None = None,
                 overrides: dict[str, Any] | None = None, retry_wait_s: float = 0.5, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.feeds = [f for f in load_feeds(feeds_path or self.settings.feeds_path, overrides)
                      if f.enabled]
        self.logged: set[str] = set()  # drops already logged once (FeedContext.log_once)
        self.clock = utcnow  # tests set a fixed moment (expiry and age windows)
        self.runs = {f.name: _FeedRun(Validators()) for f in self.feeds}
        self.retry_wait_s = retry_wait_s
        self._rebuilt_seen: str | None | bool = False  # False: not looked yet
        self.client = httpx.Client(follow_redirects=True, limits=httpx.Limits(max_connections=8))

    def due(self, now: float) -> list[FeedConfig]:
        return [f for f in self.feeds if self.runs[f.name].next_due <= now]

    def _fetch(self, feed: FeedConfig) -> Fetched | BaseException:
        try:
            return fetch(self.client, feed, self.runs[feed.name].validators,
                         wait_initial_s=self.retry_wait_s, wait_max_s=8 * self.retry_wait_s)
        except Exception as exc:  # every failure becomes the feed's last_error
            return exc

    def turn(self) -> None:
        """Poll the due feeds (all of them with --once); age the others' state."""
        self._refetch_after_redis_loss()
        due = self.due(time.monotonic())
        self._refresh_waiting([f for f in self.feeds if f not in due])
        if not due:
            return
        with ThreadPoolExecutor(max_workers=min(8, len(due))) as pool:
            fetched = list(pool.map(self._fetch, due))
        statuses = []
        for feed, got in zip(due, fetched, strict=True):
            statuses.append(self.handle(feed, got))
        self.store.put(*statuses)
        self._sync_degraded()
        self.detail = {"feeds": len(self.feeds),
                       "degraded": sum(1 for f in self.store.read_live().feeds.values() if f.degraded)}

    def _refresh_waiting(self, feeds: list[FeedConfig]) -> None:
        """A feed in a long backoff (its source down) must still let a warning expire."""
        stale = [f for f in feeds
                 if time.monotonic() - self.runs[f.name].refreshed >= REFRESH_EVERY_S]
        if stale:
            ctx = context(self.store, self.history, self.registry, self.clock(), self.logged,
                          self.settings.tz)
            for feed in stale:
                feed.refresh(ctx)
                self.runs[feed.name].refreshed = time.monotonic()

    def _refetch_after_redis_loss(self) -> None:
        """A lost Redis also lost holidays and attendance: fetch every feed in full again
        (a conditional GET would answer 304 and never bring them back)."""
        marker = self.store.rebuilt_at()
        if self._rebuilt_seen is not False and marker != self._rebuilt_seen:
            log.warning("feeds: Redis live state was lost and rebuilt; fetching every feed again")
            for run in self.runs.values():
                run.validators, run.next_due = Validators(), 0.0
        self._rebuilt_seen = marker

    def handle(self, feed: FeedConfig, got: Fetched | BaseException) -> FeedStatus:
        """Ingest one fetch result, refresh the feed's stored state; returns its new status."""
        run, now = self.runs[feed.name], self.clock()
        status = self.store.get(FeedStatus, feed.name) or FeedStatus(feed=feed.name)
        ctx = context(self.store, self.history, self.registry, now, self.logged, self.settings.tz)
        error: str | None = None
        if isinstance(got, BaseException):
            error = describe(got)
        elif got.body is not None:
            error = self._ingest(feed, got, status, ctx)
        feed.refresh(ctx)  # whatever the fetch returned: time moves on
        run.refreshed = time.monotonic()
        if error is None and status.all_rejected:  # 304: the same all-rejected document
            run.failures, run.next_due = 0, time.monotonic() + feed.interval_s
            status.ok = False
        elif error is None:
            run.failures, run.next_due = 0, time.monotonic() + feed.interval_s
            status.ok, status.last_ok_at, status.consecutive_failures = True, now, 0
            status.last_error = None
        else:
            run.failures += 1
            wait = min(MAX_FEED_BACKOFF_S, feed.interval_s * 2 ** min(run.failures - 1, 8))
            run.next_due = time.monotonic() + wait
            status.ok, status.last_error = False, error
            status.consecutive_failures += 1
            log.warning("feed %s: %s (failure %d in a row; next try in %.0f s)", feed.name, error,
                        status.consecutive_failures, wait)
        status.updated_at = now
        return status

    def _ingest(self, feed: FeedConfig, got: Fetched, status: FeedStatus, ctx: Any) -> str | None:
        """Store one body and describe it in ``status``; returns the error, if any."""
        try:
            outcome = ingest_in(feed, got.body or b"", ctx)
        except DocumentError as exc:
            self.store.dead_letter(feed.name, (got.body or b"")[:512].decode("utf-8", "replace"),
                                   f"document: {exc}")
            status.records, status.rejected, status.unmapped = 0, 0, {}
            status.dead_letters += 1
            status.all_rejected = False
            return f"document unreadable: {exc}"
        run = self.runs[feed.name]
        run.validators = got.validators  # only a stored document may answer 304 later
        status.records, status.rejected, status.unmapped = (outcome.records, outcome.rejects,
                                                            outcome.unmapped)
        status.dead_letters += outcome.rejects
        status.all_rejected = _all_rejected(outcome)
        if status.all_rejected:
            return f"all {outcome.rejects} records rejected (e.g. {outcome.first_reject})"
        return None

    def _sync_degraded(self) -> None:
        feeds = self.store.read_live().feeds
        wanted = [Alert(alert_id=f"feed-{s.feed}", kind=AlertKind.FEED_DEGRADED, entity_id=s.feed,
                        severity=1, opd="kominfo",
                        params={"failures": s.consecutive_failures, "last_error": s.last_error})
                  for s in feeds.values() if s.degraded]
        sync_alerts(self.store, self.history, [AlertKind.FEED_DEGRADED], wanted)


def _all_rejected(outcome: Outcome) -> bool:
    """A document whose every record was rejected (none kept, none merely not relevant)."""
    return outcome.rejects > 0 and outcome.records == 0 and outcome.skipped == 0
