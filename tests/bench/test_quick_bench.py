"""The benchmark's smoke run, so its code cannot rot unnoticed. It checks that every figure
is printed with its baseline and ratio, never how fast anything was: the bench reports, the
tests check correctness."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"(?:[\d,]+(?:\.\d+)?(?:e[+-]?\d+)?)"
FIGURES = [
    "a) 50 sockets, 10 proposals: latency p50",
    "a) latency p99",
    "a) delivered events/s at",
    "a) delivered events/s flat out",
    "b) 100 sockets in one proposal, 2 actions/s: time to reach all, p50",
    "b) 100 sockets: time to reach all, p99",
    "b) 20 sockets in one proposal, 20 actions/s: time to reach all, p50",
    "b) 20 sockets: time to reach all, p99",
    "c) accepted actions/s",
    "c) server CPU per accepted action",
    "d) server memory per idle socket",
    "d) start to ready",
    "e) 20 pages (2 Chromium), 2 actions/s: to visible on all, p50",
    "e) 20 pages: to visible on all, p99",
    "e) 20 pages: server CPU per event per open page",
    "e) 60 pages (0 Chromium), 1 actions/s: to visible on all, p50",
    "e) 60 pages: to visible on all, p99",
    "e) 60 pages: server CPU per event per open page",
]


def test_the_quick_bench_prints_every_figure_with_its_baseline_and_ratio(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    rows = [
        line for line in run.stdout.splitlines() if line.startswith("| ") and not line.startswith(("| figure", "| ---"))
    ]
    assert [next((f for f in FIGURES if row[2:].startswith(f)), row) for row in rows] == FIGURES, run.stdout
    for row in rows:
        _figure, ours, baseline, ratio = [cell.strip() for cell in row.strip("|").split("|")][:4]
        assert re.fullmatch(NUMBER, ours) and re.fullmatch(NUMBER, baseline) and re.fullmatch(NUMBER, ratio), row
    assert "PROBLEM" not in run.stdout, run.stdout


def test_the_mail_bench_prints_its_figures_with_their_baselines(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.mail", "--members", "50", "--runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    for start in ("  circle of    10 ", "  circle of    50 ", "  ratio ", "  circle of    10, just after "):
        [line] = [line for line in lines if line.startswith(start)]
        assert len(re.findall(NUMBER, line)) >= 2, line
    assert any(re.match(rf"answer → last of 49 mails at the SMTP server: p50 {NUMBER} s", line) for line in lines)
    assert any(line.startswith("baseline, smtplib from this process:") for line in lines), run.stdout


def test_the_meeting_room_bench_prints_the_meeting_beside_its_baseline(tmp_path: Path) -> None:
    run = subprocess.run(  # about 12 s: a circle of 2, one of them in Chromium
        [sys.executable, "-m", "bench.meeting_room", "--members", "2", "--chromium", "1", "--repeats", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("| 2 ")]
    assert [row.split("|")[2].strip() for row in rows] == ["1 Chromium + 1", "1 Chromium"], run.stdout
    for row in rows:
        _size, _pages, turns, meeting, proposal, ratios = [cell.strip() for cell in row.strip("|").split("|")]
        assert turns == "2", row
        for cell in (meeting, proposal, ratios):
            assert re.fullmatch(rf"{NUMBER} / {NUMBER} / {NUMBER}", cell), row
    assert re.search(rf"N=2: one GET /meetings/\{{id\}}\?part=main alone, after the round: p50 {NUMBER} ms", run.stdout)
