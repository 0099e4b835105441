"""Sharp pictures on demand (issue 16: ``source`` is the main stream "for a sharp snapshot
on demand"): one key frame of the 1080p main stream, blurred with the camera's own blur
(learnt on the analysed sub-stream) scaled up, asked for on the Kamera page, audited,
never on the public wall; each failure a reason in words."""

from __future__ import annotations

import cv2
import httpx
import numpy as np
import pytest
import streamlit as st
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from ambon_core.domain import CameraKind, CameraState, CameraStatus
from ambon_core.models import AuditLog
from ambon_core.settings import ROOT
from ambon_core.store import Store
from components.nav import PAGES
from tests.login import login
from tests.test_browser import browser, server  # noqa: F401 - Chromium and the dashboard
from tests.test_browser import pytestmark as BROWSER_MARKS
from tests.test_camera_privacy import head_covered, noisy_background, with_person
from tests.test_camera_streams import _cam, _worker, sim  # noqa: F401 - the RTSP simulator fixture
from tests.test_faults_cameras import turn_worker_until
from tests.test_rtsp import needs_ffmpeg
from workers.camera.privacy import BlurConfig, PrivacyBlur
from workers.camera.sharp import sharp_picture

APP = str(ROOT / "app.py")


def _cell_steps(grey: np.ndarray, cell: int) -> float:
    """Mean horizontal step between neighbours inside ``cell``-px cells (``grey`` starts
    on a cell edge): ~0 where pixelated, large across sharp detail."""
    steps = np.abs(np.diff(grey.astype(int), axis=1))
    inside = (np.arange(steps.shape[1]) % cell) != cell - 1
    return float(steps[:, inside].mean())


def test_sharp_picture_is_blurred_where_the_sub_stream_saw_motion_even_a_step_later() -> None:
    """The blur learns a walking person on the 640x360 sub-stream (no detector); the
    main stream's 1920x1080 key frame shows them one step further on: their head is
    pixelated in the 1280-px picture, and the still scene around stays sharp."""
    blur = PrivacyBlur(cfg=BlurConfig(), seed=noisy_background())
    for i in range(10):
        sub = with_person(noisy_background(i), 100 + 10 * i)
        blur.observe(sub, i * 0.5)
    x_main = 100 + 10 * 9 + 4  # walked on 4 sub-stream pixels after the last analysed frame
    main = cv2.resize(with_person(noisy_background(99), x_main), (1920, 1080),
                      interpolation=cv2.INTER_NEAREST)
    rng = np.random.default_rng(1)  # sharp texture: a pixelated region loses it
    main = cv2.add(main, rng.integers(0, 60, main.shape, np.uint8))
    out = sharp_picture(main, blur, sub, [], 4.5)
    assert out.shape == (720, 1280, 3)
    grey = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
    # the head, in the picture's pixels (2x the sub-stream): cells of 32 px, x from a cell edge
    x0 = (2 * (x_main - 6)) // 32 * 32
    head = grey[2 * 257:2 * 269, x0:x0 + 64]
    assert _cell_steps(head, 32) < 0.5
    assert _cell_steps(grey[40:200, 960:1280], 32) > 5  # far from the walk: sharp
    ah, aw = sub.shape[:2]
    assert head_covered(blur.mask((aw, ah), aw, [], 4.5), x_main) == 1.0


def test_before_the_blur_learnt_anything_the_sharp_picture_is_all_blocks() -> None:
    blur = PrivacyBlur(cfg=BlurConfig())
    main = np.random.default_rng(2).integers(0, 255, (1080, 1920, 3), np.uint8)
    out = cv2.cvtColor(sharp_picture(main, blur, np.zeros((360, 640, 3), np.uint8), [], 0.0),
                       cv2.COLOR_BGR2GRAY)
    assert _cell_steps(out[:704, :], 32) < 0.5


