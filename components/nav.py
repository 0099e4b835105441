"""The pages of the dashboard, in menu order: file, title key, icon, owning department page."""

from __future__ import annotations

from ambon_core.alert_kinds import ALERT_SPECS

PAGES: dict[str, tuple[str, str, str]] = {
    "ringkasan": ("pages/ringkasan.py", "page.ringkasan", ":material/dashboard:"),
    "puskesmas": ("pages/puskesmas.py", "page.puskesmas", ":material/local_hospital:"),
    "lalu_lintas": ("pages/lalu_lintas.py", "page.lalu_lintas", ":material/traffic:"),
    "sampah": ("pages/sampah.py", "page.sampah", ":material/delete:"),
    "insiden": ("pages/insiden.py", "page.insiden", ":material/emergency:"),
    "kamera": ("pages/kamera.py", "page.kamera", ":material/videocam:"),
    "layanan_publik": ("pages/layanan_publik.py", "page.layanan_publik",
                       ":material/account_balance:"),
}

# Accounts and the audit log: admins only, never in the wall screen's playlist.
ADMIN_PAGE = ("pages/admin.py", "page.admin", ":material/admin_panel_settings:")

# Which page shows an alert of each kind (tapping an alert goes there): from the specs.
ALERT_PAGE = {kind.value: spec.page for kind, spec in ALERT_SPECS.items()}
