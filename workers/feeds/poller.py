"""Fetching a feed politely and safely: conditional requests, timeouts, retries, a size cap.

- ETag / Last-Modified remembered per feed -> If-None-Match / If-Modified-Since -> 304.
- Connect/read timeouts per feed; a hung server costs at most ``timeout_s`` per attempt.
- Retries with exponential backoff and jitter (tenacity) on transport errors and 5xx;
  a 4xx, a too-large body or an HTML error page are not retried.
- Bodies over ``max_bytes`` are refused from Content-Length, or cut off while streaming
  (a 50 MB body is never read whole).
- ``file://`` sources use the file's mtime and size as validators.
- ``read: append`` (a ``file://`` log that only grows, e.g. a phone system's queue_log):
  each poll returns only the whole lines added since the last one (``Validators.offset``
  and ``inode`` are the cursor); a rotated or truncated file is read again from the top.

The cursor (``Validators``) is what a poll hands the next: the worker keeps it only
once the body it came with has been stored, so a failed store reads the same bytes again.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse, urlsplit

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from workers.feeds.feed import FeedBase as FeedConfig

log = logging.getLogger(__name__)
USER_AGENT = "ambon-command-centre/1.0 (+https://ambon.go.id)"


class FetchError(RuntimeError):
    """A feed could not be fetched; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Validators:
    """What the source said last time: HTTP validators, or an append-only file's cursor."""

    etag: str | None = None
    last_modified: str | None = None
    offset: int = 0
    inode: int | None = None


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


def source_name(url: str) -> str:
    """The source as it may be logged: a file path, or a URL without credentials/query."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return unquote(parts.path)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _over_cap(feed: FeedConfig, what: str) -> FetchError:
    return FetchError(f"{source_name(feed.url)}: {what} is over max_bytes={feed.max_bytes} "
                      f"(feed {feed.name} in feeds.yaml)")


def _read_capped(response: httpx.Response, feed: FeedConfig) -> bytes:
    cap = feed.max_bytes
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise _over_cap(feed, f"body of {int(declared)} bytes")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise _over_cap(feed, "body (stopped reading)")
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
        body = _read_capped(response, feed)
        got = Validators(response.headers.get("etag"), response.headers.get("last-modified"))
        return Fetched(body, got, response.status_code)


def _file_once(feed: FeedConfig, have: Validators) -> Fetched:
    path = Path(unquote(urlparse(feed.url).path))
    try:
        stat = path.stat()
    except OSError as exc:
        raise FetchError(f"cannot read {path} ({exc.strerror})") from None
    if feed.read == "append":
        return _append_once(feed, path, stat.st_ino, stat.st_size, have)
    tag = '"' + hashlib.sha1(f"{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:16] + '"'
    got = Validators(tag, email.utils.formatdate(stat.st_mtime, usegmt=True))
    if have.etag == tag:
        return Fetched(None, have, 304)
    if stat.st_size > feed.max_bytes:
        raise _over_cap(feed, f"file of {stat.st_size} bytes")
    return Fetched(path.read_bytes(), got, 200)


def _append_once(feed: FeedConfig, path: Path, inode: int, size: int, have: Validators) -> Fetched:
    """The whole lines added to an append-only file since ``have.offset`` (at most
    ``max_bytes`` of them per poll: a backlog is read over several polls)."""
    offset = have.offset
    if have.inode is not None and (inode != have.inode or size < offset):
        log.info("feed %s: %s was rotated or truncated; reading it from the top", feed.name, path)
        offset = 0
    if size == offset:
        return Fetched(None, Validators(offset=offset, inode=inode), 304)
    with path.open("rb") as fh:
        fh.seek(offset)
        chunk = fh.read(min(size - offset, feed.max_bytes))
    end = chunk.rfind(b"\n") + 1
    if end == 0:
        if len(chunk) >= feed.max_bytes:
            raise _over_cap(feed, f"a line at byte {offset}")
        return Fetched(None, Validators(offset=offset, inode=inode), 304)  # a line being written
    return Fetched(chunk[:end], Validators(offset=offset + end, inode=inode), 200)


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
