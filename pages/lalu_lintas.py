"""Lalu Lintas: congestion at the 19 traffic cameras."""

import streamlit as st

from ambon_core.domain import CameraKind
from components import data, maps
from components.summaries import CONGESTION_COLOUR, camera_table
from components.tables import show_table
from components.ui import header, kpi, live_or_banner, t

header("page.lalu_lintas")
period = data.settings().ui_refresh_s


@st.fragment(run_every=period)
def live_panel() -> None:
    live = live_or_banner()
    if live is None:
        return
    df = camera_table(live, data.registry(), {CameraKind.TRAFFIC})
    counts = df["congestion"].value_counts()
    cols = st.columns(3)
    for col, code in zip(cols, ["macet", "padat", "lancar"], strict=True):
        with col:
            kpi(t(f"congestion.{code}"), int(counts.get(code, 0)))
    mapped = df.assign(colour=df["congestion"].map(lambda c: CONGESTION_COLOUR.get(c or "", "gray")),
                       label=df["name"])
    st.pydeck_chart(maps.build_city_deck([maps.points_layer(mapped, "traffic", 90)]),
                    height=360, key="traffic_map")
    df = df.assign(congestion=df["congestion"].map(
        lambda c: t(f"congestion.{c}") if c else t("no_data")))
    show_table(df, {"name": "col.camera", "kecamatan": "col.kecamatan",
                    "congestion": "col.congestion", "vehicles": "col.vehicles",
                    "speed": "col.speed", "parking": "col.parking"},
               key="traffic_table", period_s=period)


live_panel()
