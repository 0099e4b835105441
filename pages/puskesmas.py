"""Puskesmas: opening status of every health centre against its schedule."""

import streamlit as st

from components import data
from components.history import range_picker
from components.summaries import puskesmas_table
from components.tables import show_table
from components.ui import header, kpi, live_or_banner, t

header("page.puskesmas")
period = data.settings().ui_refresh_s


@st.fragment(run_every=period)
def live_panel() -> None:
    live = live_or_banner()
    if live is None:
        return
    df = puskesmas_table(live, data.registry())
    counts = df["status"].value_counts()
    cols = st.columns(4)
    for col, code in zip(cols, ["buka", "belum_buka", "tutup", "tidak_diketahui"], strict=True):
        with col:
            kpi(t(f"status.{code}"), int(counts.get(code, 0)))
    df = df.assign(status=df["status"].map(lambda s: t(f"status.{s}")))
    show_table(df, {"name": "col.name", "kecamatan": "col.kecamatan", "status": "col.status",
                    "minutes_late": "col.late", "waiting": "col.waiting",
                    "longest_wait_min": "col.longest_wait", "staff": "col.staff",
                    "hours": "col.hours"}, key="pkm_table", period_s=period)


live_panel()

st.subheader(t("hist.title"))
since = range_picker("pkm_range")
changes = data.puskesmas_changes(since)
if changes.empty:
    st.info(t("no_data"))
else:
    names = {p.id: p.name for p in data.registry().puskesmas}
    changes = changes.assign(name=changes["puskesmas_id"].map(names),
                             status=changes["status"].map(lambda s: t(f"status.{s}")))
    st.dataframe(changes[["at", "name", "status", "minutes_late", "waiting"]], hide_index=True,
                 width="stretch", key="pkm_changes")
