"""Ringkasan: the mayor's one-screen overview (KPIs, city map, alerts, instructions)."""

import streamlit as st

from components import data
from components.actions_ui import render_instructions
from components.alerts import render_alert_list
from components.authz import require_page
from components.calls_panel import render_calls_tile
from components.city_map import render_city_map
from components.export_ui import open_data_download
from components.fmt import age_text
from components.offices import office_counts
from components.page import header, live_or_banner
from components.responders import render_responders
from components.summaries import kpis
from components.ui import kpi, lang, on_wall, t

require_page("ringkasan")
header("page.ringkasan")
period = data.settings().ui_refresh_s
height = 560 if on_wall() else 400  # the wall has room; the tablet must not scroll


@st.fragment(run_every=period)
def live_panel() -> None:
    live = live_or_banner()
    if live is None:
        return
    k = kpis(live, data.registry())
    tiles = st.columns(7)
    offices = office_counts(live, data.registry())  # every service office, puskesmas included
    with tiles[0]:
        kpi(t("kpi.offices_open"), offices["buka"], f"{t('kpi.pkm_closed')}: {offices['tutup']}")
    with tiles[1]:
        kpi(t("kpi.pkm_late"), offices["belum_buka"],
            f"{t('status.tidak_diketahui')}: {offices['tidak_diketahui']}")
    with tiles[2]:
        kpi(t("kpi.traffic_hot"), k.traffic_hot)
    with tiles[3]:
        kpi(t("kpi.tps_over"), k.tps_over)
    with tiles[4]:
        oldest = t("kpi.oldest", age=age_text(k.oldest_incident_s, lang()))
        kpi(t("kpi.incidents_open"), k.incidents_open,
            f"{t('severity.3')} {k.incidents_by_severity[3]} · {oldest}" if k.incidents_open
            else None)
    with tiles[5]:
        kpi(t("kpi.cameras_online"), f"{k.cameras_online}/{k.cameras_total}")
    with tiles[6]:
        render_calls_tile(live.calls)
    left, right = st.columns([3, 2])
    with left:
        render_city_map(live, data.registry(), key="overview_map", height=height)
    with right, st.container(height=height, border=False):
        st.subheader(t("alerts.title"))
        render_alert_list(live.alerts.values(), key="overview_alerts", page="ringkasan")


live_panel()

if not on_wall():
    with st.expander(t("act.open_title"), icon=":material/assignment:",
                     expanded="instruction" in st.query_params):  # the link in a message
        render_instructions(None, key="overview_instructions", can_complete=False, title=False)
    render_responders(key="overview_responders")
    open_data_download(("traffic", "waste", "alerts"), None, key="overview_export")
