"""Who an instruction reaches: notification targets per site, per OPD head, and the city.

A target is an Apprise URL (``mailto://``, ``json://``/``jsons://`` webhooks, ``ntfy://``,
``tgram://`` ...). Targets come from two places, merged: the registry's ``contacts``
(kept in the file with the sites) and the ``notify_contact`` table (kept by the admin on
the Admin page or with ``python -m workers contacts``). A target is a secret of sorts (it
may hold a token or a password): it is shown on the Admin page only, masked, and never
written to a log; other pages show the contact's label and channel.

Levels, lowest first: ``site`` (kepala puskesmas, koordinator TPS), ``opd`` (the head of
the department), ``kota`` (Sekda / the mayor's office; a contact with neither OPD nor site).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from ambon_core.domain import utcnow
from ambon_core.history import audit
from ambon_core.models import NotifyContact

if TYPE_CHECKING:
    from ambon_core.registry import Registry

LEVELS = ("site", "opd", "kota")
# Channels we support and have tested, by Apprise scheme; others are refused on entry.
CHANNELS = {"mailto": "email", "mailtos": "email", "json": "webhook", "jsons": "webhook",
            "form": "webhook", "forms": "webhook", "ntfy": "ntfy", "ntfys": "ntfy",
            "tgram": "telegram"}
MAX_LABEL = 120


def quiet_apprise() -> None:
    """Apprise logs through its own logger only: its lines may name recipients and, for
    some plugins, parts of a target; the notifier captures and scrubs what it needs."""
    import logging

    logging.getLogger("apprise").propagate = False


class ContactError(ValueError):
    """The contact cannot be kept as given; the message says which field and why."""


@dataclass(frozen=True)
class ContactRef:
    """A target as the outbox needs it; ``ref`` is 'db:<id>' or 'reg:<index>'."""

    ref: str
    label: str
    url: str
    opd: str | None
    site: str | None

    @property
    def level(self) -> int:
        return LEVELS.index(level_of(self.opd, self.site))

    @property
    def channel(self) -> str:
        return channel_of(self.url)


def level_of(opd: str | None, site: str | None) -> str:
    return "site" if site else ("opd" if opd else "kota")


def channel_of(url: str) -> str:
    return CHANNELS.get(url.split("://", 1)[0].lower(), "?")


def validate_target(url: str) -> str:
    """The URL, stripped, when Apprise can use it and its channel is one of ours."""
    import apprise

    quiet_apprise()
    url = (url or "").strip()
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in CHANNELS:
        raise ContactError(f"target: '{scheme or url[:20]}' bukan saluran yang didukung "
                           f"({', '.join(sorted(CHANNELS))}://...)")
    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        raise ContactError(f"target: alamat {scheme}:// tidak lengkap atau salah format")
    return url


def masked(url: str) -> str:
    """The target with secrets hidden (Apprise's privacy rendering), for the Admin page."""
    import apprise

    quiet_apprise()
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        return f"{url.split('://', 1)[0]}://…"
    return plugin.url(privacy=True).split("?", 1)[0]  # Apprise's own options are noise here


def check_scope(opd: str | None, site: str | None, known_opds: set[str],
                known_sites: set[str]) -> None:
    if opd is not None and opd not in known_opds:
        raise ContactError(f"opd: '{opd}' tidak dikenal")
    if site is not None and site not in known_sites:
        raise ContactError(f"site: '{site}' tidak ada di registry")
    if site is not None and opd is None:
        raise ContactError("opd: kontak sebuah lokasi perlu OPD pemiliknya")


def _clean_label(label: str) -> str:
    label = (label or "").strip()
    if not label or len(label) > MAX_LABEL:
        raise ContactError(f"label: wajib diisi, maks. {MAX_LABEL} karakter")
    return label


def add_contact(session: Session, registry: Registry, *, label: str, url: str,
                opd: str | None, site: str | None, actor: str) -> int:
    """Keep a new target; audited without the URL itself (channel and scope only)."""
    opd, site = opd or None, site or None
    check_scope(opd, site, {o.code for o in registry.opds}, _sites(registry))
    row = NotifyContact(opd=opd, site=site, label=_clean_label(label), url=validate_target(url),
                        created_by=actor, created_at=utcnow())
    session.add(row)
    session.flush()
    audit(session, actor, "contact.add", f"contact:{row.id}", opd=opd, site=site,
          channel=channel_of(row.url))
    session.commit()
    return row.id


def remove_contact(session: Session, contact_id: int, *, actor: str) -> None:
    row = session.get(NotifyContact, contact_id)
    if row is None:
        raise ContactError(f"kontak {contact_id} tidak ada")
    session.delete(row)
    audit(session, actor, "contact.remove", f"contact:{contact_id}", opd=row.opd, site=row.site)
    session.commit()


def all_contacts(session: Session, registry: Registry) -> list[ContactRef]:
    """Registry contacts, then the admin's, in a stable order."""
    from_file = [ContactRef(f"reg:{n}", c.label, c.url, c.opd, c.site)
                 for n, c in enumerate(registry.contacts)]
    kept = [ContactRef(f"db:{r.id}", r.label, r.url, r.opd, r.site)
            for r in session.scalars(select(NotifyContact).order_by(NotifyContact.id))]
    return from_file + kept


def targets_at(contacts: list[ContactRef], level: int, opd: str,
               site: str | None) -> list[ContactRef]:
    """The targets of one escalation level for an instruction to ``opd`` about ``site``."""
    if level == 0:
        return [c for c in contacts if c.site is not None and c.site == site and c.opd == opd]
    if level == 1:
        return [c for c in contacts if c.site is None and c.opd == opd]
    return [c for c in contacts if c.site is None and c.opd is None]


def _sites(registry: Registry) -> set[str]:
    return {p.id for p in registry.puskesmas} | {t.id for t in registry.tps}
