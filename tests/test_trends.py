"""History summaries for the charts are pure functions: checked on small known data."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from components.trends import counts_per_hour, local_time, punctuality, tonnage


def _utc(day: int, hour: int, minute: int = 0) -> datetime:
    """A WIT wall-clock moment, as the UTC the database stores."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo("Asia/Jayapura")).astimezone(UTC)


def test_counts_per_hour_sums_lines_and_directions() -> None:
    minutes = pd.DataFrame({"minute": [_utc(23, 8, 1), _utc(23, 8, 2), _utc(23, 9, 0)],
                            "crossings": [{"a": {"in:car": 2, "out:car": 1}},
                                          {"a": {"in:motorcycle": 5}, "b": {"in:car": 1}},
                                          {}]})
    out = counts_per_hour(minutes)
    got = {(r.hour.hour, r._2): r.count for r in out.itertuples()}
    assert got == {(8, "car"): 4, (8, "motorcycle"): 5}
    assert counts_per_hour(pd.DataFrame(columns=["minute", "crossings"])).empty


def test_punctuality_counts_late_and_missed_days() -> None:
    changes = pd.DataFrame([
        ("pkm-a", "belum_buka", 0, _utc(23, 8, 0)), ("pkm-a", "belum_buka", 25, _utc(23, 8, 25)),
        ("pkm-a", "buka", None, _utc(23, 8, 26)), ("pkm-a", "tutup", None, _utc(23, 14, 0)),
        ("pkm-a", "buka", None, _utc(24, 8, 0)),
        ("pkm-a", "belum_buka", 0, _utc(25, 8, 0)),  # never opened that day
    ], columns=["puskesmas_id", "status", "minutes_late", "at"])
    row = punctuality(changes).iloc[0]
    # doors opened at 08:26 for an 08:00 opening: 26 minutes late (lateness runs on from the
    # last 'belum buka' row to the 'buka' row)
    assert (row.days_open, row.days_late, row.max_late_min, row.days_not_opened) == (2, 1, 26, 1)


def test_lateness_counts_until_the_doors_open() -> None:
    """The status worker writes a change only when the status moves: one 'belum buka' row at
    the scheduled minute (0 late), then 'buka' 40 minutes later - that is 40 minutes late."""
    changes = pd.DataFrame([("pkm-a", "belum_buka", 0, _utc(23, 8, 0)),
                            ("pkm-a", "buka", None, _utc(23, 8, 40))],
                           columns=["puskesmas_id", "status", "minutes_late", "at"])
    row = punctuality(changes).iloc[0]
    assert (row.days_late, row.max_late_min) == (1, 40)
    assert punctuality(changes.iloc[0:0]).empty


def test_tonnage_per_day() -> None:
    trips = pd.DataFrame({"tps_id": ["a", "b", "a"], "emptied_at": [_utc(23, 10), _utc(23, 11),
                                                                   _utc(24, 10)],
                          "tonnage_kg": [1500, 2500, 900]})
    out = tonnage(trips)
    assert list(out["trips"]) == [2, 1] and list(out["tonnes"]) == [4.0, 0.9]


def test_chart_times_are_wit() -> None:
    """SQLite gives naive UTC, PostgreSQL aware UTC: both end up on the city's clock."""
    df = pd.DataFrame({"at": [datetime(2026, 11, 24, 4, 27), datetime(2026, 11, 24, 23, 0)]})
    got = local_time(df, "at")["at"]
    assert [str(x) for x in got] == ["2026-11-24 13:27:00+09:00", "2026-11-25 08:00:00+09:00"]
    aware = pd.DataFrame({"at": [datetime(2026, 11, 24, 4, 27, tzinfo=UTC)]})
    assert str(local_time(aware, "at")["at"][0]) == "2026-11-24 13:27:00+09:00"


def test_a_silence_breaks_the_line() -> None:
    from components.trends import break_gaps

    at = pd.to_datetime(["2026-11-24 08:00", "2026-11-24 08:05", "2026-11-24 10:00",
                         "2026-11-24 08:00", "2026-11-24 08:10"]).tz_localize("UTC")
    df = pd.DataFrame({"tps_id": ["a", "a", "a", "b", "b"], "at": at,
                       "fill": [0.1, 0.2, 0.3, 0.5, 0.6]})
    got = break_gaps(df, "at", "fill", "tps_id")
    a = got[got["tps_id"] == "a"]
    assert len(a) == 4 and pd.isna(a["fill"].iloc[2])  # a hole between 08:05 and 10:00
    assert a["at"].is_monotonic_increasing
    assert got[got["tps_id"] == "b"]["fill"].notna().all()  # 10 min apart: one line
    assert break_gaps(df.iloc[:0], "at", "fill", "tps_id").empty
