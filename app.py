"""Ambon command-centre dashboard: `streamlit run app.py` (started by `make run`).

``?kiosk=1`` is the city-hall wall: no navigation, large type, and the pages listed in
``?pages=ringkasan,lalu_lintas`` rotate every ``?every=`` seconds (default 30).
"""

from __future__ import annotations

import streamlit as st

from ambon_core import logs
from ambon_core.access import can_view
from ambon_core.registry import RegistryError
from components import data
from components.ack_page import render_ack_page
from components.i18n import translate
from components.kiosk import KioskPlan, rotate
from components.login import gate
from components.nav import ADMIN_PAGE, PAGES
from components.text import plain
from components.ui import apply_style, lang

logs.install()  # idempotent; also when app.py runs without server.py (AppTest)
st.set_page_config(page_title="Pusat Komando Kota Ambon", page_icon=":material/location_city:",
                   layout="wide", initial_sidebar_state="collapsed")

try:
    data.registry()
except RegistryError as exc:
    st.error(f"Registry: {plain(exc)}")
    st.stop()

kiosk = KioskPlan.from_query(st.query_params)
apply_style(kiosk=kiosk is not None)
if "ack" in st.query_params:  # an acknowledgement link: no login, that one action only
    render_ack_page(st.query_params["ack"])
user = gate(kiosk=kiosk is not None)  # the wall is the public; anyone else logs in first
# Every page is registered (so a URL without the right gets a polite refusal, not a 404);
# only the viewer's own pages are in the menu. Each page checks again (require_page).
pages = {name: st.Page(path, title=translate(title, lang()), icon=icon, url_path=name,
                       default=name == "ringkasan",
                       visibility="visible" if can_view(user, name) else "hidden")
         for name, (path, title, icon) in {**PAGES, "admin": ADMIN_PAGE}.items()}
current = st.navigation(list(pages.values()), position="hidden" if kiosk else "top")
current.run()
if kiosk is not None:
    rotate(kiosk, pages, current)
