"""A simulated day of the 112 centre: the figures read from its files equal its truth."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from ambon_core.call_figures import CallRules, percentile
from ambon_core.db import session_factory
from workers.feeds.calls_ingest import CallsIngest, CallSource
from workers.sim.callcentre import simulate_day

WIT = ZoneInfo("Asia/Jayapura")


@pytest.mark.parametrize("day", [date(2026, 12, 1), date(2026, 12, 5)])
def test_a_simulated_day_read_back_is_exact(day, tmp_path, store, engine, session):
    sim = simulate_day(7, day)
    end = datetime.combine(day, time(23, 59, 59), WIT).astimezone(UTC)
    cut = int(end.timestamp())
    (tmp_path / "queue_log").write_text("".join(f"{line}\n" for at, line in sim.queue_log if at <= cut))
    (tmp_path / "Master.csv").write_text("".join(f"{line}\n" for at, line in sim.cdr if at <= cut))
    ingest = CallsIngest(store, session_factory(engine), CallRules(tz=WIT),
                         [CallSource("q", tmp_path / "queue_log", "queue_log"),
                          CallSource("cdr", tmp_path / "Master.csv", "cdr")],
                         hash_key=b"sim", clock=lambda: end)
    report = ingest.poll()
    assert report.rejects == 0
    fig = store.call_figures()
    truth = sim.truth
    answered = [c.hold_s for c in truth if c.outcome == "answered"]
    left = [c for c in truth if c.outcome != "answered"]
    assert fig.calls_today == len(truth) > 100
    assert fig.answered_today == len(answered)
    assert fig.abandoned_today == len(left) > 0
    assert fig.answer_median_s == statistics.median(answered)
    assert fig.answer_p90_s == percentile([float(h) for h in answered], 90)
    assert fig.abandon_wait_median_s == statistics.median([c.wait_s for c in left])
    by_hour = [0] * 24
    for call in truth:
        by_hour[datetime.fromtimestamp(call.entered, WIT).hour] += 1
    assert [h.calls for h in fig.hourly] == by_hour
    late = [c for c in left if c.number and (c.callback is None or c.callback > cut)
            and cut - c.decided > 600]
    assert fig.callbacks_late == len(late)
    assert fig.waiting_now == 0 and fig.agents_now > 0
