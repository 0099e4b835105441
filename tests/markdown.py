"""Render Markdown as the browser does (CommonMark + GFM autolinks, markdown-it-py), to
check that data shown by the app stays text: no link, image, HTML or formatting."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

_MD = MarkdownIt("gfm-like")
ACTIVE = re.compile(r"<(a|img|script|strong|em|h\d|ol|ul|li|table|code|del)\b", re.IGNORECASE)


def html(source: str) -> str:
    return _MD.render(source)


def active_markup(source: str) -> list[str]:
    """The HTML elements (links, images, emphasis…) that ``source`` turns into."""
    return ACTIVE.findall(html(source))


def text(source: str) -> str:
    """What a reader sees of ``source`` (tags dropped, entities decoded)."""
    import html as h

    return h.unescape(re.sub(r"<[^>]+>", "", html(source))).strip()
