"""`referral-bot events import FILE.jsonl` against a fake intake (the real one is tested end to end)."""
from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import bot.cli.events as events_cli
from bot.cli.events import read_lines
from bot.cli.main import app
from bot.services.events.outcome import Submission
from bot.services.events.schema import MAX_EVENT_BYTES
from tests.unit.fake_intake import FakeIntake

ROOT = Path(__file__).resolve().parents[2]


def line(event_id: str, **fields: object) -> str:
    body = {"id": event_id, "type": "first_loan", "occurred_at": "2027-01-15T10:00:00+08:00",
            "user": {"telegram_id": 42}, "amount_fen": 1000}
    body.update(fields)
    return json.dumps(body)


@pytest.fixture
def intake(monkeypatch, tmp_path) -> FakeIntake:
    """Every run of the command in this test talks to this one fake intake."""
    fake = FakeIntake()
    opened = []

    @contextlib.asynccontextmanager
    async def open_fake(settings):  # noqa: ANN001, ANN202
        opened.append(settings.database_url)
        yield fake

    monkeypatch.setattr(events_cli, "_open_intake", open_fake)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.db").touch()
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    fake.opened = opened
    return fake


def run(*args: str, stdin: bytes | None = None):  # noqa: ANN201
    return CliRunner().invoke(app, ["events", "import", *args], input=stdin)


