"""Insiden: open 112 incidents by severity and age, and the feeds they come from."""

import streamlit as st

from components import data
from components.summaries import incident_table
from components.tables import show_table
from components.ui import header, live_or_banner, t

header("page.insiden")
period = data.settings().ui_refresh_s
category = st.multiselect(t("filter.category"), sorted(
    {c for o in data.registry().opds for c in o.incident_categories}), key="inc_category")


@st.fragment(run_every=period)
def live_panel() -> None:
    live = live_or_banner()
    if live is None:
        return
    df = incident_table(live)
    if category:
        df = df[df["category"].isin(category)]
    df = df.assign(severity=df["severity"].map(lambda s: t(f"severity.{s}")),
                   status=df["status"].map(lambda s: t(f"incident.{s}")))
    show_table(df, {"title": "col.title", "category": "col.category", "severity": "col.severity",
                    "status": "col.status", "agencies": "col.agencies",
                    "kecamatan": "col.kecamatan"}, key="incident_table", period_s=None)
    st.subheader(t("feeds.title"))
    feeds = [{"feed": f.feed, "status": t("feeds.degraded") if f.degraded else t("feeds.ok"),
              "last_ok": f.last_ok_at} for f in live.feeds.values()]
    if feeds:
        st.dataframe(feeds, hide_index=True, key="feeds_table")
    else:
        st.info(t("no_data"))


live_panel()
