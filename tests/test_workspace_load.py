"""The workspace under load, small enough for every run: returns uploaded over HTTP by 4
concurrent clients to `xltool serve` in its own process — all recorded once, none lost, the
server's memory not growing with the number of returns. benchmarks/bench_workspace.py runs the
same with 500 returns and gives the README's figures."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from bench_workspace import run  # noqa: E402


def test_returns_from_four_concurrent_clients_are_all_recorded_once():
    figures = run(returns=48, clients=4)
    assert figures["all_recorded_once"], figures
    assert figures["rows_in_store"] == 48 and figures["recorded"] == 48
    rss = figures["server_rss_mb"]
    assert rss["end"] - rss["after_tenth"] < 40, rss  # flat: the first tenth warms everything up
