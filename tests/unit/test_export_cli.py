"""`referral-bot export --agent ID --csv`, run as the operator runs it (a subprocess in an empty
directory), on SQLite and (with TEST_DATABASE_URL) PostgreSQL: the same CSV as the chat's export
button, and one line on stderr with exit 1 for an unknown id or a non-agent."""
from __future__ import annotations

import csv
import io

import pytest

from tests.unit.test_cli import BACKENDS, _imported_modules, execute, run_cli, scratch_database

AGENT, ZH_AGENT, USER, RESIDENT_A, RESIDENT_B, RESIDENT_C = 7001, 7002, 7003, 7101, 7102, 7103


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):  # noqa: ANN001, ANN201
    """An agent (en) with two stations and three residents; a Chinese agent with none; a plain user."""
    with scratch_database(request.param, tmp_path, "rb_export") as url:
        assert run_cli(tmp_path, url, "migrate").returncode == 0
        zone = "+00" if url.startswith("postgresql") else ""

        def ts(text: str) -> str:
            return f"'{text}{zone}'"

        users = [(AGENT, "Agnes", "agent", "'en'", "NULL"), (ZH_AGENT, "Zhang", "agent", "'zh-CN'", "NULL"),
                 (USER, "Uma", "user", "NULL", "NULL"),
                 (RESIDENT_A, "Barbara", "user", "NULL", ts("2026-11-20 02:00:00")),
                 (RESIDENT_B, "=cmd|calc", "user", "NULL", "NULL"), (RESIDENT_C, "李四", "user", "NULL", "NULL")]
        execute(url, *(
            f"INSERT INTO users (id, first_name, is_bot, role, status, first_seen_at, language, credit_approved_at) "
            f"VALUES ({uid}, '{name}', false, '{role}', 'active', {ts('2026-11-01 00:00:00')}, {lang}, {approved})"
            for uid, name, role, lang, approved in users),
            f"INSERT INTO codes (id, code, owner_id, kind, label, active, created_at) VALUES "
            f"(1, 'HAPPY234', {AGENT}, 'station', 'Happy Lane North', true, {ts('2026-11-01 00:00:00')}), "
            f"(2, 'MARKET23', {AGENT}, 'station', '幸福里, 东门', false, {ts('2026-11-01 00:00:00')})",
            f"INSERT INTO bindings (referee_id, referrer_id, code_id, source, bound_at, label) VALUES "
            f"({RESIDENT_A}, {AGENT}, 1, 'link', {ts('2026-11-16 02:00:00')}, 'Happy Lane'), "
            f"({RESIDENT_B}, {AGENT}, 1, 'link', {ts('2026-11-26 01:30:00')}, 'Happy Lane North'), "
            f"({RESIDENT_C}, {AGENT}, 2, 'bind', {ts('2026-11-25 17:00:00')}, '幸福里, 东门')",
            *(f"INSERT INTO events (key, type, occurred_at, received_at, telegram_id, user_id, body, canonical, "
              f"outcome) VALUES ('{key}', '{kind}', {ts(when)}, {ts(when)}, {uid}, {uid}, '{{}}', '{{}}', '{outcome}')"
              for key, kind, when, uid, outcome in [
                  ("fl-a", "first_loan", "2026-11-22 03:00:00", RESIDENT_A, "applied"),
                  ("rp-a1", "repayment_on_time", "2026-11-23 03:00:00", RESIDENT_A, "applied"),
                  ("rp-a2", "repayment_on_time", "2026-11-24 03:00:00", RESIDENT_A, "applied"),
                  ("rp-a3", "repayment_on_time", "2026-11-25 03:00:00", RESIDENT_A, "refused"),
                  ("fl-c", "first_loan", "2026-11-26 03:00:00", RESIDENT_C, "pending_user"),
              ]))
        yield url, tmp_path


def export(db, *args: str):  # noqa: ANN001, ANN201
    url, work = db
    return run_cli(work, url, "export", *args)


def test_export_prints_the_agents_residents_as_csv(db):
    done = export(db, "--agent", str(AGENT), "--csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("\ufeff")  # the BOM, as in the chat's export
    rows = list(csv.reader(io.StringIO(done.stdout.lstrip("\ufeff"))))
    assert rows == [
        ["Station", "Code", "Resident", "Bound at", "Credit approved", "First loan", "On-time repayments"],
        ["Happy Lane", "HAPPY234", "Bar***", "2026-11-16 10:00", "2026-11-20", "2026-11-22", "2"],
        ["Happy Lane North", "HAPPY234", "'=cm***", "2026-11-26 09:30", "", "", "0"],
        ["幸福里, 东门", "MARKET23", "李***", "2026-11-26 01:00", "", "", "0"],  # an off station's residents too
    ]
    for secret in (AGENT, RESIDENT_A, RESIDENT_B, RESIDENT_C, "Barbara", "李四", "calc"):
        assert str(secret) not in done.stdout


def test_an_agent_without_residents_gets_the_header_in_their_language(db):
    done = export(db, "--agent", str(ZH_AGENT))
    assert done.returncode == 0, done.stderr
    assert done.stdout.lstrip("\ufeff").splitlines() == ["站点,邀请码,居民,绑定时间,授信通过,首笔借款,按时还款次数"]


@pytest.mark.parametrize(("who", "says"), [
    (9999, "export: no user with id 9999"),
    (USER, f"export: user {USER} is not an agent (role: user)"),
])
def test_an_unknown_id_or_a_non_agent_is_one_line_and_exit_1(db, who, says):
    done = export(db, "--agent", str(who), "--csv")
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith(says)


def test_no_csv_is_bad_input(db):
    done = export(db, "--agent", str(AGENT), "--no-csv")
    assert done.returncode == 2 and "CSV is the only format" in done.stderr


def test_export_imports_no_telegram_library(db):
    url, work = db
    done = run_cli(work, url, "export", "--agent", str(AGENT), python_flags=("-X", "importtime"))
    assert done.returncode == 0, done.stderr[-2000:]
    modules = _imported_modules(done.stderr)
    assert "sqlalchemy" in modules
    assert not {m for m in modules if m.split(".")[0] in ("aiogram", "telegram")}
