"""Where a load run's CPU went: this process, its children, the PostgreSQL server, and what the
machine left idle. A throughput figure alone can't say whether the code, the database or the load
generator used the two cores, or whether the run waited on locks with cores to spare."""
from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class CpuSample:
    wall: float
    own: float  # this process (the server, in the events benchmark)
    children: float  # finished children: the load generator
    postgres: float | None  # every process named postgres on this machine; None off Linux
    idle: float | None  # the machine's idle CPU-seconds over all cores

    @classmethod
    def now(cls) -> "CpuSample":
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(time.monotonic(), time.process_time(), kids.ru_utime + kids.ru_stime, _postgres(), _idle())


@dataclass(frozen=True)
class CpuSpent:
    wall: float
    own: float
    children: float
    postgres: float | None
    idle: float | None

    @classmethod
    def between(cls, start: CpuSample, end: CpuSample) -> "CpuSpent":
        def delta(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None else b - a
        return cls(end.wall - start.wall, end.own - start.own, end.children - start.children,
                   delta(start.postgres, end.postgres), delta(start.idle, end.idle))

    def per(self, count: int, unit: str, own: str, children: str | None = None) -> str:
        """Milliseconds of CPU per unit of work, by whom, and the share of the cores left idle.
        `own` and `children` name this process and its finished children in the text."""
        n = max(count, 1)
        parts = [f"{own} {1000 * self.own / n:.2f}"]
        if children is not None:
            parts.append(f"{children} {1000 * self.children / n:.2f}")
        if self.postgres is not None:
            parts.append(f"PostgreSQL {1000 * self.postgres / n:.2f}")
        text = f"CPU ms per {unit}: " + ", ".join(parts)
        cores = os.cpu_count() or 1
        if self.idle is not None and self.wall > 0:
            text += f"; cores idle {100 * self.idle / (self.wall * cores):.0f} %"
        return text


def _postgres() -> float | None:
    """utime + stime of the server's processes (backends, WAL writer, checkpointer) in seconds."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    total = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if name.startswith("postgres"):
            total += int(rest[11]) + int(rest[12])  # fields 14 and 15: utime, stime
    return total / _TICK


def _idle() -> float | None:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    return (int(fields[4]) + int(fields[5])) / _TICK  # idle + iowait
