"""The open-data download on the pages: offered by role, audited on use, nothing personal.

(The content itself, FIWARE entities from SQL, is tested in tests/test_feeds_lifecycle.py;
the download in a real browser in tests/test_browser.py.)
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from ambon_core.models import AuditLog
from ambon_core.settings import get_settings
from components.nav import PAGES
from tests.test_access import _open_as, fresh  # noqa: F401  (fixture)

BUTTONS = {"ringkasan": "overview_export_button", "lalu_lintas": "traffic_export_button",
           "sampah": "waste_export_button", "insiden": "incident_export_button"}


def _buttons(at: AppTest) -> set[str]:
    return {b.key for b in at.get("download_button")}


def _go(at: AppTest, page: str) -> AppTest:
    at.switch_page(PAGES[page][0]).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(("name", "offered"), [
    ("walikota", {"ringkasan", "lalu_lintas", "sampah", "insiden"}),
    ("admin", {"ringkasan", "lalu_lintas", "sampah", "insiden"}),
    ("opd:dlh", {"sampah"}),
    ("opd:dishub", {"lalu_lintas"}),
    ("opd:bpbd", set()),  # incident counts are city-wide: the mayor's to publish
])
def test_download_is_offered_by_role(name: str, offered: set[str], fresh, session) -> None:  # noqa: F811
    at = _open_as(name, session)
    for page, key in BUTTONS.items():
        _go(at, page)
        assert (key in _buttons(at)) == (page in offered), (name, page, _buttons(at))


def test_public_wall_offers_no_download(fresh, session) -> None:  # noqa: F811
    at = _open_as("publik", session)
    for page in BUTTONS:
        at.query_params["pages"] = page
        at.run()
        assert not at.exception
        assert not _buttons(at), page


def test_download_is_audited_with_what_and_rows(fresh, session) -> None:  # noqa: F811
    at = _go(_open_as("opd:dlh", session), "sampah")
    button = next(b for b in at.get("download_button") if b.key == "waste_export_button")
    button.click().run()
    assert not at.exception, at.exception
    today = datetime.now(get_settings().tz).date().isoformat()
    session.expire_all()
    rows = session.scalars(select(AuditLog).where(AuditLog.action == "export")).all()
    assert [(r.actor, r.target) for r in rows] == [("opd.dlh", f"export:satudata:waste:{today}")]
    assert rows[0].detail["opd"] == "dlh" and isinstance(rows[0].detail["rows"], int)


def test_day_outside_the_window_is_refused(fresh, session) -> None:  # noqa: F811
    """A crafted day (future, or years back) never exports: the picker falls back to today."""
    at = _go(_open_as("walikota", session), "sampah")
    today = datetime.now(get_settings().tz).date()
    picker = at.date_input(key="waste_export_day")
    for bad in (date(2999, 1, 1), date(2000, 1, 1)):
        picker.set_value(bad).run()
        assert not at.exception, at.exception
        assert at.date_input(key="waste_export_day").value == today
    next(b for b in at.get("download_button") if b.key == "waste_export_button").click().run()
    session.expire_all()
    targets = session.scalars(select(AuditLog.target).where(AuditLog.action == "export")).all()
    assert targets == [f"export:satudata:waste:{today.isoformat()}"]
