"""Map layers of Ambon for pydeck. ``build_*`` are pure (no ``st``) and unit-testable."""

from __future__ import annotations

import pandas as pd
import pydeck as pdk

AMBON_VIEW = pdk.ViewState(latitude=-3.675, longitude=128.19, zoom=11.3, pitch=0)
COLOURS = {"red": [214, 39, 40, 220], "orange": [255, 127, 14, 220],
           "green": [44, 160, 44, 200], "gray": [127, 127, 127, 180], "blue": [31, 119, 180, 210]}


def points_layer(df: pd.DataFrame, layer_id: str, radius: int = 120) -> pdk.Layer:
    """Dots at ``lat``/``lon`` coloured by a ``colour`` column (a COLOURS name)."""
    frame = df.assign(rgba=df["colour"].map(lambda c: COLOURS.get(c, COLOURS["gray"])))
    return pdk.Layer("ScatterplotLayer", frame, id=layer_id, get_position=["lon", "lat"],
                     get_fill_color="rgba", get_radius=radius, radius_min_pixels=6,
                     radius_max_pixels=22, pickable=True, stroked=True,
                     get_line_color=[255, 255, 255], line_width_min_pixels=1)


def labels_layer(df: pd.DataFrame) -> pdk.Layer:
    """Place names (``label``) as text, for orientation when the basemap cannot load."""
    return pdk.Layer("TextLayer", df, id="labels", get_position=["lon", "lat"], get_text="label",
                     get_size=13, get_color=[60, 72, 90, 200], get_pixel_offset=[0, -18],
                     font_weight=600)


def build_city_deck(layers: list[pdk.Layer], map_style: str | None = "light") -> pdk.Deck:
    """A deck over Ambon; the tooltip shows each point's ``label``."""
    return pdk.Deck(layers=layers, initial_view_state=AMBON_VIEW, map_style=map_style,
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
