"""Alert lifecycle shared by every worker: raise what is new, clear what went away.

An alert lives in Redis while active (``P:state:alert``) and in SQL for the record
(raised_at, cleared_at). Each worker owns a set of alert kinds and hands over the
complete set it wants active now; this module does the difference.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

import ambon_core.history  # noqa: F401  (registers the "alerts" history operation)
from ambon_core.domain import Alert, AlertKind, utcnow
from ambon_core.spool import Recorder, record
from ambon_core.store import Store


def sync_alerts(store: Store, session: Recorder, kinds: Iterable[AlertKind],
                wanted: Iterable[Alert]) -> tuple[list[str], list[str]]:
    """Make the active alerts of ``kinds`` equal ``wanted``; returns (raised, cleared) ids.

    An alert that stays active keeps its original ``raised_at`` and gets fresh params.
    ``session`` is a Session (committed here) or a HistoryWriter (spools while SQL is away).
    """
    kinds = set(kinds)
    wanted_by_id = {a.alert_id: a for a in wanted}
    current = {k: a for k, a in store.read_live().alerts.items() if a.kind in kinds}
    raised = [i for i in wanted_by_id if i not in current]
    cleared = [i for i in current if i not in wanted_by_id]
    now = utcnow()
    for alert_id, alert in wanted_by_id.items():
        if alert_id in current:
            alert.raised_at = current[alert_id].raised_at
        alert.updated_at = now
    if raised or cleared:  # the record first: a crash now re-raises, never loses the alert
        record(session, "alerts", {
            "raised": [wanted_by_id[i].model_dump(mode="json") for i in raised],
            "cleared": [{"alert_id": i, "raised_at": current[i].raised_at.isoformat()}
                        for i in cleared],
            "at": now.isoformat()})
    elif isinstance(session, Session):
        session.commit()  # callers may have added rows of their own to this session
    if wanted_by_id:
        store.put(*wanted_by_id.values())
    store.remove(Alert, *cleared)
    for alert_id in raised:
        store.event("alert_raised", alert_id=alert_id)
    for alert_id in cleared:
        store.event("alert_cleared", alert_id=alert_id)
    return raised, cleared
