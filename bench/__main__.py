"""`python -m bench [--quick] [--only turns,binding,...] [--backend postgresql|sqlite]`.

Runs the benchmarks, prints a Markdown table of figures next to their targets
and writes it to bench/results/latest.md (and latest.json).
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import logging
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.common import BACKENDS, RESULTS, WARNINGS, loadavg, machine, pg_available, table
from bench.feeders import RUNTIMES
from bench.suite import FULL, QUICK, Suite

# Order matters a little: the read benchmarks see the forest before the write benchmarks add to it.
BENCHMARKS = ("qr", "forest", "turns", "binding", "events", "earnings", "startup", "broadcast")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="CI-size smoke run: 20,000-user forest, 2 s per throughput run (~4 minutes)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--skip", default="", help="comma-separated benchmarks to leave out")
    parser.add_argument("--backend", default=",".join(BACKENDS), help="postgresql, sqlite or both (default)")
    parser.add_argument("--runtime", default=",".join(RUNTIMES),
                        help="Telegram runtimes for `turns`: aiogram, ptb or both (default)")
    parser.add_argument("--users", type=int, help="forest size (default 1,000,000; 20,000 with --quick)")
    parser.add_argument("--seconds", type=float, help="timed seconds per throughput run (default 10; 2 with --quick)")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when any figure misses its target")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.md", help="where to write the Markdown report")
    return parser.parse_args(argv)


async def amain(args: argparse.Namespace) -> int:
    sizes = QUICK if args.quick else FULL
    if args.users:
        sizes = dataclasses.replace(sizes, forest_users=args.users)
    if args.seconds:
        sizes = dataclasses.replace(sizes, seconds=args.seconds, warmup=min(sizes.warmup, args.seconds / 4))
    chosen = [b for b in (args.only.split(",") if args.only else BENCHMARKS) if b]
    skipped = {b for b in args.skip.split(",") if b}
    unknown = (set(chosen) | skipped) - set(BENCHMARKS)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")
        return 2
    chosen = [b for b in BENCHMARKS if b in chosen and b not in skipped]
    backends = [b.strip() for b in args.backend.split(",") if b.strip()]
    if set(backends) - set(BACKENDS):
        print(f"unknown backend in {args.backend!r}; choose from {', '.join(BACKENDS)}")
        return 2
    runtimes = [r.strip() for r in args.runtime.split(",") if r.strip()]
    if not runtimes or set(runtimes) - set(RUNTIMES):
        print(f"unknown runtime in {args.runtime!r}; choose from {', '.join(RUNTIMES)}")
        return 2
    pg_version = await pg_available()
    if "postgresql" in backends and pg_version is None:
        print("PostgreSQL is not reachable (BENCH_PG_DSN); running on SQLite only")
        backends = [b for b in backends if b != "postgresql"]

    host = machine(pg_version)
    started = time.perf_counter()
    suite = Suite(sizes=sizes, backends=backends, quick=args.quick,
                  runtimes=[r for r in RUNTIMES if r in runtimes])
    print(f"bench ({'quick' if args.quick else 'full'}): {', '.join(chosen)} on {', '.join(backends)}", flush=True)
    try:
        for name in chosen:
            print(f"== {name}", flush=True)
            module = importlib.import_module(f"bench.{name}")
            await module.run(suite)
    finally:
        await suite.close()
    elapsed = time.perf_counter() - started
    host["Load average at end"] = loadavg()

    report = render(suite, host, chosen, elapsed)
    print()
    print(table(suite.figures))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps({
        "machine": host, "mode": "quick" if args.quick else "full", "sizes": dataclasses.asdict(sizes),
        "warnings": WARNINGS, "figures": [dataclasses.asdict(f) | {"verdict": f.verdict} for f in suite.figures],
    }, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nwritten to {args.out} ({elapsed:.0f} s)")
    misses = [f for f in suite.figures if f.ok is False]
    if misses:
        print(f"{len(misses)} figure(s) miss their target")
    return 1 if misses and args.strict else 0


def render(suite: Suite, host: dict[str, str], chosen: list[str], elapsed: float) -> str:
    s = suite.sizes
    lines = [
        f"# Benchmark results ({'quick' if suite.quick else 'full'} run)",
        "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {elapsed:.0f} s; benchmarks: {', '.join(chosen)}; "
        f"backends: {', '.join(suite.backends)}; forest {s.forest_users:,} users; "
        f"{s.seconds:g} s timed (+{s.warmup:g} s warm-up) per throughput run, {s.concurrency} concurrent.",
        "",
        *(f"- {k}: {v}" for k, v in host.items()),
        *(f"- **Warning**: {w}" for w in WARNINGS),
        "",
        table(suite.figures),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from bot.runtime.loop import run

    # The loop `referral-bot run` takes (EVENT_LOOP), so the figures are the product's.
    return run(amain(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
