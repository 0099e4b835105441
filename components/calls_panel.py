"""The 112 call-centre panel (Insiden), its overview tile (Ringkasan) and its hourly chart.

``build_calls_hourly_figure`` is pure (figures in, Figure out). The panel reads the
figures the calls worker keeps in Redis; numbers arrive already masked, and on the wall
(``privacy.public_view``) without the call-back list at all: counts only.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ambon_core.call_figures import CallFigures
from components.fmt import age_text, percent, wit_time
from components.tables import show_table
from components.ui import age_caption, kpi, lang, on_wall, t

ANSWERED_COLOUR, UNANSWERED_COLOUR, AGENTS_COLOUR = "#2ca02c", "#d62728", "#1f77b4"
# The calls worker publishes every second; the panel calls its figures late after three
# periods of this (9 s: a worker that stopped, not one turn slowed down by a busy machine).
CALLS_LATE_PERIOD_S = 3.0


def build_calls_hourly_figure(figures: CallFigures, labels: dict[str, str]) -> go.Figure:
    """Calls per hour of today, answered and unanswered stacked, with agents on duty as a line.

    ``labels``: answered, abandoned, agents, hour, calls (translated by the caller).
    """
    hours = [f"{h.hour:02d}" for h in figures.hourly]
    fig = go.Figure()
    fig.add_bar(x=hours, y=[h.answered for h in figures.hourly], name=labels["answered"],
                marker_color=ANSWERED_COLOUR)
    fig.add_bar(x=hours, y=[h.abandoned for h in figures.hourly], name=labels["abandoned"],
                marker_color=UNANSWERED_COLOUR)
    fig.add_scatter(x=hours, y=[h.agents for h in figures.hourly], name=labels["agents"],
                    mode="lines+markers", yaxis="y2", line={"color": AGENTS_COLOUR, "shape": "hv"})
    fig.update_layout(barmode="stack", height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "y": -0.25},
                      xaxis={"title": labels["hour"], "type": "category"},
                      yaxis={"title": labels["calls"], "rangemode": "tozero", "tickformat": "d"},
                      yaxis2={"title": labels["agents"], "overlaying": "y", "side": "right",
                              "rangemode": "tozero", "showgrid": False, "dtick": 1,
                              "range": [0, max([h.agents or 0 for h in figures.hourly] + [1]) + 1]})
    return fig


def _seconds(value: float | None) -> str:
    return "-" if value is None or value != value else age_text(value, lang())  # None or NaN


def render_calls_tile(figures: CallFigures | None) -> None:
    """Ringkasan: 'Panggilan 112 tak terjawab hari ini', with who waits and who is owed a call."""
    caption = t("calls.none") if figures is None else t(
        "calls.tile_caption", calls=figures.calls_today, waiting=figures.waiting_now,
        late=figures.callbacks_late)
    kpi(t("calls.tile"), "-" if figures is None else figures.abandoned_today, caption)


def _kpis(figures: CallFigures) -> None:
    cols = st.columns(5)
    with cols[0]:
        kpi(t("calls.waiting"), figures.waiting_now,
            t("calls.longest", age=_seconds(figures.longest_wait_now_s))
            if figures.waiting_now else None)
    with cols[1]:
        kpi(t("calls.today"), figures.calls_today,
            t("calls.today_caption", share=percent(figures.answered_share, lang())))
    with cols[2]:
        kpi(t("calls.abandoned"), figures.abandoned_today,
            t("calls.abandoned_after", age=_seconds(figures.abandon_wait_median_s))
            if figures.abandoned_today else None)
    with cols[3]:
        kpi(t("calls.answer_time"), _seconds(figures.answer_median_s),
            t("calls.answer_caption", p90=_seconds(figures.answer_p90_s)))
    with cols[4]:
        kpi(t("calls.agents"), figures.agents_now,
            t("calls.paused", n=figures.agents_paused_now) if figures.agents_paused_now
            else t("calls.agents_caption"))


def _callbacks(figures: CallFigures, key: str) -> None:
    st.caption(t("calls.callbacks", n=figures.callbacks_late))
    if not figures.callback_list:
        st.success(t("calls.callbacks_none"), icon=":material/call:")
        return
    rows = pd.DataFrame([{"number": c.masked, "left": wit_time(c.left_at),
                          "waited": _seconds(c.waited_s)} for c in figures.callback_list],
                        columns=["number", "left", "waited"])
    show_table(rows, {"number": "calls.col.number", "left": "calls.col.left",
                      "waited": "calls.col.waited"}, key=f"{key}_callbacks", height=180)


def _shifts(figures: CallFigures, key: str) -> None:
    rows = pd.DataFrame([s.model_dump() for s in figures.shifts])
    if not rows.empty:
        rows["answer_median_s"] = rows["answer_median_s"].map(_seconds)
    show_table(rows, {"shift": "calls.col.shift", "calls": "calls.col.calls",
                      "answered": "calls.col.answered", "abandoned": "calls.col.abandoned",
                      "answer_median_s": "calls.col.answer_median"}, key=f"{key}_shifts")


def render_calls_panel(figures: CallFigures | None, *, key: str) -> None:
    """Insiden: the 112 centre now and today; on the wall counts only."""
    st.subheader(t("calls.title"))
    if figures is None:
        st.info(t("calls.none"), icon=":material/call:")
        return
    age_caption(figures.updated_at, CALLS_LATE_PERIOD_S)
    _kpis(figures)
    labels = {name: t(f"calls.chart.{name}")
              for name in ("answered", "abandoned", "agents", "hour", "calls")}
    left, right = st.columns([3, 2])
    with left:
        st.caption(t("calls.chart_title"))
        st.plotly_chart(build_calls_hourly_figure(figures, labels), key=f"{key}_hourly",
                        config={"displayModeBar": False})
    with right:
        if not on_wall():
            _callbacks(figures, key)
        else:
            kpi(t("calls.callbacks_label"), figures.callbacks_late)
    _shifts(figures, key)
    if figures.clock_jumps:
        st.caption(t("calls.clock_jumps", n=figures.clock_jumps))
