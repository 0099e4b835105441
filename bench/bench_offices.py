"""Every service office's status against the simulator's truth, over a simulated month.

    .venv/bin/python bench/bench_offices.py [--start 2026-02-09] [--days 30] [--step 2] [--seed 7]

The default month (9 Feb - 10 Mar 2026) holds the Imlek cuti bersama (16 Feb), the Imlek
holiday (17 Feb) and three weeks of Ramadan (from 19 Feb, shorter hours). Every ``--step``
minutes, around the clock, each office of the registry (puskesmas and every other type)
is evaluated by the status engine with what its sensors would show (door camera and queue
where a camera watches it, ASN check-ins through the roster otherwise) and compared with
the simulator's truth, which takes closures from the published decree, not from
``ambon_core.calendar``. In the same run the baseline - the same engine with weekday hours
only, no holiday calendar and no Ramadan hours (what the dashboard had before) - is scored
on the same story. Figures: status agreement, false "belum buka" alerts on legitimate
closures, and minutes from scheduled opening to the alert of an office that did not open.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ambon_core.asn_attendance import load_roster, tally
from ambon_core.calendar import WorkCalendar, load_calendar
from ambon_core.domain import OfficeStatus
from ambon_core.registry import load_registry
from ambon_core.service_offices import OfficeSite, office_day
from ambon_core.service_status import Evidence, OfficeDay, needs_alert, office_status
from ambon_core.settings import DATA_DIR
from ambon_sim.offices import WIT, OfficeWorld


@dataclass
class Score:
    refreshes: int = 0
    right: int = 0
    wrong: Counter = field(default_factory=Counter)  # (truth, said) -> count
    false_alerts_closed: int = 0  # alert while the office is legitimately closed
    false_alerts_open: int = 0  # alert while it is open
    first_alert: dict[tuple[str, date], datetime] = field(default_factory=dict)
    cpu_s: float = 0.0


def baseline_day(site: OfficeSite, cal: WorkCalendar, day: date) -> OfficeDay:
    """Weekday hours only: no holidays, no cuti bersama, no Ramadan hours."""
    return OfficeDay(site.hours or tuple(cal.type_hours(site.type, "regular")))


def evidence(world: OfficeWorld, site: OfficeSite, at: datetime, seen: datetime,
             att: dict) -> Evidence:
    if site.id in world.cameras:
        waiting, longest = world.waiting(site, at)
        return Evidence(door_open=world.door_open(site, at), waiting=waiting, longest_wait_s=longest)
    if site.type == "puskesmas":  # its check-ins come from the puskesmas attendance export
        own = set(world.staff(site.id))
        here = {c.nip for c in world.plan(site, at.date()).checkins if c.at <= seen
                and c.office_id == site.id and c.nip in own}
        return Evidence(staff_in=len(here))
    a = att[site.id]
    return Evidence(staff_in=a.staff_in, staff_elsewhere=a.staff_elsewhere,
                    staff_expected=a.staff_expected)


def score_one(score: Score, world: OfficeWorld, site: OfficeSite, at: datetime,
              days: tuple[OfficeDay, OfficeDay], ev: Evidence) -> None:
    t0 = time.process_time()
    state = office_status(site.id, site.type, at, days[0], days[1], ev)
    score.cpu_s += time.process_time() - t0
    truth = world.truth(site, at)
    score.refreshes += 1
    if state.status == truth:
        score.right += 1
    else:
        score.wrong[(truth.value, state.status.value)] += 1
    if needs_alert(state):
        if truth == OfficeStatus.TUTUP:
            score.false_alerts_closed += 1
        elif truth == OfficeStatus.BUKA:
            score.false_alerts_open += 1
        score.first_alert.setdefault((site.id, at.date()), at)


def run(start: date, n_days: int, step_min: int, seed: int,
        feed_lag_s: float) -> tuple[Score, Score, OfficeWorld]:
    reg, cal = load_registry(), load_calendar()
    roster = load_roster(DATA_DIR / "asn_roster.csv", {o.id for o in reg.offices})
    world = OfficeWorld(reg, cal, roster, seed)
    ids = [o.id for o in reg.offices]
    ours, base = Score(), Score()
    # refreshes fall anywhere in their step (the worker runs every few seconds), and the
    # attendance export is as old as the feed's poll interval
    jitter = random.Random(seed)
    at = datetime.combine(start, datetime.min.time(), WIT)
    end = datetime.combine(start + timedelta(days=n_days), datetime.min.time(), WIT)
    days_ours: dict[tuple[str, date], OfficeDay] = {}
    while at < end:
        at = at.replace(second=0) + timedelta(seconds=jitter.uniform(0, 59.9))
        seen = at - timedelta(seconds=feed_lag_s)
        att = {a.office_id: a for a in tally(roster, world.checkins(seen), ids, at)}
        for site in world.sites:
            pair = tuple(days_ours.setdefault((site.id, d), office_day(site, cal, d))
                         for d in (at.date(), at.date() - timedelta(days=1)))
            ev = evidence(world, site, at, seen, att)
            score_one(ours, world, site, at, pair, ev)  # type: ignore[arg-type]
            score_one(base, world, site, at, (baseline_day(site, cal, at.date()),
                                              baseline_day(site, cal, at.date())), ev)
        at += timedelta(minutes=step_min)
    return ours, base, world


def latencies(score: Score, world: OfficeWorld, start: date, n_days: int) -> tuple[list[float], int]:
    """Minutes from scheduled opening to the first alert, for office-days that did not open
    on time; and how many of those never alerted."""
    out, missed = [], 0
    for site in world.sites:
        for d in (start + timedelta(days=i) for i in range(n_days)):
            plan = world.plan(site, d)
            if plan.kind not in ("late", "elsewhere", "absent"):
                continue
            alert = score.first_alert.get((site.id, d))
            if alert is None:
                missed += 1
            else:
                out.append((alert - plan.windows[0][0]).total_seconds() / 60)
    return out, missed


def report(label: str, score: Score, world: OfficeWorld, start: date, n_days: int) -> None:
    lat, missed = latencies(score, world, start, n_days)
    share = 100 * score.right / max(1, score.refreshes)
    print(f"{label}: {score.right}/{score.refreshes} statuses right ({share:.2f} %), "
          f"false 'belum buka' alerts on legitimate closures {score.false_alerts_closed}, "
          f"on open offices {score.false_alerts_open}")
    if lat:
        print(f"  opening -> alert: median {statistics.median(lat):.1f} min, "
              f"p95 {sorted(lat)[int(0.95 * (len(lat) - 1))]:.1f} min, max {max(lat):.1f} min "
              f"over {len(lat)} late/absent office-days; never alerted {missed}")
    for (truth, said), n in score.wrong.most_common(5):
        print(f"  truth {truth:10s} said {said:16s} {n}")
    print(f"  engine CPU {score.cpu_s:.2f} s, {1e6 * score.cpu_s / max(1, score.refreshes):.1f} "
          "us per office evaluation")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--start", type=date.fromisoformat, default=date(2026, 2, 9))
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--step", type=int, default=2, help="minutes between refreshes")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--feed-lag", type=float, default=30.0,
                   help="age of the attendance export in seconds (the feed's poll interval)")
    args = p.parse_args()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    ours, base, world = run(args.start, args.days, args.step, args.seed, args.feed_lag)
    kinds = Counter(world.plan(s, args.start + timedelta(days=i)).kind
                    for s in world.sites for i in range(args.days))
    types = Counter(s.type for s in world.sites)
    print(f"{len(world.sites)} offices ({', '.join(f'{t} {n}' for t, n in sorted(types.items()))}), "
          f"{len(world.cameras)} with a door camera; {args.days} days from {args.start}, "
          f"refresh every {args.step} min at a random second, attendance {args.feed_lag:.0f} s old")
    print(f"office-days: {', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}")
    report("service-office engine + calendar", ours, world, args.start, args.days)
    report("baseline (weekday hours only)   ", base, world, args.start, args.days)
    ratio = base.false_alerts_closed / max(1, ours.false_alerts_closed)
    print(f"false alerts on closures, baseline / engine: {base.false_alerts_closed} / "
          f"{ours.false_alerts_closed} (x{ratio:.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
