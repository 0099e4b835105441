"""112 response times as pure functions of incident rows (no I/O except ``incident_rows``).

A *row* is a mapping with the ``IncidentRecord`` columns the functions need:
``incident_id, category, agencies (list[str]), reported_at, dispatched_at, on_scene_at,
resolved_at, closed_at`` (aware datetimes or None). A pandas DataFrame of such rows is
accepted too (``df.to_dict("records")`` is taken). NaT/NaN count as missing.

Metrics, in seconds:

- ``call_to_dispatch``  reported_at -> dispatched_at
- ``dispatch_to_scene`` dispatched_at -> on_scene_at
- ``call_to_resolved``  reported_at -> resolved_at (closed_at when resolved_at is missing)

Usage from the dashboard::

    rows = incident_rows(session, start, end)          # list[dict]
    per_incident = response_times(rows)                # list[dict]: incident_id + metrics
    by_agency = summarize(rows, by="agency")           # {"bpbd": {"call_to_dispatch": {...}}}
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "call_to_dispatch": ("reported_at", ("dispatched_at",)),
    "dispatch_to_scene": ("dispatched_at", ("on_scene_at",)),
    "call_to_resolved": ("reported_at", ("resolved_at", "closed_at")),
}


def _rows(rows: Any) -> list[Mapping[str, Any]]:
    if hasattr(rows, "to_dict"):
        return list(rows.to_dict("records"))
    return list(rows)


def _time(value: Any) -> datetime | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp (NaT is falsy through isnull)
        if str(value) == "NaT":
            return None
        value = value.to_pydatetime()
    return value if isinstance(value, datetime) else None


def _span(row: Mapping[str, Any], start: str, ends: tuple[str, ...]) -> float | None:
    begin = _time(row.get(start))
    end = next((t for t in (_time(row.get(e)) for e in ends) if t is not None), None)
    if begin is None or end is None or end < begin:
        return None  # missing step, or clocks that disagree: no number rather than a wrong one
    return (end - begin).total_seconds()


def incident_response_times(row: Mapping[str, Any]) -> dict[str, float | None]:
    """The three metrics of one incident row (None where a step is missing)."""
    return {name: _span(row, start, ends) for name, (start, ends) in METRICS.items()}


def response_times(rows: Iterable[Mapping[str, Any]] | Any) -> list[dict[str, Any]]:
    """Per incident: ``incident_id, category, agencies`` and the three metrics."""
    return [{"incident_id": r.get("incident_id"), "category": r.get("category"),
             "agencies": list(r.get("agencies") or []), **incident_response_times(r)}
            for r in _rows(rows)]


def _stats(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "median_s": None, "p90_s": None, "mean_s": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]
    return {"n": len(values), "median_s": statistics.median(ordered), "p90_s": p90,
            "mean_s": statistics.fmean(ordered)}


def summarize(rows: Iterable[Mapping[str, Any]] | Any,
              by: Literal["agency", "category", "all"] = "all") -> dict[str, dict[str, dict]]:
    """Count, median, 90th percentile and mean of each metric per agency, category or overall.

    An incident handled by several agencies counts for each of them.
    """
    groups: dict[str, dict[str, list[float]]] = {}
    for item in response_times(rows):
        keys = (item["agencies"] or ["(tanpa instansi)"]) if by == "agency" else (
            [item["category"]] if by == "category" else ["all"])
        for key in keys:
            bucket = groups.setdefault(key, {m: [] for m in METRICS})
            for metric in METRICS:
                if item[metric] is not None:
                    bucket[metric].append(item[metric])
    return {key: {m: _stats(v) for m, v in metrics.items()} for key, metrics in sorted(groups.items())}


def incident_rows(session: Any, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Incidents reported in [start, end) as plain dicts, ready for the functions above."""
    from sqlalchemy import select

    from ambon_core.models import IncidentRecord

    cols = ["incident_id", "source", "category", "severity", "status", "agencies", "kecamatan",
            "reported_at", "verified_at", "dispatched_at", "on_scene_at", "resolved_at", "closed_at"]
    query = select(IncidentRecord).where(IncidentRecord.reported_at >= start,
                                         IncidentRecord.reported_at < end)
    return [{c: getattr(r, c) for c in cols} for r in session.scalars(query)]
