"""The open-data download (Ambon Satu Data): offered only to who may export, audited.

One day's aggregates in FIWARE field names (``ambon_core.open_data``): no names, no
phone numbers, no addresses, no free text; incidents are counted, never listed. The
button is shown only when the viewer may export the owner's data; the click is checked
again and written to the audit log with who, what and how many rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import streamlit as st

from ambon_core.open_data import render
from components import auth, data
from components.ui import t

MAX_DAYS_BACK = 92
MIME = {"csv": "text/csv", "json": "application/json"}


def _record(what: str, owner: str | None, rows: int) -> None:
    auth.audit_export(what, owner, rows=rows)


def open_data_download(domains: tuple[str, ...], owner: str | None, key: str) -> None:
    """An expander with a day, a format and the download button for ``domains``
    (``traffic``, ``waste``, ``alerts``); ``owner`` is the department whose data it is
    (None: city-wide, the mayor and admins only)."""
    if not auth.may("export", owner):
        return
    with st.expander(t("export.title"), icon=":material/download:"):
        today = datetime.now(data.settings().tz).date()
        left, right = st.columns(2)
        # Streamlit refuses a day outside these bounds on the server too (back to today)
        day = left.date_input(t("export.day"), today, key=f"{key}_day", format="DD/MM/YYYY",
                              min_value=today - timedelta(days=MAX_DAYS_BACK), max_value=today)
        fmt = right.segmented_control(t("export.format"), tuple(MIME), default="csv",
                                      format_func=str.upper, key=f"{key}_format") or "csv"
        entities = data.open_data(domains, day)
        if entities is None:
            st.warning(t("export.unavailable"), icon=":material/cloud_off:")
            return
        st.caption(t("export.rows", n=len(entities)))
        what = f"satudata:{'+'.join(domains)}:{day.isoformat()}"
        st.download_button(
            t("export.button", fmt=fmt.upper()), render(entities, fmt),
            file_name=f"ambon-satudata-{'-'.join(domains)}-{day.isoformat()}.{fmt}",
            mime=MIME[fmt], icon=":material/download:", key=f"{key}_button",
            on_click=_record, args=(what, owner, len(entities)))
