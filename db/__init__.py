"""Storage: SQLAlchemy 2 async models, engine, unit of work and Alembic migrations.

Nothing here imports `bot` or `handlers`; the rules the database enforces live
here as constraints, the rest of the program's rules live in `bot.services`.
"""
