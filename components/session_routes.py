"""The HTTP side of the session cookie: two routes of our server (``server.py``).

A Streamlit script talks to the browser over a websocket and cannot send a
``Set-Cookie`` header, and a cookie written by page JavaScript can never be HttpOnly.
So, as Streamlit's own ``st.login`` does with its ``/oauth2callback`` route, a plain
HTTP route sets the cookie: after a login the page hands the token over here under a
one-time code (``offer``), the browser is sent to ``START?code=…``, and the route answers
with ``Set-Cookie: ambon_session=…; HttpOnly; SameSite=Strict; Path=/`` (plus ``Secure``
in production or over https) and a redirect back to the dashboard. ``END`` deletes the
cookie after a logout. The websocket handshake carries the cookie to the server
(``st.context.cookies``) like any other; page scripts never see it.

Codes live in this process's memory for ``CODE_TTL_S`` and work once: the dashboard is
one Streamlit server process (the script and these routes share it).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from urllib.parse import urlparse

COOKIE = "ambon_session"
COOKIE_MAX_AGE_S = 12 * 3600
CODE_TTL_S = 60.0
START, END = "/api/session/start", "/api/session/end"
_pending: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()


def offer(token: str) -> str:
    """A one-time code under which ``START`` will find ``token`` for ``CODE_TTL_S``."""
    code = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _lock:
        for old in [c for c, (_, until) in _pending.items() if until < now]:
            del _pending[old]
        _pending[code] = (token, now + CODE_TTL_S)
    return code


def take(code: str) -> str | None:
    """The token offered under ``code`` (once; None when unknown or expired)."""
    with _lock:
        token, until = _pending.pop(code, ("", 0.0))
    return token if token and until >= time.monotonic() else None


_SAFE_PATH = re.compile(r"/[A-Za-z0-9_-]*(/[A-Za-z0-9_-]+)*")


def back_to(url: str | None) -> str:
    """The path to come back to after the cookie route: the page the login happened on,
    only as a plain local path (no scheme, host or query: never an open redirect)."""
    path = (urlparse(url).path if isinstance(url, str) else "") or "/"
    return path if _SAFE_PATH.fullmatch(path) else "/"


def cookie_header(token: str, *, secure: bool, max_age: int = COOKIE_MAX_AGE_S) -> str:
    """The Set-Cookie value (an empty token with max_age 0 deletes the cookie)."""
    attrs = [f"{COOKIE}={token}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Strict"]
    return "; ".join(attrs + (["Secure"] if secure else []))


def routes(production: bool) -> list:
    """The two Starlette routes (``server.py`` passes them to ``st.App``)."""
    from starlette.responses import RedirectResponse
    from starlette.routing import Route

    def _secure(request) -> bool:
        forwarded = request.headers.get("x-forwarded-proto", "")
        return production or request.url.scheme == "https" or forwarded == "https"

    async def start(request):
        token = take(request.query_params.get("code", ""))
        response = RedirectResponse(back_to(request.query_params.get("next")), status_code=303)
        if token:
            response.headers["set-cookie"] = cookie_header(token, secure=_secure(request))
        response.headers["cache-control"] = "no-store"
        return response

    async def end(request):
        response = RedirectResponse("/", status_code=303)
        response.headers["set-cookie"] = cookie_header("", secure=_secure(request), max_age=0)
        response.headers["cache-control"] = "no-store"
        return response

    return [Route(START, start, methods=["GET"]), Route(END, end, methods=["GET"])]


def metrics_guard(app, token: str | None):
    """ASGI middleware: ``/_stcore/metrics`` (session counts, cache sizes) answers 404
    unless the request carries ``Authorization: Bearer <METRICS_TOKEN>``."""
    import hmac

    async def guarded(scope, receive, send):
        if scope["type"] == "http" and scope["path"].rstrip("/").endswith("/_stcore/metrics"):
            given = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
            if not token or not hmac.compare_digest(given, f"Bearer {token}"):
                await send({"type": "http.response.start", "status": 404,
                            "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"Not Found"})
                return
        await app(scope, receive, send)

    return guarded
