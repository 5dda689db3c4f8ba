"""Referral codes: short, unambiguous, valid deep-link payloads, stable forever."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.services.read_cache import ReadCache
from db.repositories.codes import CodeRow
from db.uow import UnitOfWork

# No 0/O/1/I/L: codes are read off posters and typed by hand.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# Telegram's rule for a /start payload: at most 64 of A-Za-z0-9_-.
PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
RESERVED_PREFIX = "_tgr_"  # Telegram uses it for its own referral program links


def new_code() -> str:
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    assert not code.startswith(RESERVED_PREFIX)  # the alphabet has no underscore
    return code


def is_valid_payload(payload: str) -> bool:
    return PAYLOAD_RE.fullmatch(payload) is not None


def normalize(code: str) -> str:
    """Codes are shown upper-case; people type them in any case."""
    return code.strip().upper()


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


@lru_cache(maxsize=4096)  # every /code of a user asks for the same one
def share_url(link: str, text: str) -> str:
    """Telegram's share sheet: the user picks a chat, the text and link are prefilled."""
    return f"https://t.me/share/url?url={quote(link, safe='')}&text={quote(text, safe='')}"


@dataclass
class CodeService:
    uow: UnitOfWork
    clock: Clock
    cache: ReadCache[CodeRow] | None = None

    async def personal_code(self, owner_id: int) -> CodeRow:
        """The user's code, created on first use; the partial unique index settles a race."""
        cache = self.cache
        if cache is not None:
            hit = cache.get(owner_id)
            if hit is not None:
                return hit
        generation = cache.generation if cache is not None else 0
        existing = await self.uow.codes.personal(owner_id)
        if existing:
            if cache is not None and existing.qr_file_id:
                cache.put(owner_id, existing, generation)  # final: a code and its QR never change
            return existing
        for _ in range(8):
            try:
                async with self.uow.savepoint():
                    await self.uow.codes.insert(
                        code=new_code(), owner_id=owner_id, kind="personal", label=None, now=self.clock.now()
                    )
            except IntegrityError:
                pass  # a code collision or a concurrent /code of the same user: look again
            existing = await self.uow.codes.personal(owner_id)
            if existing:
                return existing
        raise RuntimeError("could not allocate a unique referral code")

    async def remember_qr(self, code_id: int, file_id: str) -> None:
        await self.uow.codes.set_qr_file_id(code_id, file_id)
