"""Runtimes adapt a Telegram library to the framework-neutral pipeline.

Only modules below bot/runtime/<library>/ import that library; everything they
share (the pipeline, start-up, the outbox wiring) lives here once.
"""
