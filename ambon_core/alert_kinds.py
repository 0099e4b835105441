"""One ``AlertSpec`` per ``AlertKind``: everything the system knows about a kind, in one place.

Adding a kind means: the enum member (``ambon_core.domain``), its spec here, its raise
site and its sentence in ``components/i18n.py`` (key ``alert.<kind>``). The tables that
used to be kept by hand are derived from ``ALERT_SPECS``: the page an alert opens
(``components.nav.ALERT_PAGE``), its FIWARE category in the open data
(``ambon_core.open_data.ALERT_CATEGORY``), what the wall may show of it
(``ambon_core.privacy.PUBLIC_ALERT_PARAMS``) and which kinds a worker syncs (the camera
worker's ``ALERT_KINDS``: a kind a worker raises but does not sync would be re-raised
forever). ``tests/test_alert_kinds.py`` fails when a kind has no spec.

The owning department of an alert comes from here and nowhere else: ``Alert`` fills
``opd`` from its kind's spec when it is built or read back (``owner_of``), so no raise
site can forget it or name another one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ambon_core.domain import AlertKind

Worker = Literal["cameras", "status", "feeds", "calls"]


@dataclass(frozen=True)
class AlertSpec:
    """What one alert kind is, who owns it, and where it goes."""

    owner: str | None  # registry OPD code; None: set by the raise site (incident category,
    # the office's own OPD for office_late, the CALLS_OPD setting for the 112 centre's)
    page: str  # the page that shows it (components.nav.PAGES key)
    public_params: frozenset[str]  # params the public wall may show (privacy.public_alert)
    fiware: tuple[str, str] | None  # FIWARE Alert (category, subCategory) in the open data
    raised_by: Worker | None  # the worker whose sync_alerts owns the kind (None: none yet)
    clears: str  # how it goes away, for people reading the code and the docs


def _p(*names: str) -> frozenset[str]:
    return frozenset(names)


ALERT_SPECS: dict[AlertKind, AlertSpec] = {
    AlertKind.PUSKESMAS_LATE: AlertSpec(
        "dinkes", "puskesmas", _p("name", "minutes_late", "waiting", "scheduled_open"),
        ("health", "facilityClosed"), "status", "when the puskesmas opens or nobody waits"),
    AlertKind.OFFICE_LATE: AlertSpec(
        None, "layanan_publik", _p("name", "minutes_late", "waiting", "scheduled_open", "staff"),
        ("administrativeService", "facilityClosed"), "status",
        "when the office opens, or its working day ends"),
    AlertKind.QUEUE_LONG: AlertSpec(
        "dinkes", "puskesmas", _p("camera", "waiting", "queue"), ("health", "longQueue"),
        "cameras", "when the queue seen by the camera is shorter than CAMERA_QUEUE_LONG"),
    AlertKind.CONGESTION: AlertSpec(
        "dishub", "lalu_lintas", _p("camera", "congestion"), ("traffic", "trafficJam"),
        "cameras", "when the camera's congestion level drops below macet"),
    AlertKind.ACCIDENT_CANDIDATE: AlertSpec(
        "dishub", "lalu_lintas", _p("camera"), ("traffic", "carAccident"), "cameras",
        "when no vehicle stands still in the lane any more"),
    AlertKind.ILLEGAL_PARKING: AlertSpec(
        "dishub", "lalu_lintas", _p("camera"), ("traffic", "illegalParking"), "cameras",
        "when no vehicle stays in a no-parking zone"),
    AlertKind.TPS_OVERFLOW: AlertSpec(
        "dlh", "sampah", _p("name", "fill", "threshold"), ("environment", "wasteOverflow"),
        "status", "when the fill drops below the TPS threshold (emptied)"),
    AlertKind.DUMPING: AlertSpec(
        "dlh", "sampah", _p("camera"), ("environment", "illegalDumping"), "cameras",
        "when no dumping was seen for CAMERA_DUMPING_ALERT_S"),
    AlertKind.INCIDENT: AlertSpec(
        None, "insiden", _p("name", "category"), None, None,
        "when the 112 incident is resolved or closed"),
    AlertKind.EARTHQUAKE: AlertSpec(
        "bpbd", "insiden", _p("magnitude", "depth_km", "distance_km", "wilayah"),
        ("naturalDisaster", "earthquake"), "feeds", "QUAKE_ALERT_HOURS after the quake"),
    AlertKind.WEATHER: AlertSpec(
        "bpbd", "insiden", _p("event", "area", "polygon", "headline"), ("weather", "rainfall"),
        "feeds", "when the CAP warning expires or leaves the feed"),
    AlertKind.CAMERA_OFFLINE: AlertSpec(
        "kominfo", "kamera", _p("camera"), None, "cameras", "when the camera sends frames again"),
    AlertKind.FEED_DEGRADED: AlertSpec(
        "kominfo", "ringkasan", _p("name", "failures"), None, "feeds",
        "at the feed's next successful poll"),
    AlertKind.CALL_WAITING: AlertSpec(
        None, "insiden", _p("longest_s", "limit_s", "calls"), ("security", "emergencyCallWaiting"),
        "calls", "when no 112 call has waited longer than CALLS_WAIT_ALERT_S"),
    AlertKind.CALL_NOT_CALLED_BACK: AlertSpec(
        None, "insiden", _p("minutes", "limit_min"), ("security", "emergencyCallAbandoned"),
        "calls", "when the abandoned caller is called back (or calls again and is answered)"),
    AlertKind.CALL_ABANDON_RATE: AlertSpec(
        None, "insiden", _p("share_pct", "abandoned", "calls", "limit_pct"),
        ("security", "emergencyCallAbandonRate"), "calls",
        "when the abandoned share of the last hour is back under CALLS_ABANDON_PCT"),
}


def spec(kind: AlertKind | str) -> AlertSpec:
    """The spec of ``kind`` (KeyError for a kind without one: a bug the tests catch)."""
    return ALERT_SPECS[AlertKind(kind)]


def owner_of(kind: AlertKind | str) -> str | None:
    """The department that owns alerts of ``kind`` (None: decided per incident category)."""
    return spec(kind).owner


def kinds_raised_by(worker: Worker) -> tuple[AlertKind, ...]:
    """Every kind ``worker`` raises, hence the kinds its ``sync_alerts`` must own."""
    return tuple(k for k, s in ALERT_SPECS.items() if s.raised_by == worker)


def kinds_on_page(page: str) -> frozenset[AlertKind]:
    """The kinds a page lists (and an alert of which opens that page)."""
    return frozenset(k for k, s in ALERT_SPECS.items() if s.page == page)


def public_params(kinds: Iterable[AlertKind] = ALERT_SPECS) -> frozenset[str]:
    """Every parameter some kind lets the public see."""
    return frozenset().union(*(ALERT_SPECS[k].public_params for k in kinds))
