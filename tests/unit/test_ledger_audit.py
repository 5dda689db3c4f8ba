"""`ledger check`: the audit passes on a clean history and names what is wrong after tampering.

The ledger refuses UPDATE and DELETE, but an INSERT is possible (a bug, a
hand-written fix); an event marked applied whose effects never reached the
ledger is the other way round. Both must be found, in process and through the
command line (exit 0 when clean, 1 with the problems listed).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, select

from bot.app import App
from bot.clock import FrozenClock
from bot.config import Settings, load_settings
from bot.i18n import I18n
from bot.runtime.pipeline import Pipeline
from bot.services.events.intake import EventIntake
from bot.services.rewards.audit import audit
from bot.services.rewards.programs import ProgramBook
from db.engine import make_engine, make_sessionmaker
from db.models import Event, LedgerEntry, QualifiedReferee
from tests.conftest import T0
from tests.support import RecordingTransport, message, person

ROOT = Path(__file__).resolve().parents[2]
SETTING_NAMES = {name.upper() for name in Settings.model_fields}
A, B, C, D = 1001, 1002, 1003, 1004


async def submit(intake: EventIntake, **fields) -> dict:  # noqa: ANN003
    now = intake.app.clock.now()
    fields.setdefault("occurred_at", now.isoformat())
    result = await intake.submit(json.dumps(fields).encode(), received_at=now)
    intake.app.clock.advance(seconds=1)
    return {**result.body, "http": result.http_status}


async def seed(app: App, pipeline: Pipeline, transport: RecordingTransport, intake: EventIntake) -> None:
    """A → B → C → D bound in the bot; every kind of event, out-of-order delivery and a refused payout."""
    await pipeline.handle(message(person(A, "Alice"), "/code"))
    code_a = re.search(r"start=(\w+)", transport.last(A).text).group(1)
    await pipeline.handle(message(person(B, "Bobby"), f"/start {code_a}"))
    await pipeline.handle(message(person(B, "Bobby"), "/code"))
    code_b = re.search(r"start=(\w+)", transport.last(B).text).group(1)
    await pipeline.handle(message(person(C, "Carol"), f"/start {code_b}"))
    app.clock.advance(minutes=5)
    await pipeline.handle(message(person(C, "Carol"), "/code"))
    code_c = re.search(r"start=(\w+)", transport.last(C).text).group(1)
    await pipeline.handle(message(person(D, "Derek"), f"/start {code_c}"))
    app.clock.advance(minutes=5)
    for uid in (A, B):
        assert (await submit(intake, id=f"ca-{uid}", type="credit_approved", user={"telegram_id": uid}))["http"] == 202
    assert (await submit(intake, id="fl-c", type="first_loan", user={"telegram_id": C}, amount_fen=100000))["http"] == 202
    assert (await submit(intake, id="rv-d", type="reversal", user={"telegram_id": D}, event_id="fl-d"))["http"] == 202
    assert (await submit(intake, id="fl-d", type="first_loan", user={"telegram_id": D}, amount_fen=5000))["http"] == 202
    for i in range(3):
        await submit(intake, id=f"rp-c{i}", type="repayment_on_time", user={"telegram_id": C}, loan_id=f"L{i}")
    await submit(intake, id="sc-c", type="second_credit", user={"telegram_id": C}, amount_fen=1)
    # A platform-only person, registered with B's code, linked to a Telegram id later.
    await submit(intake, id="x-early", type="first_loan", user={"external_id": "P-7"}, amount_fen=1)
    await submit(intake, id="x-reg", type="registered", user={"external_id": "P-7"}, referral_code=code_b)
    await submit(intake, id="x-link", type="account_linked", user={"external_id": "P-7", "telegram_id": 5005})
    app.clock.advance(days=2)
    refused = await submit(intake, id="po-1", type="payout", user={"telegram_id": B}, amount_fen=10**9)
    assert refused["http"] == 400
    assert (await submit(intake, id="po-2", type="payout", user={"telegram_id": B}, amount_fen=3000))["http"] == 202
    assert (await submit(intake, id="rv-c", type="reversal", user={"telegram_id": C}, event_id="sc-c"))["http"] == 202


async def test_a_clean_history_passes(app, pipeline, transport, intake):  # noqa: ANN001
    await seed(app, pipeline, transport, intake)
    report = await audit(app)
    assert report.ok, report.problems
    assert report.replayed and report.replayed_events == report.events == 15
    assert report.entries == report.replayed_entries > 10
    assert report.beneficiaries == 3  # A, B, C


async def test_freezes_are_replayed_from_the_audit_log(app, pipeline, transport, intake):  # noqa: ANN001
    from bot.services.admin_actions import AdminActions
    from bot.services.audit import AuditLog

    await seed(app, pipeline, transport, intake)
    async with app.uow() as uow:  # B frozen from the shell: C's next conversion pays B nothing
        actions = AdminActions(uow, AuditLog(uow, app.clock), frozenset())
        assert (await actions.freeze(B, actor_id=None, via="cli", reason="checking")).done
        await uow.commit()
    app.clock.advance(seconds=1)
    await submit(intake, id="rp-c9", type="repayment_on_time", user={"telegram_id": C}, loan_id="L9")
    async with app.uow() as uow:
        actions = AdminActions(uow, AuditLog(uow, app.clock), frozenset())
        assert (await actions.unfreeze(B, actor_id=None, via="cli")).done
        await uow.commit()
    app.clock.advance(seconds=1)
    await submit(intake, id="rp-c10", type="repayment_on_time", user={"telegram_id": C}, loan_id="L10")
    report = await audit(app)
    assert report.ok, report.problems
    assert not any("not active now" in note for note in report.notes)
    async with app.uow() as uow:
        paid = {e.beneficiary_id for key in ("rp-c9", "rp-c10")
                for e in await uow.ledger.of_event((await uow.events.by_key(key)).id)}
        b_entries = [e for e in await uow.ledger.of_event((await uow.events.by_key("rp-c9")).id)
                     if e.beneficiary_id == B]
    assert B in paid and b_entries == []  # paid after the unfreeze, not while frozen


async def test_an_inserted_entry_is_found(app, pipeline, transport, intake):  # noqa: ANN001
    await seed(app, pipeline, transport, intake)
    async with app.uow() as uow:
        event_id = (await uow.events.by_key("fl-c")).id
        # Consistent on its own (a tier bonus on a first loan, for its referrer): only the events tell.
        uow.session.add(LedgerEntry(event_id=event_id, beneficiary_id=B, level=1, rule="tier:5", kind="tier_bonus",
                                    amount_fen=10000, program_version=1, available_at=T0, created_at=T0))
        await uow.commit()
    report = await audit(app)
    assert not report.ok
    assert report.problems == ["not reproduced by replaying the events: event fl-c: tier_bonus tier:5 level 1 "
                               f"to user {B}, 10000 fen"]


async def test_tier_counts_that_disagree_with_the_events_are_found(app, pipeline, transport, intake):  # noqa: ANN001
    await seed(app, pipeline, transport, intake)
    async with app.uow() as uow:
        rows = (await uow.session.execute(select(QualifiedReferee.referee_id, QualifiedReferee.referrer_id))).all()
        # D's first loan was reversed; P-7's, applied once registered under B, moved with the merge to 5005.
        assert sorted(rows) == [(C, B), (5005, B)]
        await uow.session.execute(delete(QualifiedReferee).where(QualifiedReferee.referee_id == C))
        uow.session.add(QualifiedReferee(referee_id=D, referrer_id=C, event_id=(await uow.events.by_key("fl-d")).id,
                                         qualified_at=app.clock.now()))
        await uow.commit()
    report = await audit(app, replay=False)
    assert sorted(report.problems) == [
        f"user {C}'s first loan fl-c does not count towards their referrer {B}'s tiers",
        f"user {D} counts towards user {C}'s tiers through event fl-d, which is not their applied, unreversed first "
        f"loan under that referrer (bound to {C})"]


async def test_a_reversal_that_does_not_negate_and_an_overdrawn_payout_are_found(app, pipeline, transport, intake):  # noqa: ANN001
    await seed(app, pipeline, transport, intake)
    async with app.uow() as uow:
        entries = await uow.ledger.all_entries()
        target = next(e for e in entries if e.rule == "repayment_on_time")
        reversal_event = (await uow.events.by_key("rv-d")).id
        payout_event = (await uow.events.by_key("po-2")).id
        uow.session.add(LedgerEntry(event_id=reversal_event, beneficiary_id=A, level=1, rule="reversal:repayment_on_time",
                                    kind="reversal", amount_fen=-1, program_version=1, reverses_id=target.id,
                                    available_at=T0, created_at=T0))
        uow.session.add(LedgerEntry(event_id=payout_event, beneficiary_id=B, level=0, rule="payout:again",
                                    kind="payout", amount_fen=-10**6, program_version=1, available_at=app.clock.now(),
                                    created_at=app.clock.now()))
        await uow.commit()
    report = await audit(app, replay=False)
    text = "\n".join(report.problems)
    assert f"does not negate entry {target.id}" in text
    assert "took 1000000 fen but only" in text
    assert f"user {A}: entries sum to" in text  # a reversal of someone else's entry breaks the sums


async def test_an_event_whose_effects_are_missing_is_found(app, pipeline, transport, intake):  # noqa: ANN001
    await seed(app, pipeline, transport, intake)
    now = app.clock.now()
    raw = json.dumps({"id": "ghost", "type": "second_credit", "occurred_at": now.isoformat(),
                      "user": {"telegram_id": D}, "amount_fen": 1})
    async with app.uow() as uow:
        # Stored and marked applied, as if the process had died between the two halves of its work.
        uow.session.add(Event(key="ghost", type="second_credit", occurred_at=now, received_at=now, telegram_id=D,
                              user_id=D, amount_fen=1, body=raw, canonical=raw, outcome="applied", applied_at=now))
        await uow.commit()
    report = await audit(app)
    assert not report.ok
    assert sorted(report.problems) == sorted(
        f"missing from the ledger, produced by replaying the events: event ghost: reward second_credit "
        f"level {level} to user {who}, {fen} fen" for level, who, fen in ((1, C, 2000), (2, B, 500)))


async def test_a_reversal_delivered_first_is_settled_whatever_its_target_turns_out_to_be(app, pipeline, transport,  # noqa: ANN001
                                                                                          intake):
    """Found by the stateful test: it waited (pending_target) forever when its target paid nothing."""
    await seed(app, pipeline, transport, intake)
    await submit(intake, id="rv-ca", type="reversal", user={"telegram_id": D}, event_id="ca-d")
    await submit(intake, id="rv-fl2", type="reversal", user={"telegram_id": D}, event_id="fl2-d")
    assert (await submit(intake, id="ca-d", type="credit_approved", user={"telegram_id": D}))["outcome"] == "applied"
    assert (await submit(intake, id="fl2-d", type="first_loan", user={"telegram_id": D}, amount_fen=1))["outcome"] \
        == "ignored"  # D's second first loan
    async with app.uow() as uow:
        outcomes = {key: (await uow.events.by_key(key)).outcome for key in ("rv-ca", "rv-fl2")}
    assert outcomes == {"rv-ca": "refused", "rv-fl2": "applied"}  # as if they had come in order
    report = await audit(app)
    assert report.ok, report.problems


async def test_a_stranded_event_is_found(app, pipeline, transport, intake):  # noqa: ANN001
    await seed(app, pipeline, transport, intake)
    async with app.uow() as uow:
        # What a lost wake-up leaves: a first loan still waiting for a user the platform has linked.
        now = app.clock.now()
        raw = json.dumps({"id": "lost", "type": "first_loan", "occurred_at": now.isoformat(),
                          "user": {"external_id": "P-7"}, "amount_fen": 1})
        uow.session.add(Event(key="lost", type="first_loan", occurred_at=now, received_at=now - timedelta(days=9),
                              external_id="P-7", amount_fen=1, body=raw, canonical=raw, outcome="pending_user"))
        await uow.commit()
    report = await audit(app, replay=False)
    assert report.problems == ["event lost still waits for its user, but the platform has linked user 5005"]


# ------------------------------------------------------------------------------------------ the command

def cli_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES and not k.startswith("PYTHON")}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=database_url)
    return env


def ledger_check(cwd: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli.main", "ledger", "check"], cwd=cwd, env=cli_env(url),
                          capture_output=True, text=True, timeout=120)


async def seeded_file(tmp_path: Path) -> tuple[str, App]:
    from db.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    await upgrade(url)
    settings = load_settings(database_url=url, bot_token="1:test", admin_ids=(777,))
    engine = make_engine(url)
    app = App(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine), i18n=I18n(),
              clock=FrozenClock(T0), bot_username="ReferralTestBot")
    async with app.uow() as uow:
        await ProgramBook(app).publish_current(uow, app.program, app.clock.now())
        await uow.commit()
    transport = RecordingTransport()
    await seed(app, Pipeline(app, transport), transport, EventIntake(app))
    return url, app


async def test_the_command_exits_0_when_clean_and_1_with_the_problems(tmp_path):  # noqa: ANN001
    url, app = await seeded_file(tmp_path)
    try:
        clean = ledger_check(tmp_path, url)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert "ledger is consistent" in clean.stdout
        async with app.uow() as uow:
            event_id = (await uow.events.by_key("sc-c")).id
            uow.session.add(LedgerEntry(event_id=event_id, beneficiary_id=A, level=3, rule="second_credit",
                                        kind="reward", amount_fen=1, program_version=1, available_at=T0,
                                        created_at=T0))
            await uow.commit()
    finally:
        await app.close()
    broken = ledger_check(tmp_path, url)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "not reproduced by replaying the events" in broken.stdout
    assert "event sc-c: reward second_credit level 3 to user 1001, 1 fen" in broken.stdout.replace("\n", " ")


def test_the_command_refuses_a_missing_database(tmp_path):  # noqa: ANN001
    done = ledger_check(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'nothing.db'}")
    assert done.returncode == 1
    assert "no database at" in done.stderr and not (tmp_path / "nothing.db").exists()
