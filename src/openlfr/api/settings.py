"""The API's settings: one validated model (unknown keys are errors), from a TOML file or code."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from openlfr.auth.throttle import ThrottlePolicy
from openlfr.errors import ConfigError
from openlfr.vision.backends import DEFAULT_BACKEND


class WebhookTarget(BaseModel):
    """A control-room system that receives alerts as signed JSON."""

    model_config = ConfigDict(extra="forbid")

    url: str
    secret: str = Field(min_length=16, description="HMAC-SHA256 key shared with the receiver")
    include_images: bool = False  # the face crop is sent only when this is set
    max_attempts: int = Field(5, ge=1, le=20)
    backoff_seconds: float = Field(1.0, gt=0, le=600)  # doubled after each failed attempt
    timeout_seconds: float = Field(5.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("a webhook URL must start with http:// or https://")
        return value


class ApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cookie_secure: bool = True  # set False only for plain-HTTP development on loopback
    session_idle_minutes: float = Field(30, gt=0)
    session_max_hours: float = Field(12, gt=0)
    max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    login_user_failures: int = Field(5, ge=1)
    login_ip_failures: int = Field(20, ge=1)
    login_window_minutes: float = Field(15, gt=0)
    login_lock_minutes: float = Field(15, gt=0)
    engine_backend: str = DEFAULT_BACKEND
    # None: the engine's false-match rate 1e-3 point per comparison, from its model's
    # calibration (gallery/identify.comparison_threshold; fused default 0.857, dlib 0.93).
    default_threshold: float | None = Field(None, gt=0, le=1)
    duplicate_threshold: float | None = Field(None, gt=0, le=1)  # None: default_threshold
    metrics_public: bool = False  # True: /metrics without credentials (trusted network)
    purge_interval_minutes: float = Field(60, ge=0)  # 0: no retention schedule
    webhooks: list[WebhookTarget] = Field(default_factory=list)

    def threshold_for(self, model_id: Callable[[], str]) -> float:
        """The default deployment threshold: `default_threshold` if set, else the engine
        model's false-match rate 1e-3 point per comparison (`model_id` is called only
        then, so the engine is not loaded for nothing)."""
        if self.default_threshold is not None:
            return self.default_threshold
        from openlfr.gallery.identify import comparison_threshold

        return comparison_threshold(model_id())

    @property
    def throttle(self) -> ThrottlePolicy:
        return ThrottlePolicy(
            user_failures=self.login_user_failures,
            ip_failures=self.login_ip_failures,
            window=timedelta(minutes=self.login_window_minutes),
            lock=timedelta(minutes=self.login_lock_minutes),
        )

    @property
    def session_idle(self) -> timedelta:
        return timedelta(minutes=self.session_idle_minutes)

    @property
    def session_max(self) -> timedelta:
        return timedelta(hours=self.session_max_hours)

    @classmethod
    def from_toml(cls, path: str | Path) -> ApiSettings:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read settings {path}: {exc}") from None
        try:
            return cls.model_validate(data.get("api", data))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"settings {path}: {where}: {first['msg']}") from None
