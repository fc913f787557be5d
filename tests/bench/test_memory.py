from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from workbench.bench.memory import descendants, run_child, status_kib
from workbench.bench.runner import IncompleteRunError


class TestProc:
    """Reading /proc."""

    def test_status_fields_of_this_process(self) -> None:
        """The test process has a resident set and a high-water mark at least as large."""
        rss, hwm = status_kib(os.getpid(), "VmRSS"), status_kib(os.getpid(), "VmHWM")
        assert 0 < rss <= hwm

    def test_a_process_that_is_gone_holds_nothing(self) -> None:
        """A pid that does not exist reads as 0 KiB."""
        assert status_kib(2**22 + 12345, "VmRSS") == 0

    def test_descendants_include_a_grandchild(self) -> None:
        """A child's own child is found below this process."""
        script = (
            "import subprocess, sys, time\n"
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
            "print(p.pid, flush=True)\n"
            "time.sleep(30)\n"
        )
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        grandchild = int(child.stdout.readline())
        try:
            below = descendants(os.getpid())
            assert child.pid in below and grandchild in below
        finally:
            os.kill(grandchild, signal.SIGKILL)
            child.kill()
            child.wait()


class TestRunChild:
    """Jobs in a fresh interpreter."""

    def test_the_result_comes_back_with_a_peak(self) -> None:
        """A job's JSON result comes back, with a plausible peak for a bare interpreter."""
        outcome = run_child("builtins:dict", {"answer": 42})
        assert outcome.result == {"answer": 42}
        assert 5 < outcome.self_peak_mb <= outcome.tree_peak_mb < 500

    def test_memory_held_below_the_child_is_in_the_tree_peak(self) -> None:
        """A job whose own child holds 200 MB for a moment reports a tree peak above 200 MB."""
        hold = "x = bytearray(200 * 2**20); import time; time.sleep(0.5)"
        outcome = run_child("subprocess:call", [sys.executable, "-c", hold])  # type: ignore[arg-type]
        assert outcome.result == 0
        assert outcome.tree_peak_mb > 200 > outcome.self_peak_mb

    def test_a_failing_job_is_an_incomplete_run(self) -> None:
        """A job that raises makes the child exit non-zero: IncompleteRunError, last line quoted."""
        with pytest.raises(IncompleteRunError, match=r"exited 1: .*ModuleNotFoundError"):
            run_child("no_such_module_here:run", {})

    def test_an_unknown_kind_is_refused(self) -> None:
        """A kind that is neither a job name nor module:function is refused before starting."""
        with pytest.raises(ValueError, match="unknown child job kind"):
            run_child("nope", {})
