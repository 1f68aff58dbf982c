"""`python -m bench`: runs the scenarios of docs/performance.md against real server processes
on loopback, with the load from separate processes, and prints each figure with its baseline
measured in the same run, and their ratio (consent / baseline).

    python -m bench [--quick] [--only abcde] [--processes N] [--dir DIR] [--scale-out]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import shutil
import tempfile
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

from bench import load, scale_out, scenarios
from bench.seed import seed

HEADER = ("figure", "consent", "baseline", "ratio", "baseline is", "goal", "met")


def number(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def table(rows: list[scenarios.Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    for figure, ours, baseline, name, goal, met in rows:
        ratio = ours / baseline if baseline else float("nan")
        verdict = "" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {figure} | {number(ours)} | {number(baseline)} | {ratio:.2f} | {name} | {goal} | {verdict} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run (seconds, not minutes)")
    parser.add_argument("--only", default="abcde", help="which scenarios, e.g. --only ab")
    parser.add_argument("--processes", type=int, help="load generator processes (default 2)")
    parser.add_argument("--dir", type=Path, help="where the databases go (default: a new temporary directory)")
    parser.add_argument(
        "--scale-out",
        action="store_true",
        help="(a) and (c) also on PostgreSQL + Redis with 1 and 2 server processes, beside the single SQLite process"
        " (starts its own: needs Debian's postgresql and redis-server)",
    )
    args = parser.parse_args(argv)
    scale = scenarios.QUICK if args.quick else scenarios.FULL
    if args.processes:
        scale = replace(scale, processes=args.processes)
    load.raise_file_limit()  # the load processes inherit it; so does the server

    work = Path(tempfile.mkdtemp(prefix="consent-bench-", dir=args.dir))
    try:
        with contextlib.ExitStack() as stack:  # PostgreSQL and Redis, if started, stop whatever happens
            began = time.monotonic()
            template = work / "seeded.db"
            rooms, large, meetings = seed(
                str(template),
                scale.rooms,
                scale.room_size,
                [a.sockets for a in scale.assemblies] if "b" in args.only else (),
                [meeting.pages for meeting in scale.meetings] if "e" in args.only else (),
            )
            print(
                f"seeded {scale.rooms * scale.room_size:,} members in {scale.rooms} live proposals"
                f"{''.join(f', an assembly of {len(a.tokens):,}' for a in large)}"
                f"{''.join(f', a meeting of {len(m.tokens):,} present' for m in meetings)} in {time.monotonic() - began:.1f} s",
                flush=True,
            )
            backing = None
            if args.scale_out:
                began = time.monotonic()
                backing = stack.enter_context(scale_out.Backing())
                backing.seed(scale)
                print(
                    f"started PostgreSQL and Redis, seeded PostgreSQL in {time.monotonic() - began:.1f} s", flush=True
                )
            rows: list[scenarios.Row] = []
            # a) and c) run three ways with --scale-out, beside the single SQLite process
            fan_out, durable = (
                (partial(scale_out.fan_out, backing=backing), partial(scale_out.durable, backing=backing))
                if backing
                else (scenarios.fan_out, scenarios.durable)
            )
            for letter, run in (
                ("a", lambda: fan_out(scale, rooms, template, work)),
                ("b", lambda: scenarios.assembly(scale, large, template, work)),
                ("c", lambda: durable(scale, rooms, template, work)),
                ("d", lambda: scenarios.footprint(scale, rooms, template, work)),
                ("e", lambda: scenarios.meeting_pages(scale, meetings, template, work)),
            ):
                if letter in args.only:
                    began = time.monotonic()
                    rows += run()
                    print(f"scenario {letter} took {time.monotonic() - began:.0f} s", flush=True)
            print(table(rows))
    except BaseException:
        print(f"kept {work} (server logs) for a look", flush=True)
        raise
    for problem in scenarios.PROBLEMS:
        print(f"PROBLEM {problem}")
    if scenarios.PROBLEMS:
        print(f"kept {work} (server logs) for a look")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
