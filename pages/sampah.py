"""Sampah: TPS and market bins against their thresholds, trucks and tonnage (DLH)."""

import streamlit as st

from ambon_core.alert_kinds import kinds_on_page
from components import data, maps
from components.actions_ui import render_instructions
from components.alerts import render_alert_list
from components.authz import require_page
from components.charts import build_fill_bars, build_timeline
from components.city_map import render_deck
from components.details import tps_detail
from components.export_ui import open_data_download
from components.fmt import number, percent
from components.history import range_picker
from components.page import header, live_or_banner
from components.summaries import tps_table
from components.tables import show_table
from components.trends import break_gaps, local_time, tonnage
from components.ui import focus, kpi, lang, t

WASTE_ALERTS = kinds_on_page("sampah")
require_page("sampah")
header("page.sampah")
period = data.settings().ui_refresh_s
names = {x.id: x.name for x in data.registry().tps}
cameras = {c.id: c.site for c in data.registry().cameras if c.site in names}
wanted = focus(set(names) | set(cameras))
chosen = cameras.get(wanted, wanted)  # an alert may name the camera watching the TPS


@st.fragment(run_every=period)
def live_panel() -> None:
    live = live_or_banner()
    if live is None:
        return
    if chosen:
        tps_detail(chosen, live)
    df = tps_table(live, data.registry())
    trips = tonnage(data.waste_trips(data.range_start("today")), data.settings().tz)
    cols = st.columns(3)
    with cols[0]:
        kpi(t("kpi.tps_over"), int(df["overflow"].sum()))
    with cols[1]:
        kpi(t("waste.trips_today"), int(trips["trips"].sum()) if not trips.empty else 0)
    with cols[2]:
        kpi(t("waste.tonnes_today"),
            number(float(trips["tonnes"].sum()) if not trips.empty else 0.0, 1, lang()))
    left, right = st.columns([3, 2])
    with left:
        mapped = df.assign(colour=df["overflow"].map({True: "red", False: "blue"}),
                           label=df["name"] + " · " + df["fill"].map(percent))
        render_deck([maps.points_layer(mapped, "tps", 80)], key="tps_map", height=320)
    with right, st.container(height=320, border=False):
        render_alert_list([a for a in live.alerts.values()
                           if a.kind in WASTE_ALERTS],
                          key="waste_alerts", page="sampah", limit=6)
    known = df.dropna(subset=["fill"])
    if not known.empty:
        st.plotly_chart(build_fill_bars(known, t("col.fill"), t("col.threshold")), key="fill_bars")
    show_table(df.assign(fill=df["fill"].map(lambda f: percent(f, lang())),
                         threshold=df["threshold"].map(lambda f: percent(f, lang()))),
               {"name": "col.name", "kecamatan": "col.kecamatan", "fill": "col.fill",
                "threshold": "col.threshold"}, key="tps_table", period_s=period)


live_panel()

render_instructions("dlh", key="waste_instructions", can_complete=True)

st.subheader(t("tps.fill_history"))
span = range_picker("tps_range")
history = data.tps_fill_history(*span)
if history.empty:
    st.info(t("no_data"))
else:
    history = break_gaps(local_time(history, "at", data.settings().tz), "at", "fill", "tps_id")
    st.plotly_chart(build_timeline(history.assign(name=history["tps_id"].map(names)), "at", "fill",
                                   "name", {"at": t("col.at_wit"), "fill": t("col.fill"),
                                            "name": t("col.name")}, percent=True),
                    key="fill_history")
week = tonnage(data.waste_trips(data.range_start("7d")), data.settings().tz)
st.subheader(t("waste.week"))
show_table(week, {"day": "waste.day", "trips": "waste.trips", "tonnes": "waste.tonnes"},
           key="waste_week")

open_data_download(("waste",), "dlh", key="waste_export")
