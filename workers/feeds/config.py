"""The feed list (``data/feeds.yaml``): validated on load, errors name file, line and field."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ambon_core.registry import _format_loc, _node_line
from ambon_core.settings import DATA_DIR

FEEDS_PATH = DATA_DIR / "feeds.yaml"
Format = Literal[
    "open311-json", "open311-xml", "bmkg-json", "bmkg-xml", "cap", "fhir-location",
    "fhir-service", "attendance-json", "attendance-csv", "dlh-trips", "generic-json", "generic-csv",
    "kehadiran-json", "kehadiran-csv",
]


class FeedConfigError(ValueError):
    """The feed list is unusable; the message names file, line and field."""


class FeedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Feed name (FeedStatus key)")
    url: str = Field(pattern=r"^(https?|file)://", description="http(s):// or file:// source")
    format: Format
    interval_s: float = Field(60.0, ge=1, description="Seconds between polls when healthy")
    timeout_s: float = Field(10.0, gt=0, description="Connect/read timeout of one request")
    retries: int = Field(3, ge=1, le=10, description="Attempts per poll (exponential backoff)")
    max_bytes: int = Field(10 * 1024 * 1024, gt=0, description="Body size cap")
    enabled: bool = True
    mapping: dict[str, str] = Field(default_factory=dict,
                                    description="generic-*: Open311 field -> source path")
    records_path: str = Field("", description="generic-json: dotted path of the record list")
    source: str | None = Field(None, description="Incident id prefix (default: the feed name)")

    @model_validator(mode="after")
    def _generic_needs_mapping(self) -> FeedConfig:
        if self.format.startswith("generic") and "service_request_id" not in self.mapping:
            raise ValueError("a generic feed needs mapping.service_request_id (and the other fields)")
        return self


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


def parse_feeds(text: str, source: str = "feeds.yaml",
                overrides: dict[str, Any] | None = None) -> list[FeedConfig]:
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
        lines = [f"{source}:{_node_line(root, tuple(e['loc']))}: {_format_loc(tuple(e['loc']))}: {e['msg']}"
                 for e in exc.errors()[:10]] if root is not None else [f"{source}: {exc}"]
        raise FeedConfigError("\n".join(lines)) from None


def load_feeds(path: Path | None = None, overrides: dict[str, Any] | None = None) -> list[FeedConfig]:
    """Load the feed list (``path``, else the ``FEEDS_PATH`` environment variable, else
    data/feeds.yaml)."""
    path = Path(path or os.environ.get("FEEDS_PATH") or FEEDS_PATH)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FeedConfigError(f"{path}: cannot read the feed list ({exc.strerror})") from None
    return parse_feeds(text, str(path), overrides)
