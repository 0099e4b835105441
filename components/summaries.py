"""Pure summaries of the live state for the pages: KPI figures and tables (no ``st``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from ambon_core.domain import CameraKind, CameraStatus, Congestion, FeedStatus, PuskesmasStatus
from ambon_core.registry import Registry
from ambon_core.store import LiveState

CONGESTION_COLOUR = {"lancar": "green", "padat": "orange", "macet": "red"}
PKM_COLOUR = {"buka": "green", "belum_buka": "red", "tutup": "gray", "tidak_diketahui": "orange"}


@dataclass(frozen=True)
class Kpis:
    pkm_open: int
    pkm_late: int
    pkm_closed: int
    pkm_unknown: int
    traffic_hot: int
    tps_over: int
    incidents_open: int
    incidents_by_severity: dict[int, int]
    oldest_incident_s: float | None
    cameras_online: int
    cameras_total: int


def kpis(live: LiveState, reg: Registry) -> Kpis:
    """The mayor's headline numbers."""
    statuses = [live.puskesmas[p.id].status if p.id in live.puskesmas
                else PuskesmasStatus.TIDAK_DIKETAHUI for p in reg.puskesmas]
    open_incidents = [i for i in live.incidents.values() if i.status.is_open]
    ages = [(live.read_at - i.reported_at).total_seconds() for i in open_incidents]
    return Kpis(
        pkm_open=statuses.count(PuskesmasStatus.BUKA),
        pkm_late=statuses.count(PuskesmasStatus.BELUM_BUKA),
        pkm_closed=statuses.count(PuskesmasStatus.TUTUP),
        pkm_unknown=statuses.count(PuskesmasStatus.TIDAK_DIKETAHUI),
        traffic_hot=sum(1 for c in live.cameras.values() if c.congestion == Congestion.MACET),
        tps_over=sum(1 for s in live.tps.values() if s.overflow),
        incidents_open=len(open_incidents),
        incidents_by_severity={s: sum(1 for i in open_incidents if i.severity == s)
                               for s in (3, 2, 1)},
        oldest_incident_s=max(ages) if ages else None,
        cameras_online=sum(1 for c in live.cameras.values() if c.status == CameraStatus.OK),
        cameras_total=len(reg.cameras),
    )


def feed_health_table(feeds: Iterable[FeedStatus], translate: Callable[[str], str],
                      when: Callable[[datetime | None, bool], str]) -> pd.DataFrame:
    """The feed health panel: status, records of the last document, dead letters and the
    codes no mapping knows (``TREE / Pohon tumbang ×3``), per feed."""
    rows = [{"feed": f.feed,
             "ok": translate("feeds.degraded") if f.degraded else translate("feeds.ok"),
             "last_ok": when(f.last_ok_at, True), "records": f.records, "rejected": f.rejected,
             "dead_letters": f.dead_letters,
             "unmapped": "; ".join(f"{k} ×{n}" for k, n in sorted(f.unmapped.items())) or "-",
             "last_error": f.last_error or "-"}
            for f in sorted(feeds, key=lambda f: f.feed)]
    return pd.DataFrame(rows, columns=["feed", "ok", "last_ok", "records", "rejected",
                                       "dead_letters", "unmapped", "last_error"])


def reason_text(reason: str | None) -> str:
    """'Renovasi gedung' -> 'renovasi gedung' (a reason read after 'Tutup — '); a reason with
    other capitals ('Libur Nasional', 'BPJS offline') stays as sent."""
    text = " ".join(str(reason or "").split())
    if len(text) > 1 and text[0].isupper() and not any(c.isupper() for c in text[1:]):
        text = text[0].lower() + text[1:]
    return text


def status_label(status: str, reason: str | None, translate: Callable[[str], str]) -> str:
    """'Tutup — renovasi gedung' for a site closed on purpose; else the status word."""
    word = translate(f"status.{status}")
    return f"{word} — {reason_text(reason)}" if status == "tutup" and reason else word


