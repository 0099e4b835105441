"""The call formats in the feed registry (issue 15's FeedBase): parse, store, refresh.

Runs once the registry (workers/feeds/feed.py, formats.py) is on this branch; before the
merge it is skipped, and the calls worker's own tests cover the same path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

feed_module = pytest.importorskip("workers.feeds.feed")


def test_a_queue_log_feed_parses_stores_and_refreshes(tmp_path: Path, store, session, settings):
    from workers.feeds import calls_format
    from workers.feeds.ingest import context

    log = tmp_path / "queue_log"
    t0 = int(datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp())
    log.write_text(f"{t0}|1.1|112|NONE|ENTERQUEUE||081234567890|1\n"
                   f"{t0 + 30}|1.1|112|NONE|ABANDON|1|1|30\n"
                   f"{t0 + 40}|1.2|112|NONE|JOINEMPTY|\n")
    feed = calls_format.AsteriskQueueLogFeed(name="q", url=log.as_uri(),
                                             format="asterisk-queue-log")
    now = datetime.fromtimestamp(t0, UTC) + timedelta(minutes=20)
    ctx = context(store, session, None, now)
    result = feed.parse(log.read_bytes(), ctx)
    assert len(result.records) == 2 and result.rejects[0].reason == "unknown event 'JOINEMPTY'"
    feed.store(result, ctx)
    figures = store.call_figures()
    assert figures.abandoned_today == 1 and figures.callbacks_late == 1
    feed.store(feed.parse(log.read_bytes(), ctx), ctx)  # the registry re-reads after a restart
    assert store.call_figures().calls_today == 1
