"""Lalu Lintas: congestion at the 19 traffic cameras, events and counts (Dishub)."""

import streamlit as st

from ambon_core.alert_kinds import kinds_on_page
from ambon_core.domain import CameraKind
from components import data, maps
from components.actions_ui import render_instructions
from components.alerts import render_alert_list
from components.authz import require_page
from components.charts import build_counts_per_hour
from components.city_map import render_deck
from components.details import camera_detail
from components.export_ui import open_data_download
from components.history import range_picker
from components.page import header, live_or_banner
from components.summaries import CONGESTION_COLOUR, camera_table
from components.tables import show_table
from components.trends import counts_per_hour
from components.ui import focus, kpi, t, t_or

TRAFFIC_ALERTS = kinds_on_page("lalu_lintas")
require_page("lalu_lintas")
header("page.lalu_lintas")
period = data.settings().ui_refresh_s
chosen = focus({c.id for c in data.registry().cameras if c.kind == CameraKind.TRAFFIC})


@st.fragment(run_every=period)
def live_panel() -> None:
    live = live_or_banner()
    if live is None:
        return
    if chosen:
        camera_detail(chosen, live)
    df = camera_table(live, data.registry(), {CameraKind.TRAFFIC})
    counts = df["congestion"].value_counts()
    for col, code in zip(st.columns(3), ["macet", "padat", "lancar"], strict=True):
        with col:
            kpi(t(f"congestion.{code}"), int(counts.get(code, 0)))
    left, right = st.columns([3, 2])
    with left:
        mapped = df.assign(label=df["name"], colour=df["congestion"].map(
            lambda c: CONGESTION_COLOUR.get(c or "", "gray")))
        render_deck([maps.points_layer(mapped, "traffic", 90)], key="traffic_map", height=340)
    with right, st.container(height=340, border=False):
        render_alert_list([a for a in live.alerts.values() if a.kind in TRAFFIC_ALERTS],
                          key="traffic_alerts", page="lalu_lintas", limit=6)
    df = df.assign(congestion=df["congestion"].map(
        lambda c: t(f"congestion.{c}") if c else t("no_data")))
    show_table(df, {"name": "col.camera", "kecamatan": "col.kecamatan",
                    "congestion": "col.congestion", "vehicles": "col.vehicles",
                    "speed": "col.speed", "parking": "col.parking"},
               key="traffic_table", period_s=period)


live_panel()

render_instructions("dishub", key="traffic_instructions", can_complete=True)

st.subheader(t("traffic.counts"))
minutes = data.camera_minutes(*range_picker("traffic_range"))
per_hour = counts_per_hour(minutes[minutes["kind"] == "traffic"], data.settings().tz)
if per_hour.empty:
    st.info(t("no_data"))
else:
    per_hour["class"] = per_hour["class"].map(lambda c: t_or(f"class.{c}", c))
    st.plotly_chart(build_counts_per_hour(per_hour, {"hour": t("col.hour"), "count": t("col.crossings"),
                                                     "class": t("col.class")}),
                    key="traffic_per_hour")

open_data_download(("traffic",), "dishub", key="traffic_export")
