"""The district (kecamatan) of a 112 report on Pulau Ambon, from what the record names.

Pulau Ambon is shared by Kota Ambon (five kecamatan) and Kabupaten Maluku Tengah
(kecamatan Leihitu, Leihitu Barat and Salahutu on the island); Call Center 112 serves
both (seed 004). A report from a Maluku Tengah village is real 112 work: it is accepted
and labelled by its own district ("Salahutu (Maluku Tengah)") instead of being forced
into the nearest Kota Ambon kecamatan.

The district is read from, in order: an explicit ``kecamatan``/``district`` field of the
record, then a district or village name in its address (or ``desa``/``village`` field;
free-text descriptions are not searched: "liang" is also a word). Nothing is
guessed from coordinates (district borders are not on file); a record naming none keeps
``kecamatan`` empty and the pages place it by the nearest registry site.
"""

from __future__ import annotations

import re

KOTA_AMBON = ("Nusaniwe", "Sirimau", "Teluk Ambon Baguala", "Teluk Ambon", "Leitimur Selatan")
MALUKU_TENGAH = ("Leihitu Barat", "Leihitu", "Salahutu")
REGENCY_LABEL = "Maluku Tengah"
# Negeri (villages) of the three Maluku Tengah kecamatan on Pulau Ambon.
VILLAGES: dict[str, str] = {
    **dict.fromkeys(("Hila", "Kaitetu", "Wakal", "Hitu", "Hitumessing", "Hitu Lama", "Mamala",
                     "Morella", "Seith", "Negeri Lima", "Ureng", "Asilulu"), "Leihitu"),
    **dict.fromkeys(("Larike", "Wakasihu", "Allang", "Alang", "Liliboy", "Lilibooi", "Hatu"),
                    "Leihitu Barat"),
    **dict.fromkeys(("Tulehu", "Liang", "Waai", "Tengah-Tengah", "Tial", "Suli"), "Salahutu"),
}
DISTRICT_LABELS: tuple[str, ...] = (
    *sorted(KOTA_AMBON), *(f"{d} ({REGENCY_LABEL})" for d in sorted(MALUKU_TENGAH)))


def label(district: str) -> str:
    """'salahutu' -> 'Salahutu (Maluku Tengah)', 'sirimau' -> 'Sirimau'; else ''."""
    for name in KOTA_AMBON:
        if district.strip().lower() == name.lower():
            return name
    for name in MALUKU_TENGAH:
        if district.strip().lower() in (name.lower(), f"{name} ({REGENCY_LABEL})".lower()):
            return f"{name} ({REGENCY_LABEL})"
    return ""


def _alternation(names: list[str]) -> re.Pattern[str]:
    """One pattern for all names, longest first ("Leihitu Barat" before "Leihitu"), whole
    words only ("Hitu" is not in "Leihitu")."""
    ordered = sorted(names, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ordered)) + r")(?![\w-])",
                      re.IGNORECASE)


_DISTRICTS = _alternation([*KOTA_AMBON, *MALUKU_TENGAH])
_VILLAGES = _alternation(list(VILLAGES))
_VILLAGE_DISTRICT = {v.lower(): d for v, d in VILLAGES.items()}


def district_of(explicit: str | None, *texts: str | None) -> str | None:
    """The district label a record names (see the module docstring), or None."""
    if explicit and (found := label(explicit)):
        return found
    text = " ".join(t for t in texts if t)
    if not text:
        return None
    if found := _DISTRICTS.search(text):
        return label(found.group(1))
    if found := _VILLAGES.search(text):
        return label(_VILLAGE_DISTRICT[found.group(1).lower()])
    return None
