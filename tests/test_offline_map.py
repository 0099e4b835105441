"""The map without the internet: the GSHHG coastline is drawn by us, under the sites.

Unit tests on the pure builders; a Chromium test with every request off loopback refused
(a wall screen without internet) that finds land and sea painted on the map canvas at
tablet and wall size. Screenshots go to ``$SCREENSHOT_DIR`` when set.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from ambon_core.settings import ROOT, Settings
from ambon_core.store import Store
from components import maps
from tests.login import browser_login
from tests.test_browser import ARGS, CHROMIUM, _no_exception, browser, server  # noqa: F401
from tests.test_pages import seed

COAST = ROOT / "data" / "coastline" / "ambon.geojson"


def test_coastline_is_small_licensed_and_where_ambon_is() -> None:
    doc = json.loads(COAST.read_text())
    assert COAST.stat().st_size < 100_000 and "LGPL" in doc["properties"]["licence"]
    assert (ROOT / "data" / "coastline" / "README.md").read_text().count("GSHHG") >= 1
    assert maps.on_land(-3.70, 128.18)  # Kota Ambon, Sirimau (on land)
    assert maps.on_land(-3.62, 128.10)  # Leihitu peninsula
    assert not maps.on_land(-3.675, 128.14)  # Ambon Bay (sea), off Galala
    assert not maps.on_land(-3.645, 128.20)  # inner bay towards Passo
    assert not maps.on_land(-3.85, 128.20)  # Banda Sea south of Leitimur


def test_deck_draws_coastline_first_and_sea_only_offline() -> None:
    dots = maps.points_layer(pd.DataFrame({"lat": [-3.7], "lon": [128.18], "colour": ["red"],
                                           "label": ["x"]}), "sites")
    offline = json.loads(maps.build_city_deck([dots], None).to_json())
    assert [layer["id"] for layer in offline["layers"]] == ["sea", "coastline", "sites"]
    online = json.loads(maps.build_city_deck([dots], "light").to_json())
    assert [layer["id"] for layer in online["layers"]] == ["coastline", "sites"]
    land = {layer["id"]: layer for layer in online["layers"]}["coastline"]
    assert land["getFillColor"][3] < 128  # a tint: the basemap's streets stay readable


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("MAP_STYLE", "none")


def _fraction(png: bytes, rgb: tuple[int, int, int], tol: int = 8) -> float:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
    close = np.all(np.abs(image.astype(int) - np.array(rgb)) <= tol, axis=2)
    return float(close.mean())


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
@pytest.mark.parametrize("size, url", [((1180, 820), "/"),
                                       ((1920, 1080), "/?kiosk=1&pages=ringkasan&every=600")],
                         ids=["tablet", "wall"])
def test_map_without_internet_shows_the_coast(offline, server: str, browser, store: Store,
                                              session, size, url) -> None:
    seed(store)
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    refused: list[str] = []

    def only_loopback(route) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.goto(server + url)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)
    if "kiosk" not in url:
        browser_login(page, "walikota")
    canvas = page.locator("[data-testid='stDeckGlJsonChart'] canvas").first
    canvas.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector(\"[data-testid='stDeckGlJsonChart'] canvas\").width > 0")
    land = sea = 0.0
    for _ in range(40):  # deck.gl paints a few frames after the canvas appears
        shot = canvas.screenshot()
        land, sea = _fraction(shot, tuple(maps.LAND_OFFLINE[:3])), _fraction(shot, tuple(maps.SEA[:3]))
        if land > 0.05 and sea > 0.1:
            break
        page.wait_for_timeout(250)
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"offline_map_{size[0]}x{size[1]}.png"))
    assert land > 0.05 and sea > 0.1, (land, sea)
    _no_exception(page)
    context.close()


def test_the_city_map_shows_every_service_office_by_status(store: Store) -> None:
    """Kelurahan and negeri offices, pustu, Dukcapil...: one dot each, coloured like the
    puskesmas by their status, the name and status as plain text (issue 20's leftover)."""
    from ambon_core.domain import PuskesmasStatus, ServiceOfficeState
    from ambon_core.registry import load_registry
    from ambon_core.service_offices import service_offices
    from components.city_map import city_layers

    reg = load_registry()
    others = [o for o in service_offices(reg) if o.type != "puskesmas"]
    late = others[0]
    store.put(ServiceOfficeState(office_id=late.id, office_type=late.type,
                                 status=PuskesmasStatus.BELUM_BUKA, minutes_late=25))
    layers = {layer.id: layer for layer in city_layers(store.read_live(), reg, lambda key: key)}
    offices = pd.DataFrame(layers["offices"].data)  # pydeck keeps the rows as records
    assert sorted(offices["id"]) == sorted(o.id for o in others) and len(others) > 10
    row = offices.set_index("id").loc[late.id]
    assert row["colour"] == "red" and row["label"] == f"{late.name} · status.belum_buka"
    assert set(offices.drop(index=offices.index[offices["id"] == late.id])["colour"]) == {"orange"}
    assert not set(offices["id"]) & set(pd.DataFrame(layers["puskesmas"].data)["id"])
