"""Pure, seeded content of the simulated OPD feeds at a given sim time (no I/O).

Everything is a function of (seed, sim time): the same call returns the same bytes, so
ETag / 304 work and a restarted simulator serves the same story. Incidents arrive one
per ``INCIDENT_SLOT_MIN`` slot and walk the 112 lifecycle; quakes and CAP warnings come
in their own slots; attendance follows the camera simulator's door plans (see
:func:`door_plans`).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

WIT = ZoneInfo("Asia/Jayapura")
UTC = ZoneInfo("UTC")
INCIDENT_SLOT_MIN = 25
QUAKE_SLOT_H = 5
CAP_SLOT_H = 8
MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
AMBON = (-3.695, 128.18)
PLACES = ("Batu Merah", "Galala", "Passo", "Kudamati", "Benteng", "Waihaong", "Air Salobar", "Karang Panjang",
          "Hative Kecil", "Lateri", "Poka", "Rumah Tiga", "Latuhalat", "Hutumuri", "Soya", "Halong",
          "Tantui", "Mardika", "Urimessing", "Amahusu", "Waiheru", "Nania", "Kayu Putih", "Batu Gajah")
# Maluku Tengah villages on Pulau Ambon that 112 serves too (seed 004); coordinates approximate
MALUKU_TENGAH = (("Tulehu", "Salahutu", -3.588, 128.322), ("Waai", "Salahutu", -3.566, 128.317),
                 ("Hila", "Leihitu", -3.585, 128.088), ("Larike", "Leihitu Barat", -3.722, 127.975))
MALUKU_TENGAH_EVERY = 13  # one report in 13 comes from across the city border
# code, service name, agencies, weight, description templates
SERVICES: tuple[tuple[str, str, str, int, tuple[str, ...]], ...] = (
    ("banjir", "Banjir", "BPBD; TNI; Dinsos", 5, (
        "Air setinggi lutut masuk rumah warga di {p} setelah hujan deras sejak subuh.",
        "Kali meluap di {p}, jalan tidak bisa dilalui motor.")),
    ("tanah_longsor", "Tanah Longsor", "BPBD; TNI", 3, (
        "Tebing longsor menutup sebagian jalan di {p}, satu rumah rusak ringan.",
        "Longsor kecil di belakang rumah warga {p}, warga minta dicek.")),
    ("pohon_tumbang", "Pohon Tumbang", "BPBD; PLN; Dishub", 4, (
        "Pohon tumbang menimpa kabel listrik di {p}, jalan tertutup.",
        "Pohon besar tumbang di jalan raya {p} akibat angin kencang.")),
    ("kebakaran", "Kebakaran", "Damkar; Polri", 2, (
        "Kebakaran rumah di {p}, api terlihat dari jalan, warga panik.",
        "Asap tebal dari gudang di {p}, diduga korsleting listrik.")),
    ("kecelakaan", "Kecelakaan Lalu Lintas", "Polri; Dishub; Dinkes", 4, (
        "Tabrakan motor dan angkot di {p}, satu orang luka.",
        "Motor jatuh di tikungan {p}, pengendara perlu bantuan medis.")),
    ("medis", "Gawat Darurat Medis", "Dinkes", 4, (
        "Warga lansia di {p} pingsan di rumah, keluarga minta ambulans.",
        "Ibu hamil di {p} perlu dibawa ke rumah sakit segera.")),
    ("keamanan", "Gangguan Keamanan", "Polri; Satpol PP", 2, (
        "Pencurian motor di parkiran {p}.", "Warga melaporkan orang mencurigakan di {p} malam hari.")),
    ("konflik_sosial", "Konflik Sosial", "Polri; TNI; Dinsos", 1, (
        "Keributan antar kelompok pemuda di {p}, warga takut keluar rumah.",)),
    ("listrik", "Listrik Padam", "PLN", 2, ("Listrik padam sejak tiga jam di {p}.",)),
    ("sampah", "Sampah Menumpuk", "DLH", 2, ("Sampah menumpuk di TPS {p} dan meluber ke jalan.",)),
)


def iso(t: datetime, zone: ZoneInfo = WIT) -> str:
    return t.astimezone(zone).isoformat(timespec="seconds")


def _rng(*parts: Any) -> random.Random:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


# ---- incidents (Open311) ---------------------------------------------------------
@dataclass(frozen=True)
class SimIncident:
    n: int
    code: str
    name: str
    agencies: str
    description: str
    place: str
    lat: float
    lon: float
    steps: dict[str, datetime] = field(default_factory=dict)  # lifecycle status -> time

    def state_at(self, t: datetime) -> tuple[str, datetime]:
        reached = [(s, at) for s, at in self.steps.items() if at <= t]
        return reached[-1]


def incident(seed: int, n: int, epoch: datetime) -> SimIncident:
    r = _rng(seed, "incident", n)
    code, name, agencies, _, texts = r.choices(SERVICES, weights=[s[3] for s in SERVICES])[0]
    place = r.choice(PLACES)
    t = epoch + timedelta(minutes=n * INCIDENT_SLOT_MIN + r.uniform(0, INCIDENT_SLOT_MIN))
    steps = {"new": t}
    for status, lo, hi in (("verified", 1, 4), ("dispatched", 2, 10), ("on_scene", 5, 30),
                           ("resolved", 20, 180), ("closed", 10, 60)):
        t += timedelta(minutes=r.uniform(lo, hi))
        steps[status] = t
    lat = min(-3.60, max(-3.80, AMBON[0] + r.gauss(0, 0.025)))
    lon = min(128.33, max(128.05, AMBON[1] + r.gauss(0, 0.04)))
    text = r.choice(texts)
    if n % MALUKU_TENGAH_EVERY == 0:  # after every draw: the city's own reports stay the same
        village, district, lat, lon = MALUKU_TENGAH[(n // MALUKU_TENGAH_EVERY) % len(MALUKU_TENGAH)]
        place = f"{village}, Kec. {district}, Kab. Maluku Tengah"
    return SimIncident(n, code, name, agencies, text.format(p=place.split(",")[0]), place,
                       round(lat, 5), round(lon, 5), steps)


def incidents_at(seed: int, epoch: datetime, now: datetime, window_h: float = 24) -> list[SimIncident]:
    """Incidents reported in the last ``window_h`` hours before ``now``."""
    last = int((now - epoch).total_seconds() // (INCIDENT_SLOT_MIN * 60))
    first = max(0, last - int(window_h * 60 / INCIDENT_SLOT_MIN) - 1)
    out = [incident(seed, n, epoch) for n in range(first, last + 1)]
    return [i for i in out if now - timedelta(hours=window_h) <= i.steps["new"] <= now]


def open311_records(seed: int, epoch: datetime, now: datetime, wrong: bool = False) -> list[dict[str, Any]]:
    out = []
    for inc in incidents_at(seed, epoch, now):
        status, updated = inc.state_at(now)
        zone = ZoneInfo("Asia/Makassar") if inc.n % 11 == 0 else WIT  # a WITA-stamped operator
        rec: dict[str, Any] = {
            "service_request_id": f"112-{inc.steps['new'].astimezone(WIT):%Y%m%d}-{inc.n:05d}",
            "status": "closed" if status in ("resolved", "closed") else "open",
            "status_notes": "", "service_name": inc.name, "service_code": inc.code,
            "description": inc.description, "agency_responsible": inc.agencies, "service_notice": "",
            "requested_datetime": iso(inc.steps["new"], zone), "updated_datetime": iso(updated, zone),
            "expected_datetime": None, "address": inc.place if "Maluku Tengah" in inc.place
            else f"{inc.place}, Kota Ambon", "address_id": None,
            "zipcode": None, "lat": inc.lat, "long": inc.lon, "media_url": None,
            "extended_attributes": {"status": status, **{f"{s}_datetime": iso(at, zone)
                                                         for s, at in inc.steps.items()
                                                         if s != "new" and at <= now}}}
        if wrong and inc.n % 3 == 0:
            rec.update({"lat": "sekitar pasar", "requested_datetime": 1732400000, "status": 7})
        out.append(rec)
    return out


def open311_xml(records: list[dict[str, Any]]) -> str:
    def el(tag: str, value: Any) -> str:
        return f"<{tag}>{escape('' if value is None else str(value))}</{tag}>"

    parts = ['<?xml version="1.0" encoding="utf-8"?>', "<service_requests>"]
    for rec in records:
        ext = "".join(el(k, v) for k, v in rec["extended_attributes"].items())
        body = "".join(el(k, v) for k, v in rec.items() if k != "extended_attributes")
        parts.append(f"<request>{body}<extended_attributes>{ext}</extended_attributes></request>")
    parts.append("</service_requests>")
    return "\n".join(parts)


# ---- BMKG -------------------------------------------------------------------------
def quake(seed: int, q: int, epoch: datetime) -> dict[str, Any]:
    r = _rng(seed, "quake", q)
    at = (epoch + timedelta(hours=q * QUAKE_SLOT_H + r.uniform(0, QUAKE_SLOT_H))).replace(microsecond=0)
    near = r.random() < 0.6
    lat = round(r.uniform(-5.5, -2.8) if near else r.uniform(-9.5, 2.0), 2)
    lon = round(r.uniform(127.4, 130.5) if near else r.uniform(115.0, 135.0), 2)
    mag = round(r.uniform(4.6, 6.2) if near else r.uniform(2.8, 5.8), 1)
    from math import asin, cos, radians, sin, sqrt

    dlat, dlon = radians(lat - AMBON[0]), radians(lon - AMBON[1])
    dist = 2 * 6371 * asin(sqrt(sin(dlat / 2) ** 2 + cos(radians(lat)) * cos(radians(AMBON[0]))
                                * sin(dlon / 2) ** 2))
    felt = "III Ambon, II Masohi" if dist < 120 and mag >= 4.5 else (
        "II Ambon" if dist < 200 and mag >= 5 else "")
    wib = at.astimezone(ZoneInfo("Asia/Jakarta"))
    return {
        "Tanggal": f"{wib.day:02d} {MONTHS[wib.month - 1]} {wib.year}", "Jam": f"{wib:%H:%M:%S} WIB",
        "DateTime": at.astimezone(UTC).isoformat(timespec="seconds"),
        "Coordinates": f"{lat},{lon}", "Lintang": f"{abs(lat):.2f} {'LS' if lat < 0 else 'LU'}",
        "Bujur": f"{lon:.2f} BT", "Magnitude": f"{mag}", "Kedalaman": f"{r.choice([10, 11, 24, 35, 80])} km",
        "Wilayah": f"Pusat gempa berada di laut {int(dist)} km "
                   f"{r.choice(['Tenggara', 'Barat Daya', 'Timur Laut'])} {'Ambon' if near else 'Kab. lain'}",
        "Potensi": "Tidak berpotensi tsunami", "Dirasakan": felt,
        "Shakemap": f"{wib:%Y%m%d%H%M%S}.mmi.jpg"}


def latest_quake(seed: int, epoch: datetime, now: datetime, wrong: bool = False) -> dict[str, Any]:
    q = int((now - epoch).total_seconds() // (QUAKE_SLOT_H * 3600))
    for k in range(q, -1, -1):
        g = quake(seed, k, epoch)
        if datetime.fromisoformat(g["DateTime"]) <= now:
            return {**g, "Magnitude": "besar"} if wrong else g
    return quake(seed, 0, epoch)


def felt_quakes(seed: int, epoch: datetime, now: datetime, count: int = 15) -> list[dict[str, Any]]:
    """gempadirasakan: the latest ``count`` quakes felt somewhere, newest first."""
    q = int((now - epoch).total_seconds() // (QUAKE_SLOT_H * 3600))
    quakes = (quake(seed, k, epoch) for k in range(q, -1, -1))
    felt = [g for g in quakes if g["Dirasakan"] and datetime.fromisoformat(g["DateTime"]) <= now]
    return felt[:count]


def bmkg_xml(*quakes: dict[str, Any]) -> str:
    """BMKG's XML: ``<point><coordinates>`` is longitude,latitude (KML order)."""
    items = []
    for g in quakes:
        fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in g.items() if k != "Coordinates")
        lat, lon = g["Coordinates"].split(",")
        items.append(f"<gempa>{fields}<point><coordinates>{lon},{lat}</coordinates></point></gempa>")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Infogempa>{"".join(items)}</Infogempa>'


