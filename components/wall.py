"""Lists on the city-hall wall (``?kiosk=1``): nobody scrolls or taps there, so a long
list shows one page at a time and turns to the next by itself with the live refresh."""

from __future__ import annotations

import time
from typing import Any

from components.i18n import translate

PAGE_S = 10  # each page of a long list stays this long on the wall
TABLE_ROWS = 8  # rows of a table page that fit under a page's tiles at 1920x1080
ROW_PX = 44  # the wall's table row height (header row included), readable from afar


def page_of(n_items: int, per_page: int, now: float | None = None) -> tuple[int, int]:
    """(page index, page count) of a list of ``n_items`` at wall-clock ``now``."""
    pages = max(1, -(-n_items // per_page))
    now = time.time() if now is None else now
    return int(now // PAGE_S) % pages, pages


def wall_slice(items: Any, per_page: int, language: str,
               now: float | None = None) -> tuple[Any, str | None]:
    """The part of ``items`` (a list or a DataFrame) on the wall now, and the line that
    says which part it is (None when everything fits)."""
    index, pages = page_of(len(items), per_page, now)
    if pages == 1:
        return items, None
    first = index * per_page
    rows = items.iloc[first:first + per_page] if hasattr(items, "iloc") else items[first:first + per_page]
    return rows, translate("wall.page", language, page=index + 1, pages=pages, first=first + 1,
                           last=first + len(rows), total=len(items))


def table_height(rows: int) -> int:
    """Pixels for a table that shows ``rows`` rows without a scroll bar."""
    return (rows + 1) * ROW_PX + 3
