"""Call-centre records as Asterisk writes them: ``queue_log`` lines, ``Master.csv`` CDR rows,
and a generic CSV with a column mapping for other systems. Pure: bytes in, typed records out.

``queue_log`` (docs.asterisk.org, Operation/Logging/Queue-Logs): one event per line,
``time|callid|queue|agent|event|data1|data2|…``; time is a Unix timestamp, the data fields
depend on the event (see :data:`EVENT_FIELDS`, read from that page; older Asterisk versions
write fewer trailing fields, so only the leading ones an event needs are required).

``Master.csv`` (cdr/cdr_csv.c, ``build_csv_record``): no header row; columns accountcode,
src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, end,
duration, billsec, disposition, amaflags, then uniqueid (``loguniqueid``) and userfield
(``loguserfield``) when enabled; dates ``%Y-%m-%d %H:%M:%S`` in the PBX's local time
(UTC with ``usegmtime``); an unanswered call has an empty answer field.

A line that cannot be used becomes a :class:`~workers.feeds.common.Reject` with the field
and the reason; its text is redacted (numbers masked) before anyone stores it. The
caller's name (``clid``, ENTERQUEUE's optional fourth field) is never kept.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo

from ambon_core.calls import CdrRecord, QueueEvent
from workers.feeds.common import ParseResult, RecordError, Reject

# event -> its data fields in order, (attribute, kind); from the Asterisk queue log reference.
# Kinds: int (seconds or a position), ms (milliseconds -> seconds), str.
EVENT_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "ABANDON": (("position", "int"), ("orig_position", "int"), ("wait_s", "int")),
    "ADDMEMBER": (),
    "AGENTDUMP": (),
    "AGENTLOGIN": (("channel", "str"),),
    "AGENTCALLBACKLOGIN": (("channel", "str"),),
    "AGENTLOGOFF": (("channel", "str"), ("login_s", "int")),
    "AGENTCALLBACKLOGOFF": (("channel", "str"), ("login_s", "int"), ("reason", "str")),
    "ATTENDEDTRANSFER": (("method", "str"), ("method_data", "str"), ("hold_s", "int"),
                         ("talk_s", "int"), ("orig_position", "int")),
    "BLINDTRANSFER": (("extension", "str"), ("context", "str"), ("hold_s", "int"),
                      ("talk_s", "int"), ("orig_position", "int")),
    "COMPLETEAGENT": (("hold_s", "int"), ("talk_s", "int"), ("orig_position", "int")),
    "COMPLETECALLER": (("hold_s", "int"), ("talk_s", "int"), ("orig_position", "int")),
    "CONFIGRELOAD": (),
    "CONNECT": (("hold_s", "int"), ("member_uniqueid", "str"), ("ring_s", "int")),
    "ENTERQUEUE": (("url", "str"), ("caller", "str"), ("orig_position", "int")),
    "EXITEMPTY": (("position", "int"), ("orig_position", "int"), ("wait_s", "int")),
    "EXITWITHKEY": (("key", "str"), ("position", "int"), ("orig_position", "int"),
                    ("wait_s", "int")),
    "EXITWITHTIMEOUT": (("position", "int"), ("orig_position", "int"), ("wait_s", "int")),
    "QUEUESTART": (),
    "REMOVEMEMBER": (),
    "RINGNOANSWER": (("ring_s", "ms"),),
    "RINGCANCELED": (),
    "SYSCOMPAT": (),
    "TRANSFER": (("extension", "str"), ("context", "str"), ("hold_s", "int"), ("talk_s", "int"),
                 ("orig_position", "int")),
    # Member pauses (Asterisk app_queue; PAUSEALL/UNPAUSEALL appear in Wazo's queue_log samples)
    "PAUSE": (("reason", "str"),),
    "UNPAUSE": (("reason", "str"),),
    "PAUSEALL": (("reason", "str"),),
    "UNPAUSEALL": (("reason", "str"),),
}
# How many leading data fields an event must carry to be usable (older versions write fewer).
REQUIRED_FIELDS = {"ABANDON": 3, "CONNECT": 1, "COMPLETEAGENT": 2, "COMPLETECALLER": 2,
                   "ENTERQUEUE": 2, "EXITEMPTY": 0, "EXITWITHKEY": 1, "EXITWITHTIMEOUT": 0,
                   "TRANSFER": 2, "BLINDTRANSFER": 2, "ATTENDEDTRANSFER": 2}
CDR_COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel",
               "lastapp", "lastdata", "start", "answer", "end", "duration", "billsec",
               "disposition", "amaflags")
CDR_OPTIONAL = ("uniqueid", "userfield")  # loguniqueid, then loguserfield (cdr_csv.c order)
CDR_DISPOSITIONS = frozenset({"ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"})
CDR_DATE = "%Y-%m-%d %H:%M:%S"
MAX_LINE_BYTES = 4096
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DIGIT_RUN = re.compile(r"\+?\d{3,}(?:[- ]\d{3,})*")  # not dates: their groups are shorter
_UNIX_TIME = re.compile(r"\d{9,11}(\.\d+)?")
_CLID = re.compile(r'"*[^",<]*"*\s*<[^>]*>')  # a callerid: "Name" <number>
_ID = re.compile(r"1\d{9}(\.\d+)?|[A-Za-z]*")  # a Unix time / uniqueid, NONE, REALTIME


_EVENT_ATTRS = frozenset(QueueEvent.__dataclass_fields__) - {"at", "call_id", "queue", "agent"}


def mask_digits(text: str) -> str:
    """Every run of 6+ digits (a phone number, also a landline) shown as its first 4 + x."""
    def hide(m: re.Match[str]) -> str:
        run = m.group(0)
        return run if sum(c.isdigit() for c in run) < 6 else run[:4] + re.sub(r"\d", "x", run[4:])
    return _DIGIT_RUN.sub(hide, text)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # callerid names from old PBXs; never fatal


def _number(value: str, kind: str, name: str) -> int | float | str | None:
    value = value.strip()
    if kind == "str":
        return value
    if value == "":
        return None
    if not value.lstrip("-").isdigit():
        raise RecordError(name, f"{value[:20]!r} is not a whole number")
    number = int(value)
    if number < 0:
        raise RecordError(name, f"{number} is negative")
    return number / 1000.0 if kind == "ms" else number


def _timestamp(value: str) -> datetime:
    if value.isdigit() and 9 <= len(value) <= 11:  # the usual case, without a regex
        return datetime.fromtimestamp(int(value), UTC)
    head = value.strip()
    if not _UNIX_TIME.fullmatch(head):
        raise RecordError("time", f"{head[:24]!r} is not a Unix timestamp")
    return datetime.fromtimestamp(float(head), UTC)


def parse_queue_line(text: str, line: int = 0) -> QueueEvent:
    """One queue_log line -> a typed event; raises RecordError naming the field."""
    if _CONTROL.search(text):
        raise RecordError("line", "garbled: control characters in the line")
    parts = text.rstrip("\r\n").split("|")
    if len(parts) < 5:
        raise RecordError("line", f"{len(parts)} fields, a queue_log line has at least 5")
    at = _timestamp(parts[0])
    event = parts[4].strip()
    spec = EVENT_FIELDS.get(event)
    if spec is None:
        raise RecordError("event", f"unknown event {event[:30]!r}")
    data, required = parts[5:], REQUIRED_FIELDS.get(event, 0)
    if len(data) < required:
        raise RecordError(spec[len(data)][0], f"{event} needs {required} data fields, got {len(data)}")
    values: dict[str, object] = {}
    for i, ((name, kind), raw) in enumerate(zip(spec, data, strict=False)):
        value = _number(raw, kind, name)
        if value is None and i < required and kind != "str":
            raise RecordError(name, "empty")
        if name in _EVENT_ATTRS:
            values[name] = (value or None) if kind == "str" else value
    return QueueEvent(at=at, call_id=parts[1].strip(), queue=parts[2].strip(),
                      agent=parts[3].strip(), event=event, line=line, **values)  # type: ignore[arg-type]


def redact_queue_line(text: str) -> str:
    """A queue_log line safe for the dead letters: numbers masked, the caller's name dropped."""
    parts = text.rstrip("\r\n").split("|")
    head, data = parts[:5], parts[5:]
    if len(head) == 5 and head[4].strip() == "ENTERQUEUE" and len(data) > 3:
        data[3:] = ["[nama disembunyikan]"]
    ids = [f if _ID.fullmatch(f.strip()) else mask_digits(f) for f in head[:2]]
    return "|".join([*ids, *(mask_digits(f) for f in [*head[2:], *data])])


