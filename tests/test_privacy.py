"""Public screens: nothing personal reaches the wall (privacy.public_view), checked on the
pure function, on everything AppTest renders, and on every byte Chromium receives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from ambon_core.domain import (
    Alert,
    AlertKind,
    CameraKind,
    CameraState,
    CameraStatus,
    FeedStatus,
    Incident,
)
from ambon_core.privacy import public_view
from ambon_core.settings import ROOT
from ambon_core.store import Store
from components.nav import PAGES
from tests.login import login
from tests.test_pages import seed

APP = str(ROOT / "app.py")
SECRETS = ["Budi Santoso", "081234567890", "Jl. Pattimura No. 17", "Maria Latuconsina",
           "+62 812 9988 7766", "rumah Ibu Salawaney", "10.20.30.40", "kamera-host-7"]


def seed_personal(store: Store) -> None:
    seed(store)
    store.put(
        Incident(incident_id="112-pp1", category="kebakaran", severity=3,
                 title="Kebakaran rumah Budi Santoso, telp 081234567890",
                 description="Pelapor Maria Latuconsina (+62 812 9988 7766), rumah Ibu Salawaney",
                 address="Jl. Pattimura No. 17", lat=-3.69571, lon=128.18123, kecamatan="Sirimau"),
        Incident(incident_id="112-pp2", category="medis", title="Budi Santoso pingsan",
                 address="Jl. Pattimura No. 17"),
        Alert(alert_id="incident:112-pp1", kind=AlertKind.INCIDENT, entity_id="112-pp1",
              severity=3, opd="damkar",
              params={"name": "Kebakaran rumah Budi Santoso 081234567890"}),
        Alert(alert_id="feed-open311", kind=AlertKind.FEED_DEGRADED, entity_id="open311",
              params={"failures": 4, "last_error": "connect 10.20.30.40 refused"}),
        CameraState(camera_id="cam-lalin-02", kind=CameraKind.TRAFFIC, status=CameraStatus.OK,
                    worker="kamera-host-7"),
        FeedStatus(feed="open311", ok=False, last_error="http://admin:pw@10.20.30.40/api",
                   consecutive_failures=4),
    )


def test_public_view_keeps_aggregates_and_drops_people(store: Store) -> None:
    seed_personal(store)
    live = store.read_live()
    public = public_view(live)
    assert len(public.incidents) == len(live.incidents)  # counts and severities stay
    assert sorted(i.severity for i in public.incidents.values()) == sorted(
        i.severity for i in live.incidents.values())
    titles = {i.title for i in public.incidents.values()}
    assert "Kebakaran" in titles and "Medis" in titles
    text = repr(public)
    for secret in SECRETS:
        assert secret not in text, secret
    assert all(i.lat is None or round(i.lat, 2) == i.lat for i in public.incidents.values())
    assert not public.heartbeats
    assert live.incidents["112-pp1"].title.startswith("Kebakaran rumah Budi")  # input untouched


def rendered(at: AppTest) -> str:
    """Every element's protobuf as text: markdown, metrics, tables (Arrow bytes), maps."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


@pytest.fixture
def fresh(store: Store) -> Iterator[None]:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    seed_personal(store)
    yield


@pytest.mark.parametrize("page", list(PAGES))
def test_kiosk_pages_render_nothing_personal(page: str, fresh) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"kiosk": "1", "pages": page, "every": "600"})
    at.run()
    if page != "ringkasan":
        at.switch_page(PAGES[page][0]).run()
    assert not at.exception, at.exception
    assert at.title[0].value
    text = rendered(at)
    for secret in SECRETS:
        assert secret not in text, (page, secret)


def test_the_mayor_does_see_them(fresh, session) -> None:
    """Control: the same walk finds the names for a logged-in mayor, so the kiosk test
    above would notice a leak."""
    at = login(AppTest.from_file(APP, default_timeout=60), session, "walikota")
    at.switch_page(PAGES["insiden"][0]).run()
    assert "Budi Santoso" in rendered(at)


# ---- the wall rule: no camera pixels at all; and allow-lists (issues 12 and 14) -------------
MARKER = b"AMBON-SNAPSHOT-PIXELS-7731"


