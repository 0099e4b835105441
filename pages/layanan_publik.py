"""Layanan Publik: every public service office open when it should be, by type and kecamatan."""

import pandas as pd
import streamlit as st

from ambon_core.domain import AlertKind
from ambon_core.registry import OFFICE_TYPES
from ambon_core.service_offices import service_offices
from components import data
from components.actions_ui import render_instructions
from components.alerts import render_alert_list
from components.authz import require_page
from components.history import range_picker
from components.offices import calendar_warnings, office_counts, office_table
from components.page import header, live_or_banner
from components.tables import show_table
from components.trends import punctuality
from components.ui import age_caption, focus, kpi, on_wall, status_text, t, t_or

user = require_page("layanan_publik")
header("page.layanan_publik")
period = data.settings().ui_refresh_s
own_opd = user.opd if user.role == "opd" else None  # a department sees its own offices first
kinds: list[str] = []  # the wall shows every type and kecamatan: nobody there to filter
kecamatan: list[str] = []
if not on_wall():
    kinds = st.pills(t("lp.types"), OFFICE_TYPES, selection_mode="multi", key="lp_types",
                     format_func=lambda code: t(f"office.{code}"))
    districts = sorted({o.kecamatan for o in data.registry().offices}
                       | {p.kecamatan for p in data.registry().puskesmas})
    kecamatan = st.multiselect(t("col.kecamatan"), districts, key="lp_kecamatan",
                               placeholder=t("lp.all"))
chosen = focus({o.id for o in service_offices(data.registry())})  # a tapped alert's office
COLUMNS = {"name": "col.name", "status": "col.status", "reason": "col.reason",
           "minutes_late": "col.late", "kecamatan": "col.kecamatan", "waiting": "col.waiting",
           "longest_wait_min": "col.longest_wait", "staff": "col.staff",
           "staff_elsewhere": "col.elsewhere", "hours": "col.hours", "opd": "col.opd",
           "camera": "col.camera"}


def office_card(office_id: str, live) -> None:
    """The office an alert pointed at: status, reason, staff, today's hours (as text)."""
    row = office_table(live, data.registry()).set_index("id").loc[office_id]
    state = live.offices.get(office_id)
    with st.container(border=True):
        st.subheader(row["name"])
        st.markdown(status_text(row["status"]))
        reason = t_or(f"reason.{row['reason']}", row["reason"]) if row["reason"] else "-"
        shown = {k: "-" if pd.isna(row[k]) else row[k] for k in ("minutes_late", "staff")}
        st.text(f"{t('col.reason')}: {reason} · {t('col.late')}: {shown['minutes_late']} · "
                f"{t('col.staff')}: {shown['staff']} · {t('col.hours')}: {row['hours']}\n"
                f"{t('col.opd')}: {row['opd']} · {row['kecamatan']}")
        age_caption(state.updated_at if state else None, period)


@st.fragment(run_every=period)
def live_panel() -> None:
    live = live_or_banner()
    if live is None:
        return
    if chosen:
        office_card(chosen, live)
    for warning in calendar_warnings(live):
        st.warning(warning, icon=":material/event_busy:")  # st.warning shows text, not HTML
    counts = office_counts(live, data.registry())
    for col, code in zip(st.columns(4), ["buka", "belum_buka", "tutup", "tidak_diketahui"],
                         strict=True):
        with col:
            kpi(t(f"status.{code}"), counts.get(code, 0))
    late = [a for a in live.alerts.values()
            if a.kind in (AlertKind.OFFICE_LATE, AlertKind.PUSKESMAS_LATE)
            and (own_opd is None or a.opd == own_opd)]
    with st.container(height=300 if len(late) > 1 else "content", border=False):
        render_alert_list(late, key="lp_alerts", page="layanan_publik", limit=20)
    df = office_table(live, data.registry())
    if kinds:
        df = df[df["type"].isin(kinds)]
    if kecamatan:
        df = df[df["kecamatan"].isin(kecamatan)]
    df = df.assign(status=df["status"].map(lambda s: t(f"status.{s}")),
                   reason=df["reason"].map(lambda r: t_or(f"reason.{r}", r) if r else None),
                   camera=df["camera"].map(lambda c: t("yes") if c else t("no")))
    for kind in [k for k in OFFICE_TYPES if k in set(df["type"])]:
        st.subheader(t(f"office.{kind}"))
        show_table(df[df["type"] == kind], COLUMNS, key=f"lp_table_{kind}", period_s=period)


live_panel()
render_instructions(own_opd, key="lp_instructions", can_complete=True)

st.subheader(t("pkm.punctuality"))
span = range_picker("lp_range", default="7d")
week = punctuality(data.office_changes(*span).rename(columns={"office_id": "puskesmas_id"}),
                   data.settings().tz)
names = {o.id: o.name for o in service_offices(data.registry())}
show_table(week.assign(name=week["puskesmas_id"].map(names)),
           {"name": "col.name", "days_open": "col.days_open", "days_late": "col.days_late",
            "mean_late_min": "col.mean_late", "max_late_min": "col.max_late",
            "days_not_opened": "col.days_not_opened"}, key="lp_punctuality")

