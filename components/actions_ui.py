"""Acting from the dashboard: acknowledge an alert, instruct a department, mark done.

Forms validate on the server (ambon_core.actions); a refused action shows why and
changes nothing.
"""

from __future__ import annotations

import streamlit as st

from ambon_core.actions import acknowledge, instruct
from ambon_core.domain import Alert
from ambon_core.followup import default_deadline_min
from components import data
from components import followup_ui as fu
from components.action_run import _run, show_done_toast
from components.authz import alert_offer, authorize
from components.fmt import age_text, wit_time
from components.session import actor, viewer
from components.text import plain
from components.ui import lang, t


def _department_codes() -> dict[str, str]:
    return {o.code: o.name for o in data.registry().opds}


def render_alert_actions(alert: Alert, *, key: str, page: str) -> None:
    """A popover with 'acknowledge', a note, and 'instruct a department', offered only
    when the viewer may act on this alert on this page (``access.alert_offer``); each
    submit is checked again against SQL (``authz.authorize``)."""
    offer = alert_offer(page, alert.opd)
    if not offer.anything:
        return
    target_of = f"alert:{alert.alert_id}"
    with st.popover(t("act.button"), icon=":material/assignment:", width="stretch"):
        with st.form(f"{key}_ack", border=False):
            note = st.text_input(t("act.note"), key=f"{key}_note", max_chars=1000)
            if st.form_submit_button(t("act.acknowledge"), icon=":material/done:") and \
                    authorize("acknowledge", alert.opd, target_of):
                _run(lambda s: acknowledge(s, alert.alert_id, actor(), note),
                     t("act.acknowledged"))
        names = _department_codes()
        opds = {c: names[c] for c in offer.instruct_to}
        if not opds:
            return
        with st.form(f"{key}_instruct", border=False):
            target = st.selectbox(t("act.to_opd"), list(opds), key=f"{key}_opd",
                                  index=list(opds).index(alert.opd) if alert.opd in opds else 0,
                                  format_func=lambda c: opds[c])
            text = st.text_area(t("act.instruction"), key=f"{key}_text", max_chars=1000)
            minutes = st.number_input(t("fu.deadline_min"), min_value=1, max_value=20160,
                                      value=int(default_deadline_min(alert)), step=5,
                                      key=f"{key}_deadline")
            if st.form_submit_button(t("act.send"), icon=":material/send:") and \
                    authorize("instruct", target, target_of, alert_opd=alert.opd, on_alert=True):
                _run(lambda s: instruct(s, alert, target, text, actor(), set(names),
                                        deadline_min=minutes, problem=fu.problem_text(alert),
                                        place=fu.place_of(alert), registry=data.registry(),
                                        settings=data.settings()),
                     t("act.sent", opd=plain(opds.get(target, target))))


def render_instructions(opd: str | None, *, key: str, can_complete: bool,
                        title: bool = True) -> None:
    """Open instructions, oldest first, each with 'done' for the department that got it."""
    show_done_toast()
    user = viewer()
    if user is None or user.is_public:
        return  # instructions are internal: never on the wall screen
    if title:
        st.subheader(t("act.open_title"))
    if user.role == "opd":
        opd = user.opd  # a department head sees the department's own instructions
    items = sorted(data.open_instructions(opd), key=lambda i: i.created_at)
    if not items:
        st.caption(t("act.none_open"))
        return
    names = _department_codes()
    sent = fu.delivery_map([i.id for i in items])
    for item in items:
        with st.container(border=True):
            st.markdown(fu.state_badge(item))
            st.text(f"#{item.id} {names.get(item.opd, item.opd)} · {item.place or ''} · "
                    f"{wit_time(item.created_at)} · {age_text(_age(item.created_at), lang())}"
                    f"\n{item.text}\n" + "\n".join(fu.status_lines(item, sent.get(item.id, []))))
            fu.render_photo(item)
            if can_complete:
                fu.render_item_actions(item, key=key, opd=opd)


def _age(moment) -> float:
    from ambon_core.domain import utcnow

    return (utcnow() - moment).total_seconds()
