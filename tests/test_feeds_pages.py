"""The feed bits on the pages (AppTest, real Redis): the incident description for staff who
may see the incident and never on the wall, the feed health panel, closure reasons and the
source of the opening hours on the Puskesmas page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from ambon_core.domain import FeedStatus, Incident, PuskesmasState, PuskesmasStatus
from ambon_core.settings import ROOT
from ambon_core.store import Store
from components.nav import PAGES
from tests.login import login
from tests.test_privacy import rendered

APP = str(ROOT / "app.py")
DESCRIPTION = "Pohon tumbang **menutup** jalan <b>depan</b> SD Inpres 12"


@pytest.fixture
def seeded(store: Store) -> Iterator[Store]:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    store.put(Incident(incident_id="open311-77", category="pohon_tumbang", severity=2,
                       title="Pohon tumbang", description=DESCRIPTION, lat=-3.69, lon=128.18),
              FeedStatus(feed="open311", records=12, rejected=1, dead_letters=4,
                         unmapped={"service_code TREE / -": 3}, last_error=None),
              PuskesmasState(puskesmas_id="pkm-waihoka", status=PuskesmasStatus.TUTUP,
                             closed_reason="Renovasi gedung", hours_source="fhir",
                             scheduled_open="07:30", scheduled_close="14:00"))
    yield store


def insiden(at: AppTest, focus: str | None = None) -> AppTest:
    if focus:
        at.query_params["focus"] = focus
    at.switch_page(PAGES["insiden"][0]).run()
    assert not at.exception, at.exception
    return at


def test_description_is_plain_text_in_the_incident_detail(seeded: Store, session) -> None:
    at = insiden(login(AppTest.from_file(APP, default_timeout=60), session, "walikota"),
                 "open311-77")
    assert DESCRIPTION in [t.value for t in at.text]  # st.text: never Markdown, never HTML
    assert DESCRIPTION not in "".join(m.value for m in at.markdown)


def test_description_not_for_a_department_that_may_not_see_the_incident(seeded: Store,
                                                                         session) -> None:
    at = insiden(login(AppTest.from_file(APP, default_timeout=60), session, "opd", "dinkes"),
                 "open311-77")
    assert DESCRIPTION not in rendered(at)


def test_description_never_on_the_wall(seeded: Store) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"kiosk": "1", "pages": "insiden", "every": "600", "focus": "open311-77"})
    at.run()
    at.switch_page(PAGES["insiden"][0]).run()
    assert not at.exception
    assert "menutup" not in rendered(at) and "SD Inpres" not in rendered(at)


def test_feed_health_panel_shows_dead_letters_and_unmapped_codes(seeded: Store, session) -> None:
    at = insiden(login(AppTest.from_file(APP, default_timeout=60), session, "walikota"))
    feeds = next(df.value for df in at.dataframe if "Sumber data" in df.value.columns)
    row = feeds[feeds["Sumber data"] == "open311"].iloc[0]
    # counts reach the table as Indonesian-formatted text (one type per column)
    assert (row["Catatan"], row["Ditolak"], row["Total ditolak"]) == ("12", "1", "4")
    assert row["Kode tak dikenal"] == "service_code TREE / - ×3"


def test_puskesmas_page_shows_closure_reason_and_hours_source(seeded: Store, session) -> None:
    at = login(AppTest.from_file(APP, default_timeout=60), session, "walikota")
    at.switch_page(PAGES["puskesmas"][0]).run()
    assert not at.exception, at.exception
    table = next(df.value for df in at.dataframe if "Sumber jam" in df.value.columns)
    row = table[table["Nama"] == "Puskesmas Waihoka"].iloc[0]
    assert row["Status"] == "Tutup — renovasi gedung" and row["Sumber jam"] == "FHIR (SATUSEHAT)"
    assert "Belum buka" not in row["Status"]
