"""`referral-bot broadcast ...`: queue a broadcast for the running bot to send, and follow its progress.

The command only writes the broadcast and its delivery rows (one transaction);
the running bot (`referral-bot run`) sends them at its next outbox poll, within
a second, so the work survives the shell that queued it. Ctrl-C stops
watching, not the broadcast. No Telegram library is imported here.
"""
from __future__ import annotations

import re
import sys
import time
from html.parser import HTMLParser

import typer

from bot.cli.common import fail, run_db

MAX_TEXT = 4096  # Telegram's limit, counted after the HTML is parsed
# Telegram's HTML: these tags only, properly nested; <, > and & outside tags written as entities.
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code",
                "pre", "blockquote", "tg-emoji"}
_BARE_AMP = re.compile(r"&(?!#\d{1,7};|#[xX][0-9a-fA-F]{1,6};|[a-zA-Z][a-zA-Z0-9]*;)")
POLL_SECONDS = 1.0


class _TelegramHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.visible = 0
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:  # noqa: ANN001
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"<{tag}> is not a tag Telegram allows")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close the tag opened last")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.visible += len(data.encode("utf-16-le")) // 2


def check_html(text: str) -> str | None:
    """Why Telegram would refuse this HTML text, or None. Minimal: tags, nesting, bare '&', length."""
    if not text.strip():
        return "the text is empty"
    if match := _BARE_AMP.search(text):
        return f"a bare '&' at character {match.start() + 1}: write &amp;"
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.errors:
        return parser.errors[0]
    if parser.stack:
        return f"<{parser.stack[-1]}> is never closed"
    if parser.visible > MAX_TEXT:
        return f"the text is {parser.visible} characters; Telegram takes at most {MAX_TEXT}"
    return None


def _audience(lang: str | None, role: str | None, referrers: bool) -> str:
    chosen = [a for a in (f"lang:{lang}" if lang else None, f"role:{role}" if role else None,
                          "referrers" if referrers else None) if a]
    if len(chosen) > 1:
        raise ValueError("give at most one of --lang, --role, --referrers")
    return chosen[0] if chosen else "all"


def _describe(progress) -> str:  # noqa: ANN001
    b = progress.broadcast
    line = (f"broadcast #{b.id} ({b.audience}, {'paid' if b.paid else 'free'}) {b.state}: "
            f"sent {progress.sent} of {b.total}, failed {progress.failed}, blocked {progress.blocked}, "
            f"left {progress.left}")
    if progress.cancelled:
        line += f", called off {progress.cancelled}"
    if b.state == "running":
        eta = f"{progress.eta_seconds:.0f} s" if progress.eta_seconds is not None else "unknown"
        line += f", still to send {progress.pending}, {progress.rate:.1f} msg/s, ETA {eta}"
    elif b.finished_at is not None:
        line += f", took {(b.finished_at - b.created_at).total_seconds():.0f} s"
    return line


def broadcast(
    text: str = typer.Option(None, "--text", help="The message, as Telegram HTML: <b>, <i>, <u>, <s>, "
                             "<a href=\"...\">, <code>, <pre>, <blockquote>, <tg-spoiler>; write &amp; &lt; &gt; "
                             "for & < > in plain text."),
    lang: str = typer.Option(None, "--lang", help="Only users the bot speaks this language to: zh-CN or en."),
    role: str = typer.Option(None, "--role", help="Only users with this role: agent or admin."),
    referrers: bool = typer.Option(False, "--referrers", help="Only users with at least one direct referral."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print how many users would receive it; send nothing."),
    status: int = typer.Option(None, "--status", metavar="ID", help="Print where broadcast ID stands, then exit."),
    follow: bool = typer.Option(True, "--follow/--no-follow", help="Follow the progress until done (default)."),
) -> None:
    """Queue a broadcast for the running bot to send, and follow its progress.

    Recipients are active users (never frozen ones or those who blocked the
    bot). The bot (`referral-bot run`) must be running to send it; it picks
    the broadcast up within a second. Ctrl-C stops watching, not the broadcast.
    """
    from bot.config import settings_or_exit

    settings = settings_or_exit()
    if status is not None:
        if text is not None or dry_run:
            _exit("--status takes no --text or --dry-run", 2)
        progress = run_db(_status(settings, status))
        if progress is None:
            _exit(f"no broadcast #{status}", 1)
        print(_describe(progress))
        return
    if text is None:
        _exit("--text is required (or --status ID)", 2)
    try:
        audience = _audience(lang, role, referrers)
        from bot.services.broadcasts import parse_audience

        audience = parse_audience(audience)
    except ValueError as exc:
        _exit(f"audience: {exc}", 2)
    problem = check_html(text)
    if problem is not None:
        _exit(f"--text is not valid Telegram HTML: {problem}", 2)
    if dry_run:
        count = run_db(_count(settings, audience))
        print(f"{count} recipients ({audience}); dry run: nothing queued")
        return
    created = run_db(_create(settings, text, audience))
    if created is None:
        _exit(f"nobody to send to ({audience}); nothing queued", 1)
    print(f"broadcast #{created.id} queued for {created.total} recipients ({audience}); "
          "the running bot sends it (referral-bot run)")
    sys.stdout.flush()
    if follow:
        _follow(settings, created.id, created.total)


def _exit(message: str, code: int) -> None:
    raise fail(message, code)


async def _with_service(settings, work):  # noqa: ANN001, ANN202
    from bot.clock import SystemClock
    from bot.services.broadcasts import BroadcastService
    from db.engine import make_engine, make_sessionmaker
    from db.uow import UnitOfWork

    engine = make_engine(settings.database_url)
    try:
        async with UnitOfWork(make_sessionmaker(engine)) as uow:
            svc = BroadcastService(uow, SystemClock(), settings.default_locale, paid=settings.broadcast_paid)
            result = await work(svc)
            await uow.commit()
            return result
    finally:
        await engine.dispose()


async def _count(settings, audience: str) -> int:  # noqa: ANN001
    return await _with_service(settings, lambda svc: svc.count(audience))


async def _create(settings, text: str, audience: str):  # noqa: ANN001, ANN202
    async def work(svc):  # noqa: ANN001, ANN202
        if await svc.count(audience) == 0:
            return None
        return await svc.create(content={"text": text}, audience=audience, actor_id=None, via="cli")
    return await _with_service(settings, work)


async def _status(settings, broadcast_id: int):  # noqa: ANN001, ANN202
    async def work(svc):  # noqa: ANN001, ANN202
        if await svc.get(broadcast_id) is None:
            return None
        await svc.finish_if_done(broadcast_id)
        return await svc.progress(broadcast_id)
    return await _with_service(settings, work)


def _follow(settings, broadcast_id: int, total: int) -> None:  # noqa: ANN001
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=False)
    last = None
    try:
        with Progress(TextColumn("[bold]#{task.fields[id]}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[detail]}"), TimeRemainingColumn(), console=console,
                      transient=False) as bar:
            task = bar.add_task("broadcast", total=total, id=broadcast_id, detail="")
            while True:
                last = run_db(_status(settings, broadcast_id))
                if last is None:
                    break
                bar.update(task, completed=last.handled,
                           detail=f"blocked {last.blocked} · failed {last.failed} · left {last.left} · "
                                  f"{last.rate:.1f}/s")
                if last.state != "running":
                    break
                time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        console.print(f"stopped watching; broadcast #{broadcast_id} goes on in the bot "
                      f"(referral-bot broadcast --status {broadcast_id})", highlight=False)
        return
    if last is not None:
        console.print(_describe(last), highlight=False, soft_wrap=True)