# ---- CAP ----------------------------------------------------------------------------
AREAS = (("Kota Ambon dan Pulau Ambon",
          "-3.55,127.95 -3.55,128.35 -3.85,128.35 -3.85,127.95 -3.55,127.95"),
         ("Seram Bagian Utara", "-2.80,129.00 -2.80,130.20 -3.10,130.20 -3.10,129.00 -2.80,129.00"))
EVENTS = (("Hujan Lebat disertai Kilat/Petir dan Angin Kencang", "Severe"),
          ("Hujan Sedang hingga Lebat", "Moderate"), ("Gelombang Tinggi 2.5-4 m", "Moderate"))


def cap_alerts(seed: int, epoch: datetime, now: datetime) -> list[str]:
    out = []
    w = int((now - epoch).total_seconds() // (CAP_SLOT_H * 3600))
    for k in range(max(0, w - 2), w + 1):
        r = _rng(seed, "cap", k)
        start = epoch + timedelta(hours=k * CAP_SLOT_H + r.uniform(0, CAP_SLOT_H - 3))
        start = start.replace(microsecond=0)
        end = start + timedelta(hours=3)
        if not start <= now < end:
            continue
        area, polygon = AREAS[0] if r.random() < 0.5 else AREAS[1]
        event, severity = r.choice(EVENTS)
        out.append(f"""<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>CAP-BMKG-MAL-{start:%Y%m%d%H%M}</identifier><sender>bmkg@bmkg.go.id</sender>
<sent>{iso(start)}</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><language>id-ID</language><category>Met</category><event>{escape(event)}</event>
<urgency>Immediate</urgency><severity>{severity}</severity><certainty>Likely</certainty>
<effective>{iso(start)}</effective><expires>{iso(end)}</expires>
<senderName>BMKG Stasiun Meteorologi Pattimura</senderName>
<headline>{escape(event)} di {escape(area)}</headline>
<description>Waspada potensi {escape(event.lower())} di {escape(area)}
hingga pukul {end.astimezone(WIT):%H:%M} WIT.</description>
<area><areaDesc>{escape(area)}</areaDesc><polygon>{polygon}</polygon></area></info></alert>""")
    return out


def cap_windows(seed: int, epoch: datetime, since: datetime,
                until: datetime) -> list[tuple[datetime, datetime]]:
    """(start, end) of every simulated CAP weather warning overlapping [since, until): the
    simulated 112 centre gets busier in them (floods)."""
    first = max(0, int((since - epoch).total_seconds() // (CAP_SLOT_H * 3600)) - 1)
    last = int((until - epoch).total_seconds() // (CAP_SLOT_H * 3600)) + 1
    out = []
    for k in range(first, last + 1):
        r = _rng(seed, "cap", k)
        start = (epoch + timedelta(hours=k * CAP_SLOT_H + r.uniform(0, CAP_SLOT_H - 3))).replace(
            microsecond=0)
        if start < until and start + timedelta(hours=3) > since:
            out.append((start, start + timedelta(hours=3)))
    return out


def cap_feed(alerts: list[str]) -> str:
    entries = "\n".join(f"<entry><content type=\"application/cap+xml\">{a}</content></entry>" for a in alerts)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Peringatan Dini Cuaca Maluku</title>\n{entries}\n</feed>")


# ---- puskesmas: FHIR, attendance ------------------------------------------------------
HOLIDAYS = {"2026-01-01": "Tahun Baru Masehi", "2026-05-01": "Hari Buruh Internasional",
            "2026-06-01": "Hari Lahir Pancasila", "2026-08-17": "Hari Kemerdekaan RI",
            "2026-12-24": "Cuti Bersama Natal", "2026-12-25": "Hari Raya Natal",
            "2027-01-01": "Tahun Baru Masehi"}


def fhir_locations(puskesmas: list[Any], wrong: bool = False) -> dict[str, Any]:
    entries = []
    for i, p in enumerate(puskesmas):
        hours = [{"daysOfWeek": ["senin"] if wrong and i % 3 == 0 else list(h.days_of_week),
                  "allDay": False, "openingTime": f"{h.opening_time}:00",
                  "closingTime": f"{h.closing_time}:00"} for h in p.hours]
        entries.append({"fullUrl": f"Location/{p.id}", "resource": {
            "resourceType": "Location", "id": p.id, "status": "active", "name": p.name,
            "identifier": [{"system": "https://ambon.go.id/fhir/puskesmas", "value": p.id}],
            "address": {"text": p.address, "city": "Ambon", "district": p.kecamatan},
            "position": {"latitude": p.lat, "longitude": p.lon}, "hoursOfOperation": hours}})
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


def fhir_services(puskesmas: list[Any]) -> dict[str, Any]:
    entries = []
    for p in puskesmas:
        entries.append({"fullUrl": f"HealthcareService/hs-{p.id}", "resource": {
            "resourceType": "HealthcareService", "id": f"hs-{p.id}", "active": True,
            "name": "Pelayanan Umum", "location": [{"reference": f"Location/{p.id}"}],
            "availableTime": [{"daysOfWeek": list(h.days_of_week),
                               "availableStartTime": f"{h.opening_time}:00",
                               "availableEndTime": f"{h.closing_time}:00"} for h in p.hours],
            "notAvailable": [{"description": reason, "during": {"start": day, "end": day}}
                             for day, reason in HOLIDAYS.items()]}})
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


FIRST = ("Maria", "Yohanis", "Siti", "Abdul", "Elisabeth", "Frans", "Nur", "Ruth", "Hasan", "Agustina")
LAST = ("Latuconsina", "Pattimura", "Tuhumury", "Wattimena", "Leiwakabessy", "Sahetapy", "Ohorella",
        "Manuputty", "Tuasikal", "Souisa")


def door_plans(registry: Any, seed: int, day: date) -> dict[str, tuple[str, datetime | None]]:
    """Per puskesmas: (plan status, actual opening time) of ``day``.

    Puskesmas watched by a sim camera follow that camera's seeded door plan
    (``ambon_sim.scenes.PuskesmasScene.plan``) so a door kept shut on camera has no
    check-ins either; the others get their own seeded plan with the same odds.
    """
    plans: dict[str, tuple[str, datetime | None]] = {}
    try:
        from ambon_sim.cameras import cameras_from_registry
        from ambon_sim.scenes import make_scene

        for cam in cameras_from_registry(registry):
            site = registry.camera(cam.id).site
            if cam.kind == "puskesmas" and site and site not in plans:
                scene = make_scene("puskesmas", cam.id, seed, schedule=cam.schedule(),
                                   start=datetime.combine(day, time(6, 0), WIT), speed=60)
                plan = scene.plan(day)  # type: ignore[attr-defined]
                plans[site] = (plan["status"], plan["opens_at"])
    except ImportError:  # camera sim not installed (no OpenCV): own plans for every site
        pass
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
    for p in registry.puskesmas:
        if p.id in plans:
            continue
        hours = next((h for h in p.hours if weekday in h.days_of_week), None)
        if hours is None:
            plans[p.id] = ("no_service_day", None)
            continue
        r = _rng(seed, "door", p.id, day.isoformat())
        u, late = r.random(), r.randint(15, 120)
        opening = datetime.combine(day, time.fromisoformat(hours.opening_time), WIT)
        status = "closed" if u < 0.08 else "late" if u < 0.33 else "on_time"
        plans[p.id] = (status, None if status == "closed" else
                       opening + timedelta(minutes=late if status == "late" else 0))
    return plans


def checkins(registry: Any, seed: int, now: datetime, wrong: bool = False) -> dict[str, Any]:
    day = now.astimezone(WIT).date()
    rows = []
    for site, (status, opens_at) in sorted(door_plans(registry, seed, day).items()):
        if opens_at is None or status in ("closed", "no_service_day"):
            continue
        r = _rng(seed, "staff", site, day.isoformat())
        for k in range(r.randint(5, 14)):
            at = opens_at + timedelta(minutes=r.uniform(-35, -2) if k < 3 else r.uniform(-30, 40))
            if at > now:
                continue
            rows.append({"puskesmas_id": site, "nip": f"19{r.randint(70, 99)}{r.randint(10**11, 10**12 - 1)}",
                         "nama": f"{r.choice(FIRST)} {r.choice(LAST)}",
                         "check_in": 20261124 if wrong and k == 0 else iso(at.replace(microsecond=0))})
    return {"tanggal": day.isoformat(), "unit": "Dinas Kesehatan Kota Ambon",
            "sumber": "Aplikasi ASN (simulasi)", "checkins": rows}


def trips_csv(registry: Any, seed: int, now: datetime, wrong: bool = False) -> str:
    day = now.astimezone(WIT).date()
    lines = ["trip_id,truck_id,tps_id,emptied_at,tonnage_kg,tpa_arrived_at"]
    for t in registry.tps:
        r = _rng(seed, "trip", t.id, day.isoformat())
        runs = [time(5, 30), time(16, 0)] if t.kind == "market" else [time(5, 30)]
        for k, base in enumerate(runs):
            emptied = datetime.combine(day, base, WIT) + timedelta(minutes=r.uniform(0, 90))
            emptied = emptied.replace(microsecond=0)
            arrived = emptied + timedelta(minutes=int(r.uniform(25, 60)))
            kg = round(r.uniform(1500, 4500))
            if emptied > now:
                continue
            done = arrived <= now
            tonnage = "banyak" if wrong and k == 0 else (kg if done else "")
            lines.append(f"{day:%Y%m%d}-{t.id}-{k + 1},DE {8100 + r.randint(0, 99)} AU,{t.id},{iso(emptied)},"
                         f"{tonnage},{iso(arrived) if done else ''}")
    return "\n".join(lines) + "\n"


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, indent=1).encode()
