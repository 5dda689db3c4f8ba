"""Queries, one module per table group. No business rules: those live in bot.services."""
