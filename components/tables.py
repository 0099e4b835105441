"""Tables for people: translated headers and values, ages as text, stale rows marked.

Every cell is text, formatted here: numbers in the reader's language (Babel, via
``fmt.number``), whole numbers without decimals, '–' for a missing value. One type per
column is what Arrow (``st.dataframe``) needs: a column holding '–' and floats fails
with ``ArrowTypeError`` depending on which row comes first.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import wall
from components.fmt import age_text, is_stale, number
from components.ui import lang, on_wall, t

MISSING = "–"


def cell_texts(values: pd.Series, language: str) -> pd.Series:
    """One column as text: numbers formatted (1 decimal unless all are whole), '–' for none."""
    present = values.dropna()
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric:
        whole = bool((present == present.round()).all()) if not present.empty else True
        return values.map(lambda v: MISSING if pd.isna(v) else number(v, 0 if whole else 1,
                                                                       language))
    return values.map(lambda v: MISSING if v is None or (not isinstance(v, str) and pd.isna(v))
                      else str(v))


def table_view(df: pd.DataFrame, columns: dict[str, str], language: str,
               period_s: float | None = None) -> pd.DataFrame:
    """The text table ``show_table`` draws (pure: testable without Streamlit)."""
    view = pd.DataFrame({c: cell_texts(df[c], language) for c in columns}, index=df.index)
    if period_s is not None and "age_s" in df:
        view[t("col.age")] = df["age_s"].map(
            lambda a: ("⚠ " + t("stale") + " · " if is_stale(a, period_s) else "")
            + age_text(None if pd.isna(a) else a, language))
    return view.rename(columns={c: t(k) for c, k in columns.items()})


def show_table(df: pd.DataFrame, columns: dict[str, str], *, key: str,
               period_s: float | None = None, height: int | str = "auto") -> None:
    """Render ``columns`` (source column -> translation key) of ``df`` as text (never as
    HTML). With ``period_s`` an age column is added, marked when older than three periods."""
    if df.empty:
        st.info(t("no_data"))
        return
    view = table_view(df, columns, lang(), period_s)
    row_height = None
    if on_wall():  # no one scrolls the wall: whole pages of rows, turning by themselves
        view, note = wall.wall_slice(view, wall.TABLE_ROWS, lang())
        height, row_height = wall.table_height(len(view)), wall.ROW_PX
        if note:
            st.caption(note)
    st.dataframe(view, hide_index=True, width="stretch", key=key, height=height,
                 row_height=row_height)
