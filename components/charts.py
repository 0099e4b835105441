"""Plotly figures. ``build_*`` are pure: a DataFrame in, a Figure out."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go


def build_fill_bars(df: pd.DataFrame, fill_label: str, threshold_label: str) -> go.Figure:
    """Fill level per TPS as horizontal bars, with each TPS's threshold as a marker."""
    fig = go.Figure()
    colours = ["#d62728" if f >= th else "#2ca02c" for f, th in zip(df["fill"], df["threshold"],
                                                                       strict=True)]
    fig.add_bar(x=df["fill"] * 100, y=df["name"], orientation="h", marker_color=colours,
                name=fill_label)
    fig.add_scatter(x=df["threshold"] * 100, y=df["name"], mode="markers", name=threshold_label,
                    marker={"symbol": "line-ns-open", "size": 18, "color": "#333"})
    fig.update_layout(height=max(240, 28 * len(df)), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis={"range": [0, 100], "ticksuffix": "%"}, showlegend=False)
    return fig


def build_timeline(df: pd.DataFrame, x: str, y: str, colour: str, labels: dict[str, str],
                   percent: bool = False) -> go.Figure:
    """A line chart over time, one line per ``colour`` value; ``labels`` name the columns,
    ``percent`` shows y (a 0-1 fraction) in per cent."""
    fig = px.line(df, x=x, y=y, color=colour, labels=labels)
    fig.update_xaxes(tickformat="%H:%M<br>%d/%m")
    if percent:
        fig.update_yaxes(tickformat=".0%")
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def build_counts_per_hour(df: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Stacked bars of vehicles crossing per hour per class (columns hour, class, count);
    ``labels`` name the columns."""
    fig = px.bar(df, x="hour", y="count", color="class", labels=labels)
    fig.update_xaxes(tickformat="%H:%M<br>%d/%m")
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig
