"""bot.heap: after start-up the collector no longer walks start-up's objects, and an operator
command imports with the collector off and works with it on."""
from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import gc, json, weakref
import bot.runtime.aiogram
import bot.runtime.aiogram.runtime, bot.runtime.launcher, db.models
from bot.heap import hold, settle

hold()  # as `referral-bot` does first: settle() must turn collection back on
class Garbage:
    pass

cycle = Garbage(); cycle.me = cycle
gone = weakref.ref(cycle)
del cycle  # unreachable: collected by settle(), not frozen with the rest
tracked = len(gc.get_objects())
frozen = settle()
enabled = gc.isenabled()
later = [object() for _ in range(3)] + [[i] for i in range(5)]
print(json.dumps({"tracked": tracked, "frozen": frozen, "walked": len(gc.get_objects()),
                  "garbage_left": gone() is not None, "enabled": enabled}))
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
    assert seen["enabled"] is True


COMMAND = """
import gc, json, sys
from bot import heap
heap.hold()
import db.models  # a command's imports, made while the collector is held
from bot.cli.common import run_async
held = gc.isenabled()

async def work():
    return {"held_while_importing": not held, "enabled_for_work": gc.isenabled(),
            "frozen": gc.get_freeze_count()}

print(json.dumps(run_async(work())))
"""


def test_an_operator_command_imports_with_the_collector_held_and_works_with_it_on():
    # A long `events import` makes cycles (sessions, results) all the way: they must be collected.
    out = subprocess.run([sys.executable, "-c", COMMAND], capture_output=True, text=True, check=True).stdout
    seen = json.loads(out)
    assert seen["held_while_importing"] is True
    assert seen["enabled_for_work"] is True
    assert seen["frozen"] > 10_000  # SQLAlchemy's and our models' objects, out of the work's walks


EXIT = """
import atexit, gc, sys
from bot.cli.main import main
atexit.register(lambda: print(gc.get_freeze_count(), gc.isenabled()))
sys.argv = ["referral-bot", "--help"]
main()
"""


def test_referral_bot_freezes_its_heap_before_the_interpreter_s_last_collection():
    # --help never reaches run_async: at_exit alone froze what was there when main() returned.
    done = subprocess.run([sys.executable, "-c", EXIT], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    frozen, enabled = done.stdout.split()[-2:]
    assert int(frozen) > 10_000
    assert enabled == "False"  # held since main() began: a command that never settles exits as it is
