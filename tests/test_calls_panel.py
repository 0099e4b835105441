"""The 112 panel on Insiden, its tile on Ringkasan, its chart, and the wall's counts only."""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from ambon_core.call_figures import CallRules, call_figures
from ambon_core.calls import CallBook
from ambon_core.domain import utcnow
from ambon_core.settings import ROOT
from ambon_core.store import Store
from components.calls_panel import build_calls_hourly_figure
from components.nav import PAGES
from tests.login import login
from tests.test_calls_engine import WIT, QueueEvent
from tests.test_privacy import rendered

APP = str(ROOT / "app.py")
LABELS = {"answered": "A", "abandoned": "U", "agents": "G", "hour": "H", "calls": "C"}


def _figures(now=None):
    now = now or utcnow()
    book = CallBook(hash_key=b"t")
    events = [("NONE", "ADDMEMBER", "PJSIP/7001", -3000, {}),
              ("c1", "ENTERQUEUE", "NONE", -2000, {"caller": "081234567890"}),
              ("c1", "CONNECT", "PJSIP/7001", -1990, {"hold_s": 10}),
              ("c2", "ENTERQUEUE", "NONE", -1900, {"caller": "0911345678"}),
              ("c2", "ABANDON", "NONE", -1850, {"wait_s": 50}),
              ("c3", "ENTERQUEUE", "NONE", -35, {"caller": "085200001111"})]
    for call, event, agent, s, kw in events:
        book.apply(QueueEvent(at=now + timedelta(seconds=s), call_id=call, queue="112",
                              agent=agent, event=event, **kw))
    return call_figures(book, now, CallRules(tz=WIT))


def test_the_hourly_chart_stacks_answered_and_unanswered_with_agents():
    fig = build_calls_hourly_figure(_figures(), LABELS)
    assert isinstance(fig, go.Figure)
    bars = {t.name: sum(t.y) for t in fig.data if t.type == "bar"}
    assert bars == {"A": 1, "U": 1}
    (line,) = [t for t in fig.data if t.type == "scatter"]
    assert max(y for y in line.y if y is not None) == 1 and len(line.x) == 24
    assert fig.layout.barmode == "stack"


@pytest.fixture
def app(store: Store, session):
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    at = login(AppTest.from_file(APP, default_timeout=60), session, "walikota")
    st.cache_data.clear()
    return at


def test_the_insiden_panel_shows_the_centre_with_masked_numbers(app: AppTest, store: Store):
    store.put_call_figures(_figures())
    app.switch_page(PAGES["insiden"][0]).run()
    assert not app.exception, app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Menunggu"] == "1" and metrics["Panggilan"] == "3"
    assert metrics["Tak terjawab"] == "1"
    text = rendered(app)
    assert "0911-xxxxxx" in text  # the call-back list, masked
    for number in ("081234567890", "0911345678", "085200001111"):
        assert number not in text


def test_the_overview_tile_counts_unanswered_calls_today(app: AppTest, store: Store):
    store.put_call_figures(_figures())
    app.run()
    assert not app.exception, app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Panggilan 112 tak terjawab hari ini"] == "1"


def test_the_wall_shows_counts_only(store: Store):
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    store.put_call_figures(_figures())
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"kiosk": "1", "pages": "insiden", "every": "600"})
    at.run()
    at.switch_page(PAGES["insiden"][0]).run()
    assert not at.exception, at.exception
    text = rendered(at)
    # neither the masked call-back list nor any caller's number (a bare "0911" also
    # occurs in the offline map's coordinates, so the numbers are checked whole)
    assert "0911-xxxxxx" not in text
    for number in ("081234567890", "0911345678", "085200001111"):
        assert number not in text
    assert {m.label: m.value for m in at.metric}.get("Tak terjawab") == "1"
