"""One AlertSpec per AlertKind, and every table that used to be kept by hand derived from it."""

from __future__ import annotations

import re

from ambon_core.alert_kinds import ALERT_SPECS, kinds_raised_by, owner_of, public_params
from ambon_core.domain import Alert, AlertKind
from ambon_core.open_data import ALERT_CATEGORY
from ambon_core.privacy import PUBLIC_ALERT_PARAMS
from ambon_core.registry import load_registry
from ambon_core.settings import ROOT
from components.i18n import TEXT
from components.nav import ALERT_PAGE, PAGES

REG = load_registry()


def test_every_kind_has_a_spec_and_a_sentence() -> None:
    """A new AlertKind without its spec (or its translation) fails here."""
    assert set(ALERT_SPECS) == set(AlertKind), set(AlertKind) ^ set(ALERT_SPECS)
    for kind in AlertKind:
        assert f"alert.{kind.value}" in TEXT, kind
        assert set(TEXT[f"alert.{kind.value}"]) >= {"id", "en"}, kind


def test_owners_are_city_departments_and_pages_exist() -> None:
    city = {o.code: o for o in REG.opds if not o.partner}
    for kind, spec in ALERT_SPECS.items():
        assert spec.page in PAGES, kind
        if spec.owner is None:  # the raise site decides: incident category, office, 112 centre
            assert kind in {AlertKind.INCIDENT, AlertKind.OFFICE_LATE, AlertKind.CALL_WAITING,
                            AlertKind.CALL_NOT_CALLED_BACK, AlertKind.CALL_ABANDON_RATE}, kind
            continue
        assert spec.owner in city, kind
        # the owner acts on it where it is listed (the overview is read-only for them)
        assert spec.page == "ringkasan" or spec.page in city[spec.owner].pages, kind


def test_derived_tables_follow_the_specs() -> None:
    assert ALERT_PAGE == {k.value: s.page for k, s in ALERT_SPECS.items()}
    assert PUBLIC_ALERT_PARAMS == public_params()
    for kind, spec in ALERT_SPECS.items():
        assert ALERT_CATEGORY.get(kind.value) == spec.fiware, kind


def test_alert_gets_its_owner_from_the_spec_even_if_written_without() -> None:
    for kind in AlertKind:
        alert = Alert(alert_id=f"{kind.value}:x", kind=kind, entity_id="x")
        assert alert.opd == owner_of(kind)
        old = alert.model_dump(mode="json") | {"opd": None}  # as stored before the specs
        assert Alert.model_validate(old).opd == owner_of(kind)
    wrong = Alert(alert_id="c", kind=AlertKind.CONGESTION, entity_id="c", opd="dinkes")
    assert wrong.opd == "dishub"  # a raise site cannot name another owner
    incident = Alert(alert_id="i", kind=AlertKind.INCIDENT, entity_id="i", opd="bpbd")
    assert incident.opd == "bpbd"


def test_every_kind_a_worker_raises_is_synced_by_that_worker() -> None:
    """Raised but not synced means re-raised forever: read the raise sites from the source."""
    from workers.camera.worker import ALERT_KINDS

    camera_src = "".join(p.read_text() for p in (ROOT / "workers" / "camera").glob("*.py"))
    raised = {AlertKind[m] for m in re.findall(r"AlertKind\.([A-Z_]+)", camera_src)}
    assert raised == set(ALERT_KINDS) == set(kinds_raised_by("cameras"))
    status_src = (ROOT / "workers" / "site_status.py").read_text()
    assert {AlertKind[m] for m in re.findall(r"AlertKind\.([A-Z_]+)", status_src)} == set(
        kinds_raised_by("status"))
