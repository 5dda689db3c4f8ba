"""`referral-bot export --agent ID --csv`: an agent's residents, one CSV row each.

The same bytes as the export button under /residents (bot/services/residents.py): headings in
the agent's language, masked names, no ids, UTF-8 with a byte-order mark so that a file
redirected from stdout opens in Excel with its Chinese intact. An unknown id, or a user who
is neither an agent nor an admin, is one line on stderr and exit status 1.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from bot.config import Settings


class NotAnAgent(Exception):
    pass


async def _export(settings: "Settings", agent_id: int) -> bytes:
    from bot.i18n import I18n, resolve_locale
    from bot.services.residents import ResidentsService, csv_header
    from db.engine import make_engine, make_sessionmaker
    from db.uow import UnitOfWork

    engine = make_engine(settings.database_url)
    try:
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            user = await uow.users.get(agent_id)
            if user is None:
                raise NotAnAgent(f"no user with id {agent_id}")
            role = "admin" if agent_id in settings.admin_ids else user.role
            if role not in ("agent", "admin"):
                raise NotAnAgent(f"user {agent_id} is not an agent (role: {role}); `referral-bot promote "
                                 f"{agent_id} agent` makes them one")
            locale = resolve_locale(user.language, user.tg_language, settings.default_locale)
            i18n = I18n(settings.default_locale)
            header = csv_header(lambda key: i18n.t(locale, key))
            data, _ = await ResidentsService(uow, settings.tz).csv_export(agent_id, header)
            return data
    finally:
        await engine.dispose()


def export(
    agent: int = typer.Option(..., "--agent", help="The agent's Telegram id."),
    csv: bool = typer.Option(True, "--csv/--no-csv", help="CSV on stdout (the only format so far)."),
) -> None:
    """An agent's residents as CSV: station, code, masked name, bound at, credit approved, first loan,
    on-time repayments."""
    import sys

    from bot.cli.common import fail, require_database, run_db
    from bot.config import settings_or_exit

    if not csv:
        raise fail("export: CSV is the only format; drop --no-csv", 2)
    settings = settings_or_exit()
    require_database(settings)
    try:
        data = run_db(_export(settings, agent))
    except NotAnAgent as exc:
        raise fail(f"export: {exc}") from None
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
