"""Shared fixtures: a migrated database per test (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), an App with a frozen clock, and a Pipeline over a
recording transport."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import pytest_asyncio
from sqlalchemy import text

from bot.app import App
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.i18n import I18n
from bot.runtime.pipeline import Pipeline
from db.engine import make_engine, make_sessionmaker
from db.models import Base
from tests.support import BACKENDS, PG_URL, RecordingTransport

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)

_pg_schema_ready = False


async def _fresh_database(backend: str, tmp_path) -> str:  # noqa: ANN001
    global _pg_schema_ready
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/test.db"
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await engine.dispose()
        return url
    engine = make_engine(PG_URL)
    async with engine.begin() as conn:
        if not _pg_schema_ready:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.run_sync(Base.metadata.create_all)
            _pg_schema_ready = True
        else:
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()
    return PG_URL


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:  # noqa: ANN001
    return request.param


@pytest_asyncio.fixture
async def app(backend, tmp_path):  # noqa: ANN001, ANN201
    url = await _fresh_database(backend, tmp_path)
    settings = load_settings(database_url=url, bot_token="1:test", admin_ids=(777,))
    engine = make_engine(url)
    application = App(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine),
                      i18n=I18n(), clock=FrozenClock(T0), bot_username="ReferralTestBot")
    yield application
    await application.close()


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def pipeline(app, transport) -> Pipeline:  # noqa: ANN001
    return Pipeline(app, transport)


def pytest_configure(config):  # noqa: ANN001
    config.addinivalue_line("markers", "expect_handler_error: the test provokes a handler error on purpose")


@pytest.fixture(autouse=True)
def handler_errors_fail_tests(request, caplog):  # noqa: ANN001
    """The pipeline catches a handler's exception to apologise to the user; tests must still fail on it."""
    yield
    if request.node.get_closest_marker("expect_handler_error"):
        return
    failures = [r for r in caplog.get_records("call") if r.name == "bot.pipeline" and r.levelname == "ERROR"]
    assert not failures, f"handler error logged: {failures[0].getMessage()}"


@pytest_asyncio.fixture
async def intake(app):  # noqa: ANN001, ANN201
    """The event intake over the test App, with the default program published."""
    from bot.services.events.intake import EventIntake

    async with app.uow() as uow:
        await app.programs.publish_current(uow, app.program, app.clock.now())
        await uow.commit()
    return EventIntake(app)
