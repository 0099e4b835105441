"""Formatting for people: ages, WIT times, Indonesian numbers. Pure functions."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

WIT = ZoneInfo("Asia/Jayapura")


def age_text(seconds: float | None, lang: str = "id") -> str:
    """'12 dtk', '5 mnt', '2 jam', '3 hari' (or English)."""
    if seconds is None:
        return "-"
    units = (("hari", "d", 86400), ("jam", "h", 3600), ("mnt", "min", 60))
    for id_unit, en_unit, size in units:
        if seconds >= size:
            return f"{int(seconds // size)} {id_unit if lang == 'id' else en_unit}"
    return f"{int(seconds)} {'dtk' if lang == 'id' else 's'}"


def wit_time(moment: datetime | None, with_date: bool = False) -> str:
    """A moment as WIT wall-clock time, e.g. '08:20 WIT'."""
    if moment is None:
        return "-"
    local = moment.astimezone(WIT)
    return local.strftime("%d/%m %H:%M WIT" if with_date else "%H:%M WIT")


def number(value: float | int | None, decimals: int = 0, lang: str = "id") -> str:
    """Indonesian grouping: 1.234,5 (English: 1,234.5)."""
    if value is None:
        return "-"
    text = f"{value:,.{decimals}f}"
    if lang == "id":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


def percent(fraction: float | None, lang: str = "id") -> str:
    """0.93 -> '93%'; None or NaN -> '-'."""
    if fraction is None or fraction != fraction:
        return "-"
    return f"{number(fraction * 100, 0, lang)}%"


def is_stale(age_s: float | None, period_s: float) -> bool:
    """A value older than three refresh periods is late."""
    return age_s is None or age_s > 3 * period_s
