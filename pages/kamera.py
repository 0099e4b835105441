"""Kamera: the camera wall (blurred snapshots only) with each camera's health."""

import streamlit as st

from components import data
from components.auth import require_page
from components.summaries import camera_table
from components.tables import show_table
from components.ui import header, live_or_banner, status_text, t

require_page("kamera")
header("page.kamera")
period = data.settings().ui_refresh_s


@st.fragment(run_every=period)
def live_panel() -> None:
    live = live_or_banner()
    if live is None:
        return
    df = camera_table(live, data.registry())
    tiles = st.columns(4)
    for i, row in enumerate(df.head(12).itertuples()):
        with tiles[i % 4], st.container(border=True):
            st.markdown(f"**{row.name}**  \n{status_text(row.status, 'camera')}")
            jpeg = data.camera_snapshot(row.id) if row.status == "ok" else None
            if jpeg:
                st.image(jpeg, width="stretch")
            else:
                st.caption(t("snapshot.none") if row.status == "ok" else t("camera.no_signal"))
    df = df.assign(status=df["status"].map(lambda s: t(f"camera.{s}")))
    show_table(df, {"name": "col.camera", "status": "col.status", "fps": "col.fps",
                    "infer_ms": "col.infer_ms", "reconnects": "col.reconnects"},
               key="camera_table", period_s=period)


live_panel()
