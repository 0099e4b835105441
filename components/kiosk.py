"""Wall-screen (kiosk) mode: hidden navigation and a playlist of pages that rotates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from components.nav import PAGES

MIN_EVERY_S, MAX_EVERY_S = 10, 600


@dataclass(frozen=True)
class KioskPlan:
    pages: tuple[str, ...]
    every_s: int

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> KioskPlan | None:
        """Read ``kiosk``, ``pages`` and ``every`` from URL parameters; bad values fall back
        to safe defaults (a wall screen has no keyboard to fix a typo)."""
        if params.get("kiosk") not in ("1", "true", "yes"):
            return None
        wanted = [p.strip() for p in str(params.get("pages", "")).split(",") if p.strip()]
        pages = tuple(p for p in wanted if p in PAGES) or ("ringkasan",)
        try:
            every = int(params.get("every", 30))
        except (TypeError, ValueError):
            every = 30
        return cls(pages, min(MAX_EVERY_S, max(MIN_EVERY_S, every)))

    def next_page(self, current: str) -> str:
        if current not in self.pages:
            return self.pages[0]
        return self.pages[(self.pages.index(current) + 1) % len(self.pages)]


def rotate(plan: KioskPlan, pages: Mapping[str, st.Page], current: st.Page) -> None:
    """After ``every_s`` seconds, go to the next page of the playlist (keeping kiosk params)."""
    name = next((n for n, p in pages.items() if p.url_path == current.url_path), "ringkasan")
    if len(plan.pages) == 1 and name == plan.pages[0]:
        return
    params = {"kiosk": "1", "pages": ",".join(plan.pages), "every": str(plan.every_s)}
    if "lang" in st.query_params:
        params["lang"] = st.query_params["lang"]
    if name not in plan.pages:  # the wall opened on a page outside its playlist: start it now
        st.switch_page(pages[plan.pages[0]], query_params=params)

    @st.fragment(run_every=plan.every_s)
    def _timer() -> None:
        ticks = st.session_state.get("_kiosk_ticks", 0) + 1
        st.session_state["_kiosk_ticks"] = ticks
        if ticks > 1:  # the first run is the page load itself
            st.session_state["_kiosk_ticks"] = 0
            st.switch_page(pages[plan.next_page(name)], query_params=params)

    _timer()
