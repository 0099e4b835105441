"""Admin: accounts (create, role, password, disable), notification contacts and the audit
log. Admins only."""

import streamlit as st

from ambon_core import auth as core
from ambon_core.access import LOGIN_ROLES
from components import admin_tables, data, session
from components.authz import authorize, require_page
from components.contacts_ui import render_contacts_admin
from components.page import header
from components.text import plain
from components.ui import t

require_page("admin")
header("page.admin")
city_opds = sorted(o.code for o in data.registry().opds if not o.partner)


def _change(action, target: str) -> None:
    """One account change: allowed only for managers of users, refused changes nothing."""
    if not authorize("manage_users", None, target):
        return
    try:
        with session.db() as db:
            action(db)
    except core.AuthError as exc:
        st.error(t("admin.refused", reason=plain(exc)))
        return
    st.toast(t("admin.saved"), icon=":material/check:")


users_tab, contacts_tab, audit_tab = st.tabs([t("admin.users"), t("contacts.tab"),
                                              t("admin.audit")])
with users_tab:
    users = admin_tables.users_table()
    st.dataframe(admin_tables.readable(users).rename(columns=lambda c: t(f"col.{c}") if c != "display_name"
                              else t("admin.display_name")), hide_index=True, key="admin_users")
    me = session.actor()
    with st.expander(t("admin.create"), icon=":material/person_add:"), \
            st.form("admin_create", clear_on_submit=True):
        name = st.text_input(t("col.username"), key="new_username", max_chars=80)
        display = st.text_input(t("admin.display_name"), key="new_display", max_chars=120)
        role = st.selectbox(t("col.role"), LOGIN_ROLES, key="new_role")
        opd = st.selectbox(t("col.opd"), [None, *city_opds], key="new_opd")
        password = st.text_input(t("admin.new_password"), type="password", key="new_password")
        if st.form_submit_button(t("admin.save"), key="new_submit"):
            _change(lambda db: core.create_user(db, name, password, role, opd, actor=me,
                                                known_opds=set(city_opds),
                                                display_name=display or None), f"user:{name}")
    if not users.empty:
        with st.expander(t("admin.change"), icon=":material/manage_accounts:"):
            who = st.selectbox(t("admin.user"), users["username"], key="edit_user")
            with st.form("admin_role"):
                role = st.selectbox(t("col.role"), LOGIN_ROLES, key="edit_role")
                opd = st.selectbox(t("col.opd"), [None, *city_opds], key="edit_opd")
                if st.form_submit_button(t("admin.set_role"), key="edit_role_submit"):
                    _change(lambda db: core.set_role(db, who, role, opd, actor=me,
                                                     known_opds=set(city_opds)), f"user:{who}")
            with st.form("admin_password", clear_on_submit=True):
                password = st.text_input(t("admin.new_password"), type="password", key="edit_pw")
                if st.form_submit_button(t("admin.reset"), key="edit_pw_submit"):
                    _change(lambda db: core.reset_password(db, who, password, actor=me), f"user:{who}")
            left, right = st.columns(2)
            if left.button(t("admin.disable"), key="edit_disable", disabled=who == me):
                _change(lambda db: core.set_active(db, who, False, actor=me), f"user:{who}")
            if right.button(t("admin.enable"), key="edit_enable"):
                _change(lambda db: core.set_active(db, who, True, actor=me), f"user:{who}")

with contacts_tab:
    render_contacts_admin(session.actor())

with audit_tab:
    left, right = st.columns(2)
    actor = left.text_input(t("admin.filter_actor"), key="audit_actor", max_chars=80)
    action = right.text_input(t("admin.filter_action"), key="audit_action", max_chars=60)
    st.dataframe(admin_tables.readable(admin_tables.audit_table(actor, action))
                 .rename(columns=lambda c: t(f"col.{c}")),
                 hide_index=True, width="stretch", key="audit_table")
