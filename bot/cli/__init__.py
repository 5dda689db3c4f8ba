"""Operator commands (`referral-bot ...`).

Only `run` touches a Telegram library; every other command keeps its imports
lazy (Typer at start, SQLAlchemy and Rich when needed) so it answers fast.
"""
