"""The access matrix: every role (and nobody) × every page and every action.

The expected tables below are written out by hand from issue 7, independently of
``ambon_core.access``; the pure rules are checked case by case, then the real app is
opened page by page as each role (logged in through the form) and as nobody.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from ambon_core.access import (
    ACTIONS,
    ALL_PAGES,
    PUBLIC,
    ROLES,
    Principal,
    can_act,
    can_view,
    principal,
)
from ambon_core.models import AuditLog
from ambon_core.registry import load_registry
from ambon_core.settings import ROOT
from ambon_core.store import Store
from components.i18n import translate
from components.nav import ADMIN_PAGE, PAGES
from tests.login import login
from tests.test_pages import seed

APP = str(ROOT / "app.py")
DEPTS = load_registry().opds
DENIED = "Anda tidak punya akses ke halaman ini"
ALL_DATA = {"ringkasan", "puskesmas", "lalu_lintas", "sampah", "insiden", "kamera",
            "layanan_publik"}
# role name -> pages it may open (the words, written out)
EXPECTED_PAGES: dict[str, set[str]] = {
    "nobody": set(),
    "publik": ALL_DATA,  # only through the kiosk, and only the public view
    "walikota": ALL_DATA,
    "admin": ALL_DATA | {"admin"},
    "opd:dinkes": {"ringkasan", "puskesmas", "layanan_publik"},  # the pustu are Dinkes'
    "opd:kec_sirimau": {"ringkasan", "layanan_publik"},  # the camat: kelurahan, negeri
    "opd:disdukcapil": {"ringkasan", "layanan_publik"},
    "opd:dpmptsp": {"ringkasan", "layanan_publik"},  # the MPP
    "opd:dishub": {"ringkasan", "lalu_lintas"},
    "opd:dlh": {"ringkasan", "sampah"},
    "opd:bpbd": {"ringkasan", "insiden"},
    "opd:damkar": {"ringkasan", "insiden"},
    "opd:satpolpp": {"ringkasan", "insiden"},
    "opd:dinsos": {"ringkasan", "insiden"},
    "opd:kominfo": {"ringkasan", "kamera"},
    "opd:polri": {"ringkasan"},  # partner agency: the overview only
}


def who(name: str) -> Principal | None:
    if name == "nobody":
        return None
    if name == "publik":
        return PUBLIC
    role, _, opd = name.partition(":")
    return principal(name, role, opd or None, DEPTS)


def test_page_matrix_pure() -> None:
    cases = 0
    for name, allowed in EXPECTED_PAGES.items():
        for page in ALL_PAGES:
            assert can_view(who(name), page) == (page in allowed), (name, page)
            cases += 1
    assert cases == len(EXPECTED_PAGES) * len(ALL_PAGES) == 128
    print(f"{cases} page×role cases (pure), all as specified")


def expected_act(name: str, action: str, item: str | None) -> bool:
    if name in ("nobody", "publik"):
        return False
    if name == "admin":
        return True
    if name == "walikota":
        return action != "manage_users"
    own = name.partition(":")[2]
    return action != "manage_users" and item == own


def test_action_matrix_pure() -> None:
    cases = 0
    for name in EXPECTED_PAGES:
        own = name.partition(":")[2] or "dinkes"
        for action in ACTIONS:
            for item in (own, "dishub" if own != "dishub" else "dlh", None):
                assert can_act(who(name), action, item) == expected_act(name, action, item), \
                    (name, action, item)
                cases += 1
    assert cases == len(EXPECTED_PAGES) * len(ACTIONS) * 3 == 240
    print(f"{cases} action×role×item cases, all as specified")


def test_unknown_page_action_and_role_are_refused() -> None:
    mayor = who("walikota")
    assert not can_view(mayor, "rahasia") and not can_act(mayor, "delete_city", None)
    with pytest.raises(ValueError):
        principal("x", "superuser", None, DEPTS)
    ghost = principal("x", "opd", "tidak_ada", DEPTS)  # department gone from the registry
    assert [p for p in ALL_PAGES if can_view(ghost, p)] == ["ringkasan"]
    assert not can_act(principal("x", "opd", None, DEPTS), "acknowledge", None)


# --- the real app, page by page -------------------------------------------------------

APP_ROLES = ["nobody", "publik", "walikota", "admin", "opd:dinkes", "opd:dishub", "opd:dlh",
             "opd:bpbd", "opd:kominfo", "opd:polri", "opd:kec_sirimau"]
PAGE_FILES = {**{n: p[0] for n, p in PAGES.items()}, "admin": ADMIN_PAGE[0]}
PAGE_TITLES = {**{n: p[1] for n, p in PAGES.items()}, "admin": ADMIN_PAGE[1]}


@pytest.fixture
def fresh(store: Store) -> Iterator[None]:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    seed(store)
    yield


def _open_as(name: str, session) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if name == "publik":
        at.query_params["kiosk"] = "1"
        at.query_params["every"] = "600"
    if name == "nobody":
        at.run()
        assert at.text_input(key="login_username") is not None  # the login form, nothing else
        return at
    if name == "publik":
        return at.run()
    role, _, opd = name.partition(":")
    return login(at, session, role, opd or None, username=name.replace(":", "."))


@pytest.mark.parametrize("name", APP_ROLES)
def test_page_matrix_in_the_app(name: str, fresh, session) -> None:
    at = _open_as(name, session)
    cases = 0
    for page in ALL_PAGES:
        if name == "publik":
            at.query_params["pages"] = page
        try:
            at.switch_page(PAGE_FILES[page]).run()
        except ValueError:  # nobody: no page but the login form is even registered
            assert name == "nobody"
            assert at.text_input(key="login_username") is not None and not at.metric
            cases += 1
            continue
        assert not at.exception, (name, page, at.exception)
        warnings = " ".join(w.value for w in at.warning)
        if name == "nobody":
            # the page's own first line runs the gate again: the login form, nothing else
            assert any(w.key == "login_username" for w in at.text_input), (name, page)
            assert DENIED not in warnings and not at.metric and not at.dataframe, (name, page)
            assert translate(PAGE_TITLES[page]) not in [t.value for t in at.title]
        elif page in EXPECTED_PAGES[name]:
            assert DENIED not in warnings, (name, page)
            assert at.title[0].value == translate(PAGE_TITLES[page]), (name, page)
        else:
            assert DENIED in warnings, (name, page)
            assert not at.metric and not at.dataframe and not at.title, (name, page)
        cases += 1
    assert cases == len(ALL_PAGES)
    if name not in ("nobody", "publik"):
        denied = {r.target for r in session.scalars(
            select(AuditLog).where(AuditLog.action == "access.denied"))}
        assert denied == {f"page:{p}" for p in ALL_PAGES if p not in EXPECTED_PAGES[name]}


def test_app_matrix_covers_every_role() -> None:
    """The app matrix opens the app as nobody and as every role (a city department, a
    department with several pages' neighbours, a partner agency)."""
    roles = {"nobody" if n == "nobody" else n.partition(":")[0] for n in APP_ROLES}
    assert roles == {"nobody", *ROLES}
    partners = {o.code for o in DEPTS if o.partner}
    assert any(n.partition(":")[2] in partners for n in APP_ROLES)


def test_menu_shows_only_own_pages(fresh, session) -> None:
    at = _open_as("opd:dinkes", session)
    assert at.title[0].value == "Ringkasan"
    # hidden pages stay registered (polite refusal by URL) but are not in the menu
    from ambon_core.access import can_view as cv

    user = at.session_state["auth_user"]
    assert [p for p in ALL_PAGES if cv(user, p)] == ["ringkasan", "puskesmas", "layanan_publik"]
