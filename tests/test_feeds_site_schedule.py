"""FHIR schedules reach the puskesmas status (real Redis): the documented hours rule, held
closures with their reason, and never "belum buka" for a site closed on purpose."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ambon_core.domain import CameraKind, CameraState, CameraStatus, PuskesmasStatus, SiteSchedule
from ambon_core.registry import load_registry
from ambon_core.settings import Settings
from ambon_core.store import Store
from components.i18n import translate
from components.summaries import status_label
from workers.site_status import SiteStatusWorker

MONDAY_0920 = datetime(2026, 11, 23, 9, 20, tzinfo=ZoneInfo("Asia/Jayapura"))


def _setup(settings: Settings, store: Store) -> tuple[SiteStatusWorker, str]:
    """Monday 09:20 WIT, inside the registry hours; the entrance camera sees a shut door
    and six people waiting (what makes "belum buka" and a late alert)."""
    reg = load_registry(settings.registry_path)
    cam = next(c for c in reg.cameras if c.kind == CameraKind.PUSKESMAS)
    store.put(CameraState(camera_id=cam.id, kind=CameraKind.PUSKESMAS, status=CameraStatus.OK,
                          door_open=False, queue_len=6))
    worker = SiteStatusWorker(settings, reg)
    worker.clock = lambda: MONDAY_0920.astimezone(UTC)
    return worker, cam.site


def test_registry_hours_without_fhir(settings: Settings, store: Store) -> None:
    worker, pkm_id = _setup(settings, store)
    worker.run_once()
    state = store.read_live().puskesmas[pkm_id]
    assert state.status == PuskesmasStatus.BELUM_BUKA and state.hours_source == "registry"


def test_fhir_hours_are_the_schedule_when_given(settings: Settings, store: Store) -> None:
    worker, pkm_id = _setup(settings, store)
    store.put(SiteSchedule(puskesmas_id=pkm_id, hours=[
        {"days_of_week": ["mon"], "opening_time": "10:00", "closing_time": "14:00"}]))
    worker.run_once()
    state = store.read_live().puskesmas[pkm_id]
    assert state.hours_source == "fhir" and state.scheduled_open == "10:00"
    assert state.status == PuskesmasStatus.TUTUP  # not yet open by its FHIR hours: nobody is late
    assert not store.read_live().alerts


def test_suspended_site_is_closed_with_its_reason_never_belum_buka(settings: Settings,
                                                                   store: Store) -> None:
    worker, pkm_id = _setup(settings, store)
    store.put(SiteSchedule(puskesmas_id=pkm_id, status="suspended", closed_reason="Renovasi gedung"))
    worker.run_once()
    state = store.read_live().puskesmas[pkm_id]
    assert state.status == PuskesmasStatus.TUTUP and state.closed_reason == "Renovasi gedung"
    assert not store.read_live().alerts  # six people at a closed door: no "late" alarm
    label = status_label(state.status.value, state.closed_reason, lambda k: translate(k, "id"))
    assert label == "Tutup — renovasi gedung"


def test_holiday_reason_reaches_the_state(settings: Settings, store: Store) -> None:
    worker, pkm_id = _setup(settings, store)
    store.put_holidays({f"{MONDAY_0920.date().isoformat()}:{pkm_id}": "Libur Nasional"})
    worker.run_once()
    state = store.read_live().puskesmas[pkm_id]
    assert state.status == PuskesmasStatus.TUTUP and state.closed_reason == "Libur Nasional"
    assert status_label("tutup", "Libur Nasional", lambda k: translate(k, "id")) == \
        "Tutup — Libur Nasional"
    assert status_label("tutup", "BPJS offline", lambda k: translate(k, "en")) == "Closed — BPJS offline"


def test_registry_takes_a_satusehat_id_and_refuses_a_malformed_one() -> None:
    from ambon_core.registry import RegistryError, parse_registry
    from ambon_core.settings import DATA_DIR

    text = (DATA_DIR / "registry.yaml").read_text()
    at = text.index("- id: pkm-")
    line_end = text.index("\n", at)
    good = text[:line_end] + "\n  satusehat_id: dc01c797-547a-4e4d-97cd-4ece0630e380" + text[line_end:]
    reg = parse_registry(good)
    assert reg.puskesmas[0].satusehat_id == "dc01c797-547a-4e4d-97cd-4ece0630e380"
    bad = text[:line_end] + "\n  satusehat_id: 'Location/<script>'" + text[line_end:]
    with pytest.raises(RegistryError, match=r"registry.yaml:\d+: puskesmas\[0\].satusehat_id"):
        parse_registry(bad)