def puskesmas_table(live: LiveState, reg: Registry) -> pd.DataFrame:
    rows = []
    for p in reg.puskesmas:
        s = live.puskesmas.get(p.id)
        rows.append({
            "id": p.id, "name": p.name, "kecamatan": p.kecamatan, "lat": p.lat, "lon": p.lon,
            "status": s.status.value if s else "tidak_diketahui",
            "minutes_late": s.minutes_late if s else None,
            "waiting": s.waiting if s else None,
            "longest_wait_min": round(s.longest_wait_s / 60, 1) if s and s.longest_wait_s else None,
            "staff": s.staff_checked_in if s else None,
            "hours": f"{s.scheduled_open}–{s.scheduled_close or '-'}" if s and s.scheduled_open else None,
            "hours_source": s.hours_source if s else None,
            "closed_reason": s.closed_reason if s else None,
            "age_s": s.age_s(live.read_at) if s else None,
        })
    df = pd.DataFrame(rows)
    order = {"belum_buka": 0, "tidak_diketahui": 1, "buka": 2, "tutup": 3}
    return df.sort_values(by="status", key=lambda c: c.map(order), kind="stable")


def camera_table(live: LiveState, reg: Registry, kinds: set[CameraKind] | None = None) -> pd.DataFrame:
    rows = []
    for cam in reg.cameras:
        if kinds and cam.kind not in kinds:
            continue
        s = live.cameras.get(cam.id)
        vehicles = sum(v for k, v in (s.objects if s else {}).items() if k != "person")
        rows.append({
            "id": cam.id, "name": cam.name, "kind": cam.kind.value, "kecamatan": cam.kecamatan,
            "lat": cam.lat, "lon": cam.lon, "site": cam.site,
            "status": s.status.value if s else "starting",
            "cause": s.health_cause if s else None,
            "congestion": s.congestion.value if s and s.congestion else None,
            "vehicles": vehicles if s else None,
            "speed": s.mean_speed_px_s if s else None,
            "parking": f"{s.parking_occupied}/{s.parking_total}" if s and s.parking_total else "-",
            "queue": s.queue_len if s else None, "fill": s.fill if s else None,
            "fps": s.infer_fps if s else None, "infer_ms": s.infer_ms if s else None,
            "reconnects": s.reconnects if s else None,
            "last_frame_at": s.last_frame_at if s else None,
            "age_s": s.age_s(live.read_at) if s else None,
        })
    return pd.DataFrame(rows)


def tps_table(live: LiveState, reg: Registry) -> pd.DataFrame:
    rows = []
    for t in reg.tps:
        s = live.tps.get(t.id)
        rows.append({"id": t.id, "name": t.name, "kind": t.kind, "kecamatan": t.kecamatan,
                     "lat": t.lat, "lon": t.lon, "fill": s.fill if s else None,
                     "threshold": t.overflow_threshold, "overflow": bool(s and s.overflow),
                     "age_s": s.age_s(live.read_at) if s else None})
    return pd.DataFrame(rows)


def nearest_kecamatan(lat: float | None, lon: float | None, reg: Registry | None) -> str | None:
    """The kecamatan of the registry site nearest to a point (feeds rarely name it)."""
    if lat is None or lon is None or reg is None:
        return None
    sites = [*reg.puskesmas, *reg.tps, *reg.cameras]
    best = min(sites, key=lambda s: (s.lat - lat) ** 2 + (s.lon - lon) ** 2, default=None)
    return best.kecamatan if best else None


def incident_table(live: LiveState, reg: Registry | None = None) -> pd.DataFrame:
    """Open incidents, most severe and oldest first. No caller identity ever reaches here."""
    rows = [{"id": i.incident_id, "title": i.title, "category": i.category,
             "severity": i.severity, "status": i.status.value, "agencies": ", ".join(i.agencies),
             "kecamatan": i.kecamatan or nearest_kecamatan(i.lat, i.lon, reg) or "-",
             "lat": i.lat, "lon": i.lon,
             "reported_at": i.reported_at,
             "age_s": (live.read_at - i.reported_at).total_seconds()}
            for i in live.incidents.values() if i.status.is_open]
    cols = ["id", "title", "category", "severity", "status", "agencies", "kecamatan", "lat",
            "lon", "reported_at", "age_s"]
    df = pd.DataFrame(rows, columns=cols)
    return df.sort_values(["severity", "age_s"], ascending=[False, False])
