"""bot.runtime.heap: after start-up the collector no longer walks start-up's objects."""
from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import gc, json, weakref
import bot.runtime.aiogram
import bot.runtime.aiogram.runtime, bot.runtime.launcher, db.models
from bot.runtime.heap import settle

class Garbage:
    pass

cycle = Garbage(); cycle.me = cycle
gone = weakref.ref(cycle)
del cycle  # unreachable: collected by settle(), not frozen with the rest
tracked = len(gc.get_objects())
frozen = settle()
later = [object() for _ in range(3)] + [[i] for i in range(5)]
print(json.dumps({"tracked": tracked, "frozen": frozen, "walked": len(gc.get_objects()),
                  "garbage_left": gone() is not None}))
"""


def test_start_up_objects_are_frozen_and_later_ones_still_collected():
    # A fresh interpreter: freezing is process-wide, and the test process's heap is not the bot's.
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True).stdout
    seen = json.loads(out)
    assert seen["frozen"] > 50_000  # the runtime's imports: aiogram, SQLAlchemy, pydantic
    assert seen["frozen"] <= seen["tracked"]
    # What the collector walks now is what was made after start-up (a handful here), not the imports.
    assert seen["walked"] < 1_000
    assert seen["garbage_left"] is False
