"""``workbench reliability`` as a user runs it: the quick soak's table, and bad flags."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.bench.results import RESULTS_FILE
from workbench.ingestion import MODES
from workbench.main import main
from workbench.reliability import runs
from workbench.reliability.accounting import Accounting
from workbench.reliability.runs import Observed
from workbench.reliability.table import SUMMARY_FILE, load_run


def reliability(*flags: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``python -m workbench reliability --no-progress`` with ``flags``."""
    command = [sys.executable, "-m", "workbench", "reliability", "--no-progress", *flags]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


class TestQuickSoak:
    """``--quick --scenario soak``: a row per mode, all passed, written where asked."""

    def test_writes_the_table_and_exits_0(self, tmp_path: Path) -> None:
        """Exit 0; results.csv has a passed soak row per mode; the table is printed."""
        done = reliability("--quick", "--scenario", "soak", "--out", str(tmp_path))
        assert done.returncode == 0, done.stderr
        run = load_run(tmp_path)
        assert [(row.scenario, row.mode) for row in run.rows] == [("soak", m) for m in MODES]
        assert run.passed and run.plan == "quick"
        assert all(row.lost == 0 and row.duplicated == 0 for row in run.rows)
        assert (tmp_path / SUMMARY_FILE).read_text() in done.stdout
        assert done.stdout.rstrip().endswith(f"results: {tmp_path}")
        assert (tmp_path / RESULTS_FILE).is_file() and (tmp_path / "run.log").is_file()


class TestFailedRow:
    """A row that loses a record or ends with another status fails the command."""

    def test_exit_1_and_the_row_is_marked(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """One lost record: exit 1, the table marks the row, stderr names it."""

        def losing(*args: object) -> Observed:
            return Observed([0], Accounting(served=600, landed=599, rejected=0, duplicated=0,
                                            lost=1))  # fmt: skip

        monkeypatch.setitem(runs.RUNNERS, "hostile", losing)
        flags = ["reliability", "--no-progress", "--scenario", "hostile-nul", "--out"]
        assert main([*flags, str(tmp_path)]) == 1
        out, err = capsys.readouterr()
        assert "| **✗ hostile-nul** | multiprocess | 600 | 599 | 0 | 0 | 1 |" in out
        assert "workbench: hostile-nul (multiprocess): 1 lost" in err
        assert not load_run(tmp_path).passed


class TestBadFlags:
    """Usage errors: one line on stderr, exit 2, nothing run."""

    @pytest.mark.parametrize(
        ("flags", "message"),
        [
            (["--bogus"], "unrecognized arguments: --bogus"),
            (["--scenario", "meltdown"], "--scenario 'meltdown'"),
            (["--mode", "turbo"], "--mode 'turbo'"),
        ],
    )
    def test_one_line_and_exit_2(self, flags: list[str], message: str, tmp_path: Path) -> None:
        """The error names the flag; no results folder is made."""
        done = reliability(*flags, "--out", str(tmp_path / "out"), timeout=60)
        assert done.returncode == 2
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("workbench: error: ") and message in line
        assert not (tmp_path / "out").exists()


def descendants(pid: int) -> dict[int, str]:
    """Return every process below ``pid`` (Linux ``/proc``) with its command name."""
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            for child in (task / "children").read_text().split():
                comm = Path(f"/proc/{child}/comm")
                found[int(child)] = comm.read_text().strip() if comm.exists() else ""
                todo.append(int(child))
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
class TestSigterm:
    """SIGTERM stops the command and everything it started."""

    def test_the_private_valkey_is_stopped_and_the_status_is_130(self, tmp_path: Path) -> None:
        """After SIGTERM mid-run, the command exits 130 and its throwaway Valkey is gone."""
        command = [sys.executable, "-m", "workbench", "reliability", "--no-progress", "--quick",
                   "--scenario", "soak", "--mode", "sync", "--out", str(tmp_path)]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        valkeys: dict[int, str] = {}
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and process.poll() is None and not valkeys:
                children = descendants(process.pid)
                valkeys = {pid: name for pid, name in children.items() if "valkey" in name}
                time.sleep(0.1)
            assert valkeys, "the command never started its Valkey"
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=60)
        finally:
            process.kill()
        left = [pid for pid in valkeys if Path(f"/proc/{pid}").exists() and not _is_zombie(pid)]
        for pid in left:  # not ours to leave running, whatever the verdict
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert process.returncode == 130, err
        assert b"workbench: interrupted" in err
        assert not left, f"the throwaway Valkey outlived the command: {left}"


def _is_zombie(pid: int) -> bool:
    """Tell whether ``pid`` has ended and waits only to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (FileNotFoundError, IndexError):
        return True
