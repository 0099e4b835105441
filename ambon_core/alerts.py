"""Alert lifecycle shared by every worker: raise what is new, clear what went away.

An alert lives in Redis while active (``P:state:alert``) and in SQL for the record
(raised_at, cleared_at). Each worker owns a set of alert kinds and hands over the
complete set it wants active now; this module does the difference.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from ambon_core.domain import Alert, AlertKind, utcnow
from ambon_core.history import record_alert_cleared, record_alert_raised
from ambon_core.store import Store


def sync_alerts(store: Store, session: Session, kinds: Iterable[AlertKind],
                wanted: Iterable[Alert]) -> tuple[list[str], list[str]]:
    """Make the active alerts of ``kinds`` equal ``wanted``; returns (raised, cleared) ids.

    An alert that stays active keeps its original ``raised_at`` and gets fresh params.
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
        else:
            record_alert_raised(session, alert)
        alert.updated_at = now
    for alert_id in cleared:
        record_alert_cleared(session, alert_id, now)
    session.commit()  # the record first: a crash now re-raises, never loses the alert
    if wanted_by_id:
        store.put(*wanted_by_id.values())
    store.remove(Alert, *cleared)
    for alert_id in raised:
        store.event("alert_raised", alert_id=alert_id)
    for alert_id in cleared:
        store.event("alert_cleared", alert_id=alert_id)
    return raised, cleared
