"""aiogram's Telegram types and methods are built when first used, not all at import.

aiogram declares its ~300 types with pydantic's `defer_build`, then `aiogram.types`
rebuilds every one of them at import (`model_rebuild(_types_namespace=...)`, handing
them the names their annotations use), and its ~230 methods, models too, are built
as they are defined, from those types. That eager work is most of `import aiogram`:
~2.5 s and ~100 MiB of validators, nearly all for types and methods this bot never
uses. With `install()` called before aiogram is first imported, those rebuild calls
only note the names; the types stay deferred, pydantic leaves each method whose
types are not built yet for later too, and builds a model the first time it is used
(a few tens of milliseconds for an Update, once).

pydantic resolves a deferred model's annotations in its module's globals, which in
aiogram import the other types only for type checkers, and in the model's parent
namespace: `complete()` hands that namespace aiogram's own list of names, on every
aiogram model (and, by inheritance, on generic models aiogram parametrises later,
such as `Response[Message]`).

If aiogram was imported before `install()`, it was built eagerly and nothing here
applies. tests/unit/test_aiogram_lazy_models.py builds every aiogram type and method
this way, so an aiogram release that moves its names fails there, not in production.
"""
from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel

_names: dict[str, Any] = {}
_state = {"installed": False, "completed": False}


def install() -> bool:
    """Defers aiogram's eager model rebuild; False when aiogram is already imported (too late)."""
    if _state["installed"]:
        return True
    if "aiogram.types" in sys.modules:
        return False
    rebuild = BaseModel.model_rebuild.__func__  # type: ignore[attr-defined]

    def model_rebuild(cls, *, force: bool = False, raise_errors: bool = True,  # noqa: ANN001, ANN202
                      _parent_namespace_depth: int = 2, _types_namespace: Any = None):
        if _types_namespace is not None and not force and cls.__module__.startswith("aiogram."):
            # aiogram.types' pass over every type hands the same full namespace each time; a
            # generic's parametrisation (TelegramMethod[Message]) hands its own module's.
            if len(_types_namespace) > len(_names):
                _names.clear()
                _names.update(_types_namespace)
            return None
        return rebuild(cls, force=force, raise_errors=raise_errors,
                       _parent_namespace_depth=_parent_namespace_depth, _types_namespace=_types_namespace)

    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[method-assign, assignment]
    _state["installed"] = True
    return True


def complete() -> int:
    """After aiogram is imported: every aiogram model resolves its names from aiogram's list.
    Returns how many models were told (0 when install() came too late)."""
    if not _state["installed"] or not _names:
        return 0
    told = 0
    pending = list(BaseModel.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if not cls.__module__.startswith("aiogram."):
            continue
        own = cls.__dict__.get("__pydantic_parent_namespace__") or {}
        cls.__pydantic_parent_namespace__ = {**_names, **own} if own else _names
        told += 1
    _state["completed"] = True
    return told
