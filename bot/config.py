"""Settings from the environment or `.env` (pydantic-settings).

Kept free of any Telegram import so operator commands stay fast.
"""
from __future__ import annotations

import sys
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing import Annotated

MAX_REFERRAL_LEVELS = 3  # deeper chains read as pyramid selling
SUPPORTED_LOCALES = ("zh-CN", "en")
FRAMEWORKS = ("aiogram", "ptb")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str = Field(default="", description="Token from @BotFather")
    database_url: str = "sqlite+aiosqlite:///referral.db"
    telegram_api_url: str = "https://api.telegram.org"
    bot_framework: str = "aiogram"
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    default_locale: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    bind_window_hours: int = Field(default=72, ge=0)
    referral_levels: int = Field(default=2, ge=1)
    webhook_url: str = ""
    webhook_secret: str = ""
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, ge=0, le=65535)
    redis_url: str = ""
    api_secret: str = ""
    program_file: str = ""
    log_level: str = "INFO"
    # auto: uvloop when installed, else asyncio's own loop (bot/runtime/loop.py).
    event_loop: str = "auto"
    # Rule changes take effect at least this many days after they are announced (unless --urgent).
    rule_notice_days: int = Field(default=7, ge=0)
    # allow_paid_broadcast: up to 1,000 broadcast messages/s, billed in Telegram Stars.
    broadcast_paid: bool = False
    # Risk-education tips: one every TIP_INTERVAL_DAYS per user (0 = none), sent between
    # TIP_HOURS local time (start-end, 24 h clock), never more than one unasked-for message a day.
    tip_interval_days: int = Field(default=7, ge=0)
    tip_hours: str = "10-20"
    # How often the tip job looks for users due a tip (seconds); tests shorten it.
    tip_check_seconds: float = Field(default=300.0, gt=0)
    # Someone who joins a group through a member's invite link counts for that member once they
    # have stayed this long (0: at once).
    group_min_stay_hours: float = Field(default=24.0, ge=0)
    # Anti-fraud: more bindings than this under one referrer in an hour / a local day flags them;
    # agents sign up whole stations, so their limits are their own.
    fraud_hourly_bindings: int = Field(default=5, ge=1)
    fraud_daily_bindings: int = Field(default=20, ge=1)
    agent_hourly_bindings: int = Field(default=60, ge=1)
    agent_daily_bindings: int = Field(default=300, ge=1)
    # A burst: this many referees bound under one referrer within FRAUD_BURST_SECONDS.
    fraud_burst_count: int = Field(default=4, ge=2)
    fraud_burst_seconds: float = Field(default=10.0, gt=0)
    # A beneficiary with this many ledger entries after their latest checkpoint gets a new one
    # (bot/services/rewards/checkpoints.py), so their balance reads stop summing every entry;
    # 0 turns checkpoints off.
    ledger_checkpoint_entries: int = Field(default=2000, ge=0)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in value.replace(";", ",").replace(" ", ",").split(",") if p]
            try:
                return tuple(int(p) for p in parts)
            except ValueError:
                raise ValueError("must be a comma-separated list of Telegram user ids") from None
        if isinstance(value, int):
            return (value,)
        return value

    @field_validator("referral_levels")
    @classmethod
    def _cap_levels(cls, value: int) -> int:
        if value > MAX_REFERRAL_LEVELS:
            raise ValueError(f"at most {MAX_REFERRAL_LEVELS}: deeper chains read as pyramid selling")
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("event_loop")
    @classmethod
    def _known_loop(cls, value: str) -> str:
        from bot.runtime.loop import LOOPS

        return _one_of(value, LOOPS, "event loop")

    @field_validator("bot_framework")
    @classmethod
    def _known_framework(cls, value: str) -> str:
        return _one_of(value, FRAMEWORKS, "runtime")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not an IANA time zone such as Asia/Shanghai") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("webhook_url", "telegram_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("tip_hours")
    @classmethod
    def _hour_range(cls, value: str) -> str:
        start, sep, end = value.partition("-")
        if not sep or not start.strip().isdigit() or not end.strip().isdigit() \
                or not 0 <= int(start) < int(end) <= 24:
            raise ValueError("must be a local hour range such as 10-20 (start < end, 0..24)")
        return f"{int(start)}-{int(end)}"

    @property
    def tip_window(self) -> tuple[int, int]:
        start, _, end = self.tip_hours.partition("-")
        return int(start), int(end)

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def require_bot(self) -> None:
        """Checks what only the running bot needs, so `user`/`migrate` work without a token."""
        token = self.bot_token.strip()
        if not token:
            raise ConfigError("BOT_TOKEN is not set: put the token from @BotFather in the environment or .env")
        head, _, tail = token.partition(":")
        if not head.isdigit() or not tail:
            raise ConfigError("BOT_TOKEN is malformed: expected <digits>:<secret> as issued by @BotFather")
        if self.webhook_url and not self.webhook_secret:
            raise ConfigError("WEBHOOK_SECRET is required when WEBHOOK_URL is set (Telegram sends it back in X-Telegram-Bot-Api-Secret-Token)")
        if self.webhook_secret and not all(c.isalnum() or c in "_-" for c in self.webhook_secret):
            raise ConfigError("WEBHOOK_SECRET may contain only A-Z, a-z, 0-9, _ and - (Telegram's rule)")


def _one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    value = value.strip().lower()
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; allowed values: {', '.join(allowed)}")
    return value


def load_settings(**overrides: object) -> Settings:
    """Builds Settings or raises ConfigError with one line naming the variable and the reason."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "configuration"
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name}: {msg}") from None


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