def parse_queue_log(lines: Iterable[tuple[int, bytes]]) -> ParseResult:
    """(line number, raw bytes) pairs -> events and rejects; the rest is always read."""
    result = ParseResult()
    for number, raw in lines:
        text = _decode(raw[:MAX_LINE_BYTES]).rstrip("\r\n")
        if not text.strip():
            continue
        try:
            if len(raw) > MAX_LINE_BYTES:
                raise RecordError("line", f"{len(raw)} bytes, longer than {MAX_LINE_BYTES}")
            result.records.append(parse_queue_line(text, number))
        except RecordError as exc:
            result.rejects.append(Reject(f"line {number}", redact_queue_line(text)[:500],
                                         exc.field, exc.reason))
    return result


def _cdr_time(value: str, name: str, zone: tzinfo) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        return datetime.strptime(value, CDR_DATE).replace(tzinfo=zone).astimezone(UTC)
    except ValueError:
        raise RecordError(name, f"{value[:25]!r} is not YYYY-MM-DD HH:MM:SS") from None


def parse_cdr_row(row: list[str], zone: tzinfo, line: int = 0) -> CdrRecord:
    """One Master.csv row (no header) -> a CDR record; raises RecordError naming the column."""
    if len(row) < len(CDR_COLUMNS):
        raise RecordError("row", f"{len(row)} columns, Master.csv has at least {len(CDR_COLUMNS)}")
    cols = dict(zip(CDR_COLUMNS + CDR_OPTIONAL, row, strict=False))
    start, end = _cdr_time(cols["start"], "start", zone), _cdr_time(cols["end"], "end", zone)
    if start is None or end is None:
        raise RecordError("start" if start is None else "end", "empty")
    disposition = cols["disposition"].strip().upper()
    if disposition not in CDR_DISPOSITIONS:
        raise RecordError("disposition", f"{disposition[:20]!r} is not one of Asterisk's")
    duration, billsec = (_number(cols[c], "int", c) for c in ("duration", "billsec"))
    return CdrRecord(src=cols["src"].strip(), dst=cols["dst"].strip(),
                     dcontext=cols["dcontext"].strip(), start=start,
                     answer=_cdr_time(cols["answer"], "answer", zone), end=end,
                     duration_s=int(duration or 0), billsec=int(billsec or 0),
                     disposition=disposition, uniqueid=cols.get("uniqueid", "").strip(),
                     line=line, accountcode=cols["accountcode"].strip(),
                     lastapp=cols["lastapp"].strip())


