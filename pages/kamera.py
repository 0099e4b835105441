"""Kamera: the camera wall (blurred snapshots only) with each camera's health (Kominfo)."""

import streamlit as st

from components import data
from components.alerts import plain
from components.auth import require_page
from components.fmt import wit_time
from components.summaries import camera_table
from components.tables import show_table
from components.ui import header, live_or_banner, status_text, t, t_or

require_page("kamera")
header("page.kamera")
period = data.settings().ui_refresh_s
KINDS = ("traffic", "puskesmas", "tps", "market")
PER_PAGE = 12
kinds = st.segmented_control(t("cam.kind"), KINDS, key="cam_kinds", selection_mode="multi",
                             default=["traffic"], format_func=lambda k: t(f"cam.kind_{k}"))


def camera_tile(row) -> None:
    """Name, state, the blurred snapshot (never the last frame of a dead camera), health."""
    cause = f" · {t_or(f'camera.cause_{row.cause}', row.cause)}" if row.cause else ""
    st.markdown(f"**{plain(row.name)}**  \n{status_text(row.status, 'camera')}{plain(cause)}")
    live = row.status in ("ok", "overloaded")  # fresh frames: an overloaded camera is slow, not dead
    jpeg = data.camera_snapshot(row.id) if live else None
    if jpeg:
        st.image(jpeg, width="stretch")
    else:
        st.caption(t("snapshot.none") if live else t("camera.no_signal"))
    st.caption(f"{t('col.fps')} {row.fps or 0:.1f} · {t('col.last_frame')} "
               f"{wit_time(row.last_frame_at)}")


@st.fragment(run_every=period)
def live_panel() -> None:
    live = live_or_banner()
    if live is None:
        return
    df = camera_table(live, data.registry())
    wall = df[df["kind"].isin(kinds or KINDS)]
    pages = max(1, -(-len(wall) // PER_PAGE))
    page = min(st.session_state.get("cam_page") or 1, pages)
    tiles = st.columns(4)
    for i, row in enumerate(wall.iloc[(page - 1) * PER_PAGE: page * PER_PAGE].itertuples()):
        with tiles[i % 4], st.container(border=True):
            camera_tile(row)
    if pages > 1:
        st.segmented_control(t("cam.page"), list(range(1, pages + 1)), key="cam_page", default=1)
    df = df.assign(status=[t(f"camera.{s}") + (f" ({t_or(f'camera.cause_{c}', c)})" if c else "")
                           for s, c in zip(df["status"], df["cause"], strict=True)])
    show_table(df, {"name": "col.camera", "status": "col.status", "fps": "col.fps",
                    "infer_ms": "col.infer_ms", "reconnects": "col.reconnects"},
               key="camera_table", period_s=period)


live_panel()
