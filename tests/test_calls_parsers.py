"""Asterisk queue_log / Master.csv / generic CSV parsers, against real samples and bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ambon_core.calls import mask_phone
from workers.feeds.asterisk import parse_cdr_csv, parse_generic_csv, parse_queue_log

REAL = Path(__file__).parent / "fixtures" / "real" / "asterisk"
WIT = ZoneInfo("Asia/Jayapura")


def _lines(text: str | bytes) -> list[tuple[int, bytes]]:
    raw = text.encode() if isinstance(text, str) else text
    return list(enumerate(raw.split(b"\n"), start=1))


def test_the_documentation_example_line_is_a_ring_no_answer_of_one_second():
    result = parse_queue_log(_lines((REAL / "queue_log.asterisk-docs").read_bytes()))
    (event,) = result.records
    assert (event.event, event.queue, event.agent, event.ring_s) == ("RINGNOANSWER", "MYQUEUE",
                                                                      "SIP/8007", 1.0)
    assert event.at == datetime(2013, 4, 23, 12, 32, 20, tzinfo=UTC)


def test_wazo_samples_read_with_their_own_events_refused_by_name():
    result = parse_queue_log(_lines((REAL / "queue_log.wazo-doc").read_bytes()))
    by_event = {e.event: e for e in result.records}
    assert by_event["CONNECT"].hold_s == 2 and by_event["CONNECT"].member_uniqueid == "1341401601.27"
    assert by_event["CONNECT"].ring_s == 1
    assert by_event["ENTERQUEUE"].caller == "1000" and by_event["ENTERQUEUE"].orig_position == 1
    assert (by_event["COMPLETEAGENT"].hold_s, by_event["COMPLETEAGENT"].talk_s) == (2, 12)
    abandon = by_event["ABANDON"]
    assert (abandon.position, abandon.orig_position, abandon.wait_s) == (1, 1, 6)
    assert {r.reason for r in result.rejects} == {"unknown event 'JOINEMPTY'", "unknown event 'FULL'",
                                                  "unknown event 'CLOSED'"}
    assert {r.field for r in result.rejects} == {"event"}
    assert len(result.records) == 9  # everything else was read


def test_documented_exit_events_carry_position_origposition_and_waittime():
    text = "\n".join([
        "1700000000|1.1|112|NONE|EXITWITHTIMEOUT|2|3|300",
        "1700000001|1.2|112|NONE|EXITWITHKEY|5|1|2|41",
        "1700000002|1.3|112|NONE|EXITEMPTY|1|1|12",
        "1700000003|1.4|112|NONE|EXITWITHTIMEOUT|4",  # Asterisk 1.4 wrote the position only
        "1700000004|1.5|112|PJSIP/7001|TRANSFER|2000|from-internal|5|60|1",
    ])
    timeout, key, empty, old, transfer = parse_queue_log(_lines(text)).records
    assert (timeout.position, timeout.orig_position, timeout.wait_s) == (2, 3, 300)
    assert (key.key, key.position, key.orig_position, key.wait_s) == ("5", 1, 2, 41)
    assert empty.wait_s == 12 and old.position == 4 and old.wait_s is None
    assert (transfer.hold_s, transfer.talk_s) == (5, 60)


def test_the_callers_name_is_never_kept_and_dead_letters_mask_the_number():
    text = "\n".join(["1700000000|1.1|112|NONE|ENTERQUEUE||081234567890|1|Budi Santoso",
                      "1700000001|1.1|112|NONE|ENTERQUEUE||081234567890|x|Budi Santoso"])
    result = parse_queue_log(_lines(text))
    assert result.records[0].caller == "081234567890"
    assert "Budi" not in repr(result.records[0])
    (reject,) = result.rejects
    assert reject.field == "orig_position" and "not a whole number" in reject.reason
    assert "081234567890" not in reject.record_text and "Budi" not in reject.record_text
    assert "0812xxxxxxxx" in reject.record_text


def test_garbled_lines_are_refused_with_the_field_and_the_rest_is_read():
    text = b"\n".join([
        b"1700000000|1.1|112|NONE|ENTERQUEUE||0911345678|1",
        b"\x00\x01\x02 binary junk",
        b"yesterday|1.2|112|NONE|ABANDON|1|1|5",
        b"1700000002|1.3|112",
        b"1700000003|1.4|112|NONE|ABANDON|1|1",
        b"1700000004|1.4|112|NONE|ABANDON|1|1|-5",
        b"",
        b"1700000005|1.1|112|PJSIP/7001|CONNECT|5|1.9|2",
    ])
    result = parse_queue_log(_lines(text))
    assert [e.event for e in result.records] == ["ENTERQUEUE", "CONNECT"]
    reasons = [(r.record_id, r.field, r.reason) for r in result.rejects]
    assert reasons == [
        ("line 2", "line", "garbled: control characters in the line"),
        ("line 3", "time", "'yesterday' is not a Unix timestamp"),
        ("line 4", "line", "3 fields, a queue_log line has at least 5"),
        ("line 5", "wait_s", "ABANDON needs 3 data fields, got 2"),
        ("line 6", "wait_s", "-5 is negative"),
    ]


def _cdr(**over: str) -> str:
    cols = {"accountcode": "", "src": "081234567890", "dst": "112", "dcontext": "from-pstn",
            "clid": '"Budi" <081234567890>', "channel": "PJSIP/trunk-0001", "dstchannel":
            "PJSIP/7001-0002", "lastapp": "Queue", "lastdata": "112", "start": "2026-12-01 21:00:00",
            "answer": "2026-12-01 21:00:09", "end": "2026-12-01 21:02:09", "duration": "129",
            "billsec": "120", "disposition": "ANSWERED", "amaflags": "DOCUMENTATION",
            "uniqueid": "1796130000.12", **over}
    return ",".join('"' + v.replace('"', '""') + '"' if v else "" for v in cols.values())


def test_master_csv_columns_in_the_cdr_csv_order_with_local_times():
    (rec,) = parse_cdr_csv(_lines(_cdr()), WIT).records
    assert (rec.src, rec.dst, rec.dcontext, rec.disposition) == ("081234567890", "112", "from-pstn",
                                                                  "ANSWERED")
    assert rec.start == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 21:00 WIT
    assert (rec.duration_s, rec.billsec, rec.uniqueid) == (129, 120, "1796130000.12")
    assert "Budi" not in repr(rec)
    (gmt,) = parse_cdr_csv(_lines(_cdr()), UTC).records  # cdr.conf usegmtime=yes
    assert gmt.start == datetime(2026, 12, 1, 21, 0, tzinfo=UTC)


def test_an_unanswered_cdr_has_an_empty_answer_and_16_columns_are_enough():
    row = _cdr(answer="", disposition="NO ANSWER", billsec="0")
    row16 = ",".join(row.split(",")[:16])
    for line in (row, row16):
        (rec,) = parse_cdr_csv(_lines(line), WIT).records
        assert rec.answer is None and rec.disposition == "NO ANSWER"


def test_bad_cdr_rows_are_refused_by_column_without_the_number():
    text = "\n".join([_cdr(), "only,three,columns", _cdr(start="kemarin"),
                      _cdr(disposition="MAYBE"), '"unterminated,' + _cdr()])
    result = parse_cdr_csv(_lines(text), WIT)
    assert len(result.records) == 1
    assert [(r.record_id, r.field) for r in result.rejects] == [
        ("line 2", "row"), ("line 3", "start"), ("line 4", "disposition"), ("line 5", "row")]
    for reject in result.rejects:
        assert "081234567890" not in reject.record_text and "Budi" not in reject.record_text


def test_a_generic_call_list_becomes_queue_events_through_its_mapping():
    body = ("id;masuk;dijawab;selesai;nomor\n"
            "A1;2026-12-01T21:00:00+09:00;2026-12-01T21:00:12+09:00;2026-12-01T21:03:00+09:00;0811\n"
            "A2;2026-12-01T21:05:00;;2026-12-01T21:05:40;081299998888\n"
            "A3;;;;\n").replace(";", ",").encode()
    mapping = {"call_id": "id", "entered_at": "masuk", "answered_at": "dijawab",
               "ended_at": "selesai", "caller": "nomor"}
    result = parse_generic_csv(body, mapping, WIT)
    assert [(e.call_id, e.event) for e in result.records] == [
        ("A1", "ENTERQUEUE"), ("A1", "CONNECT"), ("A1", "COMPLETECALLER"),
        ("A2", "ENTERQUEUE"), ("A2", "ABANDON")]
    assert result.records[1].hold_s == 12 and result.records[4].wait_s == 40
    assert [(r.record_id, r.field, r.reason) for r in result.rejects] == [("line 4", "masuk", "empty")]


def test_numbers_are_masked_landlines_too():
    assert mask_phone("081234567890") == "0812-xxxx-xxxx"
    assert mask_phone("+62 812-3456-7890") == "0812-xxxx-xxxx"
    assert mask_phone("0911-345678") == "0911-xxxxxx"
    assert mask_phone("0911345678") == "0911-xxxxxx"
    assert mask_phone("7001") == "xxxx"
    assert mask_phone(None) == "-"