def _redact_cdr(row: list[str]) -> str:
    personal = {1, 2, 4, 5, 6, 8}  # src, dst, clid, channel, dstchannel, lastdata
    return ",".join(("[disembunyikan]" if i == 4 else mask_digits(v)) if i in personal else v
                    for i, v in enumerate(row))


def parse_cdr_csv(lines: Iterable[tuple[int, bytes]], zone: tzinfo) -> ParseResult:
    """Master.csv lines -> CDR records and rejects (a quoted field never spans lines)."""
    result = ParseResult()
    for number, raw in lines:
        text = _decode(raw[:MAX_LINE_BYTES]).rstrip("\r\n")
        if not text.strip():
            continue
        try:
            if _CONTROL.search(text):
                raise RecordError("row", "garbled: control characters in the row")
            row = next(csv.reader(io.StringIO(text), strict=True))
        except (csv.Error, RecordError, StopIteration) as exc:
            field = exc.field if isinstance(exc, RecordError) else "row"
            result.rejects.append(Reject(f"line {number}", mask_digits(_CLID.sub(
                "[disembunyikan]", text))[:500], field,
                                         getattr(exc, "reason", f"not CSV: {exc}")))
            continue
        try:
            result.records.append(parse_cdr_row(row, zone, number))
        except RecordError as exc:
            result.rejects.append(Reject(f"line {number}", _redact_cdr(row)[:500], exc.field,
                                         exc.reason))
    return result


