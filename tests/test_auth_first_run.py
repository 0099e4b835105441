"""A new installation: the login page says how to create the first account, and only then."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from ambon_core.settings import ROOT
from ambon_core.store import Store
from tests.login import make_user


def _login_page() -> AppTest:
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    return at.run()


def test_hint_on_a_new_installation(store: Store, session: Session) -> None:
    at = _login_page()
    assert not at.exception
    assert any("Belum ada akun" in i.value for i in at.info)
    assert "workers admin create --username admin --role admin" in at.code[0].value


def test_no_hint_once_an_account_exists(store: Store, session: Session) -> None:
    make_user(session, "admin", "admin")
    at = _login_page()
    assert not at.exception
    assert not any("Belum ada akun" in i.value for i in at.info)
    assert at.text_input(key="login_username")  # the form is there
