"""Following the PBX files into SQL and Redis, against a real SQLite and a real Redis."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from ambon_core.call_figures import CallRules
from ambon_core.db import session_factory
from ambon_core.domain import AlertKind
from ambon_core.models import CallRecord
from ambon_core.privacy import public_view
from workers.feeds.calls_ingest import CallsIngest, CallSource

WIT = ZoneInfo("Asia/Jayapura")
T0 = datetime(2026, 12, 1, 21, 0, tzinfo=WIT).astimezone(UTC)
NUMBERS = ("081234567890", "0911345678", "085211112222")


def line(s: int, call: str, rest: str) -> str:
    return f"{int(T0.timestamp()) + s}|{call}|112|{rest}\n"


CALLS = [line(0, "1.1", f"NONE|ENTERQUEUE||{NUMBERS[0]}|1"),
         line(5, "1.1", "PJSIP/7001|CONNECT|5|1.9|2"),
         line(9, "1.2", f"NONE|ENTERQUEUE||{NUMBERS[1]}|1"),
         line(49, "1.2", "NONE|ABANDON|1|1|40"),
         line(60, "1.1", "PJSIP/7001|COMPLETECALLER|5|55|1")]
MORE = [line(70, "1.3", f"NONE|ENTERQUEUE||{NUMBERS[2]}|1"),
        line(82, "1.3", "PJSIP/7002|CONNECT|12|1.8|3")]


@pytest.fixture
def world(tmp_path, store, engine, session):
    clock = [T0 + timedelta(seconds=100)]
    path = tmp_path / "queue_log"

    def ingest() -> CallsIngest:
        return CallsIngest(store, session_factory(engine), CallRules(tz=WIT),
                           [CallSource("asterisk-queue-log", path, "queue_log")],
                           hash_key=b"test", clock=lambda: clock[0], chunk_bytes=128)
    return path, ingest, clock


def _append(path: Path, lines: list[str]) -> None:
    with path.open("a") as fh:
        fh.write("".join(lines))


def test_a_restart_neither_loses_nor_recounts_a_line(world, store, session):
    path, ingest, _ = world
    _append(path, CALLS)
    ingest().poll()
    _append(path, MORE)
    report = ingest().poll()  # a new process: the book comes back from SQL, the offset too
    assert report.lines == 2
    fig = store.call_figures()
    assert (fig.calls_today, fig.answered_today, fig.abandoned_today) == (3, 2, 1)
    assert fig.answer_median_s == 8.5  # holds of 5 s and 12 s
    assert session.scalar(select(func.count()).select_from(CallRecord)) == 3


def test_a_failed_store_reads_the_lines_again_without_counting_twice(world, store, engine):
    path, ingest, _ = world
    _append(path, CALLS)
    reader = ingest()
    with engine.begin() as conn:  # the database refuses the offset write: nothing is kept
        conn.execute(text("ALTER TABLE call_feed_offset RENAME TO call_feed_offset_away"))
    with pytest.raises(Exception, match="call_feed_offset"):
        reader.poll()
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE call_feed_offset_away RENAME TO call_feed_offset"))
    reader.poll()
    fig = store.call_figures()
    assert (fig.calls_today, fig.answered_today, fig.abandoned_today) == (2, 1, 1)
    assert fig.clock_jumps == 0  # the second reading was not taken for a jump back in time


def test_rotation_and_truncation_under_the_reader(world, store, caplog):
    path, ingest, _ = world
    reader = ingest()
    _append(path, CALLS[:3])
    reader.poll()
    _append(path, CALLS[3:])
    path.rename(path.with_name("queue_log.1"))
    _append(path, MORE)
    caplog.set_level(logging.WARNING)
    reader.poll()
    fig = store.call_figures()
    assert (fig.calls_today, fig.answered_today, fig.abandoned_today) == (3, 2, 1)
    assert "rotated: finished the old file (queue_log.1)" in caplog.text
    path.write_text(line(90, "1.4", "NONE|ENTERQUEUE||0811000000|1"))  # rewritten in place
    reader.poll()
    fig = store.call_figures()
    assert fig.calls_today == 4 and fig.waiting_now == 1
    assert "truncated" in caplog.text


def test_bad_lines_go_to_the_dead_letters_with_file_line_field_and_no_number(world, store, caplog):
    path, ingest, _ = world
    caplog.set_level(logging.DEBUG)
    _append(path, [CALLS[0], "garbled\x00line\n", line(3, "1.9", "NONE|JOINEMPTY|"),
                   line(4, "1.1", "PJSIP/7001|CONNECT|x|1.9|2"), *CALLS[1:],
                   line(5, "1.8", f"NONE|ABANDON|{NUMBERS[2]}x|1|5"),  # shifted: a number where
                   # a position belongs, quoted by the reason
                   line(-4000, "1.7", f"NONE|ENTERQUEUE||{NUMBERS[2]}|1")])
    report = ingest().poll()
    assert report.rejects == 4
    reasons = [d["reason"] for d in reversed(store.events(stream="deadletter"))]
    assert reasons[:3] == ["queue_log:2: line: garbled: control characters in the line",
                           "queue_log:3: event: unknown event 'JOINEMPTY'",
                           "queue_log:4: hold_s: 'x' is not a whole number"]
    assert reasons[3] == "queue_log:9: position: '0852xxxxxxxxx' is not a whole number"
    assert reasons[4].startswith("queue_log: clock jump: line 10 is 4060 s older")
    fig = store.call_figures()
    assert (fig.calls_today, fig.answered_today, fig.clock_jumps) == (3, 1, 1)
    dump = " ".join(str(store.r.dump(k)) for k in store.r.keys("*")) + caplog.text
    for number in NUMBERS:
        assert number not in dump  # not in Redis (figures, dead letters, alerts) nor in the log


def test_alerts_follow_the_clock_and_the_wall_gets_counts_only(world, store):
    path, ingest, clock = world
    _append(path, [*CALLS, MORE[0]])
    reader = ingest()
    reader.poll()
    alerts = store.read_live().alerts.values()
    assert {a.kind for a in alerts} == {AlertKind.CALL_WAITING, AlertKind.CALL_ABANDON_RATE}
    clock[0] = T0 + timedelta(minutes=11)
    _append(path, [MORE[1]])
    reader.poll()
    live = store.read_live()
    assert {a.kind for a in live.alerts.values()} == {AlertKind.CALL_NOT_CALLED_BACK,
                                                      AlertKind.CALL_ABANDON_RATE}
    assert live.calls.callback_list[0].masked == "0911-xxxxxx"
    wall = public_view(live)
    assert wall.calls.callback_list == [] and wall.calls.callbacks_late == 1


def test_without_a_configured_centre_nothing_is_published(store, engine, session):
    CallsIngest(store, session_factory(engine), CallRules(tz=WIT), []).poll()
    assert store.call_figures() is None  # the panel says "no 112 data yet", not zeros