# ---- a generic call list (other call-centre systems) -------------------------------
GENERIC_FIELDS = ("call_id", "entered_at", "answered_at", "ended_at", "caller", "queue", "agent")


def _iso(value: str, name: str, zone: tzinfo) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(name, f"{value[:25]!r} is not an ISO 8601 time") from None
    return (when if when.tzinfo else when.replace(tzinfo=zone)).astimezone(UTC)


def generic_events(row: Mapping[str, str], mapping: Mapping[str, str], zone: tzinfo,
                   line: int = 0) -> list[QueueEvent]:
    """One call of a generic CSV (one row per call) as the queue events it stands for."""
    get = {f: (row.get(mapping[f]) or "") if f in mapping else "" for f in GENERIC_FIELDS}
    call_id = get["call_id"].strip()
    if not call_id:
        raise RecordError(mapping.get("call_id", "call_id"), "empty call id")
    entered = _iso(get["entered_at"], mapping.get("entered_at", "entered_at"), zone)
    if entered is None:
        raise RecordError(mapping.get("entered_at", "entered_at"), "empty")
    answered = _iso(get["answered_at"], mapping.get("answered_at", "answered_at"), zone)
    ended = _iso(get["ended_at"], mapping.get("ended_at", "ended_at"), zone)
    queue, agent = get["queue"].strip() or "112", get["agent"].strip() or "NONE"
    base = {"call_id": call_id, "queue": queue, "line": line}
    events = [QueueEvent(at=entered, agent="NONE", event="ENTERQUEUE",
                         caller=get["caller"].strip() or None, **base)]
    if answered is not None:
        if answered < entered:
            raise RecordError(mapping["answered_at"], "answered before the call entered")
        events.append(QueueEvent(at=answered, agent=agent, event="CONNECT",
                                 hold_s=round((answered - entered).total_seconds()), **base))
        if ended is not None:
            events.append(QueueEvent(at=ended, agent=agent, event="COMPLETECALLER",
                                     hold_s=events[-1].hold_s,
                                     talk_s=round((ended - answered).total_seconds()), **base))
    elif ended is not None:
        events.append(QueueEvent(at=ended, agent="NONE", event="ABANDON",
                                 wait_s=round((ended - entered).total_seconds()), **base))
    return events


def parse_generic_csv(body: bytes, mapping: Mapping[str, str], zone: tzinfo,
                      header: list[str] | None = None, first_line: int = 1) -> ParseResult:
    """A CSV with a header (or ``header`` given, for an appended chunk) -> queue events."""
    result = ParseResult()
    text = _decode(body)
    reader = csv.DictReader(io.StringIO(text), fieldnames=header)
    missing = [mapping[f] for f in ("call_id", "entered_at") if f in mapping
               and mapping[f] not in (reader.fieldnames or [])]
    if missing or "call_id" not in mapping or "entered_at" not in mapping:
        raise RecordError("mapping", f"the CSV has no column {missing or ['call_id/entered_at']}")
    offset = first_line + (0 if header else 1)
    for n, row in enumerate(reader):
        try:
            result.records.extend(generic_events(row, mapping, zone, offset + n))
        except RecordError as exc:
            redacted = {k: mask_digits(str(v)) for k, v in row.items() if k != mapping.get("caller")}
            result.rejects.append(Reject(f"line {offset + n}", str(redacted)[:500], exc.field,
                                         exc.reason))
    return result
