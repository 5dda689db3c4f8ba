"""An agent's residents: the per-station funnel and the CSV export.

The funnel's steps, per station code, each counted by its own time:

* joined — people who opened the station's link (`code_visits`, by visit time): every /start
  with the code, bound or not (someone who used the bot before is not re-attributed, but did
  come through the poster); the agent's own visits are not counted;
* bound — residents bound through the code (`bindings.code_id`, by `bound_at`). Includes those
  who typed the code with /bind or registered on the platform with it, so it can exceed joined;
* credit approved — bound residents whose credit check passed (by `users.credit_approved_at`);
* first loan — bound residents with an applied first_loan event (by its `occurred_at`, the
  earliest if the platform sent more than one);
* on-time repayments — applied repayment_on_time events of bound residents (by `occurred_at`):
  repayments, not people.

"Today" starts at local midnight and "this week" on Monday at local midnight, in TIMEZONE;
"all time" has no start. A step is not capped by the one before it: a resident approved
this week who was bound last month counts as approved this week.

The CSV has one row per bound resident: station label (as it was when they were bound),
code, masked name, bound at (local time), credit approved (local date, empty if not),
first loan (local date, empty if none), on-time repayments. No Telegram ids, usernames or
platform ids. UTF-8 with a byte-order mark, so Excel opens Chinese correctly.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Callable
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.services.masking import mask_name
from db.repositories.stations import Counts, StationRow
from db.uow import UnitOfWork

STEPS = ("joined", "bound", "credit_approved", "first_loan", "on_time")
# The CSV's columns; their headings are texts residents-csv-<name>, in the reader's language.
CSV_COLUMNS = ("station", "code", "resident", "bound-at", "credit-approved", "first-loan", "on-time")
# A cell Excel would read as a formula runs nothing with a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class StationFunnel:
    station: StationRow
    steps: dict[str, Counts]  # every name in STEPS


def period_starts(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Today's and this week's (Monday's) local midnight, in UTC."""
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    return tuple(datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)  # type: ignore[return-value]
                 for day in (today, monday))


def total(funnels: list[StationFunnel]) -> dict[str, Counts]:
    """Every station together."""
    return {step: Counts(*(sum(getattr(f.steps[step], part) for f in funnels) for part in ("today", "week", "total")))
            for step in STEPS}


def csv_header(t: Callable[[str], str]) -> tuple[str, ...]:
    return tuple(t(f"residents-csv-{name}") for name in CSV_COLUMNS)


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


@dataclass
class ResidentsService:
    uow: UnitOfWork
    tz: ZoneInfo

    async def funnel(self, owner_id: int, now: datetime) -> list[StationFunnel]:
        stations = await self.uow.stations.of_owner(owner_id)
        day, week = period_starts(now, self.tz)
        counts = await self.uow.stations.funnel([s.code.id for s in stations], owner_id, day, week)
        return [StationFunnel(s, {step: counts.get(step, {}).get(s.code.id, Counts()) for step in STEPS})
                for s in stations]

    async def csv_export(self, owner_id: int, header: tuple[str, ...]) -> tuple[bytes, int]:
        """The export and its number of residents: `header` (see csv_header), then one row per resident."""
        stations = {s.code.id: s.code for s in await self.uow.stations.of_owner(owner_id)}
        rows = await self.uow.stations.residents(list(stations), owner_id)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        for r in rows:
            code = stations[r.code_id]
            writer.writerow([
                _cell(r.label or code.label or ""), code.code, _cell(mask_name(r.first_name)),
                self._local(r.bound_at, "%Y-%m-%d %H:%M"),
                self._local(r.credit_approved_at), self._local(r.first_loan_at), r.on_time_repayments,
            ])
        return out.getvalue().encode("utf-8-sig"), len(rows)

    def _local(self, moment: datetime | None, fmt: str = "%Y-%m-%d") -> str:
        return moment.astimezone(self.tz).strftime(fmt) if moment is not None else ""
