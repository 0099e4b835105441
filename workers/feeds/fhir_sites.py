"""Which registry puskesmas a FHIR resource is about (SATUSEHAT identity rules).

SATUSEHAT gives resources UUID ids. A Location is the registry puskesmas whose
``satusehat_id`` equals ``Location.id``, or whose registry id is the value of one of its
``identifier`` entries (only those of the feed's ``identifier_system`` when set, e.g.
``http://sys-ids.kemkes.go.id/location/<organization id>``), or (the simulator) whose
registry id is ``Location.id``. A reference "Location/<id>" resolves by the same rules or
through a Location met before (in the same Bundle, or an earlier Location document).
Nothing matching is a reject that names the registry field to fill: ``satusehat_id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ambon_core.registry import Registry
from workers.feeds.common import RecordError


@dataclass
class SiteIndex:
    """How FHIR resources find their registry puskesmas (rules in the module docstring)."""

    ids: set[str] | None = None  # None: accept any id (parsing without a registry)
    by_satusehat: dict[str, str] = field(default_factory=dict)
    by_location: dict[str, str] = field(default_factory=dict)
    identifier_system: str | None = None

    @classmethod
    def of(cls, registry: Registry, system: str | None = None,
           seen: dict[str, str] | None = None) -> SiteIndex:
        return cls({p.id for p in registry.puskesmas},
                   {p.satusehat_id: p.id for p in registry.puskesmas if p.satusehat_id},
                   dict(seen or {}), system)

    def _known(self, value: Any) -> bool:
        return isinstance(value, str) and (self.ids is None or value in self.ids)

    def location_site(self, res: dict[str, Any]) -> str:
        rid = res.get("id")
        if isinstance(rid, str) and rid in self.by_satusehat:
            return self.by_satusehat[rid]
        for ident in res.get("identifier") or []:
            if not isinstance(ident, dict):
                continue
            if self.identifier_system and ident.get("system") != self.identifier_system:
                continue
            if self._known(ident.get("value")):
                return ident["value"]
        if self._known(rid):
            return rid
        if isinstance(rid, str) and rid in self.by_location:
            return self.by_location[rid]
        system = f" of system {self.identifier_system}" if self.identifier_system else ""
        raise RecordError("satusehat_id", f"no registry puskesmas has satusehat_id {rid!r}, and no "
                                          f"identifier{system} names a registry puskesmas id"[:300])

    def reference_site(self, reference: str) -> str | None:
        if not reference.startswith("Location/"):
            return None
        try:
            return self.location_site({"id": reference.split("/", 1)[1]})
        except RecordError:
            return None


def as_index(sites: SiteIndex | set[str] | None) -> SiteIndex:
    return sites if isinstance(sites, SiteIndex) else SiteIndex(ids=sites)

