from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import and_, bindparam, case, exists, false, func, literal, null, select, text, true, union_all, \
    update

from db.core import run
from db.dialect import PerDialect, dialect_name
from db.models import MENU_DUE, FraudFlag, HandledUpdate, ReferralClosure, ReferralCount, User
from db.repositories.base import Repository


@dataclass(frozen=True)
class UserRow:
    id: int
    first_name: str
    username: str | None
    is_bot: bool
    tg_language: str | None
    language: str | None
    role: str
    status: str
    first_seen_at: datetime
    external_id: str | None = None
    credit_approved_at: datetime | None = None


_COLUMNS = (
    User.id, User.first_name, User.username, User.is_bot, User.tg_language,
    User.language, User.role, User.status, User.first_seen_at, User.external_id, User.credit_approved_at,
)


@dataclass(frozen=True)
class MenuRow:
    """A user's role, chosen language (/language), and the command menu their private chat was
    last given (NULL: the default)."""

    id: int
    role: str
    command_menu: str | None
    language: str | None = None


@dataclass(frozen=True)
class UplineMember:
    user: UserRow
    direct_referees: int  # the kept count (referral_counts, depth 1)
    hold_flag_id: int | None  # their earliest open fraud flag


# Built once: compiling a statement per call costs more than running it.
_GET = select(*_COLUMNS).where(User.id == bindparam("uid"))
# The row and its lock (see lock()) in one trip: a conversion reads its referee and serialises on them.
_GET_LOCKED = _GET.with_for_update(key_share=True)
_by_external = select(*_COLUMNS).where(User.external_id == bindparam("ext"))
_BY_EXTERNAL = {False: _by_external, True: _by_external.with_for_update(key_share=True)}
_GET_MANY = select(*_COLUMNS).where(User.id.in_(bindparam("ids", expanding=True)))
# A referee's upline with each ancestor's row, nearest first: who a conversion pays, and whether they may earn.
_UPLINE_USERS = select(*_COLUMNS).join(ReferralClosure, ReferralClosure.ancestor_id == User.id).where(
    ReferralClosure.descendant_id == bindparam("uid"), ReferralClosure.depth <= bindparam("maxd")).order_by(
    ReferralClosure.depth)
# What a conversion reads about the upline, in one statement: each ancestor's row, kept number of
# direct referees (a first loan's tier screen) and earliest open fraud flag, which would hold a new
# earning (bot/services/fraud/holds.py). That flag is locked as FlagRepository.earliest_open locks it
# (FOR KEY SHARE, see db/repositories/flags.py), so a review deciding it waits for this transaction or
# is waited for.
_HOLD = (select(FraudFlag.id).where(FraudFlag.user_id == User.id, FraudFlag.state == "open")
         .order_by(FraudFlag.id).limit(1).with_for_update(read=True, key_share=True).scalar_subquery())
_UPLINE_MEMBERS = _UPLINE_USERS.add_columns(func.coalesce(ReferralCount.count, 0), _HOLD).outerjoin(
    ReferralCount, and_(ReferralCount.user_id == User.id, ReferralCount.depth == 1))
_MENU_COLUMNS = (User.id, User.role, User.command_menu, User.language)
_MENUS_OF = select(*_MENU_COLUMNS).where(User.id.in_(bindparam("ids", expanding=True)))
_LOCK = select(User.id).where(User.id == bindparam("uid")).with_for_update(key_share=True)
# Values come with each call's parameters: the statement (and its compiled form) is shared.
_INSERT_IF_ABSENT = PerDialect(lambda insert: insert(User).on_conflict_do_nothing(index_elements=[User.id])
                               .returning(*_COLUMNS))

_NEW_USER = ("id", "first_name", "username", "is_bot", "tg_language", "first_seen_at", "role", "status")


