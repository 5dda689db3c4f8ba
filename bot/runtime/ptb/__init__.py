"""The python-telegram-bot 22 runtime (BOT_FRAMEWORK=ptb)."""
