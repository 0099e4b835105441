"""Incident lifecycle: idempotent upserts to SQL, then the live view in Redis.

Rules:
- one row per ``incident_id``; the same document applied twice changes nothing;
- status never moves backwards: an older update cannot reopen or demote an incident,
  but it may fill step times (``dispatched_at`` ...) that are still missing;
- descriptive fields change only with a newer ``updated_at`` and never to empty values;
- every step reached gets an ``IncidentStatusChange`` row (once);
- SQL commits first; then open incidents are put in Redis and resolved/closed removed.

Response times (call -> dispatch, ...) are pure functions in ``ambon_core.response_times``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ambon_core.domain import Incident, IncidentStatus
from ambon_core.history import incident_from_record
from ambon_core.models import IncidentRecord, IncidentStatusChange
from ambon_core.spool import Recorder, history_op, record
from ambon_core.store import Store

STEP_COLUMN = {s: f"{s.value}_at" for s in IncidentStatus if s is not IncidentStatus.NEW}
_DESCRIPTIVE = ("category", "title", "description", "severity", "agencies", "lat", "lon",
                "kecamatan", "address")
_CHUNK = 500


@dataclass
class UpsertReport:
    created: list[str] = field(default_factory=list)
    advanced: list[str] = field(default_factory=list)
    ignored_backwards: list[str] = field(default_factory=list)
    unchanged: int = 0


def _new_row(inc: Incident, times: dict[IncidentStatus, datetime]) -> IncidentRecord:
    row = IncidentRecord(
        incident_id=inc.incident_id, source=inc.source, status=inc.status.value,
        reported_at=inc.reported_at, updated_at=inc.updated_at, changes=[],
        **{k: getattr(inc, k) for k in _DESCRIPTIVE})
    for step, column in STEP_COLUMN.items():
        setattr(row, column, times.get(step))
    row.changes.append(IncidentStatusChange(status=IncidentStatus.NEW.value, at=inc.reported_at))
    for step in IncidentStatus:
        if 0 < step.rank <= inc.status.rank and (step in times or step is inc.status):
            row.changes.append(IncidentStatusChange(status=step.value, at=times.get(step, inc.updated_at)))
    return row


def _merge(row: IncidentRecord, inc: Incident, times: dict[IncidentStatus, datetime],
           report: UpsertReport) -> None:
    changed = False
    for step, column in STEP_COLUMN.items():
        if step in times and getattr(row, column) is None:
            setattr(row, column, times[step])
            changed = True
    old = IncidentStatus(row.status)
    if inc.status.rank > old.rank:
        reached = {c.status for c in row.changes}
        for step in IncidentStatus:
            if old.rank < step.rank <= inc.status.rank and (step in times or step is inc.status) \
                    and step.value not in reached:
                row.changes.append(IncidentStatusChange(status=step.value,
                                                        at=times.get(step, inc.updated_at)))
        row.status = inc.status.value
        report.advanced.append(inc.incident_id)
        changed = True
    elif inc.status.rank < old.rank:
        report.ignored_backwards.append(inc.incident_id)
    if inc.updated_at > row.updated_at:
        for key in _DESCRIPTIVE:
            value = getattr(inc, key)
            if value not in (None, "", []) and value != getattr(row, key):
                setattr(row, key, value)
        row.updated_at = inc.updated_at
        changed = True
    if not changed:
        report.unchanged += 1


def upsert_incidents(session: Recorder, store: Store, incidents: list[Incident],
                     times: dict[str, dict[IncidentStatus, datetime]] | None = None) -> UpsertReport:
    """Apply a batch of incident updates (see the module rules); returns what happened.

    ``session`` may be a HistoryWriter: while SQL is away the batch is spooled and the
    live view is updated from the documents themselves (never moving a status backwards).
    """
    payload = {"incidents": [i.model_dump(mode="json") for i in incidents],
               "times": {k: {s.value: t.isoformat() for s, t in v.items()}
                         for k, v in (times or {}).items()}}
    outcome = record(session, "incidents", payload)  # the record first: Redis is rebuilt from it
    if outcome.written:
        report, live = outcome.result
    else:
        report, live = _live_only(store, incidents)
    open_now = [i for i in live if i.status.is_open]
    if open_now:
        store.put(*open_now)
    store.remove(Incident, *[i.incident_id for i in live if not i.status.is_open])
    for incident_id in report.created:
        store.event("incident_new", incident_id=incident_id)
    return report


@history_op("incidents")
def _incidents_op(session: Session, payload: dict) -> tuple[UpsertReport, list[Incident]]:
    incidents = [Incident.model_validate(i) for i in payload["incidents"]]
    times = {k: {IncidentStatus(s): datetime.fromisoformat(t) for s, t in v.items()}
             for k, v in payload["times"].items()}
    return apply_incidents(session, incidents, times)


def apply_incidents(session: Session, incidents: list[Incident],
                    times: dict[str, dict[IncidentStatus, datetime]]) -> tuple[UpsertReport,
                                                                                list[Incident]]:
    """The SQL part of an upsert (no commit): the report and the merged incidents."""
    report = UpsertReport()
    by_id = {i.incident_id: i for i in incidents}
    ids = list(by_id)
    existing: dict[str, IncidentRecord] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        existing.update({r.incident_id: r for r in session.scalars(
            select(IncidentRecord).where(IncidentRecord.incident_id.in_(chunk)))})
    touched: list[IncidentRecord] = []
    for incident_id, inc in by_id.items():
        steps = times.get(incident_id, {})
        row = existing.get(incident_id)
        if row is None:
            row = _new_row(inc, steps)
            session.add(row)
            report.created.append(incident_id)
        else:
            _merge(row, inc, steps, report)
        touched.append(row)
    session.flush()
    return report, [incident_from_record(r) for r in touched]


def _live_only(store: Store, incidents: list[Incident]) -> tuple[UpsertReport, list[Incident]]:
    """SQL is away: the live view from the documents, never moving a status backwards."""
    report, current = UpsertReport(), store.read_live().incidents
    live = []
    for inc in {i.incident_id: i for i in incidents}.values():
        known = current.get(inc.incident_id)
        if known is not None and known.status.rank > inc.status.rank:
            report.ignored_backwards.append(inc.incident_id)
            continue
        if known is None and inc.status.is_open:
            report.created.append(inc.incident_id)
        live.append(inc)
    return report, live
