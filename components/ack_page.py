"""The page behind an acknowledgement link (``/?ack=<token>``): no login, one action.

It shows what the link would acknowledge (as plain text) and one button; the token is
spent only on that click, so a mail scanner that fetches links does not acknowledge for
the recipient. Every refusal is a sentence on the page and a row in the audit log
(``ambon_core.ack_links``). Nothing else of the dashboard is reachable from here.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from ambon_core import ack_links
from components import data
from components.fmt import wit_time
from components.ui import t

MAX_TOKEN = 400


def render_ack_page(token: str) -> None:
    """Check the token, show the instruction, acknowledge on the click; then stop."""
    st.title(t("ack.title"))
    settings = data.settings()
    try:
        with data.session() as s:
            try:
                if len(token) > MAX_TOKEN:
                    raise ack_links.AckRefused("forged", "Tautan ini tidak sah (terlalu panjang).")
                row, message = ack_links.check(s, settings, token)
                opd = next((o.name for o in data.registry().opds if o.code == row.opd), row.opd)
                st.text(t("ack.intro", id=row.id, opd=opd, text=row.text))
                st.text(t("ack.for", label=message.contact_label))
                if st.button(t("ack.button"), key="ack_submit", type="primary",
                             icon=":material/mark_email_read:"):
                    done = ack_links.acknowledge(s, settings, token)
                    st.session_state["_ack_done"] = t("ack.done", id=done.instruction_id,
                                                      at=wit_time(done.at))
                    st.rerun()
            except ack_links.AckRefused as refused:
                if "_ack_done" in st.session_state:
                    st.success(st.session_state["_ack_done"], icon=":material/check_circle:")
                else:
                    ack_links.refuse(s, refused, token)
                    st.error(str(refused), icon=":material/link_off:")
    except SQLAlchemyError:
        st.error("Dasbor sedang tidak dapat menyimpan. Coba lagi beberapa menit lagi.")
    st.caption(t("ack.only"))
    st.stop()
