"""Kamera: the camera wall (blurred snapshots only) with each camera's health (Kominfo)."""

import streamlit as st

from ambon_core.domain import LIVE_CAMERA_STATUSES
from components import data
from components.authz import record, require_page
from components.fmt import number, wit_time
from components.page import header, live_or_banner
from components.summaries import camera_table
from components.tables import show_table
from components.text import plain
from components.ui import lang, on_wall, status_text, t, t_or
from components.wall import page_of

require_page("kamera")
header("page.kamera")
period = data.settings().ui_refresh_s
KINDS = ("traffic", "puskesmas", "tps", "market")
PER_PAGE = 12
SHARP_SHOWN = 2  # sharp pictures kept open below the wall, newest first
WITH_MAIN = {c.id for c in data.registry().cameras if c.detect_source}
kinds = ["traffic"] if on_wall() else st.segmented_control(  # no hand on the wall to choose
    t("cam.kind"), KINDS, key="cam_kinds", selection_mode="multi", default=["traffic"],
    format_func=lambda k: t(f"cam.kind_{k}"))


def camera_tile(row, live) -> None:
    """Name, state and cause, the blurred snapshot (never the last frame of a dead camera,
    never on the public wall), why its values are withheld if they are, health."""
    cause = f" · {t_or(f'camera.cause_{row.cause}', row.cause)}" if row.cause else ""
    st.markdown(f"**{plain(row.name)}**  \n{status_text(row.status, 'camera')}{plain(cause)}")
    fresh = row.status in LIVE_CAMERA_STATUSES
    jpeg = data.camera_snapshot(row.id, live) if fresh else None
    if jpeg:
        st.image(jpeg, width="stretch")
    elif not fresh:
        st.caption(t("camera.no_signal"))
    else:
        st.caption(t("snapshot.none" if data.camera_pixels_allowed(live) else "snapshot.public"))
    if (state := live.cameras.get(row.id)) and state.analysis_withheld:
        st.caption(f":orange[{t(f'camera.withheld.{state.analysis_withheld}')}]")
    st.caption(f"{t('col.fps')} {number(row.fps or 0, 1, lang())} · {t('col.last_frame')} "
               f"{wit_time(row.last_frame_at)}")
    if fresh and row.id in WITH_MAIN and jpeg:
        st.button(t("sharp.ask"), key=f"sharp_{row.id}", icon=":material/hd:",
                  on_click=ask_sharp, args=(row.id,), help=t("sharp.help"))


def ask_sharp(camera_id: str) -> None:
    """A viewer asks for the camera's main-stream picture: audited (who looked closer at
    which camera, when), then the request goes to the worker holding the camera."""
    record("camera.sharp", f"camera:{camera_id}")
    if not data.request_sharp(camera_id):
        st.toast(t("sharp.failed"), icon=":material/error:")
        return
    shown = [c for c in st.session_state.get("sharp_cams", []) if c != camera_id]
    st.session_state["sharp_cams"] = [camera_id, *shown][:SHARP_SHOWN]


def close_sharp(camera_id: str) -> None:
    st.session_state["sharp_cams"] = [c for c in st.session_state.get("sharp_cams", [])
                                      if c != camera_id]


def sharp_panel(camera_id: str, name: str, live) -> None:
    """One asked-for sharp picture (blurred like every picture), or why there is none."""
    with st.container(border=True):
        st.markdown(f"**{t('sharp.title')} · {plain(name)}**")
        pic = data.sharp_picture(camera_id, live)
        if pic is None:
            st.caption(t("sharp.waiting"))
        elif pic.jpeg:
            st.image(pic.jpeg, width="stretch")
            st.caption(t("sharp.caption", time=wit_time(pic.taken_at)))
        else:
            st.caption(f":orange[{t_or(f'sharp.error_{pic.error}', pic.error or '')}]")
        # below the picture: its full-screen control sits at its top right corner
        st.button(t("sharp.close"), key=f"sharp_close_{camera_id}", on_click=close_sharp,
                  args=(camera_id,), icon=":material/close:")


@st.fragment(run_every=period)
def live_panel() -> None:
    live = live_or_banner()
    if live is None:
        return
    df = camera_table(live, data.registry())
    wall = df[df["kind"].isin(kinds or KINDS)]
    pages = max(1, -(-len(wall) // PER_PAGE))
    # the public wall turns its pages by the clock (components.wall); a tablet by a tap
    page = page_of(len(wall), PER_PAGE)[0] + 1 if on_wall() else min(
        st.session_state.get("cam_page") or 1, pages)
    tiles = st.columns(4)
    for i, row in enumerate(wall.iloc[(page - 1) * PER_PAGE: page * PER_PAGE].itertuples()):
        with tiles[i % 4], st.container(border=True):
            camera_tile(row, live)
    if pages > 1 and on_wall():
        st.caption(t("cam.page") + f" {page}/{pages}")
    elif pages > 1:
        st.segmented_control(t("cam.page"), list(range(1, pages + 1)), key="cam_page", default=1)
    names = dict(zip(df["id"], df["name"], strict=True))
    for cid in st.session_state.get("sharp_cams", []):
        if cid in names:
            sharp_panel(cid, names[cid], live)
    df = df.assign(status=[t(f"camera.{s}") + (f" ({t_or(f'camera.cause_{c}', c)})" if c else "")
                           for s, c in zip(df["status"], df["cause"], strict=True)])
    show_table(df, {"name": "col.camera", "status": "col.status", "fps": "col.fps",
                    "infer_ms": "col.infer_ms", "reconnects": "col.reconnects"},
               key="camera_table", period_s=period)


live_panel()
