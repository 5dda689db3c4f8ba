"""Agents' stations: /station add|list|rename|off|on.

`/station add 幸福里社区站` makes a new station code; `/station list` shows each station's
label, code, link, on/off and how many residents it bound; `/station rename CODE new label`;
`/station off CODE` (new users opening its link are told it is not available, nothing is bound)
and `/station on CODE`. A station may be named by its code or its label. The rules (label
length, uniqueness, limits) are in bot/services/stations.py.
"""
from __future__ import annotations

from bot.context import Context
from bot.services.codes import deep_link
from bot.services.stations import MAX_LABEL, MAX_STATIONS, Problem, StationResult
from handlers.agent_guard import agent_only
from handlers.router import Router

router = Router("stations")

MAX_ECHO = 32  # what we repeat back of someone's typing


def chunks(blocks: list[str], limit: int = 3800) -> list[str]:
    """Blocks joined by blank lines into messages under Telegram's 4,096 characters, never splitting one."""
    out: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}\n\n{block}" if current else block
        if current and len(candidate) > limit:
            out.append(current)
            candidate = block
        current = candidate
    if current:
        out.append(current)
    return out


def _refusal(ctx: Context, result: StationResult, ref: str = "") -> str:
    problem = result.problem
    if problem is Problem.BAD_LABEL:
        return ctx.t("station-bad-label", max=MAX_LABEL)
    if problem is Problem.LABEL_TAKEN:
        return ctx.t("station-label-taken")
    if problem is Problem.TOO_MANY:
        return ctx.t("station-too-many", max=MAX_STATIONS)
    return ctx.t("station-unknown", ref=ref[:MAX_ECHO])


@router.command("station")
@agent_only
async def station(ctx: Context) -> None:
    parts = ctx.args.split(maxsplit=1)
    sub = parts[0].lower() if parts else ""
    rest = parts[1].strip() if len(parts) > 1 else ""
    action = _SUBCOMMANDS.get(sub)
    if action is None:
        await ctx.reply(ctx.t("station-usage"))
        return
    await action(ctx, rest)


async def _add(ctx: Context, rest: str) -> None:
    if not rest:
        await ctx.reply(ctx.t("station-usage"))
        return
    result = await ctx.services.stations.add(ctx.user_id, rest)
    if not result.ok:
        await ctx.reply(_refusal(ctx, result))
        return
    code = result.station
    assert code is not None and code.label is not None
    await ctx.reply(ctx.t("station-added", label=code.label, code=code.code,
                          link=deep_link(ctx.app.bot_username, code.code)))


async def _list(ctx: Context, rest: str) -> None:
    stations = await ctx.services.stations.list(ctx.user_id)
    if not stations:
        await ctx.reply(ctx.t("station-list-empty"))
        return
    blocks = [ctx.t("station-list-title", count=len(stations))]
    for n, row in enumerate(stations, start=1):
        code = row.code
        blocks.append(ctx.t("station-list-item", n=n, label=code.label or "", code=code.code,
                            link=deep_link(ctx.app.bot_username, code.code), bound=row.bound,
                            state="on" if code.active else "off"))
    blocks.append(ctx.t("station-list-footer"))
    for text in chunks(blocks):
        await ctx.reply(text)


async def _rename(ctx: Context, rest: str) -> None:
    ref, _, label = rest.partition(" ")
    if not ref or not label.strip():
        await ctx.reply(ctx.t("station-usage"))
        return
    result = await ctx.services.stations.rename(ctx.user_id, ref, label)
    if result.problem is Problem.UNCHANGED:
        await ctx.reply(ctx.t("station-rename-same", label=result.station.label or ""))
        return
    if not result.ok:
        await ctx.reply(_refusal(ctx, result, ref))
        return
    code = result.station
    assert code is not None
    await ctx.reply(ctx.t("station-renamed", code=code.code, before=result.before or "", after=code.label or ""))


def _switch(active: bool):  # noqa: ANN202
    async def switch(ctx: Context, rest: str) -> None:
        if not rest:
            await ctx.reply(ctx.t("station-usage"))
            return
        result = await ctx.services.stations.switch(ctx.user_id, rest, active)
        state = "on" if active else "off"
        if result.problem is Problem.UNCHANGED:
            assert result.station is not None
            await ctx.reply(ctx.t("station-already", state=state, label=result.station.label or "",
                                  code=result.station.code))
            return
        if not result.ok:
            await ctx.reply(_refusal(ctx, result, rest))
            return
        code = result.station
        assert code is not None
        await ctx.reply(ctx.t(f"station-switched-{state}", label=code.label or "", code=code.code))
    return switch


_SUBCOMMANDS = {"add": _add, "list": _list, "rename": _rename, "off": _switch(False), "on": _switch(True)}
