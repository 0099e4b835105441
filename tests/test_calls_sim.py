"""A simulated day of the 112 centre: the figures read from its files equal its truth."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ambon_core.call_figures import CallRules, percentile
from ambon_core.db import session_factory
from ambon_sim.callcentre import simulate_day
from workers.feeds.calls_ingest import CallsIngest, CallSource

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


def test_the_simulated_city_writes_the_112_files_and_the_worker_reads_them(
        tmp_path, settings, redis_client, session, monkeypatch):
    """`make run`: the feed simulator hosts the 112 centre; the calls worker follows its files."""
    import os
    import subprocess
    import sys
    import time as time_mod

    from sqlalchemy import func, select

    from ambon_core.models import CallRecord
    from ambon_core.settings import ROOT, get_settings
    from workers.feeds.calls_worker import CallsWorker

    folder = tmp_path / "callcentre"
    env = {**os.environ, "SIM_ENABLED": "true"}
    sim = subprocess.Popen([sys.executable, "-m", "ambon_sim.feeds", "--port", "0",
                            "--calls-dir", str(folder), "--speed", "1",
                            "--start", "2026-12-01T21:00:00"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        log = folder / "queue_log"
        while not (log.exists() and "ENTERQUEUE" in log.read_text()):
            assert sim.poll() is None and datetime.now(UTC) < deadline, "no 112 lines written"
            time_mod.sleep(0.2)  # polling the file for the condition, not waiting it out
    finally:
        sim.terminate()
        sim.wait(timeout=10)
    monkeypatch.setenv("CALLS_QUEUE_LOG", str(log))
    monkeypatch.setenv("CALLS_CDR_CSV", str(folder / "Master.csv"))
    get_settings.cache_clear()
    worker = CallsWorker(get_settings())
    worker.run_once()
    assert worker.store.call_figures() is not None
    assert session.scalar(select(func.count()).select_from(CallRecord)) > 20  # 00:00-21:00 WIT
    assert worker.store.heartbeat("calls") is not None


def test_the_centre_is_busier_while_the_city_is_under_a_weather_warning():
    from ambon_sim import feed_world

    start = datetime(2026, 12, 1, tzinfo=WIT)
    storms = feed_world.cap_windows(7, start - timedelta(days=1), start, start + timedelta(days=1))
    stormy = simulate_day(7, start.date(), storms=storms)
    calm = simulate_day(7, start.date(), storms=[])
    assert stormy.storm_hours and not calm.storm_hours
    per_hour = {h: 0 for h in range(24)}
    for call in stormy.truth:
        per_hour[datetime.fromtimestamp(call.entered, WIT).hour] += 1
    storm_rate = sum(per_hour[h] for h in stormy.storm_hours) / len(stormy.storm_hours)
    calm_hours = set(range(24)) - stormy.storm_hours
    assert storm_rate > 1.3 * sum(per_hour[h] for h in calm_hours) / len(calm_hours)
