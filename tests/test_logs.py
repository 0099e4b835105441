"""No credentials in any log line: camera and feed URLs with ``user:pass@`` through the
real capture and fetch code against loopback HTTP servers, httpx as loud as it is by
default, our own and third-party loggers, tracebacks included."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from ambon_core import logs
from ambon_core.settings import ROOT
from tests.test_camera_capture import MjpegServer, grab, wait_for
from workers.feeds.config import make_feed
from workers.feeds.poller import FetchError, fetch

SECRET = "s3cret-Pa55word"


@pytest.fixture
def loud_log() -> Iterator[io.StringIO]:
    """Every record of every logger into a buffer, httpx at INFO (its default verbosity)."""
    logs.install()
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.INFO)
    yield buf
    root.removeHandler(handler)
    root.setLevel(old_level)
    logs.install()  # quiet again


@pytest.fixture
def failing_feed() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self.send_error(503)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_mask_hides_userinfo_and_secret_parameters() -> None:
    assert logs.mask(f"GET rtsp://admin:{SECRET}@10.0.0.5:554/live") == \
        "GET rtsp://***@10.0.0.5:554/live"
    assert SECRET not in logs.mask(f"http://h/x.jpg?user=a&password={SECRET}&token={SECRET}")
    assert logs.mask("http://host/cam?channel=1") == "http://host/cam?channel=1"


def test_snapshot_camera_with_credentials(loud_log: io.StringIO) -> None:
    server = MjpegServer()
    url = f"http://cam:{SECRET}@{server.url.removeprefix('http://')}/b/snapshot.jpg"
    g = grab("cam-cred", url)
    try:
        assert wait_for(lambda: g.frames >= 2)
    finally:
        g.stop()
        server.close()
    text = loud_log.getvalue()
    assert "HTTP Request: GET http://***@127.0.0.1" in text  # httpx did log the URL …
    assert SECRET not in text  # … without the password


def test_feed_with_credentials_and_its_traceback(loud_log: io.StringIO, failing_feed: str) -> None:
    feed = make_feed(name="absensi", url=failing_feed.replace("http://", f"http://asn:{SECRET}@")
                      + f"/export.json?api_key={SECRET}", format="attendance-json", retries=2,
                      timeout_s=2)
    with httpx.Client() as client, pytest.raises(FetchError):
        fetch(client, feed, wait_initial_s=0.01, wait_max_s=0.02)
    try:
        httpx.get(f"http://asn:{SECRET}@127.0.0.1:1/x", timeout=1)
    except httpx.HTTPError:
        logging.getLogger("workers.feeds").exception("feed %s failed at %s", feed.name, feed.url)
    text = loud_log.getvalue()
    assert text.count("HTTP Request: GET http://***@127.0.0.1") == 2 and "Traceback" in text
    assert "api_key=***" in text and SECRET not in text


def test_httpx_is_quiet_after_install() -> None:
    logging.getLogger("httpx").setLevel(logging.INFO)
    logs.install()
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)


def test_worker_command_masks_its_log(tmp_path, settings, failing_feed: str) -> None:
    """The real entry point (``python -m workers``), LOG_LEVEL=DEBUG, a failing feed."""
    url = failing_feed.replace("http://", f"http://asn:{SECRET}@") + "/export.json"
    (tmp_path / "feeds.yaml").write_text(
        f'feeds:\n- {{name: absensi, url: "{url}", format: attendance-json, retries: 1}}\n')
    env = {**os.environ, "FEEDS_PATH": str(tmp_path / "feeds.yaml"), "LOG_LEVEL": "DEBUG"}
    run = subprocess.run([sys.executable, "-m", "workers", "worker", "feeds", "--once"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    assert "absensi" in out, out[-2000:]
    assert SECRET not in out
