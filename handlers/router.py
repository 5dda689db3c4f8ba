"""Routers map commands and callback prefixes to handler functions, framework-neutral.

Composed explicitly in `handlers.get_routers()`, in the spirit of aiogram's
routers, so that "what does /code do?" is answered by one module.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable

from bot.context import Context, Incoming, parse_command

Handler = Callable[[Context], Awaitable[None]]

EVENT_KINDS = frozenset({"inline_query", "chat_member", "my_chat_member"})
# Service messages routed by what they announce, whatever their chat: never a command or content.
SERVICE_EVENTS = frozenset({"chat_migrated"})
WATCH_EVENTS = frozenset({"group_message"})


@dataclass
class CommandRoute:
    handler: Handler
    in_groups: bool = False  # otherwise a group gets a short "talk to me in private"
    # Handling it twice shows the same thing twice and changes nothing: the pipeline then
    # skips the durable claim of the update id and may read the user from the read cache.
    idempotent: bool = False


@dataclass
class Router:
    name: str
    commands: dict[str, CommandRoute] = field(default_factory=dict)
    callbacks: dict[str, Handler] = field(default_factory=dict)
    # fallbacks by event: text | media | edited | unknown_command | unknown_callback | group_command
    fallbacks: dict[str, Handler] = field(default_factory=dict)
    # A private non-command message from a user whose chat draft (uow.drafts) has this kind
    # goes here before any fallback: the next step of a multi-step admin dialogue.
    dialogues: dict[str, Handler] = field(default_factory=dict)
    # Updates that are not messages, by kind: inline_query | chat_member | my_chat_member;
    # and service messages, by what they announce: chat_migrated (a group became a supergroup)
    events: dict[str, Handler] = field(default_factory=dict)
    # Observers that see every update of an event before it is routed, and claim nothing:
    # group_message (any message in a group or supergroup, commands included).
    watchers: dict[str, list[Handler]] = field(default_factory=dict)

    def command(self, *names: str, in_groups: bool = False, idempotent: bool = False) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            for name in names:
                self.commands[name] = CommandRoute(fn, in_groups, idempotent)
            return fn
        return register

    def callback(self, prefix: str) -> Callable[[Handler], Handler]:
        """Callback data is '<prefix>:<rest>'; the prefix picks the handler."""
        def register(fn: Handler) -> Handler:
            self.callbacks[prefix] = fn
            return fn
        return register

    def fallback(self, event: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.fallbacks[event] = fn
            return fn
        return register

    def dialogue(self, draft_kind: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.dialogues[draft_kind] = fn
            return fn
        return register

    def on(self, kind: str) -> Callable[[Handler], Handler]:
        if kind not in EVENT_KINDS | SERVICE_EVENTS:
            raise ValueError(f"unknown update kind {kind!r}; one of {sorted(EVENT_KINDS | SERVICE_EVENTS)}")

        def register(fn: Handler) -> Handler:
            self.events[kind] = fn
            return fn
        return register

    def watch(self, event: str) -> Callable[[Handler], Handler]:
        if event not in WATCH_EVENTS:
            raise ValueError(f"unknown event {event!r}; one of {sorted(WATCH_EVENTS)}")

        def register(fn: Handler) -> Handler:
            self.watchers.setdefault(event, []).append(fn)
            return fn
        return register


class Dispatcher:
    def __init__(self, routers: list[Router]) -> None:
        self.commands: dict[str, CommandRoute] = {}
        self.callbacks: dict[str, Handler] = {}
        self.fallbacks: dict[str, Handler] = {}
        self.dialogues: dict[str, Handler] = {}
        self.events: dict[str, Handler] = {}
        self.watchers: dict[str, list[Handler]] = {}
        for router in routers:
            for table, own in ((self.commands, router.commands), (self.callbacks, router.callbacks),
                               (self.fallbacks, router.fallbacks), (self.dialogues, router.dialogues),
                               (self.events, router.events)):
                clash = table.keys() & own.keys()
                if clash:
                    raise ValueError(f"router {router.name} registers {sorted(clash)} twice")
                table.update(own)
            for event, handlers in router.watchers.items():
                self.watchers.setdefault(event, []).extend(handlers)

    def is_idempotent(self, incoming: Incoming, bot_username: str) -> bool:
        """A private command whose route is marked idempotent (known before any database work)."""
        if incoming.kind != "message" or not incoming.is_private or incoming.user is None:
            return False
        command, _ = parse_command(incoming.text, bot_username)
        route = self.commands.get(command) if command is not None else None
        return route is not None and route.idempotent

    def resolve(self, ctx: Context) -> Handler | None:
        incoming = ctx.incoming
        if incoming.kind == "callback_query":
            prefix = ctx.callback_data.partition(":")[0]
            return self.callbacks.get(prefix) or self.fallbacks.get("unknown_callback")
        if incoming.kind in EVENT_KINDS:
            return self.events.get(incoming.kind)
        if incoming.kind == "edited_message":
            return self.fallbacks.get("edited") if incoming.is_private else None
        if incoming.kind != "message":
            return None
        if incoming.migration is not None:
            return self.events.get("chat_migrated")
        if ctx.command is not None:
            route = self.commands.get(ctx.command)
            if incoming.is_private:
                return route.handler if route else self.fallbacks.get("unknown_command")
            if route is None:
                return None  # probably meant for another bot in the group
            return route.handler if route.in_groups else self.fallbacks.get("group_command")
        if not incoming.is_private:
            return None  # never chatter in groups
        return self.fallbacks.get("text" if incoming.content_type == "text" else "media")

    async def _dialogue(self, ctx: Context) -> Handler | None:
        """The handler for the user's dialogue in progress, for a private non-command message."""
        incoming = ctx.incoming
        if (not self.dialogues or incoming.kind != "message" or not incoming.is_private
                or ctx.command is not None or incoming.user is None):
            return None
        draft = await ctx.services.uow.drafts.get(incoming.user.id)
        return self.dialogues.get(draft.kind) if draft is not None else None

    async def dispatch(self, ctx: Context) -> bool:
        incoming = ctx.incoming
        if incoming.kind == "message" and incoming.is_group and incoming.user is not None:
            for watcher in self.watchers.get("group_message", ()):
                await watcher(ctx)
        handler = await self._dialogue(ctx) or self.resolve(ctx)
        if handler is None:
            return False
        await handler(ctx)
        return True
