"""The registry: the sample loads, and every typo is reported with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from ambon_core.registry import RegistryError, load_registry, parse_registry
from ambon_core.settings import DATA_DIR

SAMPLE = (DATA_DIR / "registry.yaml").read_text(encoding="utf-8")


def test_sample_registry_is_complete() -> None:
    reg = load_registry(DATA_DIR / "registry.yaml")
    kinds = [c.kind.value for c in reg.cameras]
    assert len(reg.cameras) == 37
    assert kinds.count("traffic") == 19 and kinds.count("market") == 5
    assert len(reg.puskesmas) == 22
    assert {o.code for o in reg.opds} >= {"dinkes", "dishub", "dlh", "bpbd", "damkar", "satpolpp",
                                           "dinsos", "kominfo", "polri", "tni", "pln"}
    assert all(p.hours for p in reg.puskesmas)
    assert "SAMPLE" in SAMPLE.splitlines()[0]


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("lat: -3.693", "lat: -7.693", "puskesmas[1].lat", "outside Kota Ambon"),
        ("kind: lane", "kind: lanes", "cameras[0].zones[0].kind", "Input should be"),
        ("opening_time: '08:00'", "opening_time: 8.00", "opening_time", "not a time HH:MM"),
        ("  name: Puskesmas Rijali", "  nama: Puskesmas Rijali", "puskesmas[2].nama", "Extra inputs"),
        ("polygon: [[0, 140], [640, 140]", "polygon: [[0, 140], [900, 140]", "cameras[0]",
         "'jalur' point (900.0, 140.0) is outside the frame"),
        ("kecamatan: Sirimau", "kecamatan: Sirimao", "kecamatan", "Input should be"),
    ],
)
def test_typo_names_line_and_field(old: str, new: str, field: str, words: str) -> None:
    bad = SAMPLE.replace(old, new, 1)
    with pytest.raises(RegistryError) as err:
        parse_registry(bad, source="registry.yaml")
    message = str(err.value)
    assert field in message and words in message
    assert message.startswith("registry.yaml:")


def test_line_number_points_at_the_bad_value() -> None:
    bad = SAMPLE.replace("lat: -3.693", "lat: -7.693", 1)
    with pytest.raises(RegistryError) as err:
        parse_registry(bad, source="r.yaml")
    assert str(err.value).startswith(f"r.yaml:{_line_of(bad, 'lat: -7.693')}:")


def test_unquoted_time_is_understood() -> None:
    """YAML 1.1 reads 14:00 as the integer 840; staff should not need to quote it."""
    reg = parse_registry(SAMPLE.replace("closing_time: '14:00'", "closing_time: 14:00"))
    assert reg.puskesmas[0].hours[0].closing_time == "14:00"


@pytest.mark.parametrize("text", ["", "just a string", "puskesmas: [\n  - {", "- 1\n- 2"])
def test_broken_yaml_is_one_clear_error(text: str) -> None:
    with pytest.raises(RegistryError, match="registry.yaml"):
        parse_registry(text)


def test_duplicate_ids_and_unknown_sites_are_refused() -> None:
    dup = SAMPLE.replace("id: pkm-waihoka", "id: pkm-christina-martha-tiahahu", 1)
    with pytest.raises(RegistryError, match="duplicate puskesmas ids"):
        parse_registry(dup)
    orphan = SAMPLE.replace("site: pkm-waihoka", "site: pkm-nowhere", 1)
    with pytest.raises(RegistryError, match="pkm-nowhere"):
        parse_registry(orphan)


def test_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="REGISTRY_PATH"):
        load_registry(tmp_path / "nope.yaml")


MASKED = SAMPLE.replace("""  lines:
  - name: garis_hitung
    points: [[320, 140], [320, 300]]
""", """  lines:
  - name: garis_hitung
    points: [[320, 140], [320, 300]]
  privacy_masks:
  - name: jendela_rumah
    polygon: [[510, 12], [628, 12], [628, 68], [510, 68]]
""", 1)


def test_privacy_masks_load_per_camera() -> None:
    reg = parse_registry(MASKED)
    assert [m.name for m in reg.cameras[0].privacy_masks] == ["jendela_rumah"]
    assert reg.cameras[1].privacy_masks == []


def test_privacy_mask_outside_the_frame_is_one_sentence_with_its_line() -> None:
    bad = MASKED.replace("[[510, 12], [628, 12]", "[[510, 12], [700, 12]", 1)
    with pytest.raises(RegistryError) as err:
        parse_registry(bad, source="r.yaml")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"r.yaml:{_line_of(bad, '- name: jendela_rumah')}: cameras[0].privacy_masks:")
    assert "privacy mask 'jendela_rumah' point (700, 12) is outside the frame 640x360" in message


def test_privacy_mask_needs_three_points() -> None:
    bad = MASKED.replace("[[510, 12], [628, 12], [628, 68], [510, 68]]", "[[510, 12], [628, 12]]", 1)
    with pytest.raises(RegistryError, match=r"privacy_masks\[0\]\.polygon"):
        parse_registry(bad)


def test_every_sample_site_stands_on_land() -> None:
    """The sample registry is what `make run` and the wall map show: no puskesmas, camera
    or office in Ambon Bay (the GSHHG coastline drawn under the sites decides)."""
    import yaml

    from components.maps import on_land

    assert on_land(-3.6954, 128.1814) and not on_land(-3.67, 128.15)  # Ambon city / the bay
    raw = yaml.safe_load((DATA_DIR / "registry.yaml").read_text())
    sites = [(section, item["id"], item["lat"], item["lon"]) for section, items in raw.items()
             if isinstance(items, list) for item in items if isinstance(item, dict) and "lat" in item]
    assert len(sites) > 90
    assert [s[:2] for s in sites if not on_land(s[2], s[3])] == []
