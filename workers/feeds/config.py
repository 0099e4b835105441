"""The feed list (``data/feeds.yaml``): validated on load, errors name file, line and field.

Each entry is validated by the model of its ``format`` (``workers/feeds/formats.py``):
common options in :class:`~workers.feeds.feed.FeedBase`, the format's own beside them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from ambon_core.registry import _format_loc, _node_line
from ambon_core.settings import get_settings
from workers.feeds.formats import FeedConfig, format_names, make_feed

__all__ = ["FeedConfig", "FeedConfigError", "FeedList", "load_feeds", "make_feed", "parse_feeds"]


class FeedConfigError(ValueError):
    """The feed list is unusable; the message names file, line and field."""


class FeedList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    feeds: list[FeedConfig]

    @model_validator(mode="after")
    def _unique(self) -> FeedList:
        names = [f.name for f in self.feeds]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate feed names: {', '.join(dupes)}")
        return self


def _message(error: dict[str, Any]) -> str:
    formats = ", ".join(format_names())
    if error["type"] == "union_tag_invalid":
        return f"unknown format {error['ctx'].get('tag')!r}; one of: {formats}"
    if error["type"] == "union_tag_not_found":
        return f"format is missing; one of: {formats}"
    if error["type"] == "extra_forbidden" and len(error["loc"]) > 2:
        return f"not an option of format {error['loc'][2]} (see docs/feeds.md)"
    return error["msg"]


def _loc(error: dict[str, Any]) -> tuple:
    """Drop the union tag pydantic puts in the location ('feeds', 0, 'cap', 'url')."""
    loc = tuple(error["loc"])
    if len(loc) > 2 and loc[0] == "feeds" and isinstance(loc[2], str) and loc[2] in format_names():
        loc = loc[:2] + loc[3:]
    return loc


def parse_feeds(text: str, source: str = "feeds.yaml",
                overrides: dict[str, Any] | None = None) -> list[Any]:
    """Validate feed YAML; ``overrides`` (e.g. shorter timeouts in tests) apply to every feed."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FeedConfigError(f"{source}: not valid YAML: {exc}") from None
    if isinstance(data, dict) and overrides:
        data["feeds"] = [{**f, **overrides} if isinstance(f, dict) else f for f in data.get("feeds") or []]
    try:
        return list(FeedList.model_validate(data).feeds)
    except ValidationError as exc:
        lines = [f"{source}:{_node_line(root, _loc(e))}: {_format_loc(_loc(e))}: {_message(e)}"
                 for e in exc.errors()[:10]] if root is not None else [f"{source}: {exc}"]
        raise FeedConfigError("\n".join(lines)) from None


def load_feeds(path: Path | None = None, overrides: dict[str, Any] | None = None) -> list[Any]:
    """Load the feed list (``path``, else the ``FEEDS_PATH`` setting, else data/feeds.yaml)."""
    path = Path(path or get_settings().feeds_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FeedConfigError(f"{path}: cannot read the feed list ({exc.strerror})") from None
    return parse_feeds(text, str(path), overrides)
