"""What limits each speed target when it is missed, in one line each, shown under the target.

The benchmark measures; the explanation comes from profiling the pipeline. Whoever finds
what holds a target back writes it here (``"..."`` until someone has), and every summary.md
written afterwards carries it under that target when it is missed.
"""

from __future__ import annotations

__all__ = ["WHAT_LIMITS"]

#: Target key (see ``workbench.bench.targets.TARGETS``) -> what limits it on this machine.
WHAT_LIMITS: dict[str, str] = {
    "e2e_vs_limit": "...",
    "e2e_vs_peer": "...",
    "latency": "...",
    "gil": "...",
    "upsert_vs_copy": "...",
    "dedup": "...",
    "growth_memory": "...",
    "growth_linear": "...",
}
