"""'Who responds' on Ringkasan: per department, open and overdue instructions, median time
to acknowledge and to verified resolution (7 and 30 days), the oldest open one; and the
instructions closed in the last 7 days with their times. The mayor (and admin) see every
department, an OPD head their own; the wall screen none (``ambon_core.responders``)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from ambon_core.actions import InstructionView, instruction_state
from ambon_core.domain import utcnow
from ambon_core.responders import ResponderRow, board, recent_instructions
from components import data
from components.fmt import age_text, wit_time
from components.session import viewer
from components.ui import lang, t

log = logging.getLogger(__name__)
CLOSED_ROWS = 15


NONE = "–"  # not "-": st.table renders Markdown, and a lone hyphen is a list bullet


def _age(seconds: float | None) -> str:
    return age_text(seconds, lang()) if seconds is not None else NONE


def _time(moment) -> str:
    return wit_time(moment) if moment is not None else NONE


def board_frame(rows: list[ResponderRow], names: dict[str, str]) -> pd.DataFrame:
    """The board as a table with translated headers (pure; no ``st``)."""
    return pd.DataFrame([{
        t("col.opd"): names.get(r.opd, r.opd), t("fu.col.open"): r.open,
        t("fu.col.overdue"): r.overdue,
        t("fu.col.ack_7"): _age(r.ack_median_s[7]), t("fu.col.ack_30"): _age(r.ack_median_s[30]),
        t("fu.col.ver_7"): _age(r.verified_median_s[7]),
        t("fu.col.ver_30"): _age(r.verified_median_s[30]),
        t("fu.col.oldest"): _age(r.oldest_open_s)} for r in rows])


def closed_frame(items: list[InstructionView], names: dict[str, str]) -> pd.DataFrame:
    """Instructions closed in the last 7 days, newest first, with their times."""
    since = utcnow() - timedelta(days=7)
    closed = sorted((i for i in items if instruction_state(i) in ("terverifikasi", "selesai")
                     and (i.verified_at or i.done_at or i.created_at) >= since),
                    key=lambda i: i.created_at, reverse=True)
    return pd.DataFrame([{
        t("fu.col.instruction"): f"#{i.id} {i.place or ''}".strip(),
        t("col.opd"): names.get(i.opd, i.opd), t("col.status"): t(f"fu.state.{instruction_state(i)}"),
        t("fu.col.given"): wit_time(i.created_at, with_date=True),
        t("fu.col.acked"): _time(i.acknowledged_at),
        t("fu.col.verified"): _time(i.verified_at),
        t("fu.col.to_verified"): _age((i.verified_at - i.created_at).total_seconds()
                                      if i.verified_at else None)} for i in closed])


def render_responders(*, key: str) -> None:
    """The board for the mayor (every city department) or an OPD head (their own)."""
    user = viewer()
    if user is None or user.is_public:
        return
    opds = [o for o in data.registry().opds if not o.partner]
    if user.role == "opd":
        opds = [o for o in opds if o.code == user.opd]
    names = {o.code: o.name for o in opds}
    now = utcnow()
    try:
        with data.session() as s:
            items = recent_instructions(s, now, opd=user.opd if user.role == "opd" else None)
    except SQLAlchemyError as exc:
        log.warning("responders read failed: %s", exc)
        st.caption(t("no_data"))
        return
    st.subheader(t("fu.board_title"))
    # st.table, not st.dataframe: a handful of rows, read at a glance, and plain HTML text
    st.table(board_frame(board(items, now, list(names)), names), hide_index=True,
             border="horizontal")
    closed = closed_frame(items, names)
    if not closed.empty:
        st.caption(t("fu.closed_title"))
        st.table(closed.head(CLOSED_ROWS), hide_index=True, border="horizontal")
