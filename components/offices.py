"""Public service offices for the pages: pure tables and counts (no ``st``)."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from ambon_core.domain import OfficeStatus
from ambon_core.registry import OFFICE_TYPES, Registry
from ambon_core.service_offices import service_offices
from ambon_core.store import LiveState

STATUS_ORDER = {"belum_buka": 0, "tidak_diketahui": 1, "buka": 2, "tutup": 3}
COLUMNS = ["id", "name", "type", "kecamatan", "opd", "status", "reason", "minutes_late",
           "waiting", "longest_wait_min", "staff", "staff_elsewhere", "hours", "camera",
           "attendance", "lat", "lon", "age_s"]


def office_table(live: LiveState, reg: Registry) -> pd.DataFrame:
    """Every office (puskesmas included), by type then kecamatan, 'belum buka' first."""
    opd_names = {o.code: o.name for o in reg.opds}
    rows = []
    for site in service_offices(reg):
        s = live.offices.get(site.id)
        rows.append({
            "id": site.id, "name": site.name, "type": site.type, "kecamatan": site.kecamatan,
            "opd": opd_names.get(site.opd, site.opd),
            "status": s.status.value if s else "tidak_diketahui",
            "reason": (s.closed_reason or s.reason) if s else None,
            "minutes_late": s.minutes_late if s else None,
            "waiting": s.waiting if s else None,
            "longest_wait_min": round(s.longest_wait_s / 60, 1) if s and s.longest_wait_s else None,
            "staff": _staff(s.staff_in, s.staff_expected) if s else None,
            "staff_elsewhere": s.staff_elsewhere if s else None,
            "hours": f"{s.scheduled_open}–{s.scheduled_close}" if s and s.scheduled_open else "-",
            "camera": bool(reg.cameras_for_site(site.id)), "attendance": site.attendance or "-",
            "lat": site.lat, "lon": site.lon, "age_s": s.age_s(live.read_at) if s else None,
        })
    df = pd.DataFrame(rows, columns=COLUMNS)
    if df.empty:
        return df
    df["_type"] = df["type"].map({t: i for i, t in enumerate(OFFICE_TYPES)})
    df["_status"] = df["status"].map(STATUS_ORDER)
    return df.sort_values(["_type", "kecamatan", "_status", "name"], kind="stable").drop(
        columns=["_type", "_status"])


def _staff(staff_in: int | None, expected: int | None) -> str | None:
    if staff_in is None:
        return None
    return f"{staff_in}/{expected}" if expected else str(staff_in)


def office_counts(live: LiveState, reg: Registry) -> Counter[str]:
    """Status -> number of offices, over every office (an office never written: unknown)."""
    return Counter(live.offices[o.id].status.value if o.id in live.offices
                   else OfficeStatus.TIDAK_DIKETAHUI.value for o in service_offices(reg))


def calendar_warnings(live: LiveState) -> list[str]:
    """The distinct calendar warnings the status worker attached to today's states."""
    return sorted({s.calendar_warning for s in live.offices.values() if s.calendar_warning})
