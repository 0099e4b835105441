"""Numbers and times for people (Babel, the TIMEZONE setting), and no screen that mixes
English and Indonesian decimals ("4.5" beside "30,4")."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

from ambon_core.settings import get_settings
from ambon_core.store import Store
from components.fmt import figure, number, percent, wit_time
from components.nav import PAGES
from tests.test_pages import app, seed  # noqa: F401  (fixture)

ENGLISH_DECIMAL = re.compile(r"(?<![\d.,])\d+\.\d{1,2}(?![\d])")  # 4.5, 10.0 (not 1.234)


def test_numbers_in_each_language() -> None:
    assert number(1234.5, 1, "id") == "1.234,5" and number(1234.5, 1, "en") == "1,234.5"
    assert number(30.44, 1) == "30,4" and number(None) == "-" and number(float("nan")) == "-"
    assert figure(10.0) == "10" and figure(9.5) == "9,5" and percent(0.93) == "93%"


def test_times_follow_the_timezone_setting(monkeypatch) -> None:
    moment = datetime(2026, 12, 2, 0, 20, tzinfo=UTC)
    get_settings.cache_clear()
    assert wit_time(moment) == "09:20 WIT"  # the default: Asia/Jayapura
    monkeypatch.setenv("TIMEZONE", "Asia/Makassar")
    get_settings.cache_clear()
    try:
        assert wit_time(moment, with_date=True) == "02/12 08:20 WITA"
    finally:
        monkeypatch.delenv("TIMEZONE")
        get_settings.cache_clear()


def _screen_text(at: AppTest) -> list[str]:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [str(m.value) for m in at.metric] + [i.value for i in at.info]
    for frame in at.dataframe:
        parts += [str(v) for v in frame.value.astype(str).to_numpy().ravel()]
    return parts


@pytest.mark.parametrize("page", list(PAGES))
def test_no_english_decimals_on_an_indonesian_screen(app: AppTest, store: Store,
                                                     page: str) -> None:
    seed(store)  # includes fractional speeds, fps and fill levels
    app.run()
    if page != "ringkasan":
        app.switch_page(PAGES[page][0]).run()
    assert not app.exception, app.exception
    found = [p for p in _screen_text(app) if ENGLISH_DECIMAL.search(p)]
    assert found == [], found
