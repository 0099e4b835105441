"""Insiden: open 112 incidents, response times against targets, BMKG warnings."""

import pandas as pd
import streamlit as st

from ambon_core.districts import DISTRICT_LABELS
from ambon_core.domain import AlertKind
from ambon_core.response_times import summarize
from components import data, maps
from components.actions_ui import render_instructions
from components.alerts import render_alert_list
from components.authz import require_page
from components.calls_panel import render_calls_panel
from components.city_map import render_deck
from components.details import incident_detail
from components.export_ui import open_data_download
from components.fmt import age_text, figure, wit_time
from components.history import range_picker
from components.page import header, live_or_banner
from components.scope import scoped_incidents
from components.session import viewer
from components.summaries import feed_health_table, incident_table
from components.tables import show_table
from components.ui import focus, kpi, lang, on_wall, t

require_page("insiden")
header("page.insiden")
s = data.settings()
reg = data.registry()
viewer_ = viewer()
scoped = viewer_ is not None and viewer_.role == "opd"  # a department head: own categories
category: list[str] = []  # the wall: every incident, nobody there to filter
agency: list[str] = []
kecamatan: list[str] = []
if not on_wall():
    filters = st.columns(3)
    category = filters[0].multiselect(t("filter.category"), sorted(
        viewer_.incident_categories if scoped else
        {c for o in reg.opds for c in o.incident_categories}), key="inc_category",
        placeholder=t("filter.all"))
    agency = filters[1].multiselect(t("col.agencies"), [o.code for o in reg.opds], key="inc_agency",
                                    format_func=lambda c: c.upper(), placeholder=t("filter.all"))
    kecamatan = filters[2].multiselect(t("filter.kecamatan"), list(DISTRICT_LABELS),  # + Maluku Tengah
                                       key="inc_kecamatan", placeholder=t("filter.all"))


def _filtered(df: pd.DataFrame) -> pd.DataFrame:
    if category:
        df = df[df["category"].isin(category)]
    if agency:
        df = df[df["agencies"].map(lambda a: any(x in str(a).split(", ") for x in agency))]
    if kecamatan:
        df = df[df["kecamatan"].isin(kecamatan)]
    return df


@st.fragment(run_every=s.ui_refresh_s)
def live_panel() -> None:
    live = live_or_banner()
    if live is None:
        return
    chosen = focus(set(live.incidents) | set(live.alerts) | {a.entity_id for a in
                                                             live.alerts.values()})
    if chosen and chosen in live.incidents:
        incident_detail(chosen, live)
    df = _filtered(incident_table(live, reg))
    cols = st.columns(4)
    for col, sev in zip(cols, (3, 2, 1), strict=False):
        with col:
            kpi(t(f"severity.{sev}"), int((df["severity"] == sev).sum()))
    with cols[3]:
        kpi(t("inc.oldest_open"), age_text(df["age_s"].max() if len(df) else None, lang()))
    render_calls_panel(live.calls, key="calls_panel")
    left, right = st.columns([3, 2])
    warnings = [a for a in live.alerts.values()
                if a.kind in {AlertKind.EARTHQUAKE, AlertKind.WEATHER}]
    with left:
        layers = []
        areas = [{"polygon": p, "label": str(a.params.get("area") or a.params.get("event"))}
                 for a in warnings if (p := maps.cap_polygon(str(a.params.get("polygon") or "")))]
        if areas:
            layers.append(maps.areas_layer(pd.DataFrame(areas), "warning_areas"))
        located = df.dropna(subset=["lat", "lon"])
        if not located.empty:
            layers.append(maps.points_layer(located.assign(
                colour=located["severity"].map({3: "red", 2: "orange", 1: "blue"}),
                label=located["title"]), "incidents", 140))
        render_deck(layers, key="incident_map", height=340)
    with right, st.container(height=340, border=False):
        st.caption(t("inc.warnings"))
        render_alert_list(warnings, key="bmkg_alerts", page="insiden", limit=5)
    show_table(df.assign(severity=df["severity"].map(lambda v: t(f"severity.{v}")),
                         status=df["status"].map(lambda v: t(f"incident.{v}")),
                         reported=df["reported_at"].map(wit_time),
                         age=df["age_s"].map(lambda a: age_text(a, lang()))),
               {"title": "col.title", "category": "col.category", "severity": "col.severity",
                "status": "col.status", "agencies": "col.agencies", "kecamatan": "col.kecamatan",
                "reported": "col.reported", "age": "col.age"}, key="incident_table")
    st.caption(t("feeds.title"))
    show_table(feed_health_table(live.feeds.values(), t, wit_time),
               {"feed": "col.feed", "ok": "col.status", "last_ok": "col.last_ok",
                "records": "col.records", "rejected": "col.rejected",
                "dead_letters": "col.dead_letters", "unmapped": "col.unmapped",
                "last_error": "col.last_error"}, key="feeds_table")


live_panel()

st.subheader(t("inc.response"))
history = _filtered(scoped_incidents(data.incidents(*range_picker("inc_range", default="7d"))))
target = {"call_to_dispatch": s.target_dispatch_min, "dispatch_to_scene": s.target_on_scene_min}
by = "agency" if on_wall() else st.segmented_control(
    t("inc.group"), ["agency", "category"], key="inc_by", default="agency",
    format_func=lambda g: t(f"inc.by_{g}")) or "agency"
rows = [{"key": k, **{m: round(v[m]["median_s"] / 60, 1) if v[m]["median_s"] is not None else None
                      for m in target}, "n": v["call_to_dispatch"]["n"]}
        for k, v in summarize(history, by=by).items()]
table = pd.DataFrame(rows, columns=["key", *target, "n"])
for metric, minutes in target.items():
    table[f"{metric}_ok"] = table[metric].map(lambda m, lim=minutes: "-" if pd.isna(m) else
                                              ("✓" if m <= lim else "✗"))
show_table(table, {"key": f"inc.by_{by}", "call_to_dispatch": "inc.call_to_dispatch",
                   "call_to_dispatch_ok": "inc.dispatch_ok", "dispatch_to_scene":
                   "inc.dispatch_to_scene", "dispatch_to_scene_ok": "inc.scene_ok",
                   "n": "inc.count"}, key="response_table")
st.caption(t("inc.targets", dispatch=figure(s.target_dispatch_min, lang()),
             scene=figure(s.target_on_scene_min, lang())))
render_instructions(None, key="incident_instructions", can_complete=True)
open_data_download(("alerts",), None, key="incident_export")
