"""Issue 17 end to end in Debian's Chromium: the mayor instructs from an alert, the message
arrives at a real SMTP server and a real webhook, the recipient's link acknowledges
without a login, the sensors clear (alert cleared in Redis and SQL), and the mayor's
board shows the instruction verified with its times. Screenshots go to $SCREENSHOT_DIR."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from ambon_core.alerts import sync_alerts
from ambon_core.contacts import add_contact
from ambon_core.domain import Alert, AlertKind
from ambon_core.models import AlertRecord, Instruction
from ambon_core.settings import Settings
from tests.login import make_user
from tests.receivers import SmtpReceiver, WebhookReceiver, free_port, wait_for
from tests.test_browser import (  # noqa: F401
    ARGS,
    CHROMIUM,
    _no_exception,
    _open,
    _shot,
    browser,
    dashboard_server,
    pytestmark,
)
from tests.test_notify import REG, fast
from tests.test_pages import seed
from workers.notifier import NotifierWorker

SIZES = ((1180, 820), (1920, 1080))


@pytest.fixture
def server17(settings: Settings, store, session) -> Iterator[str]:
    """The dashboard with PUBLIC_BASE_URL = its own address (the links in messages)."""
    make_user(session, "walikota", "walikota")
    port = free_port()
    with dashboard_server(port, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}") as base:
        yield base


def _settled(page) -> None:
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)


def test_instruct_notify_acknowledge_clear_verified(server17, browser, settings, store,
                                                    session) -> None:
    from playwright.sync_api import expect

    seed(store)
    live_alert = store.read_live().alerts["puskesmas_late:pkm-waihoka"]
    store.remove(Alert, live_alert.alert_id)  # raised again the way the status worker does
    sync_alerts(store, session, [AlertKind.PUSKESMAS_LATE], [live_alert])  # Redis + SQL record
    with SmtpReceiver() as smtp, WebhookReceiver() as hook:
        add_contact(session, REG, label="Kepala Puskesmas Waihoka", opd="dinkes",
                    site="pkm-waihoka", url=smtp.target("kapus.waihoka@ambon.go.id"), actor="admin")
        add_contact(session, REG, label="Piket Puskesmas Waihoka", opd="dinkes",
                    site="pkm-waihoka", url=hook.target(), actor="admin")
        page = _open(browser, server17, SIZES[0])
        _shot(page, "ringkasan_alert_1180x820")
        page.get_by_role("button", name=re.compile("Tindak lanjut")).first.click()  # one alert
        pop = page.locator("[data-testid='stPopoverBody']")
        pop.get_by_label("Instruksi", exact=True).fill("Segera buka pintu, warga menunggu")
        pop.get_by_role("button", name=re.compile("Kirim instruksi")).click()
        expect(page.get_by_text("Instruksi terkirim ke Dinas Kesehatan")).to_be_visible(timeout=30_000)
        page.keyboard.press("Escape")
        worker = NotifierWorker(fast(settings, public_base_url=server17))
        wait_for(lambda: len(hook.counts) == 1 and len(smtp.counts) == 1, 60, step=worker.run_once)
        mail = next(iter(smtp.messages.values()))["text"]
        assert "Puskesmas Waihoka" in mail and "Batas waktu:" in mail
        link = re.search(r"Tandai diterima: (\S+)", next(iter(hook.messages.values()))["message"])[1]
        assert link.startswith(f"{server17}/?ack=")

        recipient = browser.new_page(viewport={"width": 390, "height": 800})  # a phone, no login
        recipient.goto(link)
        _settled(recipient)
        expect(recipient.get_by_text("Segera buka pintu, warga menunggu")).to_be_visible(timeout=30_000)
        recipient.get_by_role("button", name=re.compile("Tandai diterima")).click()
        expect(recipient.get_by_text(re.compile("ditandai diterima pukul"))).to_be_visible(timeout=30_000)
        _shot(recipient, "ack_link_390x800")
        recipient.goto(link)  # the same link again: refused in words
        _settled(recipient)
        expect(recipient.get_by_text("Tautan ini sudah dipakai", exact=False)).to_be_visible(timeout=30_000)
        recipient.close()

        sync_alerts(store, session, [AlertKind.PUSKESMAS_LATE], [])  # the door opened: sensors clear
        assert "puskesmas_late:pkm-waihoka" not in store.read_live().alerts
        assert session.scalars(select(AlertRecord.cleared_at)).one() is not None
        iid = session.scalars(select(Instruction.id)).one()
        wait_for(lambda: (session.expire_all() or session.get(Instruction, iid).verified_at)
                 is not None, 30, step=worker.run_once)
        for size in SIZES:
            board = _open(browser, server17, size)
            closed = board.locator("[data-testid='stTable']").filter(has_text="Waktu sampai terverifikasi")
            expect(closed).to_contain_text(f"#{iid} Puskesmas Waihoka", timeout=60_000)
            expect(closed).to_contain_text("terverifikasi")
            expect(closed).to_contain_text("WIT")
            _no_exception(board)
            board.get_by_text("Siapa yang merespons").scroll_into_view_if_needed()
            time.sleep(0.3)  # let the scroll paint before the screenshot (not synchronisation)
            _shot(board, f"ringkasan_board_{size[0]}x{size[1]}")
            board.close()
        page.close()


def test_follow_up_on_pages_shows_labels_never_targets(server17, browser, settings, store,
                                                       session) -> None:
    """Deliveries (sent, failing), escalation and state on the Dinkes page and the overview;
    the target URLs appear on no page (checked in the rendered text), masked on Admin."""
    from playwright.sync_api import expect

    from ambon_core.actions import instruct
    from tests.test_notify import CITY_OPDS, late_alert

    seed(store)
    make_user(session, "admin", "admin")
    secret = f"json://127.0.0.1:{free_port()}/rahasia-kadis"
    with SmtpReceiver() as smtp:
        add_contact(session, REG, label="Kepala Puskesmas Waihoka", opd="dinkes",
                    site="pkm-waihoka", url=smtp.target("kapus@ambon.go.id"), actor="admin")
        add_contact(session, REG, label="Kadis Kesehatan", opd="dinkes", site=None, url=secret,
                    actor="admin")
        pkm = next(p for p in REG.puskesmas if p.id == "pkm-waihoka")
        instruct(session, late_alert(pkm), "dinkes", "Segera buka pintu", "walikota", CITY_OPDS,
                 problem=f"{pkm.name} belum buka", place=pkm.name, registry=REG,
                 settings=settings, deadline_min=1)
        worker = NotifierWorker(fast(settings, notify_failing_after=2))
        wait_for(lambda: len(smtp.counts) == 1, 30, step=worker.run_once)
    from ambon_core.followup import escalate_due
    from ambon_core.models import Instruction as Row

    row = session.scalars(select(Row)).one()
    escalate_due(session, REG, settings, now=row.deadline_at.replace(microsecond=0) +
                 (row.deadline_at - row.created_at))
    for _ in range(3):
        worker.run_once()  # the Kadis' server is down: failing, retried
    for size in SIZES:
        page = _open(browser, f"{server17}/puskesmas", size)
        expect(page.get_by_text("Kadis Kesehatan · webhook · kepala OPD", exact=False)).to_be_visible(
            timeout=60_000)
        body = page.inner_text("body")
        assert "Kepala Puskesmas Waihoka · email · lokasi: terkirim" in body
        assert "dieskalasi ke kepala OPD" in body and "rahasia" not in body
        assert "Kadis Kesehatan · webhook · kepala OPD: belum berhasil" in body
        _no_exception(page)
        page.get_by_text("Kadis Kesehatan · webhook", exact=False).scroll_into_view_if_needed()
        _shot(page, f"puskesmas_followup_{size[0]}x{size[1]}")
        page.close()
    admin = browser.new_page(viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
    admin.goto(server17)
    from tests.login import browser_login

    browser_login(admin, "admin")  # on the overview: Admin itself has password fields
    admin.goto(f"{server17}/admin")
    _settled(admin)
    admin.get_by_role("tab", name="Kontak").click()
    # the grid draws on a canvas; its accessible cells carry the text
    expect(admin.locator("td[role='gridcell']", has_text="Kadis Kesehatan")).to_have_count(
        1, timeout=30_000)
    expect(admin.locator("td[role='gridcell']", has_text="webhook")).to_have_count(1)
    _no_exception(admin)
    _shot(admin, "admin_contacts_1180x820")
    admin.close()


def test_department_completes_with_a_photo_and_a_fake_one_is_refused(server17, browser, settings,
                                                                     store, session) -> None:
    """The OPD head uploads a 'photo' that is a renamed text file (refused in words, audited,
    nothing saved), then a real one: done, still 'belum terverifikasi' while the alert is on,
    the photo shown with the instruction."""
    import io

    from PIL import Image
    from playwright.sync_api import expect

    from ambon_core.actions import instruct
    from ambon_core.models import AuditLog
    from tests.login import browser_login
    from tests.test_notify import CITY_OPDS, late_alert

    seed(store)
    make_user(session, "kadis.dinkes", "opd", "dinkes")
    pkm = next(p for p in REG.puskesmas if p.id == "pkm-waihoka")
    iid = instruct(session, late_alert(pkm), "dinkes", "Segera buka pintu", "walikota", CITY_OPDS,
                   problem=f"{pkm.name} belum buka", place=pkm.name, registry=REG, settings=settings)
    page = browser.new_page(viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
    page.goto(server17)
    _settled(page)
    browser_login(page, "kadis.dinkes")
    page.goto(f"{server17}/puskesmas")
    _settled(page)

    def submit(name: str, payload: bytes, mime: str) -> None:
        page.get_by_role("button", name=re.compile("^.*Selesai$")).first.click()
        pop = page.locator("[data-testid='stPopoverBody']")
        pop.get_by_label("Catatan penyelesaian").fill("Pintu sudah dibuka 08.20")
        pop.locator("input[type='file']").set_input_files(
            files=[{"name": name, "mimeType": mime, "buffer": payload}])
        expect(pop.get_by_text(name)).to_be_visible(timeout=30_000)
        pop.get_by_role("button", name=re.compile("Selesai")).last.click()
        _settled(page)

    submit("bukti.png", b"ini bukan gambar, hanya teks " * 20, "image/png")
    expect(page.get_by_text("bukan gambar yang dapat dibaca", exact=False)).to_be_visible(timeout=30_000)
    session.expire_all()
    assert session.get(Instruction, iid).status == "open"
    page.keyboard.press("Escape")
    photo = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 160, 90)).save(photo, "JPEG")
    submit("pintu.jpg", photo.getvalue(), "image/jpeg")
    expect(page.get_by_text("selesai, belum terverifikasi").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"Foto penyelesaian #{iid}")).to_be_visible(timeout=30_000)
    assert "Catatan penyelesaian: Pintu sudah dibuka 08.20" in page.inner_text("body")
    _no_exception(page)
    _shot(page, "puskesmas_done_photo_1180x820")
    session.expire_all()
    row = session.get(Instruction, iid)
    assert row.status == "done" and row.done_photo[:2] == b"\xff\xd8"
    refused = session.scalars(select(AuditLog).where(
        AuditLog.action == "instruction.photo_refused")).one()
    assert refused.actor == "kadis.dinkes" and "bukan gambar" in refused.detail["reason"]
    page.close()
