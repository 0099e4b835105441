"""The call book and its figures and alerts (pure: events and a clock in, numbers out)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ambon_core.call_figures import CallRules, call_alerts, call_figures, percentile
from ambon_core.calls import CallBook, CdrRecord, QueueEvent
from ambon_core.domain import AlertKind

WIT = ZoneInfo("Asia/Jayapura")
T0 = datetime(2026, 12, 1, 20, 0, tzinfo=WIT).astimezone(UTC)  # 20:00 WIT
RULES = CallRules(tz=WIT)


def ev(s: float, call: str, event: str, agent: str = "NONE", **kw) -> QueueEvent:
    return QueueEvent(at=T0 + timedelta(seconds=s), call_id=call, queue="112", agent=agent,
                      event=event, **kw)


def _day() -> list[QueueEvent]:
    return [
        ev(0, "NONE", "ADDMEMBER", "PJSIP/7001"), ev(0, "NONE", "ADDMEMBER", "PJSIP/7002"),
        ev(10, "c1", "ENTERQUEUE", caller="081234567890"),
        ev(14, "c1", "CONNECT", "PJSIP/7001", hold_s=4, ring_s=2),
        ev(100, "c1", "COMPLETECALLER", "PJSIP/7001", hold_s=4, talk_s=86),
        ev(20, "c2", "ENTERQUEUE", caller="0911345678"),
        ev(60, "c2", "ABANDON", position=1, orig_position=1, wait_s=40),
        ev(30, "c3", "ENTERQUEUE", caller="085200001111"),
        ev(58, "c3", "CONNECT", "PJSIP/7002", hold_s=28),
        ev(40, "c4", "ENTERQUEUE", caller="081377778888"),
        ev(340, "c4", "EXITWITHTIMEOUT", position=1, orig_position=2, wait_s=300),
        ev(400, "NONE", "PAUSE", "PJSIP/7002", reason="Istirahat"),
        ev(500, "c5", "ENTERQUEUE", caller=None),
    ]


def _book(events: list[QueueEvent]) -> CallBook:
    book = CallBook(hash_key=b"test")
    for e in sorted(events, key=lambda e: e.at):
        book.apply(e)
    return book


def test_figures_of_a_small_evening():
    book = _book(_day())
    now = T0 + timedelta(seconds=530)
    fig = call_figures(book, now, RULES)
    assert (fig.calls_today, fig.answered_today, fig.abandoned_today) == (5, 2, 2)
    assert fig.abandoned_by_reason == {"abandoned": 1, "timeout": 1}
    assert fig.answered_share == 0.5
    assert (fig.answer_median_s, fig.answer_p90_s) == (16.0, percentile([4.0, 28.0], 90))
    assert fig.abandon_wait_median_s == 170.0  # after how long: 40 s and 300 s
    assert (fig.waiting_now, fig.longest_wait_now_s) == (1, 30.0)
    assert (fig.agents_now, fig.agents_paused_now) == (2, 1)
    assert fig.hourly[20].calls == 5 and fig.hourly[20].agents == 2 and fig.hourly[19].calls == 0
    evening = next(s for s in fig.shifts if s.shift == "15-23")
    assert (evening.calls, evening.answered, evening.abandoned) == (5, 2, 2)
    assert fig.last_hour_decided == 4 and fig.last_hour_abandoned_share == 0.5


def test_numbers_appear_only_masked_and_only_in_the_callback_list():
    book = _book(_day())
    fig = call_figures(book, T0 + timedelta(minutes=30), RULES)
    text = fig.model_dump_json()
    for number in ("081234567890", "0911345678", "085200001111", "081377778888"):
        assert number not in text
    assert sorted(c.masked for c in fig.callback_list) == ["0813-xxxx-xxxx",
                                                           "0911-xxxxxx"]
    assert fig.counts_only().callback_list == [] and fig.counts_only().callbacks_late == 2


def test_alerts_wait_callback_and_abandon_share():
    book = _book(_day())
    now = T0 + timedelta(seconds=530)  # c5 waits 30 s > 20 s
    fig = call_figures(book, now, RULES)
    kinds = sorted(a.kind for a in call_alerts(book, fig, now, RULES))
    assert kinds == [AlertKind.CALL_ABANDON_RATE, AlertKind.CALL_WAITING]
    later = T0 + timedelta(minutes=12)  # c2 left at +60 s: 11 min without a call-back
    book.apply(ev(700, "c5", "CONNECT", "PJSIP/7001", hold_s=200))
    alerts = call_alerts(book, call_figures(book, later, RULES), later, RULES)
    callbacks = [a for a in alerts if a.kind == AlertKind.CALL_NOT_CALLED_BACK]
    assert len(callbacks) == 1 and callbacks[0].params["minutes"] == 11
    assert all("0911" not in str(a.params) for a in alerts)
    book.apply_cdr(CdrRecord(src="7001", dst="0911-345678", dcontext="from-internal",
                             start=later, answer=later, end=later + timedelta(seconds=60),
                             duration_s=60, billsec=60, disposition="ANSWERED", uniqueid="x"))
    after = call_alerts(book, call_figures(book, later, RULES), later, RULES)
    assert not [a for a in after if a.kind == AlertKind.CALL_NOT_CALLED_BACK]
    assert book.calls["c2"].caller_number is None  # reached: the number is no longer kept


def test_a_caller_who_gets_through_later_is_not_owed_a_call_back():
    book = _book([ev(0, "a", "ENTERQUEUE", caller="081234567890"),
                  ev(30, "a", "ABANDON", position=1, orig_position=1, wait_s=30),
                  ev(90, "b", "ENTERQUEUE", caller="+6281234567890"),
                  ev(95, "b", "CONNECT", "PJSIP/7001", hold_s=5)])
    fig = call_figures(book, T0 + timedelta(minutes=30), RULES)
    assert fig.callbacks_owed == 0 and book.calls["a"].callback_at == T0 + timedelta(seconds=95)


def test_the_same_events_twice_change_nothing():
    once = call_figures(_book(_day()), T0 + timedelta(seconds=530), RULES)
    twice_book = CallBook(hash_key=b"test")
    for e in sorted(_day(), key=lambda e: e.at):
        twice_book.apply(e)
    for e in sorted(_day(), key=lambda e: e.at):
        twice_book.apply(e)
    twice = call_figures(twice_book, T0 + timedelta(seconds=530), RULES)
    assert once.model_dump(exclude={"clock_jumps"}) == twice.model_dump(exclude={"clock_jumps"})


def test_a_clock_jump_is_counted_and_waits_come_from_the_pbx_counters():
    book = CallBook(hash_key=b"test")
    notes = [book.apply(e) for e in [ev(0, "a", "ENTERQUEUE", caller="0811111111"),
                                     ev(-3600, "a", "CONNECT", "PJSIP/7001", hold_s=7, line=2)]]
    assert notes[0] is None and notes[1].startswith("clock jump: line 2 is 3600 s older")
    assert book.clock_jumps == 1 and book.calls["a"].hold_s == 7


def test_queuestart_ends_the_waits_of_a_restarted_pbx():
    book = _book([ev(0, "a", "ENTERQUEUE", caller="0811111111"), ev(5, "NONE", "QUEUESTART")])
    fig = call_figures(book, T0 + timedelta(seconds=60), RULES)
    assert fig.waiting_now == 0 and fig.lost_today == 1 and fig.abandoned_today == 0


def test_an_exit_whose_entry_was_never_read_still_counts_with_its_own_wait():
    book = _book([ev(100, "x", "ABANDON", position=2, orig_position=3, wait_s=45)])
    call = book.calls["x"]
    assert call.entered_at == T0 + timedelta(seconds=55) and call.wait_s == 45


def test_prune_keeps_memory_bounded_and_closes_waits_that_never_ended():
    book = _book([ev(0, "a", "ENTERQUEUE", caller="0811111111"), ev(10, "b", "ENTERQUEUE"),
                  ev(20, "b", "CONNECT", "PJSIP/7001", hold_s=10)])
    book.take_dirty()
    book.prune(T0 + timedelta(hours=30))
    assert [c.outcome for c in book.take_dirty()] == ["lost"]
    book.prune(T0 + timedelta(hours=30))
    assert book.calls == {}


def test_an_entry_read_again_does_not_reopen_an_unanswered_call_but_a_new_queue_does():
    book = _book([ev(0, "a", "ENTERQUEUE", caller="0811111111"),
                  ev(30, "a", "ABANDON", position=1, orig_position=1, wait_s=30)])
    book.apply(ev(0, "a", "ENTERQUEUE", caller="0811111111"))  # a restart re-reads the file
    assert book.calls["a"].outcome == "abandoned"
    book.apply(ev(40, "a", "EXITWITHTIMEOUT", position=1, orig_position=1, wait_s=10))
    book.apply(ev(45, "a", "ENTERQUEUE", caller="0811111111"))  # the overflow queue takes it
    assert book.calls["a"].outcome == "waiting"