def marked_jpeg() -> bytes:
    """A JPEG snapshot carrying a comment marker, to find its bytes wherever they travel."""
    import cv2
    import numpy as np

    jpeg = cv2.imencode(".jpg", np.full((360, 640, 3), 120, np.uint8))[1].tobytes()
    comment = b"\xff\xfe" + (len(MARKER) + 2).to_bytes(2, "big") + MARKER
    return jpeg[:2] + comment + jpeg[2:]


def seed_snapshots(store: Store) -> None:
    """Every registry camera up, with a snapshot in Redis."""
    from ambon_core.registry import load_registry

    for cam in load_registry().cameras:
        store.put(CameraState(camera_id=cam.id, kind=cam.kind, status=CameraStatus.OK))
        store.put_snapshot(cam.id, marked_jpeg())


def test_public_view_is_an_allow_list(store: Store) -> None:
    """A field added later to LiveState, or to a camera's state, does not reach the wall."""
    from dataclasses import dataclass, field

    from ambon_core.privacy import camera_pixels_allowed
    from ambon_core.store import LiveState

    @dataclass(frozen=True)
    class LiveStateWithMore(LiveState):
        operator_notes: dict = field(default_factory=dict)

    class CameraStateWithMore(CameraState):
        operator_note: str | None = None

    cam = CameraStateWithMore(camera_id="cam-x", kind=CameraKind.TRAFFIC, status=CameraStatus.OK,
                              queue_len=4, operator_note="Budi Santoso di depan")
    live = LiveStateWithMore(cameras={"cam-x": cam}, operator_notes={"n": "Budi Santoso"})
    public = public_view(live)
    assert not hasattr(public, "operator_notes")
    assert public.cameras["cam-x"].queue_len == 4 and public.cameras["cam-x"].status == CameraStatus.OK
    assert "Budi Santoso" not in repr(public)
    assert not camera_pixels_allowed(public) and camera_pixels_allowed(live)


def test_wall_kamera_page_has_no_camera_picture(fresh, store: Store) -> None:
    seed_snapshots(store)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"kiosk": "1", "pages": "kamera", "every": "600"})
    at.run()
    at.switch_page(PAGES["kamera"][0]).run()
    assert not at.exception, at.exception
    assert not at.get("image")
    assert MARKER.decode() not in rendered(at)
    assert "Gambar kamera tidak ditampilkan di layar publik" in [c.value for c in at.caption]


def test_wall_detail_card_has_no_camera_picture(fresh, store: Store) -> None:
    seed_snapshots(store)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"kiosk": "1", "pages": "lalu_lintas", "every": "600",
                            "focus": "cam-lalin-01"})
    at.run()
    at.switch_page(PAGES["lalu_lintas"][0]).run()
    assert not at.exception, at.exception
    assert not at.get("image")


def test_the_mayor_does_see_camera_pictures(fresh, store: Store, session) -> None:
    """Control: the same page for a logged-in mayor has the pictures (the check above
    would notice one on the wall)."""
    seed_snapshots(store)
    at = login(AppTest.from_file(APP, default_timeout=60), session, "walikota")
    at.switch_page(PAGES["kamera"][0]).run()
    assert not at.exception, at.exception
    assert len(at.get("image")) >= 1


def test_the_wall_sees_whether_offices_are_open_but_not_their_staff() -> None:
    """Service offices reached the wall as 'tidak diketahui' (the public view left them out);
    their status and queue are public, their staff's check-ins are not."""
    from ambon_core.domain import PuskesmasStatus, ServiceOfficeState
    from ambon_core.store import LiveState

    office = ServiceOfficeState(office_id="kel-tihu", office_type="kantor_kelurahan",
                                status=PuskesmasStatus.BELUM_BUKA, minutes_late=25, waiting=4,
                                reason="no_checkin", staff_in=0, staff_expected=6, staff_elsewhere=2)
    public = public_view(LiveState(offices={"kel-tihu": office})).offices["kel-tihu"]
    assert (public.status, public.minutes_late, public.waiting, public.reason) == \
        (PuskesmasStatus.BELUM_BUKA, 25, 4, "no_checkin")
    assert public.staff_in is public.staff_expected is public.staff_elsewhere is None
