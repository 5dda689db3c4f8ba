"""Update ids this process handled without a durable claim (idempotent commands).

Telegram redelivers an update when the bot did not confirm it: after a crash, or a slow
webhook answer. An idempotent turn writes nothing worth guarding, so its id is kept here
only, and a redelivery within this process's life is skipped; after a restart it is
answered again, which shows the same thing twice and changes nothing.
"""
from __future__ import annotations

from collections import OrderedDict

DEFAULT_SIZE = 10_000


class RecentUpdates:
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._ids: OrderedDict[int, None] = OrderedDict()

    def first(self, update_id: int) -> bool:
        """True the first time this id is seen (and remembers it); False for a redelivery."""
        if update_id in self._ids:
            return False
        self._ids[update_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True

    def forget(self, update_id: int) -> None:
        self._ids.pop(update_id, None)
