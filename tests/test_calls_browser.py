"""The 112 panel and tile in Chromium, fed by a simulated day read through the calls pipeline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ambon_core.call_figures import CallRules
from ambon_core.db import session_factory
from ambon_core.store import Store
from ambon_sim.callcentre import WIT, simulate_day
from tests.test_browser import _no_exception, _open, browser, server  # noqa: F401
from tests.test_pages import seed
from workers.feeds.calls_ingest import CallsIngest, CallSource

pytestmark = pytest.mark.browser


def _shot(page, name: str) -> None:
    """Whole-page screenshots (the panel runs below the fold) to $SCREENSHOT_DIR."""
    import os
    from pathlib import Path

    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _today_so_far(store: Store, engine, folder) -> list[str]:
    """Today's simulated 112 centre up to now, read like the worker reads it."""
    now = datetime.now(UTC)
    sim = simulate_day(7, now.astimezone(WIT).date())
    cut = int(now.timestamp())
    (folder / "queue_log").write_text("".join(f"{ln}\n" for at, ln in sim.queue_log if at <= cut))
    (folder / "Master.csv").write_text("".join(f"{ln}\n" for at, ln in sim.cdr if at <= cut))
    CallsIngest(store, session_factory(engine), CallRules(tz=WIT),
                [CallSource("q", folder / "queue_log", "queue_log"),
                 CallSource("c", folder / "Master.csv", "cdr")], hash_key=b"b").poll()
    return [c.number for c in sim.truth if c.number and c.entered <= cut]


@pytest.mark.timeout(900)  # five pages, each logged in, on a shared 2-core machine
def test_the_112_panel_and_tile_in_the_browser(server: str, browser, store: Store, engine,
                                               tmp_path) -> None:
    seed(store)
    numbers = _today_so_far(store, engine, tmp_path)
    from playwright.sync_api import expect

    for size in ((1180, 820), (1920, 1080)):
        for name, path, marker in (("insiden", "insiden", "Call Center 112"),
                                   ("ringkasan", "", "Panggilan 112 tak terjawab hari ini")):
            page = _open(browser, f"{server}/{path}", size)
            if path:  # a login may land on the overview: go to the page itself, logged in
                page.goto(f"{server}/{path}")
                page.wait_for_selector("[data-testid='stApp'][data-test-script-state="
                                       "'notRunning']", timeout=60_000)
            expect(page.get_by_text(marker, exact=True).first).to_be_visible(timeout=60_000)
            _no_exception(page)
            assert not [n for n in numbers if n in page.inner_text("body")]  # masked everywhere
            _shot(page, f"calls_{name}_{size[0]}x{size[1]}")
            if name == "insiden":  # the hourly chart drawn, not its empty frame
                chart = page.locator("[data-testid='stPlotlyChart'] .main-svg").first
                chart.wait_for(timeout=60_000)
                chart.scroll_into_view_if_needed()
                page.wait_for_timeout(500)
                _shot(page, f"calls_insiden_chart_{size[0]}x{size[1]}")
            page.close()


@pytest.mark.timeout(600)
def test_the_wall_shows_the_112_counts_only(server: str, browser, store: Store, engine,
                                            tmp_path) -> None:
    from playwright.sync_api import expect

    numbers = _today_so_far(store, engine, tmp_path)
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})  # public: no login
    wall.goto(f"{server}/insiden?kiosk=1&pages=insiden&every=600")
    expect(wall.get_by_text("Call Center 112", exact=True)).to_be_visible(timeout=120_000)
    wall.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for(timeout=120_000)
    wall.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=120_000)
    wall.wait_for_timeout(1000)  # let the last elements paint before the picture
    _no_exception(wall)
    text = wall.inner_text("body")
    assert "xxxx" not in text and not [n for n in numbers if n in text]  # counts only
    _shot(wall, "calls_wall_insiden_1920x1080")
