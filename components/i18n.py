"""The one translation table. Bahasa Indonesia by default, English on request.

Workers store codes (``belum_buka``, ``macet``, alert kinds); only the UI turns them
into words, here.
"""

from __future__ import annotations

LANGS = ("id", "en")

TEXT: dict[str, dict[str, str]] = {
    "app.title": {"id": "Pusat Komando Kota Ambon", "en": "Ambon City Command Centre"},
    "page.ringkasan": {"id": "Ringkasan", "en": "Overview"},
    "page.puskesmas": {"id": "Puskesmas", "en": "Health centres"},
    "page.lalu_lintas": {"id": "Lalu Lintas", "en": "Traffic"},
    "page.sampah": {"id": "Sampah", "en": "Waste"},
    "page.insiden": {"id": "Insiden", "en": "Incidents"},
    "page.kamera": {"id": "Kamera", "en": "Cameras"},
    "lang.label": {"id": "Bahasa", "en": "Language"},
    "no_data": {"id": "Belum ada data", "en": "No data yet"},
    "stale": {"id": "data terlambat", "en": "data late"},
    "age": {"id": "diperbarui {age} lalu", "en": "updated {age} ago"},
    "now": {"id": "Waktu sekarang", "en": "Now"},
    "banner.redis": {"id": "Koneksi ke data langsung terputus. Mencoba lagi…",
                     "en": "Live data connection lost. Retrying…"},
    "banner.workers": {"id": "Pekerja tidak aktif: {names}", "en": "Workers not running: {names}"},
    "kpi.pkm_open": {"id": "Puskesmas buka", "en": "Health centres open"},
    "kpi.pkm_late": {"id": "Belum buka", "en": "Not open yet"},
    "kpi.pkm_closed": {"id": "Tutup", "en": "Closed"},
    "kpi.traffic_hot": {"id": "Titik macet", "en": "Traffic jams"},
    "kpi.tps_over": {"id": "TPS penuh", "en": "Dump points full"},
    "kpi.incidents_open": {"id": "Insiden terbuka", "en": "Open incidents"},
    "kpi.cameras_online": {"id": "Kamera aktif", "en": "Cameras online"},
    "kpi.oldest": {"id": "tertua {age}", "en": "oldest {age}"},
    "alerts.title": {"id": "Peringatan", "en": "Alerts"},
    "alerts.open": {"id": "Buka", "en": "Open"},
    "alerts.more": {"id": "+{n} peringatan lain", "en": "+{n} more alerts"},
    "alerts.none": {"id": "Tidak ada peringatan aktif", "en": "No active alerts"},
    "map.title": {"id": "Peta Kota Ambon", "en": "Map of Ambon"},
    "status.buka": {"id": "Buka", "en": "Open"},
    "status.belum_buka": {"id": "Belum buka", "en": "Not open yet"},
    "status.tutup": {"id": "Tutup", "en": "Closed"},
    "status.tidak_diketahui": {"id": "Tidak diketahui", "en": "Unknown"},
    "congestion.lancar": {"id": "Lancar", "en": "Free flow"},
    "congestion.padat": {"id": "Padat", "en": "Dense"},
    "congestion.macet": {"id": "Macet", "en": "Jammed"},
    "camera.ok": {"id": "Aktif", "en": "Online"},
    "camera.no_signal": {"id": "Tidak ada sinyal", "en": "No signal"},
    "camera.starting": {"id": "Menyambung", "en": "Connecting"},
    "col.name": {"id": "Nama", "en": "Name"},
    "col.kecamatan": {"id": "Kecamatan", "en": "District"},
    "col.status": {"id": "Status", "en": "Status"},
    "col.late": {"id": "Terlambat (menit)", "en": "Late (min)"},
    "col.waiting": {"id": "Warga menunggu", "en": "People waiting"},
    "col.longest_wait": {"id": "Tunggu terlama (menit)", "en": "Longest wait (min)"},
    "col.staff": {"id": "Petugas hadir", "en": "Staff present"},
    "col.hours": {"id": "Jam layanan", "en": "Opening hours"},
    "col.age": {"id": "Umur data", "en": "Data age"},
    "col.camera": {"id": "Kamera", "en": "Camera"},
    "col.congestion": {"id": "Kepadatan", "en": "Congestion"},
    "col.vehicles": {"id": "Kendaraan terlihat", "en": "Vehicles in view"},
    "col.speed": {"id": "Kecepatan rata-rata (px/s)", "en": "Mean speed (px/s)"},
    "col.parking": {"id": "Parkir terisi", "en": "Parking used"},
    "col.fill": {"id": "Keterisian", "en": "Fill level"},
    "col.threshold": {"id": "Ambang", "en": "Threshold"},
    "col.category": {"id": "Kategori", "en": "Category"},
    "col.severity": {"id": "Tingkat", "en": "Severity"},
    "col.agencies": {"id": "Instansi", "en": "Agencies"},
    "col.reported": {"id": "Dilaporkan", "en": "Reported"},
    "col.title": {"id": "Kejadian", "en": "Incident"},
    "col.fps": {"id": "FPS", "en": "FPS"},
    "col.infer_ms": {"id": "Inferensi (ms)", "en": "Inference (ms)"},
    "col.reconnects": {"id": "Sambung ulang", "en": "Reconnects"},
    "col.last_frame": {"id": "Frame terakhir", "en": "Last frame"},
    "col.feed": {"id": "Sumber data", "en": "Feed"},
    "col.last_ok": {"id": "Terakhir berhasil", "en": "Last success"},
    "severity.1": {"id": "Rendah", "en": "Low"},
    "severity.2": {"id": "Sedang", "en": "Medium"},
    "severity.3": {"id": "Tinggi", "en": "High"},
    "incident.new": {"id": "Baru", "en": "New"},
    "incident.verified": {"id": "Terverifikasi", "en": "Verified"},
    "incident.dispatched": {"id": "Dikirim", "en": "Dispatched"},
    "incident.on_scene": {"id": "Di lokasi", "en": "On scene"},
    "incident.resolved": {"id": "Selesai", "en": "Resolved"},
    "incident.closed": {"id": "Ditutup", "en": "Closed"},
    "feeds.title": {"id": "Sumber data OPD", "en": "Department feeds"},
    "feeds.degraded": {"id": "terganggu", "en": "degraded"},
    "feeds.ok": {"id": "normal", "en": "ok"},
    "workers.title": {"id": "Pekerja latar", "en": "Background workers"},
    "alert.puskesmas_late": {
        "id": "{name} belum buka (jadwal {scheduled_open}, terlambat {minutes_late} menit), "
              "{waiting} warga menunggu",
        "en": "{name} not open yet (due {scheduled_open}, {minutes_late} min late), "
              "{waiting} people waiting"},
    "alert.tps_overflow": {"id": "{name} penuh ({fill_pct})", "en": "{name} full ({fill_pct})"},
    "alert.congestion": {"id": "Macet di {camera}", "en": "Traffic jam at {camera}"},
    "alert.accident_candidate": {"id": "Kendaraan berhenti di jalur, kemungkinan kecelakaan: {camera}",
                                 "en": "Vehicle stopped in lane, possible accident: {camera}"},
    "alert.illegal_parking": {"id": "Parkir liar: {camera}", "en": "Illegal parking: {camera}"},
    "alert.dumping": {"id": "Buang sampah di luar jam: {camera}",
                      "en": "Dumping outside allowed hours: {camera}"},
    "alert.queue_long": {"id": "Antrean panjang: {camera}", "en": "Long queue: {camera}"},
    "alert.incident": {"id": "Insiden: {name}", "en": "Incident: {name}"},
    "alert.earthquake": {"id": "Gempa M{magnitude} {wilayah}, {distance_km} km dari Ambon",
                         "en": "Earthquake M{magnitude} {wilayah}, {distance_km} km from Ambon"},
    "alert.weather": {"id": "Peringatan cuaca: {event} — {area}",
                      "en": "Weather warning: {event} — {area}"},
    "alert.camera_offline": {"id": "Kamera tidak ada sinyal: {camera}",
                             "en": "Camera without signal: {camera}"},
    "alert.feed_degraded": {"id": "Sumber data terganggu: {name} ({failures}× gagal)",
                            "en": "Feed degraded: {name} ({failures} failures)"},
    "hist.title": {"id": "Riwayat", "en": "History"},
    "hist.range": {"id": "Rentang waktu", "en": "Time range"},
    "range.today": {"id": "Hari ini", "en": "Today"},
    "range.24h": {"id": "24 jam", "en": "24 h"},
    "range.7d": {"id": "7 hari", "en": "7 days"},
    "pkm.timeline": {"id": "Perubahan status hari ini", "en": "Status changes today"},
    "tps.fill_history": {"id": "Riwayat keterisian TPS", "en": "Dump point fill history"},
    "traffic.counts": {"id": "Kendaraan melintas per jam", "en": "Vehicles crossing per hour"},
    "filter.category": {"id": "Kategori", "en": "Category"},
    "filter.kecamatan": {"id": "Kecamatan", "en": "District"},
    "snapshot.none": {"id": "Belum ada gambar", "en": "No picture yet"},
    "minutes": {"id": "{n} menit", "en": "{n} min"},
}


def translate(key: str, lang: str = "id", **params: object) -> str:
    """The text for ``key`` in ``lang`` (Indonesian when missing), with ``params`` filled in.

    A missing parameter renders as "-" rather than failing: feeds are not always complete.
    """
    entry = TEXT.get(key)
    if entry is None:
        return key
    template = entry.get(lang) or entry["id"]
    safe = {k: ("-" if v is None else v) for k, v in params.items()}
    try:
        return template.format_map(_Default(safe))
    except (ValueError, IndexError):
        return template


class _Default(dict):
    def __missing__(self, key: str) -> str:
        return "-"
