"""The UI's shared caches honour their freshness period (issue 14): a new period reads
Redis again, within one period the sessions share one read. No TTL is slept out: the
period number is passed directly, as ``data.live``/``data.camera_snapshot`` compute it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ambon_core.domain import Incident
from ambon_core.store import Store
from components import data


@pytest.fixture
def ui(store: Store) -> Iterator[Store]:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()  # data.store() connects to this test's Redis
    yield store
    st.cache_data.clear()


def test_live_state_is_read_again_in_a_new_period(ui: Store) -> None:
    ui.put(Incident(incident_id="112-1", category="banjir", title="Banjir"))
    assert set(data._shared_live(100).incidents) == {"112-1"}
    ui.put(Incident(incident_id="112-2", category="banjir", title="Banjir lagi"))
    assert set(data._shared_live(100).incidents) == {"112-1"}  # same period: shared read
    assert set(data._shared_live(101).incidents) == {"112-1", "112-2"}  # next: Redis again


def test_a_camera_that_lost_its_signal_stops_showing_its_frame(ui: Store) -> None:
    ui.put_snapshot("cam-lalin-01", b"\xff\xd8before\xff\xd9")
    assert data.snapshot("cam-lalin-01", 7) == b"\xff\xd8before\xff\xd9"
    ui.r.delete(ui.key_snapshot("cam-lalin-01"))  # the worker: no signal, no snapshot
    assert data.snapshot("cam-lalin-01", 8) is None  # the next 2-s period shows no frame
    ui.put_snapshot("cam-lalin-01", b"\xff\xd8after\xff\xd9")
    assert data.snapshot("cam-lalin-01", 9) == b"\xff\xd8after\xff\xd9"


def test_period_numbers_follow_the_settings(ui: Store, monkeypatch) -> None:
    """``live()`` turns UI_SHARED_CACHE_S into period numbers: two calls within one
    period share the read, so UI_SHARED_CACHE_S has the effect it promises."""
    from datetime import UTC, datetime

    moments = iter([datetime(2026, 1, 1, 0, 0, 0, 100_000, UTC),
                    datetime(2026, 1, 1, 0, 0, 0, 900_000, UTC),
                    datetime(2026, 1, 1, 0, 0, 1, 100_000, UTC)])
    monkeypatch.setattr(data, "utcnow", lambda: next(moments))
    ui.put(Incident(incident_id="112-1", category="banjir", title="Banjir"))
    assert len(data.live().incidents) == 1
    ui.put(Incident(incident_id="112-2", category="banjir", title="Banjir lagi"))
    assert len(data.live().incidents) == 1  # 0.8 s later, same 1-s period
    assert len(data.live().incidents) == 2  # the next period
