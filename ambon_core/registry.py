"""The site registry: puskesmas, cameras, TPS dump points and OPDs, from ``data/registry.yaml``.

City staff edit that file by hand, so every mistake is reported with the file, the
line and the field (``registry.yaml:214: cameras[3].zones[0].polygon: ...``).
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ambon_core.domain import CameraKind

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Point = Annotated[list[float], Field(min_length=2, max_length=2)]
# Public service offices watched in working hours (ambon_core.service_status); a puskesmas
# from the ``puskesmas`` list is the type "puskesmas", the other types are in ``offices``.
OfficeType = Literal["puskesmas", "pustu", "kantor_kelurahan", "kantor_negeri", "dukcapil",
                     "mpp", "samsat"]
OFFICE_TYPES: tuple[OfficeType, ...] = ("puskesmas", "pustu", "kantor_kelurahan",
                                        "kantor_negeri", "dukcapil", "mpp", "samsat")
NIGHT_TYPES = frozenset({"puskesmas"})  # may run shifts past midnight (closing <= opening)
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://")
# Ambon city bounding box, generous: a coordinate outside is a typo.
AMBON_LAT = (-3.85, -3.55)
AMBON_LON = (127.95, 128.40)


def _as_hhmm(value: object) -> str:
    """Accept 'HH:MM'; YAML 1.1 reads an unquoted 14:00 as the base-60 integer 840."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        value = f"{value // 60:02d}:{value % 60:02d}"
    if not isinstance(value, str) or not _HHMM.match(value):
        raise ValueError(f"'{value}' is not a time HH:MM (24-hour, e.g. 08:00)")
    return value


class RegistryError(ValueError):
    """The registry file is unusable; the message names file, line and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Located(_Strict):
    lat: float = Field(description="Latitude, WGS84")
    lon: float = Field(description="Longitude, WGS84")
    kecamatan: Literal[
        "Nusaniwe", "Sirimau", "Teluk Ambon", "Teluk Ambon Baguala", "Leitimur Selatan"
    ]

    @field_validator("lat")
    @classmethod
    def _lat_in_ambon(cls, value: float) -> float:
        if not (AMBON_LAT[0] <= value <= AMBON_LAT[1]):
            raise ValueError(f"latitude {value} is outside Kota Ambon {AMBON_LAT}")
        return value

    @field_validator("lon")
    @classmethod
    def _lon_in_ambon(cls, value: float) -> float:
        if not (AMBON_LON[0] <= value <= AMBON_LON[1]):
            raise ValueError(f"longitude {value} is outside Kota Ambon {AMBON_LON}")
        return value


class OpeningHours(_Strict):
    """FHIR R4 ``Location.hoursOfOperation`` element."""

    days_of_week: list[Weekday] = Field(min_length=1, description="FHIR daysOfWeek codes")
    opening_time: str = Field(description="HH:MM, WIT")
    closing_time: str = Field(description="HH:MM, WIT")

    _times = field_validator("opening_time", "closing_time", mode="before")(
        lambda value: _as_hhmm(value)
    )

    @property
    def opens(self) -> time:
        return time.fromisoformat(self.opening_time)

    @property
    def closes(self) -> time:
        return time.fromisoformat(self.closing_time)


def check_hours(hours: list[OpeningHours], overnight_ok: bool) -> None:
    """Refuse a schedule entry that ends before it starts (unless shifts may run past
    midnight) and two entries of the same day that overlap."""
    for i, h in enumerate(hours):
        if not overnight_ok and h.closes <= h.opens:
            raise ValueError(f"hours[{i}]: closing_time {h.closing_time} is not after "
                             f"opening_time {h.opening_time}")
    for day in WEEKDAYS:
        spans = sorted((h.opens, h.closes, i) for i, h in enumerate(hours)
                       if day in h.days_of_week and h.closes > h.opens)
        for (_, end, a), (start, _, b) in zip(spans, spans[1:], strict=False):
            if start < end:
                first, second = sorted((a, b))
                raise ValueError(f"hours[{first}] and hours[{second}] overlap on {day}")


class Puskesmas(_Located):
    id: str = Field(pattern=r"^pkm-[a-z0-9-]+$")
    name: str
    address: str | None = None
    hours: list[OpeningHours] = Field(default_factory=list)
    satusehat_id: str | None = Field(
        None, pattern=r"^[A-Za-z0-9\-.]{1,64}$",
        description="SATUSEHAT (FHIR) Location.id of this puskesmas, a UUID; FHIR feeds match "
                    "by it, or by an identifier whose value is the registry id")


class ServiceOffice(_Located):
    """A public service office other than a puskesmas: kantor kelurahan/negeri, the Dukcapil
    counter, the MPP, the Samsat counter, a puskesmas pembantu."""

    id: str = Field(pattern=r"^[a-z]+-[a-z0-9-]+$")
    name: str
    type: OfficeType = Field(description="Office type; its standard hours are in calendar.yaml")
    opd: str = Field(description="Owning department (opds[].code): camat's office, Disdukcapil…")
    address: str | None = None
    hours: list[OpeningHours] = Field(
        default_factory=list, description="Own service hours; empty: the type's hours")
    ramadan_hours: list[OpeningHours] = Field(
        default_factory=list, description="Own Ramadan hours; empty: the type's Ramadan hours")
    attendance: str | None = Field(None, description="Attendance source (feed name), if any")

    @field_validator("hours", "ramadan_hours")
    @classmethod
    def _sane_hours(cls, value: list[OpeningHours], info: ValidationInfo) -> list[OpeningHours]:
        check_hours(value, info.data.get("type") in NIGHT_TYPES)
        return value


class Zone(_Strict):
    name: str
    kind: Literal["lane", "no_parking", "parking_slot", "queue", "door", "pile"]
    polygon: list[Point] = Field(min_length=3)


class PrivacyMask(_Strict):
    """A part of the view that is always blurred (windows and doors of houses, a yard)."""

    name: str
    polygon: list[Point] = Field(min_length=3, description="Frame pixels (frame_size)")


class CountingLine(_Strict):
    name: str
    points: list[Point] = Field(min_length=2, max_length=2)


class Camera(_Located):
    id: str = Field(pattern=r"^cam-[a-z0-9-]+$")
    name: str
    kind: CameraKind
    source: str = Field(description="rtsp://, http(s):// MJPEG or snapshot, file path, device:N")
    detect_source: str | None = Field(
        None, description="The stream analysed, when it is not `source`: the camera's sub-stream "
        "(e.g. 640x360); `source` (the main stream) then serves sharp snapshots on demand.")
    site: str | None = Field(None, description="Puskesmas or TPS id this camera watches")
    frame_size: tuple[int, int] = (640, 360)
    fps: float = Field(2.0, gt=0, le=30)
    zones: list[Zone] = Field(default_factory=list)
    lines: list[CountingLine] = Field(default_factory=list)
    privacy_masks: list[PrivacyMask] = Field(default_factory=list,
                                             description="Always blurred, in every published frame")

    @field_validator("detect_source")
    @classmethod
    def _detect_source_is_a_stream(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise ValueError("detect_source is empty: remove the field or give the sub-stream's URL")
        if not value.startswith(STREAM_SCHEMES):
            raise ValueError(f"detect_source must be a stream URL ({', '.join(STREAM_SCHEMES)}), "
                             "the camera's sub-stream")
        return value

    @model_validator(mode="after")
    def _detect_source_differs(self) -> Camera:
        if self.detect_source is not None and self.detect_source == self.source:
            raise ValueError("detect_source is the same URL as source: name the sub-stream, or leave it out")
        return self

    @property
    def analysis_source(self) -> str:
        """The stream the worker decodes and analyses: the sub-stream when there is one."""
        return self.detect_source or self.source

    @model_validator(mode="after")
    def _geometry_inside_frame(self) -> Camera:
        width, height = self.frame_size
        shapes = [(z.name, z.polygon) for z in self.zones] + [(ln.name, ln.points) for ln in self.lines]
        for name, points in shapes:
            for x, y in points:
                if not (0 <= x <= width and 0 <= y <= height):
                    raise ValueError(f"zone/line '{name}' point ({x}, {y}) is outside the frame")
        return self

    @field_validator("privacy_masks")
    @classmethod
    def _masks_inside_frame(cls, masks: list[PrivacyMask], info: ValidationInfo) -> list[PrivacyMask]:
        """A mask point outside the frame is a typo (it would blur nothing where meant)."""
        width, height = info.data.get("frame_size", (640, 360))
        for mask in masks:
            for x, y in mask.polygon:
                if not (0 <= x <= width and 0 <= y <= height):
                    raise ValueError(f"privacy mask '{mask.name}' point ({x:g}, {y:g}) is outside "
                                     f"the frame {width}x{height}")
        return masks


class Tps(_Located):
    id: str = Field(pattern=r"^tps-[a-z0-9-]+$")
    name: str
    kind: Literal["tps", "market"] = "tps"
    capacity_m3: float = Field(6.0, gt=0)
    overflow_threshold: float = Field(0.8, gt=0, le=1)
    dumping_hours: tuple[str, str] = Field(("18:00", "06:00"), description="Allowed HH:MM range")

    @field_validator("dumping_hours", mode="before")
    @classmethod
    def _hours(cls, value: object) -> tuple[str, str]:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError("dumping_hours needs two times [start, end]")
        return (_as_hhmm(value[0]), _as_hhmm(value[1]))


class Opd(_Strict):
    code: str = Field(pattern=r"^[a-z_]+$")
    name: str
    partner: bool = Field(False, description="Partner agency outside the city government")
    pages: list[Literal["puskesmas", "lalu_lintas", "sampah", "insiden", "kamera",
                        "layanan_publik"]] = []
    incident_categories: list[str] = []


class Contact(_Strict):
    """A notification target (issue 17; ``ambon_core.contacts``): an Apprise URL for a site
    (with its OPD), an OPD head (OPD only) or the city level (neither)."""

    label: str = Field(min_length=1, max_length=120, description="Who it reaches, for people")
    url: str = Field(description="Apprise URL: mailto://, json(s)://, ntfy://, tgram://")
    opd: str | None = Field(None, description="Registry OPD code")
    site: str | None = Field(None, description="Puskesmas or TPS id")

    @field_validator("url")
    @classmethod
    def _usable(cls, value: str) -> str:
        from ambon_core.contacts import validate_target  # imports Apprise: only when used

        return validate_target(value)


class Registry(_Strict):
    puskesmas: list[Puskesmas]
    cameras: list[Camera]
    tps: list[Tps]
    opds: list[Opd]
    contacts: list[Contact] = Field(default_factory=list, description="Notification targets")
    offices: list[ServiceOffice] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Registry:
        for kind, items in (("puskesmas", self.puskesmas), ("cameras", self.cameras),
                            ("tps", self.tps), ("opds", self.opds), ("offices", self.offices)):
            ids = [getattr(i, "code", None) or i.id for i in items]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} ids: {', '.join(dupes)}")
        sites = {p.id for p in self.puskesmas} | {t.id for t in self.tps} | {
            o.id for o in self.offices}
        departments = {o.code for o in self.opds}
        for office in self.offices:
            if office.opd not in departments:
                raise ValueError(f"office {office.id}: opd '{office.opd}' is not in opds")
        for cam in self.cameras:
            if cam.site is not None and cam.site not in sites:
                raise ValueError(f"camera {cam.id}: site '{cam.site}' is not in the registry")
        from ambon_core.contacts import check_scope

        for n, contact in enumerate(self.contacts):
            try:
                check_scope(contact.opd, contact.site, {o.code for o in self.opds}, sites)
            except ValueError as exc:
                raise ValueError(f"contacts[{n}].{exc}") from None
        return self

    def camera(self, camera_id: str) -> Camera:
        return next(c for c in self.cameras if c.id == camera_id)

    def cameras_for_site(self, site_id: str) -> list[Camera]:
        return [c for c in self.cameras if c.site == site_id]


def _node_line(root: yaml.Node, loc: tuple[str | int, ...]) -> int:
    """1-based line of the deepest YAML node the pydantic error location reaches."""
    node, line = root, root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if k.value == part]
            if not match:
                break
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _format_loc(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_registry(text: str, source: str = "registry.yaml") -> Registry:
    """Validate registry YAML text; raise RegistryError naming source:line and the field."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise RegistryError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict) or root is None:
        raise RegistryError(f"{source}: expected a mapping with puskesmas, cameras, tps, opds")
    try:
        return Registry.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors()[:10]:
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function")))
            lines.append(f"{source}:{_node_line(root, loc)}: {_format_loc(loc)}: {err['msg']}")
        raise RegistryError("\n".join(lines)) from None


def load_registry(path: Path | None = None) -> Registry:
    """Load and validate the registry file named by the settings (or ``path``)."""
    if path is None:
        from ambon_core.settings import get_settings

        path = get_settings().registry_path
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the registry ({exc.strerror}); "
                            "set REGISTRY_PATH to the city's registry file") from None
    return parse_registry(text, source=str(path))
