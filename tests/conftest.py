"""Shared fixtures: a REAL Redis and a REAL database for every test.

Redis: the server in ``REDIS_URL`` when set (database 15, flushed around each test),
else an embedded redis-server on a unix socket. SQL: ``TEST_DATABASE_URL`` when set
(PostgreSQL in CI), else a SQLite file in a temporary directory; migrated once with
Alembic, emptied after each test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from ambon_core.db import make_engine, migrate, session_factory
from ambon_core.models import Base
from ambon_core.redis_server import EmbeddedRedis
from ambon_core.settings import ROOT, Settings, get_settings
from ambon_core.store import Store

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", str(ROOT / "data" / "runtime" / "ultralytics"))
TEST_DB_INDEX = 15


def _with_db(url: str, index: int) -> str:
    if url.startswith("unix://"):
        return f"{url.split('?')[0]}?db={index}"
    return f"{url.rstrip('/').rsplit('/', 1)[0] if url.count('/') > 2 else url.rstrip('/')}/{index}"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("REDIS_URL")
    if external:
        yield _with_db(external, TEST_DB_INDEX)
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    url = server.start()
    yield _with_db(url, TEST_DB_INDEX)
    server.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    with eng.begin() as conn:  # a PostgreSQL test DB may hold an older run's schema
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(redis_url: str, database_url: str, engine: Engine, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for this test, also exported to the environment (pages, subprocesses)."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SIM_ENABLED", "false")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def store(redis_client: redis.Redis, settings: Settings) -> Store:
    return Store(redis_client, settings.key_prefix, settings.stream_maxlen)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as s:
        yield s
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
