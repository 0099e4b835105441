"""The open-data download on the pages: offered by role, audited on use, nothing personal.

The file is made only when the button is pressed (a callable to st.download_button),
checked against SQL and audited at that moment. (The content itself, FIWARE entities
from SQL, is tested in tests/test_feeds_lifecycle.py; the download in a real browser in
tests/test_browser.py.)
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from ambon_core import auth as core
from ambon_core.models import AuditLog
from ambon_core.registry import load_registry
from ambon_core.settings import get_settings
from components.export_ui import ExportRefused, ExportRequest
from components.nav import PAGES
from tests.login import city_opds, make_user
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
def test_download_is_offered_by_role(name: str, offered: set[str], fresh, session) -> None:
    at = _open_as(name, session)
    for page, key in BUTTONS.items():
        _go(at, page)
        assert (key in _buttons(at)) == (page in offered), (name, page, _buttons(at))


def test_public_wall_offers_no_download(fresh, session) -> None:
    at = _open_as("publik", session)
    for page in BUTTONS:
        at.query_params["pages"] = page
        at.run()
        assert not at.exception
        assert not _buttons(at), page


def test_nothing_is_built_or_served_when_the_page_draws(fresh, session) -> None:
    """The file is made only on click: drawing the page leaves no /media URL and no audit."""
    from ambon_core.domain import utcnow
    from ambon_core.models import TpsFill

    session.add(TpsFill(tps_id="tps-batu-merah", at=utcnow(), fill=0.5))
    session.commit()
    at = _go(_open_as("opd:dlh", session), "sampah")
    button = next(b for b in at.get("download_button") if b.key == "waste_export_button")
    assert button.proto.url == ""  # an eager button carries /media/<hash>.csv here
    session.expire_all()
    assert session.scalars(select(AuditLog).where(AuditLog.action == "export")).all() == []


def _request(settings, session, username: str, role: str, opd: str | None) -> ExportRequest:
    make_user(session, username, role, opd)
    user = core.find_user(session, username)
    token = core.start_session(session, user, core.session_secret(settings))
    return ExportRequest(("waste",), "dlh", datetime.now(settings.tz).date(), "csv",
                         settings.database_url, settings.tz, token, None,
                         core.session_secret(settings), settings.session_idle_min,
                         tuple(load_registry().opds))


def test_click_checks_audits_then_builds(settings, session) -> None:
    from ambon_core.domain import utcnow
    from ambon_core.models import TpsFill

    session.add(TpsFill(tps_id="tps-batu-merah", at=utcnow(), fill=0.5))
    session.commit()
    request = _request(settings, session, "kadis.dlh", "opd", "dlh")
    text = request.make()
    assert text.splitlines()[0].startswith("id,type,refWasteContainerIsle")
    session.expire_all()
    rows = session.scalars(select(AuditLog).where(AuditLog.action == "export")).all()
    assert [(r.actor, r.target) for r in rows] == [("kadis.dlh", f"export:{request.what}")]
    assert rows[0].detail == {"opd": "dlh", "rows": 1}


def test_click_after_losing_the_right_makes_no_file(settings, session) -> None:
    request = _request(settings, session, "kadis.dlh", "opd", "dlh")
    core.set_role(session, "kadis.dlh", "opd", "dinkes", actor="admin", known_opds=city_opds())
    with pytest.raises(ExportRefused):
        request.make()
    session.expire_all()
    denied = session.scalars(select(AuditLog).where(AuditLog.action == "access.denied")).all()
    assert [(r.actor, r.target, r.detail["attempted"]) for r in denied] == [
        ("kadis.dlh", f"export:{request.what}", "export")]
    assert session.scalars(select(AuditLog).where(AuditLog.action == "export")).all() == []
    core.end_session(session, request.token, request.secret)
    with pytest.raises(ExportRefused):  # a session ended meanwhile: nobody may export
        request.make()


def test_day_outside_the_window_is_refused(fresh, session) -> None:
    """A crafted day (future, or years back) never exports: the picker falls back to today."""
    at = _go(_open_as("walikota", session), "sampah")
    today = datetime.now(get_settings().tz).date()
    picker = at.date_input(key="waste_export_day")
    for bad in (date(2999, 1, 1), date(2000, 1, 1)):
        picker.set_value(bad).run()
        assert not at.exception, at.exception
        assert at.date_input(key="waste_export_day").value == today
    session.expire_all()  # and nothing was exported while choosing
    assert session.scalars(select(AuditLog).where(AuditLog.action == "export")).all() == []
