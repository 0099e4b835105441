"""The city's calendar of working days: which days an office is closed on purpose, which
season's hours apply, and whether the year's calendar has been confirmed at all.

National holidays (``PUBLIC``) and *cuti bersama* (``GOVERNMENT``, the joint ministerial
decree) come from the ``holidays`` library for Indonesia; the start of Ramadan from its
MABIMS Islamic calendar, the end from Idul Fitri. The city overrides them in ONE reviewed
file, ``data/calendar.yaml``: regional holidays, dates the library has wrong or the
decree moved, Ramadan dates of the sidang isbat, the working hours of every office type,
and the years it has checked (``confirmed_years``). A day of a year not confirmed is
flagged, so the status engine warns instead of raising false "belum buka" alerts.
Mistakes in the file are reported with file, line and field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

import holidays
import yaml
from holidays.countries.indonesia import IndonesiaIslamicHolidays
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ambon_core.registry import (
    NIGHT_TYPES,
    OFFICE_TYPES,
    OfficeType,
    OpeningHours,
    _format_loc,
    _node_line,
    check_hours,
)

Season = Literal["regular", "ramadan"]


class CalendarError(ValueError):
    """The calendar file is unusable; the message names file, line and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExtraHoliday(_Strict):
    date: date
    name: str = Field(min_length=1)
    types: list[OfficeType] = Field(default_factory=list, description="Only these types (empty: all)")
    offices: list[str] = Field(default_factory=list, description="Only these offices (empty: all)")


class NotAHoliday(_Strict):
    date: date
    reason: str = Field(min_length=1, description="Why the library's holiday does not apply")


class TypeHours(_Strict):
    """Working hours of one office type, by season."""

    regular: list[OpeningHours] = Field(min_length=1)
    ramadan: list[OpeningHours] = Field(default_factory=list, description="Empty: regular hours")
    closed_on_holidays: bool = True
    closed_on_cuti_bersama: bool = Field(True, description="False where public service goes on")


class CalendarFile(_Strict):
    confirmed_years: list[int] = Field(description="Years whose holidays the city has checked")
    holidays: list[ExtraHoliday] = Field(default_factory=list)
    not_holidays: list[NotAHoliday] = Field(default_factory=list)
    ramadan: dict[int, tuple[date, date]] = Field(default_factory=dict,
                                                  description="year -> [first day, last day]")
    hours: dict[OfficeType, TypeHours]

    @field_validator("ramadan")
    @classmethod
    def _ramadan(cls, value: dict[int, tuple[date, date]]) -> dict[int, tuple[date, date]]:
        for year, (first, last) in value.items():
            if first.year != year or not 28 <= (last - first).days <= 29:
                raise ValueError(f"{year}: Ramadan {first}..{last} must start in {year} and "
                                 "last 29 or 30 days")
        return value

    @field_validator("hours")
    @classmethod
    def _every_type(cls, value: dict[OfficeType, TypeHours]) -> dict[OfficeType, TypeHours]:
        missing = [t for t in OFFICE_TYPES if t not in value]
        if missing:
            raise ValueError(f"no working hours for office type(s) {', '.join(missing)}")
        return value


_NO_RULES = TypeHours.model_construct(regular=[], ramadan=[], closed_on_holidays=True,
                                     closed_on_cuti_bersama=True)


@dataclass(frozen=True)
class DayFacts:
    """What the calendar says about one date for one office."""

    closed: str | None  # the reason the office is legitimately closed all day
    season: Season
    confirmed: bool  # False: the year is not confirmed, alerts would be guesses


@dataclass
class WorkCalendar:
    """National calendar (library) + the city's overrides, queried per office and date."""

    file: CalendarFile
    warnings: list[str] = field(default_factory=list)  # found on load, shown to the admin
    error: str | None = None  # the file was refused: library holidays only, no alarms

    @classmethod
    def unusable(cls, error: str) -> WorkCalendar:
        """The fallback when calendar.yaml is refused: national holidays still close
        offices, no year is confirmed (so no alarms) and types have no standard hours."""
        return cls(CalendarFile.model_construct(confirmed_years=[], holidays=[], not_holidays=[],
                                                ramadan={}, hours={}), error=error)

    def national(self, year: int) -> dict[date, tuple[str, bool]]:
        """date -> (name, is_cuti_bersama) from the library, minus the city's removals."""
        return {d: v for d, v in _national(year).items()
                if d not in {n.date for n in self.file.not_holidays}}

    def ramadan(self, year: int) -> tuple[date, date] | None:
        return self.file.ramadan.get(year) or _library_ramadan(year)

    def season(self, day: date) -> Season:
        span = self.ramadan(day.year)
        return "ramadan" if span and span[0] <= day <= span[1] else "regular"

    def day(self, day: date, office_type: OfficeType, office_id: str = "") -> DayFacts:
        """Closed or not, which season, and whether ``day``'s year is confirmed."""
        rules = self.file.hours.get(office_type) or _NO_RULES
        closed = next((h.name for h in self.file.holidays if h.date == day
                       and (not h.types or office_type in h.types)
                       and (not h.offices or office_id in h.offices)), None)
        name, cuti = self.national(day.year).get(day, (None, False))
        if closed is None and name and (rules.closed_on_cuti_bersama if cuti
                                        else rules.closed_on_holidays):
            closed = name
        return DayFacts(closed, self.season(day), day.year in self.file.confirmed_years)

    def type_hours(self, office_type: OfficeType, season: Season) -> list[OpeningHours]:
        rules = self.file.hours.get(office_type)
        if rules is None:
            return []  # an unusable calendar file: no schedule, so no alarm
        return rules.ramadan if season == "ramadan" and rules.ramadan else rules.regular

    def warning(self, day: date) -> str | None:
        """A sentence for the dashboard when the file was unusable or ``day``'s year is
        not confirmed."""
        if self.error:
            return f"Kalender kerja tidak terbaca: {self.error}"
        if day.year in self.file.confirmed_years:
            return None
        return (f"Kalender kerja {day.year} belum dikonfirmasi di calendar.yaml "
                "(confirmed_years): status 'belum buka' tidak dipakai untuk alarm.")


