"""The city's time zone comes from the TIMEZONE setting, not from a constant in the feeds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ambon_core.settings import get_settings
from workers.feeds.common import parse_time


@pytest.fixture
def makassar(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TIMEZONE", "Asia/Makassar")  # WITA, UTC+8
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_time_without_zone_is_read_in_the_timezone_setting(makassar: None) -> None:
    notes: list[str] = []
    assert parse_time("2026-11-24T09:00:00", "t", notes) == datetime(2026, 11, 24, 1, tzinfo=UTC)
    assert "WITA" in notes[0] and "Asia/Makassar" in notes[0]


def test_default_is_wit() -> None:
    notes: list[str] = []
    assert parse_time("2026-11-24T09:00:00", "t", notes) == datetime(2026, 11, 24, 0, tzinfo=UTC)
    assert "WIT " in notes[0]
