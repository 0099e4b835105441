"""Detail cards for one item (opened by tapping an alert: ``?focus=<id>``)."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from ambon_core.store import LiveState
from components import data
from components.fmt import age_text, number, percent, wit_time
from components.history import RANGES
from components.session import viewer
from components.summaries import status_label
from components.text import plain
from components.ui import age_caption, lang, status_text, t, t_or


def _snapshot(camera_id: str | None, live: LiveState) -> None:
    jpeg = data.camera_snapshot(camera_id, live) if camera_id else None
    if jpeg:
        st.image(jpeg, caption=t("detail.entrance"), width="stretch")
    else:
        st.caption(t("snapshot.none" if data.camera_pixels_allowed(live) else "snapshot.public"))


def puskesmas_detail(pkm_id: str, live: LiveState) -> None:
    """Status, waiting citizens, staff, the blurred entrance and today's timeline."""
    pkm = next(p for p in data.registry().puskesmas if p.id == pkm_id)
    state = live.puskesmas.get(pkm_id)
    cams = data.registry().cameras_for_site(pkm_id)
    with st.container(border=True):
        left, right = st.columns([3, 2])
        with left:
            st.subheader(plain(pkm.name))
            st.markdown(status_text(state.status.value if state else None))
            if state and state.closed_reason:
                st.text(status_label(state.status.value, state.closed_reason, t))  # feed text: plain
            if state and state.hours_source:
                st.caption(f"{t('col.hours_source')}: {t(f'hours_source.{state.hours_source}')}")
            if state:
                facts = {"col.late": state.minutes_late, "col.waiting": state.waiting,
                         "col.staff": state.staff_checked_in,
                         "col.hours": f"{state.scheduled_open or '-'}–{state.scheduled_close or '-'}"}
                st.markdown(" · ".join(f"{t(k)}: **{'-' if v is None else plain(v)}**"
                                       for k, v in facts.items()))
            age_caption(state.updated_at if state else None, data.settings().ui_refresh_s)
            changes = data.puskesmas_changes(data.range_start(RANGES[0]).replace(second=0,
                                                                                microsecond=0))
            today = changes[changes["puskesmas_id"] == pkm_id]
            if not today.empty:
                st.caption(t("detail.timeline"))
                fig = px.scatter(today.assign(label=today["status"].map(lambda s: t(f"status.{s}"))),
                                 x="at", y="label", color="label", height=180)
                fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, showlegend=False)
                st.plotly_chart(fig, key=f"pkm_timeline_{pkm_id}")
        with right:
            _snapshot(cams[0].id if cams else None, live)


def camera_detail(camera_id: str, live: LiveState) -> None:
    """One camera: its blurred snapshot, counts, congestion and health."""
    cam = data.registry().camera(camera_id)
    state = live.cameras.get(camera_id)
    with st.container(border=True):
        left, right = st.columns([2, 3])
        with left:
            st.subheader(plain(cam.name))
            st.markdown(status_text(state.status.value if state else None, "camera"))
            if state and state.congestion:
                st.markdown(status_text(state.congestion.value, "congestion"))
            if state:
                counts = ", ".join(f"{t_or(f'class.{k}', k)}: {v}"
                                   for k, v in sorted(state.objects.items())) or "-"
                st.text(f"{counts}\n{t('col.fps')}: {number(state.infer_fps, 1, lang())} · "
                        f"{t('col.last_frame')}: {wit_time(state.last_frame_at)}")
            age_caption(state.updated_at if state else None, data.settings().ui_refresh_s)
        with right:
            _snapshot(camera_id if state and state.status.value == "ok" else None, live)


def tps_detail(tps_id: str, live: LiveState) -> None:
    site = next(x for x in data.registry().tps if x.id == tps_id)
    state = live.tps.get(tps_id)
    cams = data.registry().cameras_for_site(tps_id)
    with st.container(border=True):
        left, right = st.columns([2, 3])
        with left:
            st.subheader(plain(site.name))
            st.metric(t("col.fill"), percent(state.fill if state else None, lang()))
            st.caption(f"{t('col.threshold')}: {percent(site.overflow_threshold, lang())}")
            if state and state.last_emptied_at:
                st.caption(f"{t('tps.emptied')}: {wit_time(state.last_emptied_at, True)}")
            age_caption(state.updated_at if state else None, data.settings().ui_refresh_s)
        with right:
            _snapshot(cams[0].id if cams else None, live)


def _may_read_descriptions() -> bool:
    """A report's free text is for signed-in staff who may see the incident (the live
    state is already scoped to them), never for the wall screen."""
    user = viewer()
    return user is not None and not user.is_public


def incident_detail(incident_id: str, live: LiveState) -> None:
    """One incident's facts and lifecycle (no caller identity: none is stored)."""
    inc = live.incidents.get(incident_id)
    timeline = data.incident_timeline(incident_id)
    with st.container(border=True):
        if inc:
            st.subheader(plain(inc.title))
            st.text(f"{inc.category} · {t(f'severity.{inc.severity}')} · "
                    f"{t(f'incident.{inc.status.value}')} · {', '.join(inc.agencies) or '-'}\n"
                    f"{t('col.reported')}: {wit_time(inc.reported_at, True)} "
                    f"({age_text((live.read_at - inc.reported_at).total_seconds(), lang())})")
            if inc.description and _may_read_descriptions():
                st.caption(t("col.description"))
                st.text(inc.description)  # feed text: plain text, never Markdown or HTML
        if timeline.empty:
            st.caption(t("no_data"))
        else:
            st.dataframe(timeline.assign(at=timeline["at"].map(lambda m: wit_time(m, True)),
                                         status=timeline["status"].map(
                                             lambda s: t(f"incident.{s}"))),
                         hide_index=True, key=f"timeline_{incident_id}")
