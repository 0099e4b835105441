"""Map layers of Ambon for pydeck. ``build_*`` are pure (no ``st``) and unit-testable."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pydeck as pdk

AMBON_VIEW = pdk.ViewState(latitude=-3.675, longitude=128.19, zoom=11.3, pitch=0)
COLOURS = {"red": [214, 39, 40, 220], "orange": [255, 127, 14, 220],
           "green": [44, 160, 44, 200], "gray": [127, 127, 127, 180], "blue": [31, 119, 180, 210]}


def points_layer(df: pd.DataFrame, layer_id: str, radius: int = 120, min_pixels: int = 6) -> pdk.Layer:
    """Dots at ``lat``/``lon`` coloured by a ``colour`` column (a COLOURS name)."""
    frame = df.assign(rgba=df["colour"].map(lambda c: COLOURS.get(c, COLOURS["gray"])))
    return pdk.Layer("ScatterplotLayer", frame, id=layer_id, get_position=["lon", "lat"],
                     get_fill_color="rgba", get_radius=radius, radius_min_pixels=min_pixels,
                     radius_max_pixels=22, pickable=True, stroked=True,
                     get_line_color=[255, 255, 255], line_width_min_pixels=1)


def labels_layer(df: pd.DataFrame) -> pdk.Layer:
    """Place names (``label``) as text, for orientation when the basemap cannot load."""
    return pdk.Layer("TextLayer", df, id="labels", get_position=["lon", "lat"], get_text="label",
                     get_size=13, get_color=[60, 72, 90, 200], get_pixel_offset=[0, -18],
                     font_weight=600)


COASTLINE = Path(__file__).resolve().parent.parent / "data" / "coastline" / "ambon.geojson"
LAND_OFFLINE = [233, 228, 214, 255]  # opaque: the only land there is without tiles
LAND_OVER_BASEMAP = [233, 228, 214, 70]  # a tint: the basemap's streets stay readable
SHORE = [96, 125, 150, 230]
SEA = [214, 230, 242, 255]


@lru_cache(maxsize=1)
def coastline() -> dict:
    """Land polygons of Pulau Ambon, Lease and south Seram (derived from GSHHG, LGPL-3.0,
    by deploy/make_coastline.py; see data/coastline/README.md)."""
    return json.loads(COASTLINE.read_text(encoding="utf-8"))


def on_land(lat: float, lon: float) -> bool:
    """Whether a point lies on the coastline's land (even-odd rule over every ring)."""
    inside = False
    for feature in coastline()["features"]:
        geom = feature["geometry"]
        polygons = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        for polygon in polygons:
            for ring in polygon:
                xs, ys = np.asarray(ring, float).T
                x2, y2 = np.roll(xs, -1), np.roll(ys, -1)
                crosses = ((ys > lat) != (y2 > lat)) & (
                    lon < (x2 - xs) * (lat - ys) / np.where(y2 == ys, 1e-12, y2 - ys) + xs)
                inside ^= bool(np.count_nonzero(crosses) % 2)
    return inside


def sea_layer() -> pdk.Layer:
    """The sea of the coastline's region, for a screen without basemap tiles."""
    west, east, south, north = coastline()["properties"]["region"]
    box = [[west, south], [east, south], [east, north], [west, north]]
    return pdk.Layer("PolygonLayer", [{"polygon": box}], id="sea", get_polygon="polygon",
                     get_fill_color=SEA, stroked=False, pickable=False)


def coastline_layer(offline: bool) -> pdk.Layer:
    """The coast drawn by us, so the map reads even where no tile server answers."""
    return pdk.Layer("GeoJsonLayer", coastline(), id="coastline", filled=True, stroked=True,
                     get_fill_color=LAND_OFFLINE if offline else LAND_OVER_BASEMAP,
                     get_line_color=SHORE, line_width_min_pixels=1, pickable=False)


def build_city_deck(layers: list[pdk.Layer], map_style: str | None = "light") -> pdk.Deck:
    """A deck over Ambon, the coastline under every layer; the tooltip shows each
    point's ``label``. The online basemap (``map_style``) stays beneath where it loads."""
    offline = map_style is None
    base = [sea_layer(), coastline_layer(offline)] if offline else [coastline_layer(offline)]
    return pdk.Deck(layers=[*base, *layers],
                    initial_view_state=AMBON_VIEW, map_style=map_style,
                    tooltip={"text": "{label}"})


def cap_polygon(text: str | None) -> list[list[float]] | None:
    """A CAP 1.2 polygon ('lat,lon lat,lon ...') as [[lon, lat], ...], or None if malformed."""
    try:
        points = [[float(p.split(",")[1]), float(p.split(",")[0])] for p in (text or "").split()]
    except (IndexError, ValueError):
        return None
    return points if len(points) >= 3 else None


def areas_layer(df: pd.DataFrame, layer_id: str) -> pdk.Layer:
    """Warning areas (``polygon`` column of [[lon, lat], ...]) as translucent shapes."""
    return pdk.Layer("PolygonLayer", df, id=layer_id, get_polygon="polygon",
                     get_fill_color=[255, 165, 0, 50], get_line_color=[255, 120, 0, 200],
                     line_width_min_pixels=2, pickable=True)
