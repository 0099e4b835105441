"""An instruction's follow-up on the page: state, deadline, who it reached, "diterima",
completion with a note and a photo (issue 17; the logic is ``ambon_core.followup``).

Targets are never shown here: a delivery is its contact's label and channel only.
"""

from __future__ import annotations

import logging
import math

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from ambon_core.actions import (
    InstructionView,
    acknowledge_instruction,
    complete,
    instruction_state,
    is_overdue,
)
from ambon_core.domain import Alert, AlertKind
from ambon_core.models import Instruction
from ambon_core.outbox import Delivery, deliveries
from ambon_core.privacy import category_text, public_alert
from components import data
from components.action_run import _run as run_action
from components.authz import authorize, may
from components.fmt import age_text, wit_time
from components.i18n import translate
from components.session import actor as current_actor
from components.ui import lang, t

log = logging.getLogger(__name__)
STATE_COLOUR = {"terbuka": "orange", "diterima": "blue", "selesai": "green",
                "selesai_belum_terverifikasi": "violet", "terverifikasi": "green"}


def problem_text(alert: Alert) -> str:
    """The alert in Indonesian as the public may read it: what a notification may carry."""
    from components.alert_text import alert_text

    return alert_text(public_alert(alert, category_text, {}), "id")


def place_of(alert: Alert) -> str:
    """Where, in words a notification may carry: the registry's site or camera name, an
    incident's kecamatan (never its address or title), else the alert's public place."""
    reg = data.registry()
    named = {p.id: p.name for p in reg.puskesmas} | {x.id: x.name for x in reg.tps} | {
        c.id: c.name for c in reg.cameras}
    if alert.entity_id in named:
        return named[alert.entity_id]
    if alert.kind == AlertKind.INCIDENT:
        live = data.live()
        incident = live.incidents.get(alert.entity_id) if live else None
        return f"Kec. {incident.kecamatan}" if incident and incident.kecamatan else "-"
    public = public_alert(alert, category_text, {}).params
    return str(next((public[k] for k in ("camera", "wilayah", "area", "name") if public.get(k)),
                    "-"))


def delivery_map(ids: list[int]) -> dict[int, list[Delivery]]:
    """Delivery status of these instructions (empty when SQL does not answer)."""
    try:
        with data.session() as s:
            return deliveries(s, ids, data.settings())
    except SQLAlchemyError as exc:
        log.warning("delivery read failed: %s", exc)
        return {}


def _delivery_line(d: Delivery) -> str:
    level = t(f"fu.level.{d.level}")
    if d.status == "sent":
        state = t("fu.delivery.sent", at=wit_time(d.sent_at))
    elif d.status in ("pending", "sending") and d.attempts:
        state = t("fu.delivery.failing", n=d.attempts) + (" ⚠" if d.failing else "")
    else:
        state = t(f"fu.delivery.{d.status}")
    return f"{d.label} · {d.channel} · {level}: {state}"


def status_lines(item: InstructionView, sent: list[Delivery]) -> list[str]:
    """Plain-text lines: state, deadline, acknowledgement, verification, deliveries."""
    parts = [t("fu.deadline", at=wit_time(item.deadline_at))] if item.deadline_at else []
    if is_overdue(item):
        parts.append(t("fu.overdue").upper())
    if item.escalation_level and sent and min(d.level for d in sent) < item.escalation_level:
        parts.append(t("fu.escalated", level=t(f"fu.level.{item.escalation_level}")))
    lines = [" · ".join(parts)] if parts else []
    if item.acknowledged_at is not None:
        lines.append(t("fu.acked_by", at=wit_time(item.acknowledged_at), who=item.acknowledged_by))
    if item.verified_at is not None:
        lines.append(t("fu.verified_in", at=wit_time(item.verified_at), dur=age_text(
            (item.verified_at - item.created_at).total_seconds(), lang())))
    if item.done_note:
        lines.append(f"{t('fu.done_note')}: {item.done_note}")
    lines += [_delivery_line(d) for d in sent] or [t("fu.no_targets")]
    return lines


def render_item_actions(item: InstructionView, *, key: str, opd: str | None) -> None:
    """'Diterima' and the completion form, for the department that got the instruction."""
    if not may("complete", item.opd):
        return
    ack_col, done_col, _ = st.columns([1, 1, 3])
    if item.acknowledged_at is None and ack_col.button(
            t("fu.ack"), key=f"{key}_ack_{item.id}", icon=":material/mark_email_read:",
            width="stretch") and authorize("complete", item.opd, f"instruction:{item.id}"):
        _run(lambda s: acknowledge_instruction(s, item.id, current_actor(), opd), t("fu.acked"))
    if item.status == "done":
        return
    limit_kb = data.settings().instruction_photo_max_kb
    with done_col.popover(t("act.done"), icon=":material/task_alt:", width="stretch"), \
            st.form(f"{key}_done_{item.id}", clear_on_submit=True, border=False):
        note = st.text_area(t("fu.done_note"), key=f"{key}_note_{item.id}", max_chars=1000)
        photo = st.file_uploader(t("fu.photo", mb=f"{limit_kb / 1024:g}"),
                                 type=["jpg", "jpeg", "png", "webp"], key=f"{key}_photo_{item.id}",
                                 max_upload_size=max(1, math.ceil(limit_kb / 1024)))
        if st.form_submit_button(t("act.done"), icon=":material/task_alt:") and \
                authorize("complete", item.opd, f"instruction:{item.id}"):
            raw = photo.getvalue() if photo is not None else None
            _run(lambda s: complete(s, item.id, current_actor(), opd, note, raw,
                                    limit_kb * 1024), t("act.marked_done"))


def render_photo(item: InstructionView) -> None:
    """The completion photo, for the mayor, the admin and the instruction's department."""
    if not item.has_photo or not may("complete", item.opd):
        return
    try:
        with data.session() as s:
            photo = s.get(Instruction, item.id).done_photo
    except SQLAlchemyError:
        return
    if photo:
        st.image(photo, caption=t("fu.photo_caption", id=item.id), width=240)


def state_badge(item: InstructionView) -> str:
    state = instruction_state(item)
    return f":{STATE_COLOUR[state]}-badge[{translate(f'fu.state.{state}', lang())}]"


def _run(action, success: str) -> None:
    run_action(action, success)
