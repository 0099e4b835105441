"""Who sees what and who may do what: pure functions, no I/O, no ``streamlit``.

Roles:

- ``walikota``: every data page, every action on every item.
- ``admin``: as the mayor, plus the admin page (users, audit log) and managing users.
- ``opd``: a department head; the overview read-only, the department's own pages (the
  registry's ``Opd.pages``), and actions only on items owned by the department.
- ``publik``: nobody logged in, on the wall screen (kiosk); sees the public view of every
  data page (``ambon_core.privacy``), acts on nothing.

The UI calls these on every run of every page and before every action; a user's role is
read fresh from SQL (cached seconds), so a change by the admin takes effect at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Role = Literal["walikota", "admin", "opd", "publik"]
ROLES: tuple[Role, ...] = ("walikota", "admin", "opd", "publik")
LOGIN_ROLES: tuple[Role, ...] = ("walikota", "admin", "opd")
DATA_PAGES = ("ringkasan", "puskesmas", "lalu_lintas", "sampah", "insiden", "kamera",
              "layanan_publik")
ADMIN_PAGE = "admin"
ALL_PAGES = (*DATA_PAGES, ADMIN_PAGE)
OVERVIEW = "ringkasan"
ACTIONS = ("acknowledge", "instruct", "complete", "export", "manage_users")
OPD_ACTIONS = frozenset({"acknowledge", "instruct", "complete", "export"})


@dataclass(frozen=True)
class Principal:
    """The one who is looking: a logged-in user, or the public wall.

    ``pages`` and ``incident_categories`` are the department's, copied from the registry
    when the user is resolved, so the checks below need nothing else.
    """

    username: str
    role: Role
    opd: str | None = None
    pages: frozenset[str] = frozenset()
    incident_categories: frozenset[str] = frozenset()
    display_name: str | None = None
    user_id: int | None = None

    @property
    def is_public(self) -> bool:
        return self.role == "publik"


PUBLIC = Principal(username="publik", role="publik")


def principal(username: str, role: str, opd: str | None, departments: Iterable[object],
              *, display_name: str | None = None, user_id: int | None = None) -> Principal:
    """A Principal for a stored user; ``departments`` are registry ``Opd`` entries.

    An ``opd`` user whose department is not in the registry gets the overview only.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role '{role}'")
    pages: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    if role == "opd":
        dept = next((d for d in departments if getattr(d, "code", None) == opd), None)
        if dept is not None:
            pages = frozenset(dept.pages)
            categories = frozenset(dept.incident_categories)
    return Principal(username=username, role=role, opd=opd if role == "opd" else None,  # type: ignore[arg-type]
                     pages=pages, incident_categories=categories,
                     display_name=display_name, user_id=user_id)


def can_view(user: Principal | None, page: str) -> bool:
    """May ``user`` open ``page``? Nobody logged in (None) sees nothing."""
    if user is None or page not in ALL_PAGES:
        return False
    if user.role == "admin":
        return True
    if page == ADMIN_PAGE:
        return False
    if user.role in ("walikota", "publik"):
        return True
    if user.role == "opd":
        return page == OVERVIEW or page in user.pages
    return False


def can_act(user: Principal | None, action: str, item_opd: str | None) -> bool:
    """May ``user`` do ``action`` on an item owned by department ``item_opd``?

    For ``instruct`` the item is the department receiving the instruction; for
    ``export`` it is the department whose data is exported (None = city-wide).
    """
    if user is None or action not in ACTIONS:
        return False
    if user.role == "admin":
        return True
    if user.role == "walikota":
        return action != "manage_users"
    if user.role == "opd":
        return action in OPD_ACTIONS and user.opd is not None and item_opd == user.opd
    return False


def can_see_incident(user: Principal | None, category: str) -> bool:
    """Incident rows: a department sees its own categories; mayor, admin, public see all
    (the public only through ``privacy.public_view``)."""
    if user is None:
        return False
    if user.role == "opd":
        return category in user.incident_categories
    return True


def incident_owner(category: str, departments: Iterable[object]) -> str | None:
    """The city department (not a partner agency) that owns an incident category."""
    for dept in departments:
        if not getattr(dept, "partner", False) and category in getattr(dept, "incident_categories", ()):
            return dept.code  # type: ignore[attr-defined]
    return None


def acts_on_page(user: Principal | None, page: str) -> bool:
    """May ``user`` act at all on ``page``? The overview is read-only for a department
    head (their actions live on their own pages); mayor and admin act everywhere."""
    if user is None or user.is_public or not can_view(user, page):
        return False
    if user.role == "opd":
        return page in user.pages
    return True


def can_act_on_alert(user: Principal | None, action: str, alert_opd: str | None,
                     target_opd: str | None = None) -> bool:
    """Acting on an alert owned by ``alert_opd``: acknowledging needs the right on the
    alert's department; instructing needs it too, and the right to instruct ``target_opd``."""
    if not can_act(user, "acknowledge", alert_opd):
        return False
    return action == "acknowledge" or (action == "instruct" and can_act(user, "instruct",
                                                                         target_opd))


@dataclass(frozen=True)
class AlertOffer:
    """What the UI offers on one alert: nothing, acknowledge, and whom to instruct."""

    acknowledge: bool
    instruct_to: tuple[str, ...]

    @property
    def anything(self) -> bool:
        return self.acknowledge or bool(self.instruct_to)


def alert_offer(user: Principal | None, page: str, alert_opd: str | None,
                departments: Iterable[str]) -> AlertOffer:
    """The actions offered on an alert shown on ``page`` (only those that will be allowed)."""
    if not acts_on_page(user, page) or not can_act_on_alert(user, "acknowledge", alert_opd):
        return AlertOffer(False, ())
    return AlertOffer(True, tuple(d for d in departments
                                  if can_act_on_alert(user, "instruct", alert_opd, d)))
