"""Layanan Publik in Debian's Chromium: the real status worker fills Redis from the office
simulator's ASN export at a Monday 08:20, then the page is looked at at tablet and desktop
size (screenshots to ``$SCREENSHOT_DIR`` when set)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from ambon_core.registry import load_registry
from ambon_core.settings import Settings
from ambon_core.store import Store
from ambon_sim import feed_world
from ambon_sim.offices import office_world
from tests.test_browser import _no_exception, _open, _shot, browser, pytestmark, server  # noqa: F401
from workers.feeds.config import make_feed
from workers.feeds.ingest import ingest
from workers.site_status import SiteStatusWorker

MONDAY_0820 = datetime(2026, 11, 23, 8, 20, tzinfo=ZoneInfo("Asia/Jayapura"))


def fill_from_simulator(settings: Settings, store: Store, session) -> None:
    """What the feeds and status workers would have written at Monday 08:20."""
    reg = load_registry(settings.registry_path)
    doc = office_world(reg, seed=7).kehadiran(MONDAY_0820)

    ingest(make_feed(name="absensi-kantor", url="file:///dev/null", format="kehadiran-json"),
           json.dumps(doc).encode(), store=store, session=session, registry=reg,
           now=MONDAY_0820.astimezone(UTC))
    pkm = feed_world.checkins(reg, 7, MONDAY_0820)  # the puskesmas' own export
    ingest(make_feed(name="absensi-asn", url="file:///dev/null", format="attendance-json"),
           json.dumps(pkm).encode(), store=store, session=session, registry=reg,
           now=MONDAY_0820.astimezone(UTC))
    worker = SiteStatusWorker(settings, reg)
    worker.clock = lambda: MONDAY_0820.astimezone(UTC)
    worker.run_once()


def test_layanan_publik_at_tablet_and_desktop_size(server: str, browser, settings: Settings,
                                                    store: Store, session) -> None:
    fill_from_simulator(settings, store, session)
    late = [s for s in store.read_live().offices.values() if s.status.value == "belum_buka"]
    assert late  # the simulator's story has late offices at 08:20
    for size in ((1180, 820), (1920, 1080)):
        page = _open(browser, server, size)  # in by the front door, then the menu
        page.get_by_role("link", name="Layanan Publik").click()
        page.wait_for_url("**/layanan_publik", timeout=60_000)
        _no_exception(page)
        assert page.locator("h1").first.inner_text() == "Layanan Publik"
        tables = page.locator("[data-testid='stDataFrame']")
        tables.nth(6).wait_for(timeout=60_000)  # one table per office type, seven types
        assert page.get_by_text("belum buka (jadwal").count() >= 1  # an alert sentence
        _shot(page, f"layanan_publik_{size[0]}x{size[1]}")
        tables.first.scroll_into_view_if_needed()  # the tables below the tiles and alerts
        page.wait_for_timeout(500)
        _shot(page, f"layanan_publik_{size[0]}x{size[1]}_tables")
        page.close()
    page = _open(browser, server, (1180, 820))
    tile = page.locator("[data-testid='stMetric']").filter(has_text="Kantor layanan buka")
    tile.first.wait_for(timeout=60_000)
    _no_exception(page)
    _shot(page, "ringkasan_offices_1180x820")
    page.close()


def test_the_wall_counts_the_late_offices(server: str, browser, settings: Settings,
                                         store: Store, session) -> None:
    """The public wall (its playlist opens on Ringkasan): the late offices are counted as
    late, not as 'tidak diketahui' (the public view used to leave every office out)."""
    from playwright.sync_api import expect

    fill_from_simulator(settings, store, session)
    live = store.read_live()
    late = sum(1 for s in live.offices.values() if s.status.value == "belum_buka")
    page = _open(browser, f"{server}/?kiosk=1&pages=layanan_publik&every=600",
                 (1920, 1080))
    tile = page.locator("[data-testid='stMetric']").filter(has_text="Belum buka").first
    expect(tile.locator("[data-testid='stMetricValue']")).to_have_text(str(late), timeout=60_000)
    _no_exception(page)
    _shot(page, "wall_offices_1920x1080")
    page.close()
