"""On the wall at 1920x1080 every list fits or pages through by itself (issue 19).

Pure paging; the kiosk Puskesmas page in AppTest (22 puskesmas: pages of 8 rows, a
table tall enough for its rows, the page line); a Chromium look at the wall."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from ambon_core.domain import Alert, AlertKind
from ambon_core.store import Store
from components import wall
from tests.test_browser import ARGS, CHROMIUM, _no_exception, browser, server  # noqa: F401
from tests.test_pages import APP, seed


def test_pages_turn_with_the_clock_and_cover_every_row() -> None:
    rows = pd.DataFrame({"n": range(22)})
    seen: list[int] = []
    for step in range(3):
        part, note = wall.wall_slice(rows, 12, "id", now=step * wall.PAGE_S)
        seen += list(part["n"])
        assert note == ["Halaman 1/2 · 1–12 dari 22", "Halaman 2/2 · 13–22 dari 22"][step % 2]
    assert sorted(set(seen)) == list(range(22))
    part, note = wall.wall_slice(rows.head(12), 12, "en")
    assert len(part) == 12 and note is None
    part, note = wall.wall_slice(list(range(5)), 8, "en")
    assert part == [0, 1, 2, 3, 4] and note is None
    assert wall.table_height(8) == 9 * wall.ROW_PX + 3


def _kiosk(page: str) -> AppTest:
    import streamlit as st

    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"kiosk": "1", "pages": page, "every": "600"})
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("clock", [0, wall.PAGE_S], ids=["page1", "page2"])
def test_kiosk_puskesmas_table_pages_instead_of_scrolling(store: Store, session, clock,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Both pages render (page 2 starts with a number above a gap: one type per column)."""
    monkeypatch.setattr(wall.time, "time", lambda: 1_800_000_000 // wall.PAGE_S * wall.PAGE_S
                        + clock)
    seed(store)
    at = _kiosk("puskesmas")
    table = at.dataframe[0]
    rows = wall.TABLE_ROWS
    first = 1 + rows * (clock // wall.PAGE_S)
    assert len(table.value) == rows  # of the registry's 22 (pages 1 and 2 are full)
    assert any(c.value.startswith(f"Halaman {1 + clock // wall.PAGE_S}/3 · {first}–")
               and c.value.endswith("dari 22") for c in at.caption)


def test_kiosk_alerts_page_through_every_alert(store: Store, session) -> None:
    alerts = [Alert(alert_id=f"tps_overflow:t{i}", kind=AlertKind.TPS_OVERFLOW, entity_id=f"t{i}",
                    severity=2, params={"name": f"TPS {i}", "fill": 0.9}) for i in range(11)]
    store.put(*alerts)
    at = _kiosk("ringkasan")
    notes = [c.value for c in at.caption if c.value.startswith("Halaman ")]
    assert notes and notes[0].endswith("dari 11")
    assert not any("lainnya" in c.value for c in at.caption)  # no "n more" nobody can open


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_wall_puskesmas_at_1920x1080(server: str, browser, store: Store) -> None:
    seed(store)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    # the wall's URL starts the playlist, which turns to Puskesmas by itself
    page.goto(f"{server}/?kiosk=1&pages=puskesmas&every=10")
    page.wait_for_url("**/puskesmas**", timeout=60_000)
    page.get_by_text("dari 22").first.wait_for(timeout=60_000)
    # the wall's own style: full width and large type, so the whole table fits across
    page.wait_for_function("() => document.querySelector(\"[data-testid='stMainBlockContainer']\")"
                           ".offsetWidth > 1800", timeout=60_000)
    # a page of rows with no scroll bar, wholly on the screen (polled: the grid is
    # re-mounted when the page turns)
    grid, box = page.locator("[data-testid='stDataFrame']"), None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        box = grid.first.bounding_box(timeout=5_000) if grid.count() else None
        if box and box["height"] >= wall.table_height(wall.TABLE_ROWS) - 2 \
                and box["y"] + box["height"] <= 1080:
            break
        page.wait_for_timeout(250)
    else:
        raise AssertionError(f"the table is not a whole page on the screen: {box}")
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / "wall_puskesmas_1920x1080.png"), full_page=True)
    _no_exception(page)
