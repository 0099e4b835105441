"""The status report: what the workers last published, with ages (CLI and tests)."""

from __future__ import annotations

from typing import Any

from ambon_core.settings import Settings
from ambon_core.store import LiveState


def status_report(live: LiveState, settings: Settings) -> dict[str, Any]:
    """A JSON-ready view of the live state; every entry carries its age in seconds."""
    now = live.read_at

    def section(items: dict[str, Any]) -> dict[str, Any]:
        return {k: {**v.model_dump(mode="json"), "age_s": round(v.age_s(now), 1)}
                for k, v in sorted(items.items())}

    workers = {}
    for name, hb in sorted(live.heartbeats.items()):
        if hb is None:
            workers[name] = {"alive": False, "age_s": None}
        else:
            workers[name] = {**hb.model_dump(mode="json"), "alive": True,
                             "age_s": round(hb.age_s(now), 1)}
    return {
        "read_at": now.isoformat(),
        "timezone": settings.timezone,
        "workers": workers,
        "cameras": section(live.cameras),
        "puskesmas": section(live.puskesmas),
        "tps": section(live.tps),
        "incidents": section(live.incidents),
        "alerts": section(live.alerts),
        # per feed: records/rejected/unmapped of the last document, dead letters, degraded
        "feeds": {k: {**v, "degraded": live.feeds[k].degraded}
                  for k, v in section(live.feeds).items()},
        "attendance": section(live.attendance),
        "offices": section(live.offices),
        "office_attendance": section(live.office_attendance),
    }
