"""The pages' pure summaries: KPI figures and tables from a known live state."""

from __future__ import annotations

from ambon_core.domain import (
    CameraKind,
    CameraState,
    CameraStatus,
    Congestion,
    Incident,
    IncidentStatus,
    PuskesmasState,
    PuskesmasStatus,
    TpsState,
)
from ambon_core.registry import load_registry
from ambon_core.settings import DATA_DIR
from ambon_core.store import LiveState
from components.maps import cap_polygon
from components.summaries import incident_table, kpis, nearest_kecamatan, puskesmas_table

REG = load_registry(DATA_DIR / "registry.yaml")


# Ids and places come from the registry in use (operators replace the sample one).
LATE, OPEN = REG.puskesmas[0], REG.puskesmas[1]
TRAFFIC = [c for c in REG.cameras if c.kind == CameraKind.TRAFFIC][:2]
SITE = REG.tps[-1]  # an incident reported exactly at this TPS


def _live() -> LiveState:
    return LiveState(
        puskesmas={LATE.id: PuskesmasState(puskesmas_id=LATE.id, status=PuskesmasStatus.BELUM_BUKA),
                   OPEN.id: PuskesmasState(puskesmas_id=OPEN.id, status=PuskesmasStatus.BUKA)},
        cameras={TRAFFIC[0].id: CameraState(camera_id=TRAFFIC[0].id, kind=CameraKind.TRAFFIC,
                                            status=CameraStatus.OK, congestion=Congestion.MACET),
                 TRAFFIC[1].id: CameraState(camera_id=TRAFFIC[1].id, kind=CameraKind.TRAFFIC,
                                            status=CameraStatus.NO_SIGNAL)},
        tps={SITE.id: TpsState(tps_id=SITE.id, fill=0.9, overflow=True)},
        incidents={"a": Incident(incident_id="a", category="banjir", title="A", severity=3,
                                 lat=SITE.lat, lon=SITE.lon),
                   "b": Incident(incident_id="b", category="kebakaran", title="B",
                                 status=IncidentStatus.RESOLVED)})


def test_kpis_count_what_the_mayor_sees() -> None:
    k = kpis(_live(), REG)
    assert (k.pkm_open, k.pkm_late, k.pkm_unknown) == (1, 1, len(REG.puskesmas) - 2)
    assert (k.traffic_hot, k.tps_over, k.incidents_open) == (1, 1, 1)
    assert k.incidents_by_severity == {3: 1, 2: 0, 1: 0}
    assert (k.cameras_online, k.cameras_total) == (1, len(REG.cameras))


def test_tables_put_the_urgent_first_and_fill_kecamatan() -> None:
    table = puskesmas_table(_live(), REG)
    assert table.iloc[0]["id"] == LATE.id  # belum buka first
    assert list(table["status"]).index("buka") > 0
    table = incident_table(_live(), REG)
    assert list(table["id"]) == ["a"]  # resolved incidents are not open
    assert table.iloc[0]["kecamatan"] == SITE.kecamatan  # the nearest registry site's
    assert nearest_kecamatan(None, 128.1, REG) is None


def test_cap_polygon_parsing() -> None:
    assert cap_polygon("-3.5,128.0 -3.9,128.0 -3.9,128.4") == [[128.0, -3.5], [128.0, -3.9],
                                                                [128.4, -3.9]]
    for bad in ["", "-3.5,128.0", "x,y a,b c,d", None]:
        assert cap_polygon(bad) is None