@cache  # built at first use: a process on SQLite never imports the PostgreSQL dialect (db/dialect.py)
def _get_or_insert_pg(claim: bool):  # noqa: ANN202
    """The user's row and whether this statement created it, in one round trip: the INSERT's
    RETURNING when it wrote, else the row already there. The outer SELECT cannot see the CTE's
    own insert, so at most one branch yields a row; neither does when a concurrent first insert
    has not committed yet, and the caller reads again.

    `claim`: also claim the update id (see UpdateRepository.claim), a turn's first two round
    trips in one. Every row then leads with whether the claim took, and a last branch yields a
    row of NULLs when no user row is visible, so the answer always arrives."""
    from sqlalchemy.dialects import postgresql

    newcomer = select(*(bindparam(c, type_=User.__table__.c[c].type) for c in _NEW_USER))
    lead: tuple = ()
    if claim:
        claimed = (postgresql.insert(HandledUpdate)
                   .values(update_id=bindparam("update_id"), handled_at=bindparam("handled_at"))
                   .on_conflict_do_nothing(index_elements=[HandledUpdate.update_id])
                   .returning(HandledUpdate.update_id).cte("claimed"))
        took = exists(select(claimed.c.update_id))
        # Only once the claim took: a redelivery racing the first delivery then waits on the claim
        # before it can touch the user row, so the two never wait on each other (a deadlock).
        newcomer = newcomer.where(took)
        lead = (took.label("claimed"),)
    inserted = (postgresql.insert(User).from_select(list(_NEW_USER), newcomer)
                .on_conflict_do_nothing(index_elements=[User.id]).returning(*_COLUMNS).cte("inserted"))
    none_inserted = ~exists(select(inserted.c.id))
    branches = [
        select(*lead, *inserted.c, true().label("created")),
        select(*lead, *_COLUMNS, false()).where(User.id == bindparam("id"), none_inserted),
    ]
    if claim:
        branches.append(select(*lead, *(null() for _ in _COLUMNS), false()).where(
            none_inserted, ~exists(select(User.id).where(User.id == bindparam("id")))))
    return union_all(*branches)


