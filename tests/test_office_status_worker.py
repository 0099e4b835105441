"""Every office through the real pipeline: the ASN feed ingested into a real Redis, the
status worker, the belum-buka alert to the office's OPD, the record in SQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ambon_core.asn_attendance import load_roster
from ambon_core.domain import AlertKind, OfficeStatus
from ambon_core.models import AlertRecord, OfficeStatusChange
from ambon_core.registry import load_registry
from ambon_core.settings import DATA_DIR, Settings
from ambon_core.store import Store
from workers.feeds.config import make_feed
from workers.feeds.ingest import ingest
from workers.site_status import SiteStatusWorker

WIT = ZoneInfo("Asia/Jayapura")
MONDAY_0820 = datetime(2026, 11, 23, 8, 20, tzinfo=WIT)
FEED = make_feed(name="absensi-kantor", url="file:///dev/null", format="kehadiran-json")


def _worker(settings: Settings, at: datetime) -> SiteStatusWorker:
    worker = SiteStatusWorker(settings, load_registry(settings.registry_path))
    worker.clock = lambda: at.astimezone(UTC)
    return worker


def _checkins(*rows: tuple[str, str, str]) -> bytes:
    return json.dumps({"tanggal": "2026-11-23", "kehadiran": [
        {"nip": n, "lokasi": where, "jam_masuk": f"2026-11-23T{hhmm}:00+09:00"}
        for n, where, hhmm in rows]}).encode()


def test_staff_elsewhere_raises_an_alert_to_the_camat_cleared_when_they_come(
        settings: Settings, store: Store, session: Session) -> None:
    reg = load_registry(settings.registry_path)
    roster = load_roster(DATA_DIR / "asn_roster.csv", {o.id for o in reg.offices})
    staff = sorted(n for n, o in roster.office_of.items() if o == "kel-waihoka")
    away = _checkins(*((n, "kel-karang-panjang", "07:25") for n in staff))  # an outside duty
    ingest(FEED, away, store=store, session=session, registry=reg, now=MONDAY_0820.astimezone(UTC))
    _worker(settings, MONDAY_0820).run_once()
    live = store.read_live()
    state = live.offices["kel-waihoka"]
    assert (state.status, state.reason, state.minutes_late) == (OfficeStatus.BELUM_BUKA,
                                                                "staff_elsewhere", 50)
    assert (state.staff_in, state.staff_elsewhere, state.staff_expected) == (0, len(staff), len(staff))
    alert = live.alerts["office_late:kel-waihoka"]
    assert (alert.kind, alert.opd, alert.params["name"]) == (
        AlertKind.OFFICE_LATE, "kec_sirimau", "Kantor Kelurahan Waihoka")
    assert live.offices["kel-benteng"].reason == "no_checkin"  # the export covers every office
    later = MONDAY_0820.replace(hour=8, minute=40)
    ingest(FEED, _checkins(*((n, "kel-waihoka", "08:35") for n in staff)), store=store,
           session=session, registry=reg, now=later.astimezone(UTC))
    _worker(settings, later).run_once()
    live = store.read_live()
    assert live.offices["kel-waihoka"].status == OfficeStatus.BUKA
    assert "office_late:kel-waihoka" not in live.alerts
    record = session.scalars(select(AlertRecord).where(
        AlertRecord.alert_id == "office_late:kel-waihoka")).one()
    assert record.cleared_at is not None
    changes = session.execute(select(OfficeStatusChange.status, OfficeStatusChange.reason,
                                     OfficeStatusChange.minutes_late).where(
        OfficeStatusChange.office_id == "kel-waihoka").order_by(OfficeStatusChange.at)).all()
    assert [tuple(c) for c in changes] == [("belum_buka", "staff_elsewhere", 50),
                                           ("buka", None, None)]  # for punctuality


def test_a_holiday_is_no_alarm_for_any_office(settings: Settings, store: Store,
                                              session: Session) -> None:  # empties SQL after
    independence_day = datetime(2026, 8, 17, 9, 0, tzinfo=WIT)
    _worker(settings, independence_day).run_once()
    live = store.read_live()
    assert {s.status for s in live.offices.values()} == {OfficeStatus.TUTUP}
    assert not live.alerts
    assert live.puskesmas["pkm-waihoka"].status == OfficeStatus.TUTUP  # Dinkes' view agrees


def test_a_refused_calendar_warns_and_keeps_the_rest_working(settings: Settings, store: Store,
                                                             session: Session, tmp_path,
                                                             caplog) -> None:
    bad = tmp_path / "calendar.yaml"
    bad.write_text((DATA_DIR / "calendar.yaml").read_text().replace(
        "\nholidays: []", "\nholidays:\n- {date: 2026-13-01, name: x}"))
    worker = _worker(settings.model_copy(update={"calendar_path": bad}), MONDAY_0820)
    worker.run_once()
    live = store.read_live()
    assert any("calendar.yaml:" in r.message and "holidays[0].date" in r.message
               for r in caplog.records)
    warnings = {s.calendar_warning for s in live.offices.values()}
    assert len(warnings) == 1 and "tidak terbaca" in warnings.pop()
    assert not live.alerts  # no false alarms from a calendar nobody can read
    assert live.offices["pkm-waihoka"].scheduled_open == "08:00"  # own hours still known
