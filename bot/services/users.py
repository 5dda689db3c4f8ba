"""First contact, profile and language: who is talking to the bot."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.config import SUPPORTED_LOCALES
from bot.services.read_cache import ReadCache
from db.repositories.users import UserRow
from db.uow import UnitOfWork


@dataclass(frozen=True)
class TelegramProfile:
    """What Telegram tells us about a person; the runtime fills it from the update."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False


@dataclass
class UserService:
    uow: UnitOfWork
    clock: Clock
    admin_ids: frozenset[int]
    cache: ReadCache[UserRow] | None = None

    async def touch(self, profile: TelegramProfile, cached: bool = False) -> tuple[UserRow, bool]:
        """Records the person on first contact, whatever they sent; True when this was it.

        `cached`: an idempotent turn may take the row from the read cache (bot.services.read_cache).
        """
        cache = self.cache
        if cached and cache is not None:
            hit = cache.get(profile.id)
            if hit is not None and _current(hit, profile):
                return hit, False
        generation = cache.generation if cache is not None else 0
        row, created = await self.uow.users.get_or_insert(**self._new_row(profile))
        return await self._settle(profile, row, created, generation)

    async def claim_and_touch(self, update_id: int, profile: TelegramProfile) -> tuple[bool, UserRow | None, bool]:
        """UpdateRepository.claim and touch in one round trip, where the database can
        (UserRepository.claims_in_one_statement): (claimed, row, created); no row when not claimed."""
        generation = self.cache.generation if self.cache is not None else 0
        claimed, row, created = await self.uow.users.claim_and_get_or_insert(update_id, **self._new_row(profile))
        if not claimed:
            return False, None, False
        row, created = await self._settle(profile, row, created, generation)
        return True, row, created

    def _new_row(self, profile: TelegramProfile) -> dict:
        return dict(user_id=profile.id, first_name=profile.first_name, username=profile.username,
                    is_bot=profile.is_bot, tg_language=profile.language_code, now=self.clock.now())

    async def _settle(self, profile: TelegramProfile, row: UserRow | None, created: bool,
                      generation: int) -> tuple[UserRow, bool]:
        cache = self.cache
        if row is None:  # a concurrent first update of the same person inserted it
            row = await self.uow.users.get(profile.id)
            assert row is not None
        elif not created and cache is not None and _current(row, profile):
            cache.put(row.id, row, generation)  # a committed row that this turn leaves as it is
        if row.status == "blocked":
            # They wrote to us, so they unblocked the bot: notices may flow again.
            await self.uow.users.set_status(profile.id, "active")
            row = await self.uow.users.get(profile.id)
            assert row is not None
        if not created and not _same_profile(row, profile):
            # Names change; the masked name shown to referrers should follow.
            await self.uow.users.refresh_profile(profile.id, profile.first_name, profile.username, profile.language_code)
            row = await self.uow.users.get(profile.id)
            assert row is not None
        return row, created

    def role_of(self, user: UserRow) -> str:
        return "admin" if user.id in self.admin_ids else user.role

    async def set_language(self, user_id: int, language: str) -> None:
        if language not in SUPPORTED_LOCALES:
            raise ValueError(language)
        await self.uow.users.set_language(user_id, language)

    def within_bind_window(self, user: UserRow, window_hours: int) -> bool:
        return self.clock.now() - user.first_seen_at <= timedelta(hours=window_hours)


def _same_profile(row: UserRow, profile: TelegramProfile) -> bool:
    return (row.first_name == profile.first_name[:128] and row.username == (profile.username or None)
            and row.tg_language == (profile.language_code or None))


def _current(row: UserRow, profile: TelegramProfile) -> bool:
    """touch would leave this row as it is: same names and language, and not marked blocked."""
    return row.status != "blocked" and _same_profile(row, profile)
