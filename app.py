"""Ambon command-centre dashboard: `streamlit run app.py` (started by `make run`)."""

from __future__ import annotations

import streamlit as st

from ambon_core.registry import RegistryError
from components import data
from components.i18n import LANGS, translate
from components.nav import PAGES
from components.ui import lang

st.set_page_config(page_title="Pusat Komando Kota Ambon", page_icon="🏙️", layout="wide",
                   initial_sidebar_state="auto")

try:
    data.registry()
except RegistryError as exc:
    st.error(f"Registry: {exc}")
    st.stop()

with st.sidebar:
    st.selectbox(translate("lang.label", lang()), LANGS, key="lang",
                 index=LANGS.index(lang()),
                 format_func=lambda code: {"id": "Bahasa Indonesia", "en": "English"}[code])

pages = [st.Page(path, title=translate(title, lang()), icon=icon, url_path=name,
                 default=name == "ringkasan")
         for name, (path, title, icon) in PAGES.items()]
st.navigation(pages).run()