def write(tmp_path: Path, text: str | bytes, name: str = "events.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def summary(stdout: str) -> dict[str, int]:
    counts = {}
    for label in ("accepted", "duplicate", "conflicting", "invalid", "refused"):
        row = next(r for r in stdout.splitlines() if f" {label} " in r and "│" in r and r.count("│") == 3)
        counts[label] = int(row.split("│")[2])
    return counts


def test_a_clean_file_is_applied_in_order_and_exits_0(intake, tmp_path):
    path = write(tmp_path, "\n".join(line(f"e{i}") for i in range(5)) + "\n")
    result = run(str(path))
    assert result.exit_code == 0, result.output
    assert summary(result.stdout) == {"accepted": 5, "duplicate": 0, "conflicting": 0, "invalid": 0, "refused": 0}
    assert [raw for raw, _ in intake.submitted] == [line(f"e{i}").encode() for i in range(5)]
    assert "Lines not applied" not in result.stdout


def test_importing_again_finds_only_duplicates(intake, tmp_path):
    path = write(tmp_path, "\n".join(line(f"e{i}") for i in range(3)))
    assert run(str(path)).exit_code == 0
    result = run(str(path))
    assert result.exit_code == 0
    assert summary(result.stdout)["duplicate"] == 3 and summary(result.stdout)["accepted"] == 0


def test_problems_are_counted_and_listed_by_line_number(intake, tmp_path):
    text = "\n".join([
        line("a"),                                     # 1 accepted
        "",                                            # 2 blank: skipped
        json.dumps(json.loads(line("a")), indent=None, separators=(", ", ": ")),  # 3 duplicate
        line("a", amount_fen=2000),                    # 4 conflicting
        '{"id": "broken", ',                           # 5 malformed
        "   ",                                         # 6 blank
        line("b", amount_fen=12.5),                    # 7 invalid amount
        line("p", type="payout", amount_fen=10**9),    # 8 refused
        line("c") + "\r",                              # 9 CRLF accepted
    ]) + "\n"
    result = run(str(write(tmp_path, text)))
    assert result.exit_code == 1
    assert summary(result.stdout) == {"accepted": 2, "duplicate": 1, "conflicting": 1, "invalid": 2, "refused": 1}
    listed = {int(r.split("│")[1]): r for r in result.stdout.split("Lines not applied")[1].splitlines()
              if r.count("│") == 4 and r.split("│")[1].strip().isdigit()}
    assert sorted(listed) == [4, 5, 7, 8]
    assert "conflicting" in listed[4] and "malformed JSON" in listed[5]
    assert "amount_fen: must be a non-negative integer" in listed[7] and "refused" in listed[8]
    assert len(intake.submitted) == 7


def test_only_refused_lines_still_exit_0(intake, tmp_path):
    result = run(str(write(tmp_path, line("p", type="payout", amount_fen=5) + "\n")))
    assert result.exit_code == 0 and summary(result.stdout)["refused"] == 1


def test_an_overlong_line_is_invalid_and_the_next_lines_still_apply(intake, tmp_path):
    huge = line("big", padding="x" * (3 * MAX_EVENT_BYTES))
    result = run(str(write(tmp_path, "\n".join([line("a"), huge, line("b")]))))
    assert result.exit_code == 1
    assert summary(result.stdout)["accepted"] == 2 and summary(result.stdout)["invalid"] == 1
    assert "64 KiB" in result.stdout
    assert all(len(raw) < MAX_EVENT_BYTES for raw, _ in intake.submitted)


def test_standard_input_is_read_with_a_dash(intake):
    result = run("-", stdin=(line("a") + "\n" + line("b") + "\n").encode())
    assert result.exit_code == 0, result.output
    assert summary(result.stdout)["accepted"] == 2


def test_an_intake_failure_stops_and_says_where(intake, tmp_path, monkeypatch):
    real_submit = intake.submit

    async def failing(raw, *, received_at):  # noqa: ANN001, ANN202
        if b'"boom"' in raw:
            raise RuntimeError("connection lost")
        return await real_submit(raw, received_at=received_at)

    monkeypatch.setattr(intake, "submit", failing)
    result = run(str(write(tmp_path, "\n".join([line("a"), line("boom"), line("c")]))))
    assert result.exit_code == 1
    assert "stopped at line 2" in result.stderr and "connection lost" in result.stderr
    assert summary(result.stdout)["accepted"] == 1 and len(intake.submitted) == 1


def test_a_missing_database_is_reported_without_creating_one(intake, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'absent.db'}")
    result = run(str(write(tmp_path, line("a"))))
    assert result.exit_code == 1 and "no database" in result.stderr
    assert not (tmp_path / "absent.db").exists() and intake.opened == []


def test_a_missing_file_is_a_usage_error(intake, tmp_path):
    assert run(str(tmp_path / "nope.jsonl")).exit_code == 2


# ---------------------------------------------------------------- reading


class OnlyReadline(io.BytesIO):
    """Fails the test if anything reads more than a bounded line at a time."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int] = []

    def readline(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        assert size is not None and 0 < size <= MAX_EVENT_BYTES + 2
        self.sizes.append(size)
        return super().readline(size)

    def read(self, *_args: object) -> bytes:  # type: ignore[override]
        raise AssertionError("the whole file was read")

    def readlines(self, *_args: object) -> list[bytes]:  # type: ignore[override]
        raise AssertionError("the whole file was read")


def test_lines_are_streamed_with_bounded_reads_and_progress_counts_every_byte():
    data = b"\n".join([b"a", b"", b"x" * (2 * MAX_EVENT_BYTES + 7), b"  ", b"b\r", b"c"])
    stream = OnlyReadline(data)
    seen = []
    got = list(read_lines(stream, MAX_EVENT_BYTES, seen.append))
    assert got == [(1, b"a"), (3, None), (5, b"b"), (6, b"c")]
    assert sum(seen) == len(data)


def test_a_line_of_exactly_64_kib_is_kept():
    body = b"y" * MAX_EVENT_BYTES
    assert list(read_lines(io.BytesIO(body + b"\r\n" + body), MAX_EVENT_BYTES, lambda _n: None)) == \
        [(1, body), (2, body)]


async def test_import_stream_submits_through_intake_with_received_time():
    from bot.cli.events import import_stream
    from bot.clock import FrozenClock
    from tests.conftest import T0

    fake = FakeIntake()
    report = await import_stream(io.BytesIO((line("a") + "\n" + line("a")).encode()), fake, FrozenClock(T0))
    assert report.counts == {"accepted": 1, "duplicate": 1} and report.ok and report.lines == 2
    assert [t for _, t in fake.submitted] == [T0, T0]


async def test_unknown_statuses_are_counted_not_lost():
    from bot.cli.events import import_stream
    from bot.clock import FrozenClock
    from tests.conftest import T0

    class Odd(FakeIntake):
        async def submit(self, raw, *, received_at):  # noqa: ANN001, ANN202
            return Submission("queued", 202, {})

    report = await import_stream(io.BytesIO(b"{}\n"), Odd(), FrozenClock(T0))
    assert report.counts == {"queued": 1}


def test_the_cli_module_stays_light():
    code = ("import sys, bot.cli.main; heavy = {m.split('.')[0] for m in sys.modules} & "
            "{'aiogram', 'telegram', 'sqlalchemy', 'pydantic', 'aiohttp'}; "
            "assert not heavy and 'bot.services.events.schema' not in sys.modules, heavy")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
