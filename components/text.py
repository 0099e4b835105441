"""The one way data reaches Markdown: ``plain`` makes any value show as its own text.

Streamlit renders Markdown in ``st.markdown/info/warning/error/caption/subheader``,
toasts and widget labels: a link ``[x](http://evil)``, an image ``![x](http://beacon)``,
a colour directive ``:red[…]``, LaTeX ``$…$`` or an emoji shortcode. Anything from a URL
parameter, a feed, the registry, a display name or an SSO claim goes through ``plain``
before it is put into such a string (the translation table's own text is ours).
"""

from __future__ import annotations

_MARKDOWN = "\\`*_{}[]<>()#+-!|~:$=&.@"


def plain(value: object) -> str:
    """``value`` as text that Markdown shows literally: every special character is
    backslash-escaped, and line breaks become spaces (no headings, lists or tables)."""
    text = " ".join(str(value).split())
    return "".join("\\" + ch if ch in _MARKDOWN else ch for ch in text)
