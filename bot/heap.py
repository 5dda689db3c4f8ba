"""The garbage collector around start-up and exit, where its walks find nothing to free.

A full collection walks every object the collector tracks. Start-up's imports (SQLAlchemy,
pydantic, our models; aiogram for the bot) make ~100,000-150,000 of them, and they live as long
as the process: collecting while importing frees nothing, and costs an operator command ~40 ms.
So an operator command starts with the collector off (`hold`) and turns it back on once its
imports are done and its work begins (`settle`), with what was imported frozen: moved to the
permanent generation, out of every later walk. The bot does the same once it is up: one full walk
of ~150,000 objects took ~110 ms on the 2-core benchmark machine, and every update in flight
waited for it (in the `/start` turn benchmark the full collections went from a median of 197 ms
to 27 ms).

At exit CPython runs one more full collection before it tears the modules down: ~80 ms of a
short command's wall time. `at_exit` freezes everything first, so that walk is short; the memory
is the operating system's to take back a moment later anyway.
"""
from __future__ import annotations

import gc


def hold() -> None:
    """No collections until `settle`: start-up only makes objects that live as long as the process."""
    gc.disable()


def settle(collect: bool = True) -> int:
    """Freezes what start-up made (collecting what it left behind first, unless told not to: a
    short command's few leftovers cost less than a walk) and turns collection back on for the work
    that follows; returns how many objects are frozen."""
    if collect:
        gc.collect()
    gc.freeze()
    gc.enable()
    return gc.get_freeze_count()


def at_exit() -> None:
    """Keeps the interpreter's last collection from walking what will be freed wholesale anyway."""
    gc.freeze()
