"""Agents' stations: one code per community station or campaign, with a label.

A station code is an ordinary referral code of kind 'station' (same alphabet
and length as a personal code), so a resident who opens its link is bound to
the agent like any referee, and the binding keeps the label as it was then.
Switching a station off makes its code answer "not available" and bind nobody
(BindingService's judgement); switching it on again restores it. Creating,
renaming and switching are in the audit log.

Labels: 1..64 characters after runs of whitespace (newlines included) become
one space; control characters and bidirectional overrides are refused, since a
label is printed on posters and shown in lists. Unique per agent, ignoring
case, across on and off stations alike, so "/poster <label>" names one
station. At most MAX_STATIONS stations per agent.
"""
from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, replace

from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.services.audit import AuditLog
from bot.services.codes import is_valid_payload, new_code, normalize
from db.repositories.codes import CodeRow
from db.repositories.stations import StationRow
from db.uow import UnitOfWork

MAX_LABEL = 64
MAX_STATIONS = 100
_SPACES = re.compile(r"\s+")
# Characters that reorder or hide text: a label "…‮…" would print reversed on a poster.
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")


class Problem(enum.Enum):
    BAD_LABEL = "bad_label"  # empty, too long, or with control characters
    LABEL_TAKEN = "label_taken"  # another of the agent's stations has it
    UNKNOWN = "unknown"  # no such station among the agent's own
    TOO_MANY = "too_many"
    UNCHANGED = "unchanged"  # already on / off / so named


@dataclass(frozen=True)
class StationResult:
    problem: Problem | None
    station: CodeRow | None = None
    before: str | None = None  # the old label of a renamed station

    @property
    def ok(self) -> bool:
        return self.problem is None


def clean_label(raw: str) -> str | None:
    """The label as stored, or None when it cannot be one."""
    label = _SPACES.sub(" ", raw).strip()
    if not 1 <= len(label) <= MAX_LABEL:
        return None
    if any(ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in label):
        return None
    return label


@dataclass
class StationService:
    uow: UnitOfWork
    clock: Clock
    audit: AuditLog

    async def list(self, owner_id: int) -> list[StationRow]:
        return await self.uow.stations.of_owner(owner_id)

    async def find(self, owner_id: int, ref: str, stations: list[StationRow] | None = None) -> StationRow | None:
        """One of the owner's stations by its code (any case) or, failing that, by its label (any case)."""
        ref = ref.strip()
        if not ref:
            return None
        stations = stations if stations is not None else await self.list(owner_id)
        code = normalize(ref)
        for row in stations:
            if row.code.code == code:
                return row
        wanted = _SPACES.sub(" ", ref).casefold()
        return next((row for row in stations if (row.code.label or "").casefold() == wanted), None)

    async def add(self, owner_id: int, raw_label: str, *, via: str = "chat") -> StationResult:
        label = clean_label(raw_label)
        if label is None:
            return StationResult(Problem.BAD_LABEL)
        stations = await self.list(owner_id)
        if len(stations) >= MAX_STATIONS:
            return StationResult(Problem.TOO_MANY)
        if _taken(stations, label):
            return StationResult(Problem.LABEL_TAKEN)
        row = await self._insert(owner_id, label)
        await self.audit.record("station_add", actor_id=owner_id, via=via, target=row.code, label=label)
        return StationResult(None, row)

    async def rename(self, owner_id: int, ref: str, raw_label: str, *, via: str = "chat") -> StationResult:
        stations = await self.list(owner_id)
        found = await self.find(owner_id, ref, stations)
        if found is None:
            return StationResult(Problem.UNKNOWN)
        label = clean_label(raw_label)
        if label is None:
            return StationResult(Problem.BAD_LABEL, found.code)
        if label == found.code.label:
            return StationResult(Problem.UNCHANGED, found.code)
        if _taken([s for s in stations if s.code.id != found.code.id], label):
            return StationResult(Problem.LABEL_TAKEN, found.code)
        await self.uow.stations.set_label(found.code.id, label)
        await self.audit.record("station_rename", actor_id=owner_id, via=via, target=found.code.code,
                                before=found.code.label, after=label)
        return StationResult(None, _with(found.code, label=label), before=found.code.label)

    async def switch(self, owner_id: int, ref: str, active: bool, *, via: str = "chat") -> StationResult:
        found = await self.find(owner_id, ref)
        if found is None:
            return StationResult(Problem.UNKNOWN)
        if found.code.active == active:
            return StationResult(Problem.UNCHANGED, found.code)
        await self.uow.stations.set_active(found.code.id, active)
        await self.audit.record("station_on" if active else "station_off", actor_id=owner_id, via=via,
                                target=found.code.code, label=found.code.label)
        return StationResult(None, _with(found.code, active=active))

    async def record_visit(self, user_id: int, payload: str) -> None:
        """Someone opened a link with this payload: a funnel "joined" if it is a station code.

        Called for every /start with a payload, bound or not; the owner's own visits don't count.
        """
        if is_valid_payload(payload):
            await self.uow.stations.record_visit(normalize(payload), user_id, self.clock.now())

    async def record_visit_of(self, code: CodeRow | None, user_id: int) -> None:
        """The same, for a code the caller has read already (a binding has): a personal code,
        the most common, costs no statement at all."""
        if code is not None and code.kind == "station":
            await self.uow.stations.record_visit(code.code, user_id, self.clock.now())

    async def _insert(self, owner_id: int, label: str) -> CodeRow:
        for _ in range(8):
            code = new_code()
            try:
                async with self.uow.savepoint():
                    await self.uow.codes.insert(code=code, owner_id=owner_id, kind="station", label=label,
                                                now=self.clock.now())
            except IntegrityError:
                continue  # a code collision: draw again
            row = await self.uow.codes.by_code(code)
            assert row is not None
            return row
        raise RuntimeError("could not allocate a unique station code")


def _taken(stations: list[StationRow], label: str) -> bool:
    wanted = label.casefold()
    return any((row.code.label or "").casefold() == wanted for row in stations)


def _with(code: CodeRow, **changes: object) -> CodeRow:
    return replace(code, **changes)
