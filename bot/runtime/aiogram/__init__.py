"""The aiogram 3 runtime (the default)."""
