"""The history range picker shared by every page: today, 24 h, 7 days or custom dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import NamedTuple

import streamlit as st

from components import data
from components.ui import on_wall, t

RANGES = ("today", "24h", "7d", "custom")
MAX_CUSTOM_DAYS = 92


class TimeRange(NamedTuple):
    start: datetime
    end: datetime | None  # None: up to now


def custom_range(first: date, last: date) -> TimeRange:
    """Whole WIT days from ``first`` to ``last`` inclusive (swapped if given backwards)."""
    tz = data.settings().tz
    first, last = min(first, last), max(first, last)
    return TimeRange(datetime.combine(first, time(0), tz),
                     datetime.combine(last + timedelta(days=1), time(0), tz))


def range_picker(key: str, default: str = "today") -> TimeRange:
    """A segmented choice of range; 'custom' asks for dates (at most three months). The
    wall has no keyboard or hand on it: it shows the page's default range and says which."""
    if on_wall():
        st.caption(f"{t('hist.range')}: {t(f'range.{default}')}")
        return TimeRange(data.range_start(default).replace(second=0, microsecond=0), None)
    choice = st.segmented_control(t("hist.range"), RANGES, key=key, default=default,
                                  format_func=lambda r: t(f"range.{r}")) or default
    if choice == "custom":
        today = datetime.now(data.settings().tz).date()
        picked = st.date_input(t("range.dates"), (today - timedelta(days=6), today), key=f"{key}_dates",
                               min_value=today - timedelta(days=MAX_CUSTOM_DAYS), max_value=today,
                               format="DD/MM/YYYY")
        if isinstance(picked, tuple) and len(picked) == 2:
            return custom_range(*picked)
        if isinstance(picked, date) or (isinstance(picked, tuple) and len(picked) == 1):
            day = picked if isinstance(picked, date) else picked[0]
            return custom_range(day, day)  # the second date is not chosen yet: that day
        choice = default
    # Round to the minute so the SQL cache is shared between reruns and sessions.
    return TimeRange(data.range_start(choice).replace(second=0, microsecond=0), None)
