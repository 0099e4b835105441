"""Formatting for people: ages, city-time clocks, numbers in the reader's language. Pure.

Numbers and dates go through Babel with the CLDR data of ``id_ID`` (1.234,5) or ``en``
(1,234.5), so one screen never mixes "4.5" and "30,4". Times are shown in the city's
time zone (the ``TIMEZONE`` setting, WIT for Ambon) with that zone's own abbreviation.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal

from ambon_core.settings import get_settings

LOCALES = {"id": "id_ID", "en": "en"}


def city_tz() -> ZoneInfo:
    """The city's time zone, from the settings (``TIMEZONE``)."""
    return get_settings().tz


def _locale(lang: str) -> str:
    return LOCALES.get(lang, LOCALES["id"])


def age_text(seconds: float | None, lang: str = "id") -> str:
    """'12 dtk', '5 mnt', '2 jam', '3 hari' (or English)."""
    if seconds is None:
        return "-"
    units = (("hari", "d", 86400), ("jam", "h", 3600), ("mnt", "min", 60))
    for id_unit, en_unit, size in units:
        if seconds >= size:
            return f"{int(seconds // size)} {id_unit if lang == 'id' else en_unit}"
    return f"{int(seconds)} {'dtk' if lang == 'id' else 's'}"


def wit_time(moment: datetime | None, with_date: bool = False, lang: str = "id",
             tz: ZoneInfo | None = None) -> str:
    """A moment as the city's wall-clock time, e.g. '08:20 WIT' or '02/12 08:20 WIT'."""
    if moment is None:
        return "-"
    local = moment.astimezone(tz or city_tz())
    clock = format_datetime(local, "dd/MM HH:mm" if with_date else "HH:mm", locale=_locale(lang))
    return f"{clock} {local.tzname()}"


def number(value: float | int | None, decimals: int = 0, lang: str = "id") -> str:
    """Grouping and decimal mark of the language: 1.234,5 (English: 1,234.5); '-' for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(value, format=pattern, locale=_locale(lang))


def figure(value: float | int | None, lang: str = "id") -> str:
    """A setting or measure for a sentence: whole numbers without decimals (10), else
    one decimal in the language's mark (9,5)."""
    if value is None or value != value:
        return "-"
    return number(value, 0 if float(value).is_integer() else 1, lang)


def percent(fraction: float | None, lang: str = "id") -> str:
    """0.93 -> '93%'; None or NaN -> '-'."""
    if fraction is None or fraction != fraction:
        return "-"
    return f"{number(fraction * 100, 0, lang)}%"


def is_stale(age_s: float | None, period_s: float) -> bool:
    """A value older than three refresh periods is late."""
    return age_s is None or age_s > 3 * period_s
