"""The status worker on a real Redis and DB: camera evidence -> puskesmas status and alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ambon_core.domain import (
    AlertKind,
    CameraKind,
    CameraState,
    CameraStatus,
    PuskesmasStatus,
    utcnow,
)
from ambon_core.models import AlertRecord, PuskesmasStatusChange
from ambon_core.puskesmas import todays_hours
from ambon_core.registry import load_registry
from ambon_core.settings import Settings
from ambon_core.store import Store
from workers.site_status import SiteStatusWorker

WIT = ZoneInfo("Asia/Jayapura")


MONDAY_0920 = datetime(2026, 11, 23, 9, 20, tzinfo=WIT)


def _worker(settings: Settings) -> tuple[SiteStatusWorker, str, str]:
    """The worker at Monday 09:20 WIT, and the first puskesmas camera with its site."""
    reg = load_registry(settings.registry_path)
    cam = next(c for c in reg.cameras if c.kind == CameraKind.PUSKESMAS)
    worker = SiteStatusWorker(settings, reg)
    worker.clock = lambda: MONDAY_0920.astimezone(UTC)
    pkm = next(p for p in reg.puskesmas if p.id == cam.site)
    hours = todays_hours(pkm, MONDAY_0920)
    assert hours and hours.opens <= MONDAY_0920.time() < hours.closes
    return worker, cam.id, pkm.id


def test_shut_door_with_waiting_people_raises_then_clears(settings: Settings, store: Store,
                                                          session: Session) -> None:
    worker, cam_id, pkm_id = _worker(settings)
    shut = CameraState(camera_id=cam_id, kind=CameraKind.PUSKESMAS, status=CameraStatus.OK,
                       door_open=False, queue_len=6)
    store.put(shut)
    worker.run_once()
    state = store.read_live().puskesmas[pkm_id]
    assert state.status == PuskesmasStatus.BELUM_BUKA and state.waiting == 6
    assert f"puskesmas_late:{pkm_id}" in store.read_live().alerts
    store.put(shut.model_copy(update={"door_open": True, "updated_at": utcnow()}))
    worker.run_once()
    assert store.read_live().puskesmas[pkm_id].status == PuskesmasStatus.BUKA
    assert f"puskesmas_late:{pkm_id}" not in store.read_live().alerts
    record = session.scalars(select(AlertRecord).where(
        AlertRecord.kind == AlertKind.PUSKESMAS_LATE.value)).one()
    assert record.cleared_at is not None  # how long it lasted is on record
    changes = session.scalars(select(PuskesmasStatusChange.status).where(
        PuskesmasStatusChange.puskesmas_id == pkm_id)).all()
    assert changes[-2:] == ["belum_buka", "buka"]


def test_holiday_closes_the_puskesmas(settings: Settings, store: Store) -> None:
    worker, cam_id, pkm_id = _worker(settings)
    store.put(CameraState(camera_id=cam_id, kind=CameraKind.PUSKESMAS, status=CameraStatus.OK,
                          door_open=False, queue_len=2))
    store.put_holidays({f"{MONDAY_0920.date().isoformat()}:{pkm_id}": "Libur nasional"})
    worker.run_once()
    assert store.read_live().puskesmas[pkm_id].status == PuskesmasStatus.TUTUP
    assert not store.read_live().alerts


def test_stale_or_dead_camera_is_not_evidence(settings: Settings, store: Store) -> None:
    worker, cam_id, pkm_id = _worker(settings)
    store.put(CameraState(camera_id=cam_id, kind=CameraKind.PUSKESMAS,
                          status=CameraStatus.NO_SIGNAL, door_open=False, queue_len=9))
    worker.run_once()
    state = store.read_live().puskesmas[pkm_id]
    assert state.waiting is None and state.door_open is None
    assert state.status == PuskesmasStatus.TIDAK_DIKETAHUI
