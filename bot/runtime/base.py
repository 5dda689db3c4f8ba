"""What a Telegram library must provide to run the bot; everything else is shared."""
from __future__ import annotations

from typing import Protocol

from bot.runtime.pipeline import Pipeline
from bot.transport import Transport


class Runtime(Protocol):
    transport: Transport

    async def open(self, pipeline: Pipeline) -> str:
        """Connects updates to the pipeline; returns the bot's username (getMe)."""

    async def start_polling(self, allowed_updates: list[str]) -> None:
        """Starts long polling in the background and returns."""

    async def stop_polling(self) -> None: ...

    async def feed_webhook(self, data: dict) -> None:
        """Handles one update posted to the webhook, returning when it is handled."""

    async def set_webhook(self, url: str, secret: str, allowed_updates: list[str]) -> None: ...

    async def delete_webhook(self) -> None: ...

    async def close(self) -> None: ...
