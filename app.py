"""Ambon command-centre dashboard: `streamlit run app.py` (started by `make run`).

``?kiosk=1`` is the city-hall wall: no navigation, large type, and the pages listed in
``?pages=ringkasan,lalu_lintas`` rotate every ``?every=`` seconds (default 30).
"""

from __future__ import annotations

import streamlit as st

from ambon_core.registry import RegistryError
from components import data
from components.i18n import translate
from components.kiosk import KioskPlan, rotate
from components.nav import PAGES
from components.ui import apply_style, lang, language_switch

st.set_page_config(page_title="Pusat Komando Kota Ambon", page_icon=":material/location_city:",
                   layout="wide", initial_sidebar_state="collapsed")

try:
    data.registry()
except RegistryError as exc:
    st.error(f"Registry: {exc}")
    st.stop()

kiosk = KioskPlan.from_query(st.query_params)
apply_style(kiosk=kiosk is not None)
if kiosk is None:
    with st.columns([6, 1])[1]:
        language_switch()
pages = {name: st.Page(path, title=translate(title, lang()), icon=icon, url_path=name,
                       default=name == "ringkasan")
         for name, (path, title, icon) in PAGES.items()}
current = st.navigation(list(pages.values()), position="hidden" if kiosk else "top")
current.run()
if kiosk is not None:
    rotate(kiosk, pages, current)
