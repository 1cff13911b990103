"""Configuration from the environment (or a .env file). Nothing is read at import."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./seqgql.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite:///path.db (embedded) or postgresql://user@host/db",
    )
    broadcast_url: str = Field(
        default="memory://", description="memory://, redis://host:6379 or postgres://..."
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API (CORS and websocket handshakes)",
    )
    subscription_poll_seconds: float = Field(
        default=1.0,
        description="How often subscribers look at the event log without a broadcast wake-up",
    )
    run_engine: bool | None = Field(
        default=None,
        description="Run the sequence engine inside `serve` (default: only on SQLite, the "
        "embedded mode; scaled out, run `seqgql worker` processes instead)",
    )
    engine_batch_size: int = 500
    engine_idle_seconds: float = 1.0
    introspection: bool = True
    auto_migrate: bool = Field(
        default=True, description="Apply migrations when the server starts (embedded mode)"
    )
    db_pool_size: int = 10
    log_level: str = "info"

    @property
    def engine_in_process(self) -> bool:
        if self.run_engine is not None:
            return self.run_engine
        return self.database_url.startswith("sqlite")

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value
