"""`referral-bot demo`: an invented referral forest to look around in.

Users get ids from DEMO_BASE up, far above any Telegram user id handed out
today (about 10^10), so they can never be mistaken for real people. The
layout is a pure function of the index: the same index always gets the same
name and the same referrer, whatever --users says, so running the command
again (with any count) adds only what is missing and never duplicates.

Every 8 users: 1 root (level 1), 3 referees of a root (level 2), 4 referees of
those (level 3). User 0 is a community-station agent with two station codes;
some of its referees arrive through those, the rest through personal codes.
All binding goes through BindingService, as a real /start would; the join
notices it queues are deleted in the same transaction (they would go to
chat ids that don't exist).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import delete

from bot.clock import SystemClock
from bot.services.binding import BindingService, Outcome
from bot.services.codes import CodeService, new_code
from db.models import OutboxMessage
from db.uow import UnitOfWork

DEMO_BASE = 9_000_000_000_000
DEMO_SPAN = 1_000_000  # demo ids: DEMO_BASE .. DEMO_BASE + DEMO_SPAN - 1
MAX_USERS = 10_000
CHUNK = 200  # users per transaction
SUMMARY_USERS = 64  # the summary shows users from the start of the layout; counts are read for these

ZH_NAMES = (
    "王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "赵丽", "黄强", "周杰", "吴芳",
    "徐涛", "孙明", "马超", "朱霞", "胡军", "郭艳", "何勇", "林娟", "高峰", "罗欣",
    "梁晨", "宋佳", "郑浩", "谢婷", "韩雪", "唐鑫", "冯宇", "邓琳", "曹阳", "彭丹",
)
EN_NAMES = (
    "Emily", "James", "Olivia", "Liam", "Sophia", "Noah", "Grace", "Lucas", "Chloe", "Ethan",
    "Mia", "Daniel", "Hannah", "Ryan", "Zoe", "Jack", "Amelia", "Leo", "Ella", "Owen",
)
AGENT_INDEX = 0
STATION_LABELS = ("幸福里社区服务站", "翠苑街道便民点")


@dataclass(frozen=True)
class DemoUser:
    index: int
    id: int
    first_name: str
    tg_language: str
    chosen_language: str | None
    parent: int | None  # index of the referrer
    level: int  # 1 for a root
    via_station: int | None  # which of the agent's station codes, if any


def demo_user(index: int) -> DemoUser:
    """The index-th demo user; depends on nothing else (that is what makes re-runs safe)."""
    rng = random.Random(f"referral-demo-{index}")
    position, block = index % 8, index // 8
    if position == 0:
        parent, level = None, 1
    elif position <= 3:
        # a root: mostly the latest one, now and then an earlier one
        parent, level = 8 * (block if rng.random() < 0.7 else rng.randint(0, block)), 2
    else:
        # a level-2 user among the last few before this one
        candidates = [j for j in range(max(0, index - 12), index) if 1 <= j % 8 <= 3]
        parent, level = rng.choice(candidates), 3
    chinese = rng.random() < 0.65
    name = rng.choice(ZH_NAMES if chinese else EN_NAMES)
    tg_language = rng.choice(("zh-hans", "zh-hans", "zh")) if chinese else rng.choice(("en", "en-US", "en-GB"))
    # a few picked the other language with /language
    chosen = ("en" if chinese else "zh-CN") if rng.random() < 0.1 else None
    via_station = rng.randrange(len(STATION_LABELS)) if parent == AGENT_INDEX and rng.random() < 0.6 else None
    return DemoUser(index, DEMO_BASE + index, name, tg_language, chosen, parent, level, via_station)


@dataclass
class SeedReport:
    users: list[DemoUser]
    created_users: int = 0
    created_bindings: int = 0
    codes: dict[int, list[str]] = field(default_factory=dict)  # user id -> codes, personal first
    counts: dict[int, dict[int, int]] = field(default_factory=dict)  # first SUMMARY_USERS: id -> {depth: count}


async def _station_codes(uow: UnitOfWork, clock: SystemClock, owner_id: int) -> list[str]:
    existing = {c.label: c.code for c in await uow.codes.of_owner(owner_id) if c.kind == "station"}
    codes = []
    for label in STATION_LABELS:
        if label not in existing:
            code = new_code()
            await uow.codes.insert(code=code, owner_id=owner_id, kind="station", label=label, now=clock.now())
            existing[label] = code
        codes.append(existing[label])
    return codes


async def _seed_chunk(uow: UnitOfWork, clock: SystemClock, levels: int, chunk: list[DemoUser], report: SeedReport) -> None:
    codes = CodeService(uow, clock)
    binding = BindingService(uow, clock, levels)
    for u in chunk:
        created = await uow.users.insert_if_absent(
            user_id=u.id, first_name=u.first_name, username=None, is_bot=False, tg_language=u.tg_language,
            now=clock.now(),
        )
        report.created_users += created is not None
        if created and u.chosen_language:
            await uow.users.set_language(u.id, u.chosen_language)
        if created and u.index == AGENT_INDEX:
            await uow.users.set_role(u.id, "agent")
        personal = await codes.personal_code(u.id)
        report.codes[u.id] = [personal.code]
        if u.index == AGENT_INDEX:
            report.codes[u.id] += await _station_codes(uow, clock, u.id)
        if u.parent is None:
            continue
        parent_id = DEMO_BASE + u.parent
        code = report.codes[parent_id][0 if u.via_station is None else 1 + u.via_station]
        result = await binding.bind(u.id, code, source="seed")
        if result.outcome is Outcome.BOUND:
            report.created_bindings += 1
        elif result.outcome is not Outcome.ALREADY_BOUND:
            raise RuntimeError(f"demo user {u.id} could not bind to {parent_id}: {result.outcome.value}")
        else:
            existing = await uow.referrals.binding_of(u.id)
            if existing is None or existing.referrer_id != parent_id:
                raise RuntimeError(f"demo user {u.id} is bound to someone else than {parent_id}")
    # The join notices would go to chat ids that don't exist: drop them with the rest of the seed.
    await uow.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.state == "pending",
            OutboxMessage.chat_id >= DEMO_BASE,
            OutboxMessage.chat_id < DEMO_BASE + DEMO_SPAN,
        )
    )


async def seed(database_url: str, *, users: int, levels: int) -> SeedReport:
    """Migrates, then creates whatever of the first `users` demo users is missing."""
    from db.engine import make_engine, make_sessionmaker
    from db.migrate import upgrade

    if not 1 <= users <= MAX_USERS:
        raise ValueError(f"--users must be between 1 and {MAX_USERS}")
    await upgrade(database_url)
    layout = [demo_user(i) for i in range(users)]
    report = SeedReport(layout)
    clock = SystemClock()
    engine = make_engine(database_url)
    try:
        sessionmaker = make_sessionmaker(engine)
        for start in range(0, users, CHUNK):
            async with UnitOfWork(sessionmaker) as uow:
                await _seed_chunk(uow, clock, levels, layout[start:start + CHUNK], report)
                await uow.commit()
        async with UnitOfWork(sessionmaker) as uow:
            for u in layout[:SUMMARY_USERS]:
                report.counts[u.id] = await uow.referrals.counts(u.id)
    finally:
        await engine.dispose()
    return report