class UserRepository(Repository):
    async def get(self, user_id: int, *, lock: bool = False) -> UserRow | None:
        """With lock, the row is also locked as lock() does."""
        row = (await run(self.tx, _GET_LOCKED if lock else _GET, {"uid": user_id})).first()
        return UserRow(*row) if row else None

    async def get_many(self, ids: list[int]) -> dict[int, UserRow]:
        if not ids:
            return {}
        rows = await run(self.tx, _GET_MANY, {"ids": list(ids)})
        return {r[0]: UserRow(*r) for r in rows}

    async def upline_of(self, user_id: int, max_depth: int) -> list[UplineMember]:
        """The ancestors, nearest first, up to max_depth, with what a conversion needs of each."""
        rows = await run(self.tx, _UPLINE_MEMBERS, {"uid": user_id, "maxd": max_depth})
        return [UplineMember(UserRow(*r[:-2]), int(r[-2]), r[-1]) for r in rows]

    async def insert_if_absent(
        self, *, user_id: int, first_name: str, username: str | None, is_bot: bool,
        tg_language: str | None, now: datetime,
    ) -> UserRow | None:
        """The new row when this call created the user (first contact); None if they existed."""
        row = (await run(self.tx, _INSERT_IF_ABSENT[dialect_name(self.tx)],
                         _new_user(user_id, first_name, username, is_bot, tg_language, now))).first()
        return UserRow(*row) if row else None

    async def get_or_insert(
        self, *, user_id: int, first_name: str, username: str | None, is_bot: bool,
        tg_language: str | None, now: datetime,
    ) -> tuple[UserRow | None, bool]:
        """The user's row, created on first contact, and whether this call created it. The row is
        None only when a concurrent first insert of the same user has not committed yet."""
        if dialect_name(self.tx) != "postgresql":
            # SQLite's INSERT ... RETURNING cannot sit in a CTE; its statements are cheap trips anyway.
            row = await self.get(user_id)
            if row is not None:
                return row, False
            row = await self.insert_if_absent(user_id=user_id, first_name=first_name, username=username,
                                              is_bot=is_bot, tg_language=tg_language, now=now)
            return row, row is not None
        found = (await run(self.tx, _get_or_insert_pg(False),
                           _new_user(user_id, first_name, username, is_bot, tg_language, now))).first()
        return (UserRow(*found[:-1]), bool(found[-1])) if found else (None, False)

    @property
    def claims_in_one_statement(self) -> bool:
        return dialect_name(self.tx) == "postgresql"

    async def claim_and_get_or_insert(
        self, update_id: int, *, user_id: int, first_name: str, username: str | None, is_bot: bool,
        tg_language: str | None, now: datetime,
    ) -> tuple[bool, UserRow | None, bool]:
        """PostgreSQL only (see claims_in_one_statement): UpdateRepository.claim and get_or_insert
        in one round trip. (claimed, row, created); row None as in get_or_insert."""
        params = _new_user(user_id, first_name, username, is_bot, tg_language, now)
        params.update(update_id=update_id, handled_at=now)
        found = (await run(self.tx, _get_or_insert_pg(True), params)).one()
        claimed, created = bool(found[0]), bool(found[-1])
        return claimed, (UserRow(*found[1:-1]) if found[1] is not None else None), created

    async def refresh_profile(self, user_id: int, first_name: str, username: str | None, tg_language: str | None) -> None:
        await self.session.execute(
            update(User).where(User.id == user_id).values(
                first_name=first_name[:128], username=(username or None) and username[:64],
                tg_language=(tg_language or None) and tg_language[:16],
            )
        )

    async def by_external(self, external_id: str, *, lock: bool = False) -> UserRow | None:
        row = (await run(self.tx, _BY_EXTERNAL[lock], {"ext": external_id})).first()
        return UserRow(*row) if row else None

    async def lock(self, user_id: int) -> None:
        """Serialises balance-changing work per user (a row lock on PostgreSQL; SQLite has one writer)."""
        # NO KEY UPDATE: ledger inserts hold KEY SHARE on the row through their foreign key, and
        # FOR UPDATE would conflict with that and deadlock two concurrent conversions.
        await run(self.tx, _LOCK, {"uid": user_id})

    async def insert_platform_user(self, *, user_id: int, external_id: str | None, now: datetime) -> None:
        self.session.add(User(id=user_id, first_name="", is_bot=False, first_seen_at=now, role="user",
                              status="active", external_id=external_id))
        await self.session.flush()

    async def set_external_id(self, user_id: int, external_id: str) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(external_id=external_id))

    async def set_credit_approved(self, user_id: int, at: datetime) -> bool:
        """Set once; False if it was already set."""
        result = await self.session.execute(
            update(User).where(User.id == user_id, User.credit_approved_at.is_(None)).values(credit_approved_at=at))
        return result.rowcount == 1

    async def set_language(self, user_id: int, language: str) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(language=language))

    async def set_status(self, user_id: int, status: str) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(status=status))

    async def set_role(self, user_id: int, role: str) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(role=role))

    async def menus_of(self, ids: list[int]) -> list[MenuRow]:
        if not ids:
            return []
        return [MenuRow(*r) for r in await self.session.execute(_MENUS_OF, {"ids": list(ids)})]

    async def menus_due(self, versions: Mapping[tuple[str, str | None], str]) -> list[MenuRow]:
        """Everyone whose recorded menu is not the one `versions` gives their (stored role, chosen
        language). A language it does not list counts as none chosen, and a pair with no version
        (a user with no language chosen) means the default menu, NULL. By id."""
        # Language-specific pairs first: (role, None) then catches the rest of that role.
        ordered = sorted(versions.items(), key=lambda item: item[0][1] is None)
        expected = case(*((User.role == role if language is None else and_(User.role == role, User.language == language),
                           literal(version)) for (role, language), version in ordered), else_=null())
        # The index's own predicate, word for word, so the planner reads ix_users_menu, not a million rows.
        rows = await self.session.execute(select(*_MENU_COLUMNS).where(
            text(f"({MENU_DUE})"), User.command_menu.is_distinct_from(expected)).order_by(User.id))
        return [MenuRow(*r) for r in rows]

    async def set_command_menu(self, user_id: int, menu: str | None, *, was: str | None) -> bool:
        """Records the menu Telegram now shows them, if the record is still `was`; False otherwise."""
        result = await self.session.execute(update(User).where(
            User.id == user_id, User.command_menu.is_not_distinct_from(was)).values(command_menu=menu))
        return result.rowcount == 1


def _new_user(user_id: int, first_name: str, username: str | None, is_bot: bool, tg_language: str | None,
              now: datetime) -> dict:
    return dict(id=user_id, first_name=first_name[:128], username=(username or None) and username[:64],
                is_bot=is_bot, tg_language=(tg_language or None) and tg_language[:16],
                first_seen_at=now, role="user", status="active")
