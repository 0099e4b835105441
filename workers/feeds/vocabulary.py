"""The words of incident feeds: categories, OPD agency names, and a feed's own mapping.

The built-in vocabulary covers the codes and names seen in Ambon's 112 and complaint
systems; a feed adds its own in feeds.yaml (``categories``, ``agencies``), which wins.
Values neither knows are kept (``lainnya``, a slug) and counted in ``Mapping.unmapped``:
the feed health panel shows them so the mapping can be completed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from workers.feeds.common import RecordError

# service_code (and common aliases) -> incident category (registry OPD incident_categories)
CATEGORY_BY_CODE: dict[str, str] = {
    "banjir": "banjir", "flood": "banjir",
    "tanah_longsor": "tanah_longsor", "longsor": "tanah_longsor", "landslide": "tanah_longsor",
    "pohon_tumbang": "pohon_tumbang", "fallen_tree": "pohon_tumbang",
    "kebakaran": "kebakaran", "fire": "kebakaran",
    "kecelakaan": "kecelakaan", "kecelakaan_lalu_lintas": "kecelakaan", "accident": "kecelakaan",
    "medis": "medis", "gawat_darurat_medis": "medis", "medical": "medis",
    "keamanan": "keamanan", "kriminal": "keamanan", "crime": "keamanan",
    "konflik_sosial": "konflik_sosial", "perkelahian": "konflik_sosial",
    "sosial": "sosial", "orang_terlantar": "sosial",
    "listrik": "listrik", "listrik_padam": "listrik", "power_outage": "listrik",
    "sampah": "sampah", "kemacetan": "kemacetan", "ketertiban": "ketertiban",
    "gempa": "gempa", "cuaca": "cuaca",
}
SEVERITY_BY_CATEGORY: dict[str, int] = {
    "kebakaran": 3, "tanah_longsor": 3, "banjir": 3, "medis": 3, "konflik_sosial": 3, "gempa": 3,
    "kecelakaan": 2, "keamanan": 2, "pohon_tumbang": 2, "listrik": 2, "sosial": 2, "cuaca": 2,
    "sampah": 1, "kemacetan": 1, "ketertiban": 1, "lainnya": 2,
}
# agency_responsible words -> registry OPD code
AGENCY_CODES: dict[str, str] = {
    "polri": "polri", "polisi": "polri", "polresta": "polri", "tni": "tni", "kodim": "tni",
    "dinsos": "dinsos", "dinas sosial": "dinsos", "pln": "pln", "damkar": "damkar",
    "pemadam kebakaran": "damkar", "bpbd": "bpbd", "dinkes": "dinkes", "dinas kesehatan": "dinkes",
    "dishub": "dishub", "dinas perhubungan": "dishub", "satpol pp": "satpolpp",
    "satpolpp": "satpolpp", "kominfo": "kominfo", "dlh": "dlh",
}
_AGENCIES_LONGEST_FIRST = sorted(AGENCY_CODES, key=len, reverse=True)
@dataclass
class Mapping:
    """A feed's own vocabulary (``categories``/``agencies`` in feeds.yaml) over the built-in
    one; values found in neither are counted in ``unmapped`` (shown on the feed panel)."""

    categories: dict[str, str] = field(default_factory=dict)
    agencies: dict[str, str] = field(default_factory=dict)
    unmapped: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._categories = {" ".join(k.lower().split()): v for k, v in self.categories.items()}
        self._agencies = {" ".join(k.lower().split()): v for k, v in self.agencies.items()}

    def category(self, code: str, name: str) -> str:
        """service_code, then service_name, in the feed's mapping, then the built-in codes."""
        keys = [" ".join(v.lower().split()) for v in (code, name) if v]
        for key in keys:
            if key in self._categories:
                return self._categories[key]
        for key in keys:
            if key.replace(" ", "_") in CATEGORY_BY_CODE:
                return CATEGORY_BY_CODE[key.replace(" ", "_")]
        self.unmapped[f"service_code {code or '-'} / {name or '-'}"[:120]] += 1
        return "lainnya"

    def agency(self, name: str) -> str:
        """An agency name -> OPD code: the feed's mapping, the built-in names, then a known
        name inside it ("Damkar Kota Ambon" -> damkar); else counted and kept as a slug."""
        key = " ".join(name.lower().split())
        if key in self._agencies:
            return self._agencies[key]
        if key in AGENCY_CODES:
            return AGENCY_CODES[key]
        for known in _AGENCIES_LONGEST_FIRST:
            if f" {known} " in f" {key} ":
                return AGENCY_CODES[known]
        self.unmapped[f"agency_responsible {name}"[:120]] += 1
        return key.replace(" ", "_")[:40]


def agencies_of(value: Any, mapping: Mapping | None = None) -> list[str]:
    """'BPBD; TNI, Dinas Sosial' -> ['bpbd', 'tni', 'dinsos'] (see :meth:`Mapping.agency`)."""
    if value in (None, ""):
        return []
    if not isinstance(value, str):
        raise RecordError("agency_responsible", f"expected text, got {type(value).__name__}")
    mapping = mapping or Mapping()
    out: list[str] = []
    for part in value.replace(";", ",").replace("/", ",").split(","):
        if part.strip():
            code = mapping.agency(part.strip())
            if code not in out:
                out.append(code)
    return out


def known_categories(value: dict[str, str]) -> dict[str, str]:
    """A feed's category mapping may only name categories the dashboard knows."""
    unknown = sorted({c for c in value.values() if c not in SEVERITY_BY_CATEGORY})
    if unknown:
        raise ValueError(f"unknown categor{'y' if len(unknown) == 1 else 'ies'} "
                         f"{', '.join(unknown)}; known: {', '.join(sorted(SEVERITY_BY_CATEGORY))}")
    return value
