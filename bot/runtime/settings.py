"""Settings from the environment (and a `.env` file, if present)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.runtime.logs import LogFormat, LogLevel
from bot.slack.gateway import DEFAULT_API_URL

DEFAULT_DATABASE_URL = "sqlite:///casedesk.db"
# What people paste into SLACK_BOT_TOKEN instead of the bot token, by prefix.
_TOKEN_KINDS = {
    "xoxp-": "a user token",
    "xapp-": "an app-level token, which goes in SLACK_APP_TOKEN",
    "xoxe.": "a refresh token",
    "xoxe-": "a refresh token",
    "xoxa-": "a workspace app token",
}


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=True)

    # Secrets (and the database URL, which may hold a password) stay out of the repr, so a
    # traceback or a log line that shows the settings never shows them.
    SLACK_BOT_TOKEN: str = Field(default="", repr=False)
    SLACK_SIGNING_SECRET: str = Field(default="", repr=False)
    SLACK_APP_TOKEN: str = Field(default="", repr=False)
    SLACK_API_URL: str = DEFAULT_API_URL
    DATABASE_URL: str = Field(default=DEFAULT_DATABASE_URL, repr=False)
    SUPPORT_CONFIG: Path = Path("app.yaml")
    PORT: int = Field(default=3000, ge=1, le=65535)
    HOST: str = "0.0.0.0"
    LOG_LEVEL: LogLevel = "INFO"
    # json: one JSON object per line (time, level, logger, message), for a log collector.
    LOG_FORMAT: LogFormat = "text"
    # Threads that carry out Slack requests after their ack (acks run on the HTTP server's
    # threads), in each process: 16, or 8 with 2 workers and more (`work_threads`). Each may
    # hold a database connection, and the pool is sized from it; more threads than the cores
    # can keep busy only take turns at the interpreter, and slow the acks down.
    LISTENER_THREADS: int | None = Field(default=None, ge=4, le=512)
    # Seconds between two scheduler posts to one channel (Slack allows about one a second).
    SLACK_CHANNEL_INTERVAL: float = Field(default=1.0, ge=0, le=60)
    # Set to false to serve without running the scheduler in this process.
    RUN_SCHEDULER: bool = True
    # Processes serving HTTP behind the one port (`serve --workers N` wins); PostgreSQL only.
    WORKERS: int = Field(default=1, ge=1, le=64)

    @property
    def work_threads(self) -> int:
        """LISTENER_THREADS, else 16 for one process and 8 for each of several."""
        return self.LISTENER_THREADS or (16 if self.WORKERS == 1 else 8)

    @property
    def database_pool_size(self) -> int:
        """Connections for every work thread, and some for deliveries and the scheduler."""
        return self.work_threads + 8

    @field_validator("SLACK_API_URL")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as http://127.0.0.1:8765/api/")
        return value if value.endswith("/") else value + "/"

    def require_slack(self) -> None:
        """Serving needs credentials; other commands (check-config, db upgrade) do not."""
        if not self.SLACK_BOT_TOKEN:
            raise SettingsError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-...).")
        if not self.SLACK_BOT_TOKEN.startswith("xoxb-"):
            kind = _TOKEN_KINDS.get(self.SLACK_BOT_TOKEN[:5], "not a Slack token")
            raise SettingsError(
                f"SLACK_BOT_TOKEN must be the bot token starting with xoxb- (this one is {kind}; "
                "see OAuth & Permissions, Bot User OAuth Token)."
            )
        if not self.SLACK_APP_TOKEN and not self.SLACK_SIGNING_SECRET:
            raise SettingsError(
                "SLACK_SIGNING_SECRET is not set (from your Slack app's Basic Information page)."
            )
        if self.SLACK_APP_TOKEN and not self.SLACK_APP_TOKEN.startswith("xapp-"):
            raise SettingsError("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        raise SettingsError(f"{name}: {first['msg'].removeprefix('Value error, ')}") from None
