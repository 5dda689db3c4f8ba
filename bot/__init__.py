"""Referral assistant: a Telegram bot and a small HTTP API for a lending platform's referral program."""
