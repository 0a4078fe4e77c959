"""Service settings, read from ``CONFIDE_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Every setting has a safe default; ``CONFIDE_DB_URL=postgresql://...`` picks PostgreSQL."""

    model_config = SettingsConfigDict(env_prefix="CONFIDE_", extra="ignore")

    db_url: str = Field(
        default="sqlite:///./confide.db", description="SQLAlchemy URL of the database."
    )
    auto_migrate: bool = Field(default=True, description="Run `confide db upgrade` at start-up.")
    max_batch: int = Field(default=1000, ge=1, description="Most items in one predictions request.")
    max_body_bytes: int = Field(
        default=5_000_000, ge=1024, description="Largest request body accepted."
    )
    claim_seconds: float = Field(
        default=600.0, gt=0, description="How long a reviewer holds an item."
    )
    session_hours: float = Field(default=12.0, gt=0, description="Lifetime of a reviewer's login.")
    queue_order: Literal["confidence", "least_confidence", "margin", "entropy"] = Field(
        default="confidence",
        description="Which items reviewers see first: lowest calibrated confidence, or the most "
        "uncertain by a confide.active strategy (least_confidence, margin, entropy).",
    )
    metrics_window: int = Field(
        default=10_000, ge=10, description="Newest items used by live metrics."
    )
    secure_cookies: bool = Field(
        default=False, description="Mark the session cookie Secure (HTTPS)."
    )
