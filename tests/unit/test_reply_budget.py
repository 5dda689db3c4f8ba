"""Direct replies and the outbox share one sending budget: replies are counted in the outbox's
limiter (never held back by it), and a 429 on a reply pauses the outbox too."""
from __future__ import annotations

from bot.runtime.pipeline import Pipeline
from bot.transport import RetryAfter, SentMessage
from tests.support import RecordingTransport, callback, message, person


class RecordingLimiter:
    def __init__(self) -> None:
        self.noted: list[int] = []
        self.pauses: list[float] = []

    async def acquire(self, chat_id: int, paid: bool = False) -> None:
        return None

    async def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)

    def note(self, chat_id: int) -> None:
        self.noted.append(chat_id)


class FloodOnce(RecordingTransport):
    """Answers the first send with a 429, as Telegram does past a limit."""

    def __init__(self) -> None:
        super().__init__()
        self.flooded = False

    async def send_message(self, chat_id, text, keyboard=None, paid=False) -> SentMessage:  # noqa: ANN001
        if not self.flooded:
            self.flooded = True
            raise RetryAfter(0.01, "Too Many Requests: retry after 0.01")
        return await super().send_message(chat_id, text, keyboard, paid)


async def test_replies_are_counted_in_the_outbox_budget(app, pipeline, transport):
    app.limiter = limiter = RecordingLimiter()
    await pipeline.handle(message(person(501), "/help"))
    await pipeline.handle(callback(person(501), "lang:en"))  # an edit and a callback answer: no new message
    assert limiter.noted == [501]
    assert [s.method for s in transport.to(501)] == ["send_message", "edit_message"]


async def test_a_429_on_a_reply_pauses_the_outbox_and_the_reply_still_arrives(app):
    app.limiter = limiter = RecordingLimiter()
    flood = FloodOnce()
    await Pipeline(app, flood).handle(message(person(502), "/help"))
    assert limiter.pauses == [0.01]
    assert limiter.noted == [502, 502]  # the retry is counted as well
    assert [s.method for s in flood.to(502)] == ["send_message"]
