"""The open-data download (Ambon Satu Data): offered only to who may export, generated
only when clicked, checked and audited at that moment.

One day's aggregates in FIWARE field names (``ambon_core.open_data``): no names, no
phone numbers, no addresses, no free text; incidents are counted, never listed. The
button is shown only when the viewer may export the owner's data. Nothing is built when
the page draws: ``st.download_button`` gets a callable (``ExportRequest.make``) that
Streamlit runs when the button is pressed. It re-reads the viewer's rights from SQL,
writes the audit entry (who, what, how many rows) or the refusal, and only then builds
the file; a refused export produces no file at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import streamlit as st

from ambon_core import auth as core
from ambon_core.access import Principal, can_act, principal
from ambon_core.db import engine_for, session_factory
from ambon_core.history import audit
from ambon_core.open_data import export_domains, render
from components import data, session
from components.authz import may
from components.ui import t

MAX_DAYS_BACK = 92
MIME = {"csv": "text/csv", "json": "application/json"}


class ExportRefused(PermissionError):
    """The viewer may not (or may no longer) export this data; no file is made."""


@dataclass(frozen=True)
class ExportRequest:
    """Everything the click needs, captured when the page draws (the callable runs on a
    server thread without the script's session state)."""

    domains: tuple[str, ...]
    owner: str | None
    day: date
    fmt: str
    database_url: str
    tz: ZoneInfo
    token: str | None  # the session token: rights are re-read from SQL on click
    oidc: Principal | None  # an SSO identity has no token; its rights as of this run
    secret: str
    idle_min: float
    departments: tuple

    @property
    def what(self) -> str:
        return f"satudata:{'+'.join(self.domains)}:{self.day.isoformat()}"

    def _who(self, db) -> Principal | None:
        if self.token is None:
            return self.oidc
        user = core.resolve_session(db, self.token, self.secret, timedelta(minutes=self.idle_min))
        return None if user is None else principal(user.username, user.role, user.opd,
                                                    self.departments, user_id=user.id)

    def make(self) -> str:
        """Check, audit, build: the file's text, or ExportRefused (audited)."""
        with session_factory(engine_for(self.database_url))() as db:
            user = self._who(db)
            name = user.username if user is not None else "anonim"
            if not can_act(user, "export", self.owner):
                audit(db, name, "access.denied", f"export:{self.what}", attempted="export",
                      item_opd=self.owner)
                db.commit()
                raise ExportRefused(f"export of {self.what} refused for {name}")
            entities = export_domains(db, self.day, self.tz, self.domains)
            audit(db, name, "export", f"export:{self.what}", opd=self.owner, rows=len(entities))
            db.commit()
        return render(entities, self.fmt)


def _request(domains: tuple[str, ...], owner: str | None, day: date, fmt: str) -> ExportRequest:
    s = data.settings()
    held = st.session_state.get(session.TOKEN_KEY)
    viewer = session.viewer()
    return ExportRequest(domains, owner, day, fmt, s.database_url, s.tz, held,
                         None if held else viewer, session.secret(), s.session_idle_min,
                         tuple(data.registry().opds))


def open_data_download(domains: tuple[str, ...], owner: str | None, key: str) -> None:
    """An expander with a day, a format and the download button for ``domains``
    (``traffic``, ``waste``, ``alerts``); ``owner`` is the department whose data it is
    (None: city-wide, the mayor and admins only)."""
    if not may("export", owner):
        return
    with st.expander(t("export.title"), icon=":material/download:"):
        today = datetime.now(data.settings().tz).date()
        left, right = st.columns(2)
        # Streamlit refuses a day outside these bounds on the server too (back to today)
        day = left.date_input(t("export.day"), today, key=f"{key}_day", format="DD/MM/YYYY",
                              min_value=today - timedelta(days=MAX_DAYS_BACK), max_value=today)
        fmt = right.segmented_control(t("export.format"), tuple(MIME), default="csv",
                                      format_func=str.upper, key=f"{key}_format") or "csv"
        st.caption(t("export.on_click"))
        st.download_button(
            t("export.button", fmt=fmt.upper()), _request(domains, owner, day, fmt).make,
            file_name=f"ambon-satudata-{'-'.join(domains)}-{day.isoformat()}.{fmt}",
            mime=MIME[fmt], icon=":material/download:", key=f"{key}_button", on_click="ignore")
