"""Credentials never reach a log line, whoever writes it.

``install()`` (called by every entry point: ``python -m workers``, ``server.py``,
``app.py``) sets a log-record factory that masks, in every record of every logger
(ours, httpx, Streamlit, OpenCV wrappers), the message, its arguments and its
traceback text:

- ``scheme://user:pass@host`` -> ``scheme://***@host`` (camera, feed, database URLs);
- secret-looking query parameters (``?token=…``, ``&password=…``, ``api_key`` …) -> ``***``.

It also quiets chatty third-party loggers: httpx logs every request URL at INFO.
"""

from __future__ import annotations

import logging
import re

_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)[^/@\s'\"<>]+@", re.IGNORECASE)
_SECRET_QUERY = re.compile(
    r"(?P<key>[?&;](?:password|passwd|pwd|pass|token|access_token|api_key|apikey|key|secret|"
    r"auth|signature|sig)=)[^&\s'\"#<>]+", re.IGNORECASE)
QUIET = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "urllib3": logging.WARNING,
         "tornado.access": logging.WARNING, "uvicorn.access": logging.WARNING}
_installed = False


def mask(text: str) -> str:
    """``text`` with credentials in URLs replaced by ``***``."""
    return _SECRET_QUERY.sub(r"\g<key>***", _USERINFO.sub(r"\g<scheme>***@", text))


def _masked(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a malformed format: keep the raw parts, masked
        message = f"{record.msg} {record.args}"
    record.msg, record.args = mask(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = mask(record.exc_text)
    if record.stack_info:
        record.stack_info = mask(record.stack_info)
    return record


def install() -> None:
    """Mask every record from now on (idempotent) and quiet the loud libraries."""
    global _installed
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(level)
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        return _masked(make(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
