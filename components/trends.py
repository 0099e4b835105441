"""Pure summaries of SQL history for charts: traffic per hour, puskesmas punctuality,
waste tonnage. DataFrames in, DataFrames out (no ``st``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd

from components.fmt import city_tz


def local_time(df: pd.DataFrame, column: str, tz: ZoneInfo | None = None) -> pd.DataFrame:
    """``df`` with ``column`` in local time (naive values are UTC, as SQLite returns them),
    so a chart's time axis reads the city's clock, not UTC."""
    tz = tz or city_tz()  # the TIMEZONE setting
    return df.assign(**{column: pd.to_datetime(df[column], utc=True).dt.tz_convert(tz)})


def break_gaps(df: pd.DataFrame, x: str, y: str, group: str,
               gap: pd.Timedelta = pd.Timedelta(minutes=15)) -> pd.DataFrame:
    """``df`` with an empty ``y`` after every point followed by a silence longer than
    ``gap`` in its ``group``, so a line chart shows the hole (workers down, camera
    offline) instead of drawing a straight line across it."""
    if df.empty:
        return df
    df = df.sort_values([group, x])
    after = df[x].shift(-1) - df[x]
    holes = df[(df[group] == df[group].shift(-1)) & (after > gap)]
    filler = holes.assign(**{x: holes[x] + gap / 2, y: float("nan")})
    return pd.concat([df, filler]).sort_values([group, x], kind="stable")


def counts_per_hour(minutes: pd.DataFrame, tz: ZoneInfo | None = None) -> pd.DataFrame:
    """Vehicles crossing counting lines per local hour and class (both directions)."""
    tz = tz or city_tz()  # the TIMEZONE setting
    rows = []
    for minute, crossings in zip(minutes.get("minute", []), minutes.get("crossings", []),
                                 strict=True):
        hour = pd.Timestamp(minute).tz_convert(tz).floor("h")
        for per_line in (crossings or {}).values():
            for way_class, count in per_line.items():
                rows.append({"hour": hour, "class": way_class.split(":", 1)[-1], "count": count})
    if not rows:
        return pd.DataFrame(columns=["hour", "class", "count"])
    return pd.DataFrame(rows).groupby(["hour", "class"], as_index=False)["count"].sum()


def punctuality(changes: pd.DataFrame, tz: ZoneInfo | None = None) -> pd.DataFrame:
    """Per puskesmas over the range: days it opened, days it opened late, mean and worst
    lateness in minutes, days it never opened while due (a 'belum_buka' without 'buka')."""
    tz = tz or city_tz()  # the TIMEZONE setting
    cols = ["puskesmas_id", "days_open", "days_late", "mean_late_min", "max_late_min",
            "days_not_opened"]
    if changes.empty:
        return pd.DataFrame(columns=cols)
    df = changes.assign(day=pd.to_datetime(changes["at"], utc=True).dt.tz_convert(tz).dt.date)
    rows = []
    for (pkm, _day), group in df.sort_values("at").groupby(["puskesmas_id", "day"]):
        statuses = list(group["status"])
        if "buka" in statuses:
            before = group.iloc[: statuses.index("buka")]
            opened_at = pd.to_datetime(group["at"].iloc[statuses.index("buka")], utc=True)
            waits = before[before["status"] == "belum_buka"]
            # a change is recorded when the status moves: 'belum buka' is written once, at
            # its first minute, so the lateness runs on until the 'buka' row
            late = (waits["minutes_late"].fillna(0) + (opened_at - pd.to_datetime(
                waits["at"], utc=True)).dt.total_seconds() // 60).max()
            rows.append({"puskesmas_id": pkm, "opened": True,
                         "late": 0 if pd.isna(late) else int(late)})
        elif "belum_buka" in statuses:
            rows.append({"puskesmas_id": pkm, "opened": False, "late": None})
    if not rows:
        return pd.DataFrame(columns=cols)
    days = pd.DataFrame(rows)
    out = []
    for pkm, g in days.groupby("puskesmas_id"):
        opened = g[g["opened"]]
        late = opened[opened["late"] > 0]["late"]
        out.append({"puskesmas_id": pkm, "days_open": len(opened), "days_late": len(late),
                    "mean_late_min": round(float(late.mean()), 1) if len(late) else 0.0,
                    "max_late_min": int(late.max()) if len(late) else 0,
                    "days_not_opened": int((~g["opened"]).sum())})
    return pd.DataFrame(out, columns=cols)


def tonnage(trips: pd.DataFrame, tz: ZoneInfo | None = None) -> pd.DataFrame:
    """Truck trips and tonnes delivered to the TPA per local day."""
    tz = tz or city_tz()  # the TIMEZONE setting
    if trips.empty:
        return pd.DataFrame(columns=["day", "trips", "tonnes"])
    days = pd.to_datetime(trips["emptied_at"], utc=True).dt.tz_convert(tz).dt.date
    out = trips.assign(day=days).groupby("day", as_index=False).agg(
        trips=("tps_id", "size"), tonnes=("tonnage_kg", lambda kg: round(kg.sum() / 1000, 1)))
    return out
