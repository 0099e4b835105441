"""The history range picker shared by every page (today, 24 h, 7 days)."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from components import data
from components.ui import t

RANGES = ("today", "24h", "7d")


def range_picker(key: str, default: str = "today") -> datetime:
    """A segmented choice of range; returns its start (UTC-aware)."""
    choice = st.segmented_control(t("hist.range"), RANGES, key=key, default=default,
                                  format_func=lambda r: t(f"range.{r}")) or default
    start = data.range_start(choice)
    # Round to the minute so the SQL cache is shared between reruns and sessions.
    return start.replace(second=0, microsecond=0)
