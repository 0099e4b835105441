"""The pages of the dashboard, in menu order: file, title key, icon, owning department page."""

from __future__ import annotations

PAGES: dict[str, tuple[str, str, str]] = {
    "ringkasan": ("pages/ringkasan.py", "page.ringkasan", ":material/dashboard:"),
    "puskesmas": ("pages/puskesmas.py", "page.puskesmas", ":material/local_hospital:"),
    "lalu_lintas": ("pages/lalu_lintas.py", "page.lalu_lintas", ":material/traffic:"),
    "sampah": ("pages/sampah.py", "page.sampah", ":material/delete:"),
    "insiden": ("pages/insiden.py", "page.insiden", ":material/emergency:"),
    "kamera": ("pages/kamera.py", "page.kamera", ":material/videocam:"),
}

# Accounts and the audit log: admins only, never in the wall screen's playlist.
ADMIN_PAGE = ("pages/admin.py", "page.admin", ":material/admin_panel_settings:")

# Which page shows an alert of each kind (tapping an alert goes there).
ALERT_PAGE = {
    "puskesmas_late": "puskesmas", "queue_long": "puskesmas",
    "congestion": "lalu_lintas", "accident_candidate": "lalu_lintas",
    "illegal_parking": "lalu_lintas", "tps_overflow": "sampah", "dumping": "sampah",
    "incident": "insiden", "earthquake": "insiden", "weather": "insiden",
    "camera_offline": "kamera", "feed_degraded": "ringkasan",
    "call_waiting": "insiden", "call_not_called_back": "insiden", "call_abandon_rate": "insiden",
}
