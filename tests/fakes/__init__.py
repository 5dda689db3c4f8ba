"""Test doubles that speak real protocols (the fake Telegram Bot API server)."""
from .telegram_server import BLOCKED, Call, FakeTelegram, FloodLimits, TelegramError, TgUser

__all__ = ["BLOCKED", "Call", "FakeTelegram", "FloodLimits", "TelegramError", "TgUser"]