@cache
def _national(year: int) -> dict[date, tuple[str, bool]]:
    cuti = holidays.Indonesia(years=year, categories=("government",), language="id")
    public = holidays.Indonesia(years=year, categories=("public",), language="id")
    out = {d: (n, True) for d, n in cuti.items()}
    out.update({d: (n, False) for d, n in public.items()})  # a holiday proper wins
    return out


@cache
def _library_ramadan(year: int) -> tuple[date, date] | None:
    """1 Ramadan (MABIMS, the library's estimate) to the day before 1 Syawal."""
    islamic = IndonesiaIslamicHolidays()
    starts = [d for d, _ in islamic.ramadan_beginning_dates(year) if d.year == year]
    ends = [d for d, _ in islamic.eid_al_fitr_dates(year) if d.year == year]
    if not starts or not ends or ends[0] < starts[0]:
        return None
    return starts[0], ends[0] - timedelta(days=1)


def library_coverage(year: int) -> dict[str, object]:
    """What the library knows of ``year``: counts, and whether dates are still estimates."""
    both = holidays.Indonesia(years=year, categories=("public", "government"), language="en_US")
    estimated = sorted(str(d) for d, n in both.items() if "estimated" in n)
    return {"year": year, "holidays": len(_national(year)),
            "cuti_bersama": sum(1 for _, c in _national(year).values() if c),
            "estimated": estimated, "ramadan": _library_ramadan(year)}


class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so pydantic reports a bad one with its field."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


def parse_calendar(text: str, source: str = "calendar.yaml") -> WorkCalendar:
    """Validate the calendar file; raise CalendarError naming source:line and the field."""
    try:
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise CalendarError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict) or root is None:
        raise CalendarError(f"{source}: expected a mapping with confirmed_years and hours")
    try:
        cal = CalendarFile.model_validate(data)
    except ValidationError as exc:
        raise CalendarError("\n".join(
            f"{source}:{_node_line(root, _loc(e['loc']))}: {_format_loc(_loc(e['loc']))}: "
            f"{e['msg']}" for e in exc.errors()[:10])) from None
    _check_type_hours(cal, root, source)
    return WorkCalendar(cal, warnings=_load_warnings(cal))


def _check_type_hours(cal: CalendarFile, root: yaml.Node, source: str) -> None:
    """Hours that end before they start (only puskesmas shifts may pass midnight) or
    overlap on a day: refused with the line of the entry at fault."""
    for kind, rules in cal.hours.items():
        for label in ("regular", "ramadan"):
            try:
                check_hours(getattr(rules, label), kind in NIGHT_TYPES)
            except ValueError as exc:
                entry = int(re.match(r"hours\[(\d+)\]", str(exc)).group(1))  # type: ignore[union-attr]
                loc = ("hours", kind, label, entry)
                raise CalendarError(f"{source}:{_node_line(root, loc)}: {_format_loc(loc)}: "
                                    f"{str(exc).replace('hours[', f'{label}[')}") from None


def _loc(loc: tuple) -> tuple:
    """Pydantic locations of dict keys are ints or strings: match the YAML text of the key."""
    return tuple(str(p) if isinstance(p, int) and i > 0 and loc[i - 1] == "ramadan" else p
                 for i, p in enumerate(loc) if not (isinstance(p, str) and p.startswith("function")))


def _load_warnings(cal: CalendarFile) -> list[str]:
    out = []
    for year in cal.confirmed_years:
        cov = library_coverage(year)
        if not cov["cuti_bersama"]:
            out.append(f"{year}: the holidays library knows no cuti bersama for {year}; "
                       "add the decree's days to calendar.yaml holidays")
        if cov["estimated"] and year not in cal.ramadan:
            out.append(f"{year}: Islamic holidays are library estimates "
                       f"({', '.join(cov['estimated'])}); check them against the decree")
    return out


def load_calendar(path: Path | None = None) -> WorkCalendar:
    """Load the calendar file named by the settings (or ``path``)."""
    if path is None:
        from ambon_core.settings import get_settings

        path = get_settings().calendar_path
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CalendarError(f"{path}: cannot read the calendar ({exc.strerror}); "
                            "set CALENDAR_PATH to the city's calendar file") from None
    return parse_calendar(text, source=str(path))
