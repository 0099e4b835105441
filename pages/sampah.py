"""Sampah: fill level of TPS dump points and market bins against their thresholds."""

import streamlit as st

from components import data
from components.charts import build_fill_bars, build_timeline
from components.fmt import percent
from components.history import range_picker
from components.summaries import tps_table
from components.tables import show_table
from components.ui import header, kpi, lang, live_or_banner, t

header("page.sampah")
period = data.settings().ui_refresh_s


@st.fragment(run_every=period)
def live_panel() -> None:
    live = live_or_banner()
    if live is None:
        return
    df = tps_table(live, data.registry())
    with st.columns(3)[0]:
        kpi(t("kpi.tps_over"), int(df["overflow"].sum()))
    known = df.dropna(subset=["fill"])
    if known.empty:
        st.info(t("no_data"))
    else:
        st.plotly_chart(build_fill_bars(known, t("col.fill")), key="fill_bars")
    show_table(df.assign(fill=df["fill"].map(lambda f: percent(f, lang()))),
               {"name": "col.name", "kecamatan": "col.kecamatan", "fill": "col.fill",
                "threshold": "col.threshold"}, key="tps_table", period_s=period)


live_panel()

st.subheader(t("tps.fill_history"))
history = data.tps_fill_history(range_picker("tps_range"))
if history.empty:
    st.info(t("no_data"))
else:
    names = {tp.id: tp.name for tp in data.registry().tps}
    st.plotly_chart(build_timeline(history.assign(name=history["tps_id"].map(names)),
                                   "at", "fill", "name"), key="fill_history")
