"""Fetching a feed politely and safely: conditional requests, timeouts, retries, a size cap.

- ETag / Last-Modified remembered per feed -> If-None-Match / If-Modified-Since -> 304.
- Connect/read timeouts per feed; a hung server costs at most ``timeout_s`` per attempt.
- Retries with exponential backoff and jitter (tenacity) on transport errors and 5xx;
  a 4xx, a too-large body or an HTML error page are not retried.
- Bodies over ``max_bytes`` are refused from Content-Length, or cut off while streaming
  (a 50 MB body is never read whole).
- ``file://`` sources use the file's mtime and size as validators.
"""

from __future__ import annotations

import email.utils
import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from workers.feeds.config import FeedConfig

USER_AGENT = "ambon-command-centre/1.0 (+https://ambon.go.id)"


class FetchError(RuntimeError):
    """A feed could not be fetched; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    """``body`` is None when the source said 304 Not Modified."""

    body: bytes | None
    validators: Validators
    status: int


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, FetchError):
        return exc.retryable
    return isinstance(exc, httpx.TransportError)


def _read_capped(response: httpx.Response, cap: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise FetchError(f"body of {int(declared)} bytes is over the {cap}-byte cap")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise FetchError(f"body grew over the {cap}-byte cap; stopped reading")
        chunks.append(chunk)
    return b"".join(chunks)


def _http_once(client: httpx.Client, feed: FeedConfig, have: Validators) -> Fetched:
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"}
    if have.etag:
        headers["If-None-Match"] = have.etag
    if have.last_modified:
        headers["If-Modified-Since"] = have.last_modified
    timeout = httpx.Timeout(feed.timeout_s, connect=min(feed.timeout_s, 5.0))
    with client.stream("GET", feed.url, headers=headers, timeout=timeout) as response:
        if response.status_code == 304:
            return Fetched(None, have, 304)
        if response.status_code >= 500:
            raise FetchError(f"HTTP {response.status_code} from the source", retryable=True)
        if response.status_code >= 400:
            raise FetchError(f"HTTP {response.status_code} from the source")
        body = _read_capped(response, feed.max_bytes)
        got = Validators(response.headers.get("etag"), response.headers.get("last-modified"))
        return Fetched(body, got, response.status_code)


def _file_once(feed: FeedConfig, have: Validators) -> Fetched:
    path = Path(unquote(urlparse(feed.url).path))
    try:
        stat = path.stat()
    except OSError as exc:
        raise FetchError(f"cannot read {path} ({exc.strerror})") from None
    tag = '"' + hashlib.sha1(f"{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:16] + '"'
    got = Validators(tag, email.utils.formatdate(stat.st_mtime, usegmt=True))
    if have.etag == tag:
        return Fetched(None, have, 304)
    if stat.st_size > feed.max_bytes:
        raise FetchError(f"file of {stat.st_size} bytes is over the {feed.max_bytes}-byte cap")
    return Fetched(path.read_bytes(), got, 200)


def fetch(client: httpx.Client, feed: FeedConfig, have: Validators | None = None,
          wait_initial_s: float = 0.5, wait_max_s: float = 8.0) -> Fetched:
    """Fetch a feed with retries; raises FetchError (or httpx errors) when all attempts fail."""
    have = have or Validators()
    if feed.url.startswith("file://"):
        return _file_once(feed, have)
    retrying = Retrying(stop=stop_after_attempt(feed.retries), reraise=True,
                        wait=wait_exponential_jitter(initial=wait_initial_s, max=wait_max_s),
                        retry=retry_if_exception(_retryable))
    return retrying(_http_once, client, feed, have)


def describe(exc: BaseException) -> str:
    """A short, log-safe reason (no URL credentials, no body)."""
    if isinstance(exc, httpx.TimeoutException):
        return f"timeout ({type(exc).__name__})"
    if isinstance(exc, httpx.TransportError):
        return f"connection failed ({type(exc).__name__})"
    return str(exc)[:300]
