"""A simulated 112 call centre: Asterisk queue_log and Master.csv lines, with ground truth.

Pure and seeded (:func:`simulate_day`): calls arrive by time of day (busier in the evening
and at night, when conflicts flare; several times busier in a storm, when floods come),
agents on three shifts take them first come first served after a few seconds of ringing
(now and then one lets it ring out), take breaks, and some callers hang up before anyone
answers; their numbers are called back minutes later. Times are whole seconds, so the truth
(who waited how long) is exactly what the lines say. :class:`CallCentreWriter` appends the
lines to files as the sim clock passes them (the simulated city hosts it).
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

WIT = ZoneInfo("Asia/Jayapura")
SIM_CALLS_DIR = Path(__file__).resolve().parents[2] / "data" / "runtime" / "sim" / "callcentre"
QUEUE = "112"
# calls per hour of the day (WIT): daytime errands, an evening peak, conflict at night
HOURLY_RATE = (7, 6, 5, 4, 3, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 8, 9, 10, 10, 10, 9, 8)
STORM_FACTOR = 2.0
SHIFTS = ((7, 15, 3), (15, 23, 3), (23, 7, 2))  # first hour, last hour, agents
QUEUE_TIMEOUT_S = 300
RING_OUT_S = 15
LAST_ARRIVAL = time(23, 40)  # the queue empties before midnight: one whole day of truth


@dataclass
class TruthCall:
    call_id: str
    entered: int  # Unix seconds
    outcome: str  # answered | abandoned | timeout
    number: str | None
    hold_s: int | None = None
    wait_s: int | None = None
    decided: int = 0
    callback: int | None = None


@dataclass
class SimDay:
    queue_log: list[tuple[int, str]] = field(default_factory=list)  # (unix time, line)
    cdr: list[tuple[int, str]] = field(default_factory=list)
    truth: list[TruthCall] = field(default_factory=list)
    storm_hours: set[int] = field(default_factory=set)


def _rng(*parts: object) -> random.Random:
    return random.Random(int(hashlib.sha256(repr(parts).encode()).hexdigest()[:16], 16))


def _number(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.05:
        return None  # withheld
    if roll < 0.25:
        return f"0911{rng.randint(300000, 399999)}"  # an Ambon landline
    return f"08{rng.choice('1235')}{rng.randint(10 ** 8, 10 ** 9 - 1)}"


def _agents(day_start: int) -> list[tuple[str, int, int, tuple[int, int]]]:
    """(member, on duty from, until, break window) for every agent of the day."""
    out, n = [], 0
    for first, last, count in SHIFTS:
        spans = [(first, last)] if first < last else [(0, last), (first, 24)]
        for k in range(count):
            n += 1
            for a, b in spans:
                start, end = day_start + a * 3600, day_start + b * 3600
                mid = start + (end - start) // 2 + k * 1200
                out.append((f"PJSIP/70{n:02d}", start, end, (mid, mid + 1200)))
    return out


def _stamp(t: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, zone).strftime("%Y-%m-%d %H:%M:%S")


def _cdr(src: str, dst: str, ctx: str, chan: str, dchan: str, app: str, start: int,
         answer: int | None, end: int, uid: str, zone: ZoneInfo) -> tuple[int, str]:
    disp = "ANSWERED" if answer is not None else "NO ANSWER"
    row = ["", src, dst, ctx, "", chan, dchan, app, QUEUE if app == "Queue" else f"{dchan},30",
           _stamp(start, zone), _stamp(answer, zone) if answer is not None else None,
           _stamp(end, zone), end - start, end - answer if answer is not None else 0, disp,
           "DOCUMENTATION", uid]
    line = ",".join('' if v is None else '"' + str(v).replace('"', '""') + '"' for v in row)
    return end, line


def simulate_day(seed: int, day: date, pbx_zone: ZoneInfo = WIT,
                 storms: list[tuple[datetime, datetime]] | None = None) -> SimDay:
    """One day of the 112 centre (calls entering from 00:00 to 23:40 WIT); ``storms``: the
    weather warnings of the simulated city (else the day draws its own)."""
    rng = _rng(seed, day.isoformat(), "calls")
    out = SimDay()
    day_start = int(datetime.combine(day, time(0), WIT).timestamp())
    if storms is not None:
        out.storm_hours = {h for h in range(24) for a, b in storms
                           if a.timestamp() < day_start + (h + 1) * 3600
                           and b.timestamp() > day_start + h * 3600}
        rng.random()  # the same draws follow either way
    elif rng.random() < 0.35:
        first = rng.randint(10, 19)
        out.storm_hours = set(range(first, first + rng.randint(3, 5)))
    agents = _agents(day_start)
    for member, start, end, (b0, b1) in agents:
        out.queue_log += [(start, f"{start}|NONE|{QUEUE}|{member}|ADDMEMBER|"),
                          (b0, f"{b0}|NONE|{QUEUE}|{member}|PAUSE|Istirahat"),
                          (b1, f"{b1}|NONE|{QUEUE}|{member}|UNPAUSE|")]
        if end < day_start + 86400:  # the night shift works on past midnight
            out.queue_log.append((end - 1, f"{end - 1}|NONE|{QUEUE}|{member}|REMOVEMEMBER|"))
    free = {m: 0 for m, *_ in agents}
    arrivals = []
    for hour, rate in enumerate(HOURLY_RATE):
        lam = rate * (STORM_FACTOR if hour in out.storm_hours else 1.0)
        t = float(day_start + hour * 3600)
        while True:
            t += rng.expovariate(lam / 3600)
            if t >= day_start + (hour + 1) * 3600:
                break
            if t < day_start + LAST_ARRIVAL.hour * 3600 + LAST_ARRIVAL.minute * 60:
                arrivals.append(int(t))
    decided: list[int] = []
    for seq, t in enumerate(sorted(arrivals)):
        _one_call(out, rng, seq, t, agents, free, decided, pbx_zone)
    out.queue_log.sort(key=lambda x: x[0])
    out.cdr.sort(key=lambda x: x[0])
    return out


def _one_call(out: SimDay, rng: random.Random, seq: int, t: int, agents: list, free: dict,
              decided: list[int], zone: ZoneInfo) -> None:
    uid, number = f"{t}.{seq}", _number(rng)
    position = sum(1 for d in decided if d > t) + 1
    out.queue_log.append((t, f"{t}|{uid}|{QUEUE}|NONE|ENTERQUEUE||{number or ''}|{position}"))
    patience = max(3, int(rng.expovariate(1 / 70)))
    offers = []
    for member, start, end, (b0, b1) in agents:
        if not start <= t < end:
            continue
        ring = rng.randint(2, 7)
        at = max(t, free[member])
        at = b1 if b0 <= at < b1 else at
        missed = rng.random() < 0.08
        offers.append((at + ring + (RING_OUT_S if missed else 0), member, ring, missed, at))
    answer, member, ring, missed, ring_from = min(offers) if offers else (10 ** 12, "", 0, False, t)
    leave = t + min(patience, QUEUE_TIMEOUT_S)
    if answer - t <= min(patience, QUEUE_TIMEOUT_S):
        talk = int(min(900, max(20, rng.lognormvariate(4.6, 0.5))))
        free[member] = answer + talk + 10  # a few seconds of wrap-up
        if missed:
            out.queue_log.append((ring_from + RING_OUT_S, f"{ring_from + RING_OUT_S}|{uid}|{QUEUE}|"
                                  f"{member}|RINGNOANSWER|{RING_OUT_S * 1000}"))
        hold = answer - t
        end_event = "COMPLETECALLER" if rng.random() < 0.6 else "COMPLETEAGENT"
        out.queue_log += [(answer, f"{answer}|{uid}|{QUEUE}|{member}|CONNECT|{hold}|{uid}1|{ring}"),
                          (answer + talk, f"{answer + talk}|{uid}|{QUEUE}|{member}|{end_event}|"
                                          f"{hold}|{talk}|{position}")]
        out.truth.append(TruthCall(uid, t, "answered", number, hold_s=hold, decided=answer))
        out.cdr.append(_cdr(number or "", QUEUE, "from-pstn", f"PJSIP/trunk-{seq:08x}", member,
                            "Queue", t, answer, answer + talk, uid, zone))
        decided.append(answer)
        return
    event, outcome = ("ABANDON", "abandoned") if patience < QUEUE_TIMEOUT_S else \
        ("EXITWITHTIMEOUT", "timeout")
    now_pos = sum(1 for d in decided if d > leave) + 1
    out.queue_log.append((leave, f"{leave}|{uid}|{QUEUE}|NONE|{event}|{now_pos}|{position}|"
                                 f"{leave - t}"))
    call = TruthCall(uid, t, outcome, number, wait_s=leave - t, decided=leave)
    out.cdr.append(_cdr(number or "", QUEUE, "from-pstn", f"PJSIP/trunk-{seq:08x}", "", "Queue",
                        t, None, leave, uid, zone))
    if number and rng.random() < 0.75:
        back = leave + rng.randint(120, 1500)
        agent = rng.choice([m for m, s, e, _ in agents if s <= back < e] or ["PJSIP/7001"])
        ext = agent.split("/")[1]
        picked = back + 8 if rng.random() < 0.8 else None
        out.cdr.append(_cdr(ext, number, "from-internal", f"{agent}-{seq:08x}",
                            f"PJSIP/trunk-cb{seq:06x}", "Dial", back, picked,
                            (picked or back) + 60, f"{back}.{seq}9", zone))
        call.callback = back
    out.truth.append(call)
    decided.append(leave)


class CallCentreWriter:
    """Appends the simulated centre's lines to ``queue_log`` and ``Master.csv`` as sim time
    passes them (a thread of the feed simulator). A restart rotates the old files away."""

    def __init__(self, folder: Path, seed: int, clock: Callable[[], datetime],
                 storms: Callable[[date], list[tuple[datetime, datetime]]] | None = None):
        self.folder, self.seed, self.clock, self.storms = folder, seed, clock, storms
        self.stop = threading.Event()
        self.days: dict[date, SimDay] = {}
        self.written = {"queue_log": 0, "cdr": 0}  # unix time of the last line written

    def start(self) -> threading.Thread:
        self.folder.mkdir(parents=True, exist_ok=True)
        for name in ("queue_log", "Master.csv"):
            path = self.folder / name
            if path.exists():
                path.replace(path.with_name(name + ".1"))
        now = int(self.clock().timestamp())
        day_start = int(datetime.combine(self.clock().astimezone(WIT).date(), time(0), WIT).timestamp())
        with (self.folder / "queue_log").open("a") as fh:
            fh.write(f"{day_start - 1}|NONE|NONE|NONE|QUEUESTART|\n")
        self.written = {"queue_log": day_start - 1, "cdr": day_start - 1}
        self.flush(now)
        thread = threading.Thread(target=self._run, name="sim-callcentre", daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self.flush(int(self.clock().timestamp()))

    def _day(self, day: date) -> SimDay:
        if day not in self.days:
            self.days = {d: v for d, v in self.days.items() if d >= day - timedelta(days=1)}
            self.days[day] = simulate_day(self.seed, day, storms=self.storms(day)
                                          if self.storms else None)
        return self.days[day]

    def flush(self, now: int) -> None:
        """Append every line from the last one written up to ``now``."""
        today = datetime.fromtimestamp(now, WIT).date()
        for kind, name in (("queue_log", "queue_log"), ("cdr", "Master.csv")):
            lines = [line for day in (today - timedelta(days=1), today)
                     for at, line in getattr(self._day(day), kind)
                     if self.written[kind] < at <= now]
            if lines:
                with (self.folder / name).open("a") as fh:
                    fh.write("\n".join(lines) + "\n")
                self.written[kind] = now
