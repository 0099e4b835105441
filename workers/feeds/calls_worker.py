"""The calls worker: follows the 112 centre's Asterisk files and publishes its figures.

Sources come from settings (``CALLS_QUEUE_LOG``, ``CALLS_CDR_CSV``); with the simulated
city they are the files the simulated 112 centre writes. Each turn reads what was appended,
stores it with the new position, and re-evaluates the figures and alerts against the clock
(a call keeps waiting between lines).
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from ambon_core.call_figures import CallRules
from ambon_core.settings import Settings
from workers.base import LoopWorker
from workers.feeds.calls_ingest import CallsIngest, CallSource

log = logging.getLogger(__name__)


def rules_from(settings: Settings) -> CallRules:
    """The call-centre thresholds of the settings."""
    shifts = tuple((int(a), int(b)) for a, b in (s.split("-") for s in settings.calls_shifts.split(",")))
    return CallRules(tz=settings.tz, wait_alert_s=settings.calls_wait_alert_s,
                     callback_min=settings.calls_callback_min,
                     abandon_share_max=settings.calls_abandon_share_max, shifts=shifts,
                     opd=settings.calls_opd)


def sources_from(settings: Settings) -> list[CallSource]:
    """The files to follow: the configured ones, else the simulator's when the sim runs."""
    queue_log, cdr = settings.calls_queue_log, settings.calls_cdr_csv
    if queue_log is None and cdr is None and settings.sim_enabled:
        from ambon_sim.callcentre import SIM_CALLS_DIR  # the simulated city's 112 centre

        queue_log, cdr = SIM_CALLS_DIR / "queue_log", SIM_CALLS_DIR / "Master.csv"
    return ([CallSource("asterisk-queue-log", queue_log, "queue_log")] if queue_log else []) + \
        ([CallSource("asterisk-cdr", cdr, "cdr")] if cdr else [])


def hash_key(settings: Settings) -> bytes:
    return (settings.calls_number_key or settings.session_secret or "ambon-dev").encode()


class CallsWorker(LoopWorker):
    name = "calls"
    interval_s = 1.0

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.ingest = CallsIngest(self.store, self.sessions, rules_from(self.settings),
                                  sources_from(self.settings), hash_key=hash_key(self.settings),
                                  pbx_zone=ZoneInfo(self.settings.calls_pbx_timezone))

    def turn(self) -> None:
        report = self.ingest.poll()
        figures = self.store.call_figures()
        self.detail = {"lines": report.lines, "rejects": report.rejects,
                       "waiting": figures.waiting_now if figures else None}
