"""Tables for people: translated headers and values, ages as text, stale rows marked."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import wall
from components.fmt import age_text, is_stale
from components.ui import lang, on_wall, t


def show_table(df: pd.DataFrame, columns: dict[str, str], *, key: str,
               period_s: float | None = None, height: int | str = "auto") -> None:
    """Render ``columns`` (source column -> translation key) of ``df``.

    Values are shown as text by ``st.dataframe`` (never as HTML). With ``period_s`` an
    age column is added, marked when older than three periods.
    """
    if df.empty:
        st.info(t("no_data"))
        return
    view = df[list(columns)].copy()
    if period_s is not None and "age_s" in df:
        view[t("col.age")] = df["age_s"].map(
            lambda a: ("⚠ " + t("stale") + " · " if is_stale(a, period_s) else "")
            + age_text(None if pd.isna(a) else a, lang()))
    for column in view.columns:
        if pd.api.types.is_float_dtype(view[column]):
            values = view[column].dropna()
            # counts with a gap arrive as floats (NaN): show 3, not 3.0
            whole = not values.empty and bool((values == values.round()).all())
            view[column] = view[column].astype("Int64") if whole else view[column].round(1)
    missing = view.isna()
    view = view.astype(object).where(~missing, "–")  # no 'None' in front of the mayor
    for column in view.columns[missing.any().to_numpy()]:
        view[column] = view[column].map(str)  # one type per column (Arrow refuses 20 and "–")
    view = view.rename(columns={c: t(k) for c, k in columns.items()})
    row_height = None
    if on_wall():  # no one scrolls the wall: whole pages of rows, turning by themselves
        view, note = wall.wall_slice(view, wall.TABLE_ROWS, lang())
        height, row_height = wall.table_height(len(view)), wall.ROW_PX
        if note:
            st.caption(note)
    st.dataframe(view, hide_index=True, width="stretch", key=key, height=height,
                 row_height=row_height)
