"""The aiogram 3 runtime (the default)."""
import importlib

from bot.runtime.aiogram import lazy_models

# Before anything in this package imports aiogram: its models are then built on first use.
if lazy_models.install():
    importlib.import_module("aiogram")  # and with it every aiogram type and method
    lazy_models.complete()
