"""Puskesmas: opening status of every health centre against its schedule (Dinkes)."""

import streamlit as st

from ambon_core.alert_kinds import kinds_on_page
from components import data
from components.actions_ui import render_instructions
from components.alerts import render_alert_list
from components.authz import require_page
from components.details import puskesmas_detail
from components.history import range_picker
from components.page import header, live_or_banner
from components.summaries import puskesmas_table, status_label
from components.tables import show_table
from components.trends import punctuality
from components.ui import focus, kpi, t

PKM_ALERTS = kinds_on_page("puskesmas")
require_page("puskesmas")
header("page.puskesmas")
period = data.settings().ui_refresh_s
names = {p.id: p.name for p in data.registry().puskesmas}
chosen = focus(set(names))


@st.fragment(run_every=period)
def live_panel() -> None:
    live = live_or_banner()
    if live is None:
        return
    if chosen:
        puskesmas_detail(chosen, live)
    df = puskesmas_table(live, data.registry())
    counts = df["status"].value_counts()
    for col, code in zip(st.columns(4), ["buka", "belum_buka", "tutup", "tidak_diketahui"],
                         strict=True):
        with col:
            kpi(t(f"status.{code}"), int(counts.get(code, 0)))
    render_alert_list([a for a in live.alerts.values() if a.kind in PKM_ALERTS],
                      key="pkm_alerts", page="puskesmas", limit=5)
    # feed text (a closure reason) goes through st.dataframe: shown as text, never Markdown
    df = df.assign(status=[status_label(s, r, t) for s, r in zip(df["status"], df["closed_reason"],
                                                                  strict=True)],
                   hours_source=df["hours_source"].map(lambda h: t(f"hours_source.{h}") if h else "-"))
    show_table(df, {"name": "col.name", "kecamatan": "col.kecamatan", "status": "col.status",
                    "minutes_late": "col.late", "waiting": "col.waiting",
                    "longest_wait_min": "col.longest_wait", "staff": "col.staff",
                    "hours": "col.hours", "hours_source": "col.hours_source"},
               key="pkm_table", period_s=period)


live_panel()

render_instructions("dinkes", key="pkm_instructions", can_complete=True)

st.subheader(t("pkm.punctuality"))
span = range_picker("pkm_range", default="7d")
week = punctuality(data.puskesmas_changes(*span), data.settings().tz)
show_table(week.assign(name=week["puskesmas_id"].map(names)),
           {"name": "col.name", "days_open": "col.days_open", "days_late": "col.days_late",
            "mean_late_min": "col.mean_late", "max_late_min": "col.max_late",
            "days_not_opened": "col.days_not_opened"}, key="pkm_punctuality")