@needs_ffmpeg
def test_worker_answers_sharp_requests_from_the_main_stream_or_says_why(
        settings, store, session, sim, tmp_path) -> None:
    base, rtsp = sim
    worker = _worker(settings, tmp_path, [
        _cam("cam-t", "traffic", f"{rtsp}/cam-t", f"{rtsp}/cam-t/sub"),  # both up
        _cam("cam-m", "traffic", f"{rtsp}/cam-gone", f"{rtsp}/cam-t/sub"),  # main down
        _cam("cam-s", "traffic", f"{rtsp}/cam-t/sub"),  # one stream only
        _cam("cam-d", "traffic", f"{rtsp}/cam-t", f"{rtsp}/cam-gone/sub"),  # no signal
    ])
    try:
        turn_worker_until(worker, store, lambda c: len(c) == 4 and all(
            c[k].status == CameraStatus.OK for k in ("cam-t", "cam-m", "cam-s"))
            and c["cam-d"].status == CameraStatus.NO_SIGNAL, 60)
        for cid in ("cam-t", "cam-m", "cam-s", "cam-d", "cam-elsewhere"):
            store.request_sharp(cid)
        turn_worker_until(worker, store, lambda c: all(
            store.sharp(k) is not None for k in ("cam-t", "cam-m", "cam-s", "cam-d")), 60)
        pic = store.sharp("cam-t")
        assert pic.error is None and pic.taken_at is not None
        img = cv2.imdecode(np.frombuffer(pic.jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert img.shape == (720, 1280, 3)  # from the 1920x1080 main stream, not the 640 sub
        assert [store.sharp(k).error for k in ("cam-m", "cam-s", "cam-d")] == [
            "main_down", "no_main", "no_signal"]
        assert store.sharp("cam-m").jpeg is None
        assert store.sharp_pending("cam-elsewhere")  # another worker's camera: left for it
        assert not store.sharp_pending("cam-t")
        truth = httpx.get(f"{base}/truth/cam-t", timeout=2).json()
        assert "clip_frame" in truth  # the simulator kept streaming throughout
    finally:
        worker.sharp.stop()
        for cid in list(worker.held):
            worker._drop(cid)
        worker.probe.stop()


def _kamera(session, role: str = "walikota") -> AppTest:
    st.cache_data.clear()
    st.cache_resource.clear()
    at = login(AppTest.from_file(APP, default_timeout=60), session, role)
    at.switch_page(PAGES["kamera"][0]).run()
    assert not at.exception, at.exception
    return at


def _live_cameras(store: Store) -> None:
    from workers.camera.privacy import encode_jpeg

    for cid in ("cam-lalin-01", "cam-lalin-02", "cam-lalin-04"):  # 04: one stream only
        store.put(CameraState(camera_id=cid, kind=CameraKind.TRAFFIC, status=CameraStatus.OK,
                              infer_fps=2.0, target_fps=2.0))
        store.put_snapshot(cid, encode_jpeg(np.full((360, 640, 3), 90, np.uint8)))


def test_kamera_page_asks_audits_and_shows_the_sharp_picture(store, session) -> None:
    from datetime import UTC, datetime

    from workers.camera.privacy import encode_jpeg

    _live_cameras(store)
    at = _kamera(session)
    button = at.button(key="sharp_cam-lalin-01")
    assert button.label == "Gambar tajam"
    button.click().run()
    assert not at.exception, at.exception
    assert store.sharp_pending("cam-lalin-01")
    assert "Meminta gambar dari stream utama…" in [c.value for c in at.caption]
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "camera.sharp")).all()
    assert [(a.actor, a.target) for a in audit] == [("walikota", "camera:cam-lalin-01")]
    taken = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)  # 09:30 WIT
    store.put_sharp("cam-lalin-01", encode_jpeg(np.full((720, 1280, 3), 90, np.uint8)), taken)
    at.run()
    assert len(at.image) >= 3  # two snapshots and the sharp picture
    assert any("diambil 09.30 WIT" in c.value or "diambil 09:30 WIT" in c.value for c in at.caption)
    store.request_sharp("cam-lalin-01")
    store.put_sharp("cam-lalin-01", None, taken, "main_down")
    at.run()
    assert any("Stream utama tidak menjawab" in c.value for c in at.caption)
    at.button(key="sharp_close_cam-lalin-01").click().run()
    assert not any("Stream utama tidak menjawab" in c.value for c in at.caption)


def test_no_sharp_button_for_a_camera_without_main_stream_or_signal(store, session) -> None:
    _live_cameras(store)
    store.put(CameraState(camera_id="cam-lalin-02", kind=CameraKind.TRAFFIC,
                          status=CameraStatus.NO_SIGNAL, health_cause="detect_down"))
    at = _kamera(session)
    keys = {b.key for b in at.button if b.key and b.key.startswith("sharp_")}
    assert keys == {"sharp_cam-lalin-01"}  # 02 has no signal, 04 no main stream of its own


@pytest.mark.parametrize("garbage", ["", "cam-x'; DROP", "../../etc/passwd"])
def test_a_request_for_an_unknown_camera_changes_nothing_shown(store, garbage: str) -> None:
    """Requests are set members; a name nobody holds stays unanswered and harms nothing."""
    store.request_sharp(garbage)
    assert store.take_sharp_requests(["cam-lalin-01"]) == []
    assert store.sharp(garbage) is None


@BROWSER_MARKS[0]
@BROWSER_MARKS[1]
def test_sharp_picture_in_chromium_at_tablet_and_wall_size(server, browser, store, session) -> None:
    """The mayor presses *Gambar tajam*; the worker's answer (here a picture blurred by the
    real ``sharp_picture``) appears under the camera wall; screenshots at both sizes."""
    from datetime import UTC, datetime

    from playwright.sync_api import expect

    from tests.test_browser import _no_exception, _open, _shot
    from workers.camera.privacy import encode_jpeg

    _live_cameras(store)
    blur = PrivacyBlur(cfg=BlurConfig(), seed=noisy_background())
    for i in range(10):
        sub = with_person(noisy_background(i), 100 + 10 * i)
        blur.observe(sub, i * 0.5)
    main = cv2.resize(with_person(noisy_background(99), 194), (1920, 1080))
    for size in ((1180, 820), (1920, 1080)):
        page = _open(browser, f"{server}/kamera", size)
        page.get_by_role("button", name="Gambar tajam").first.click()
        expect(page.get_by_text("Meminta gambar dari stream utama…")).to_be_visible(timeout=30_000)
        assert store.sharp_pending("cam-lalin-01")
        jpeg = encode_jpeg(sharp_picture(main, blur, sub, [], 4.5), 80)
        store.put_sharp("cam-lalin-01", jpeg, datetime.now(UTC))
        expect(page.get_by_text("Stream utama, diburamkan")).to_be_visible(timeout=30_000)
        page.get_by_text("Stream utama, diburamkan").scroll_into_view_if_needed()
        _no_exception(page)
        _shot(page, f"kamera_sharp_{size[0]}x{size[1]}")
        page.close()
