"""The dashboard's server: ``streamlit run server.py`` (``make run``) serves ``app.py``.

Streamlit's own server plus what its config cannot give: the HttpOnly session-cookie
routes (``components/session_routes.py``) and ``/_stcore/metrics`` closed unless asked
with ``METRICS_TOKEN``. Security headers (CSP, frame, referrer) are the production
reverse proxy's (README, "Accounts and roles").
"""

import streamlit as st
from starlette.middleware import Middleware

from ambon_core import logs
from ambon_core.settings import get_settings
from components.session_routes import metrics_guard, routes

logs.install()  # no credentials in any log line, Streamlit's own included
_settings = get_settings()
app = st.App("app.py", routes=routes(_settings.production),
             middleware=[Middleware(metrics_guard, token=_settings.metrics_token)])
