"""Admin → Kontak: notification targets per site, OPD head and city level (issue 17).

The only place a target appears, and then masked (Apprise's privacy rendering); entry is
validated by ``ambon_core.contacts`` (channel, URL form, OPD and site known).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ambon_core.contacts import ContactError, add_contact, all_contacts, level_of, masked, remove_contact
from components import authz, data
from components.ui import t


def contacts_frame() -> pd.DataFrame:
    with data.session() as db:
        rows = all_contacts(db, data.registry())
    return pd.DataFrame([{
        t("contacts.col.ref"): c.ref, t("contacts.col.level"): level_of(c.opd, c.site),
        t("col.opd"): c.opd or "-", t("contacts.col.site"): c.site or "-",
        t("contacts.col.label"): c.label, t("contacts.col.channel"): c.channel,
        t("contacts.col.target"): masked(c.url)} for c in rows],
        columns=[t(k) for k in ("contacts.col.ref", "contacts.col.level", "col.opd",
                                "contacts.col.site", "contacts.col.label",
                                "contacts.col.channel", "contacts.col.target")])


def _change(action, target: str) -> None:
    if not authz.authorize("manage_users", None, target):
        return
    try:
        with data.session() as db:
            action(db)
    except ContactError as exc:
        st.error(t("admin.refused", reason=str(exc)))
        return
    st.session_state["_contacts_saved"] = True
    st.rerun()  # the table above shows the change at once


def render_contacts_admin(actor: str) -> None:
    """The contacts table, an add form and a remove control."""
    reg = data.registry()
    if st.session_state.pop("_contacts_saved", False):
        st.toast(t("admin.saved"), icon=":material/check:")
    frame = contacts_frame()
    st.dataframe(frame, hide_index=True, width="stretch", key="contacts_table")
    st.caption(t("contacts.from_registry", n=len(reg.contacts)))
    opds = [None, *sorted(o.code for o in reg.opds if not o.partner)]
    sites = [None, *sorted([p.id for p in reg.puskesmas] + [x.id for x in reg.tps])]
    with st.expander(t("contacts.add"), icon=":material/contact_mail:"), \
            st.form("contacts_add", clear_on_submit=True):
        label = st.text_input(t("contacts.label"), key="contact_label", max_chars=120)
        opd = st.selectbox(t("contacts.opd"), opds, key="contact_opd")
        site = st.selectbox(t("contacts.site"), sites, key="contact_site")
        url = st.text_input(t("contacts.url"), key="contact_url", type="password")
        if st.form_submit_button(t("admin.save"), key="contact_submit"):
            _change(lambda db: add_contact(db, reg, label=label, url=url, opd=opd, site=site,
                                           actor=actor), "contact:new")
    kept = [r for r in frame[t("contacts.col.ref")] if str(r).startswith("db:")]
    if kept:
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        which = left.selectbox(t("contacts.remove"), kept, key="contact_remove_id")
        if right.button(t("contacts.remove"), key="contact_remove"):
            _change(lambda db: remove_contact(db, int(which.split(":")[1]), actor=actor),
                    f"contact:{which}")
