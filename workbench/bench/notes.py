"""What limits each speed target when it is missed, in one line each, shown under the target.

The benchmark measures; the explanation comes from profiling the pipeline. Whoever finds
what holds a target back writes it here (``"..."`` until someone has), and every summary.md
written afterwards carries it under that target when it is missed.
"""

from __future__ import annotations

__all__ = ["WHAT_LIMITS"]

#: Target key (see ``workbench.bench.targets.TARGETS``) -> what limits it on this machine.
WHAT_LIMITS: dict[str, str] = {
    "e2e_vs_limit": (
        "the event loop's own Python work: ~21-27 us of client CPU per record on one thread "
        "(py-spy: processing ~48%, aiohttp and JSON parsing ~20%, Redis ~13%, GC 5-10%); the "
        "whole machine spends ~3.9 CPU-s per 100k records (client 2.7, Postgres 0.7, API 0.35), "
        "so 2 cores cannot go below ~2 s and one loop cannot use both. Next step: a process pool "
        "fed raw response bodies, returning plain tuples (estimated ~2.0 s)"
    ),
    "e2e_vs_peer": (
        "the same per-record Python cost as the pipeline-limit target; the peer's rate is the "
        "fixed denominator, so this moves only with the client's CPU per record"
    ),
    "latency": (
        "page 1 is fetched alone to learn the page count (~65 ms with run setup), then 499 pages "
        "go in 10 waves of 50 ms: a floor near 1.1x the ideal; ~0.8 ms of client CPU per page on "
        "one loop thread makes each wave end 5-10 ms late"
    ),
    "gil": (
        "process start-up and pickling of results; workers come from a preloaded fork server, "
        "so on a quiet machine this is met; on a loaded one the second core is not all ours"
    ),
    "upsert_vs_copy": "the staging table and ON CONFLICT pass, needed only when keys exist",
    "dedup": "one round trip per batch of 1000 members; reply parsing (hiredis) dominates",
    "growth_memory": "bounded queues and windows; peak is the worker processes' interpreters",
    "growth_linear": "the first fetch of each page costs the API ~2 ms (one RNG per record)",
}
