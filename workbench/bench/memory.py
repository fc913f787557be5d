"""Run a job in a child process and measure the peak memory of its process tree from /proc.

The parent starts ``python -m workbench.bench.memory``, writes one JSON job to its stdin and,
while waiting, samples the resident set of the child and of every process below it (a
multiprocess run's workers) every ``SAMPLE_S`` seconds. The child imports the job's function
by name, runs it and prints one marked JSON line: the result and its own high-water mark
(``VmHWM``). The peak reported is the larger of that mark and the largest sampled sum over
the tree; summed RSS counts shared library pages once per process, so it errs high.

Why not ``getrusage``: ``ru_maxrss`` survives ``exec``, so a child forked from a big parent
(the benchmark holds plots and prepared rows) starts with the parent's size as its peak.
A fresh interpreter per job also means one run's garbage never inflates the next one's peak,
and the source server, running in another process tree, is never counted.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.bench.runner import IncompleteRunError

__all__ = ["JOBS", "MARKER", "ChildOutcome", "descendants", "run_child", "status_kib"]

#: Prefix of the child's result line (libraries may print on stdout too).
MARKER = "WORKBENCH-CHILD-RESULT "
#: Job kinds the child runs: ``module:function`` taking the job dict, returning a JSON dict.
JOBS = {
    "ingest": "workbench.bench.trials:ingest_job",
}
#: How often the parent samples the tree's memory while the child runs.
SAMPLE_S = 0.02


@dataclass(frozen=True)
class ChildOutcome:
    """What a child job returned and how much memory its process tree held at its peak."""

    result: dict[str, Any]
    self_peak_mb: float
    tree_peak_mb: float


def status_kib(pid: int | str, field: str) -> int:
    """Return a ``/proc/<pid>/status`` size field (``VmRSS``, ``VmHWM``) in KiB; 0 if gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass  # the process ended between listing and reading: it holds nothing now
    return 0


def descendants(pid: int) -> list[int]:
    """Return every live process below ``pid`` (children, their children, ...)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = [int(kid) for kid in children.read_text().split()]
            except (OSError, ValueError):
                continue
            found += kids
            pending += kids
    return found


def _tree_kib(pid: int) -> int:
    """Return the summed resident set of ``pid`` and everything below it."""
    return sum(status_kib(p, "VmRSS") for p in (pid, *descendants(pid)))


def run_child(
    kind: str,
    job: dict[str, Any],
    *,
    timeout_s: float = 1800,
    command: list[str] | None = None,
) -> ChildOutcome:
    """Run ``job`` in a fresh interpreter; return its result and its tree's peak memory.

    ``kind`` is a key of ``JOBS`` or any importable ``module:function``, run by this
    module's ``_child_main``. ``command`` runs another program instead (the peer's own
    interpreter and script), given the job itself on stdin and answering the same way.
    """
    if command is None:
        target = JOBS.get(kind, kind)
        if ":" not in target:
            raise ValueError(f"unknown child job kind {kind!r}; known: {', '.join(JOBS)}")
        command, request = (
            [sys.executable, "-m", "workbench.bench.memory"],
            {"target": target, "job": job},
        )
    else:
        request = job
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=err, text=True)
        assert child.stdin is not None
        child.stdin.write(json.dumps(request))
        child.stdin.close()
        deadline, peak_kib = time.monotonic() + timeout_s, 0
        while child.poll() is None:
            peak_kib = max(peak_kib, _tree_kib(child.pid))
            if time.monotonic() > deadline:
                child.kill()
            time.sleep(SAMPLE_S)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    lines = [line for line in stdout.splitlines() if line.startswith(MARKER)]
    if child.returncode != 0 or not lines:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        raise IncompleteRunError(f"{kind} child exited {child.returncode}: {last}")
    answer = json.loads(lines[-1][len(MARKER) :])
    self_peak_kib = answer["self_peak_kib"]
    return ChildOutcome(answer["result"], self_peak_kib / 1024, max(peak_kib, self_peak_kib) / 1024)


def _child_main() -> int:
    """Run the job read from stdin and print the marked result line."""
    request = json.loads(sys.stdin.read())
    module_name, function_name = request["target"].split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    result = function(request["job"])
    answer = {"result": result, "self_peak_kib": status_kib(os.getpid(), "VmHWM")}
    print(MARKER + json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(_child_main())
