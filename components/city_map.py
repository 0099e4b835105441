"""The city map with every layer: puskesmas, the other service offices, traffic cameras,
TPS, incidents."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ambon_core.registry import Registry
from ambon_core.store import LiveState
from components import maps
from components.fmt import percent
from components.offices import office_table
from components.summaries import (
    CONGESTION_COLOUR,
    PKM_COLOUR,
    camera_table,
    incident_table,
    puskesmas_table,
    tps_table,
)
from components.ui import t


def city_layers(live: LiveState, reg: Registry, lang_text=t) -> list:
    """All map layers; labels are plain text (pydeck tooltips do not render HTML from data)."""
    pkm = _by_status(puskesmas_table(live, reg), lang_text)
    offices = office_table(live, reg)
    offices = _by_status(offices[offices["type"] != "puskesmas"], lang_text)  # pkm: own layer
    cams = camera_table(live, reg)
    traffic = cams[cams["kind"] == "traffic"]
    traffic = traffic.assign(
        colour=traffic["congestion"].map(lambda c: CONGESTION_COLOUR.get(c or "", "gray")),
        label=traffic["name"] + " · " + traffic["congestion"].map(
            lambda c: lang_text(f"congestion.{c}") if c else lang_text("no_data")))
    tps = tps_table(live, reg)
    tps = tps.assign(colour=tps["overflow"].map({True: "red", False: "blue"}),
                     label=tps["name"] + " · " + tps["fill"].map(percent))
    layers = [maps.labels_layer(district_labels(reg)),
              maps.points_layer(offices, "offices", 60, min_pixels=4),
              maps.points_layer(pkm, "puskesmas", 110),
              maps.points_layer(traffic, "traffic", 90),
              maps.points_layer(tps, "tps", 80)]
    incidents = incident_table(live).dropna(subset=["lat", "lon"])
    if not incidents.empty:
        incidents = incidents.assign(colour="red", label=incidents["title"])
        layers.append(maps.points_layer(incidents, "incidents", 140))
    return layers


def _by_status(sites: pd.DataFrame, lang_text) -> pd.DataFrame:
    """Offices and puskesmas coloured by open status, labelled 'name · status'."""
    return sites.assign(colour=sites["status"].map(PKM_COLOUR), label=sites["name"] + " · "
                        + sites["status"].map(lambda s: lang_text(f"status.{s}")))


def district_labels(reg: Registry) -> pd.DataFrame:
    """Kecamatan names at the mean position of their registry sites (orientation without tiles)."""
    sites = pd.DataFrame([{"kecamatan": s.kecamatan, "lat": s.lat, "lon": s.lon}
                          for s in [*reg.puskesmas, *reg.tps, *reg.cameras]])
    return sites.groupby("kecamatan", as_index=False)[["lat", "lon"]].mean().rename(
        columns={"kecamatan": "label"})


def render_deck(layers: list, *, key: str, height: int) -> None:
    """Draw layers over Ambon with the configured basemap (MAP_STYLE; none = offline)."""
    from components import data

    style = data.settings().map_style
    st.pydeck_chart(maps.build_city_deck(layers, None if style in (None, "none") else style),
                    height=height, key=key)


def render_city_map(live: LiveState, reg: Registry, *, key: str, height: int = 430) -> None:
    render_deck(city_layers(live, reg), key=key, height=height)
